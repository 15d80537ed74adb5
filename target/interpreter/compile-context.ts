/**
 * The shapes compiled code takes, shared by the compile-* modules and the pipeline (switch.ts):
 * closures over a Frame, lvalues, the signals that end a control or a parser, the slot scope of
 * a function, and the environment a block's code refers to.
 */
import type { ActionDecl, TableDecl } from '../../p4-frontend/ast.ts';
import { findAnnotation } from '../../p4-frontend/ast.ts';
import type { FlowCode, Frame } from './frame.ts';
import type { ExternObject, Value } from './values.ts';
import type { ActionInfo, LookupResult, Table } from './tables.ts';
import type { ExternRuntime } from './extern-calls.ts';

export type Getter = (f: Frame) => Value;
export type Setter = (f: Frame, v: Value) => void;
export type Exec = (f: Frame) => FlowCode;

/** An lvalue: read and write the same place. */
export interface LValue {
  readonly get: Getter;
  readonly set: Setter;
}

/** Thrown by `exit`: leaves the running control, whatever action or table it is in. */
export class ExitSignal {
  readonly exit = true;
}

/** Thrown by a parser fault (`verify`, a short packet, no select match): ends parsing. */
export class ParserReject {
  constructor(readonly error: string) {}
}

/** The result of `t.apply()`: the table's lookup result itself (no allocation per apply). */
export type ApplyResult = LookupResult;

/** Slots of the running function (action, apply body, parser run). */
export class FunctionScope {
  readonly slots = new Map<object, number>();
  size = 0;
  allocate(owner: object): number {
    const i = this.size++;
    this.slots.set(owner, i);
    return i;
  }
}

/** Everything a block's compiled code refers to that is not a variable. */
export interface BlockEnvironment {
  /** Control-plane prefix: the control's name (`MyIngress`). */
  readonly prefix: string;
  readonly blockSlots: Map<object, number>;
  readonly externs: Map<object, ExternObject>;
  readonly tables: Map<TableDecl, Table>;
  readonly actions: Map<ActionDecl, ActionInfo>;
  readonly runtime: ExternRuntime;
  /** Actions declared outside any control: their control-plane name has no prefix. */
  readonly topLevelActions: ReadonlySet<ActionDecl>;
}

/** The control-plane name of an object declared in a block, as p4c forms it. */
export function controlPlaneName(prefix: string, decl: { name: string; annotations: readonly { name: string; args: readonly (string | bigint)[] }[] }): string {
  const named = findAnnotation(decl.annotations as never, 'name') as { args: readonly (string | bigint)[] } | undefined;
  const given = named?.args[0];
  if (typeof given === 'string') return given.startsWith('.') ? given.slice(1) : prefix === '' ? given : `${prefix}.${given}`;
  return prefix === '' ? decl.name : `${prefix}.${decl.name}`;
}
