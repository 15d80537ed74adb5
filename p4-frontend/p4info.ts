/**
 * P4Info (p4/config/v1/p4info.proto) derived from a checked v1model program the way p4c's
 * P4Runtime serializer does it: fully qualified names (`MyIngress.vip`), ids from `@id` or from
 * the Jenkins one-at-a-time hash of the name (sorted names, linear probing on collision), aliases
 * as the shortest unique suffix, match-field and parameter ids 1, 2, 3 …
 */
import { byCodeUnit } from '../core/order.ts';
import type {
  ActionDecl, Annotation, CallExpr, ControlDecl, Declaration, Expression, HeaderDecl, Instantiation, Statement,
  TableDecl, TypeRef,
} from './ast.ts';
import { findAnnotation } from './ast.ts';
import type { CheckedProgram } from './checker.ts';
import { P4TypeError } from './errors.ts';
import { typeToString, widthOf, type P4Type } from './types.ts';

// ---------------------------------------------------------------------------------------------
// The model: plain objects named after p4info.proto's messages and fields.

export interface Preamble {
  readonly id: number;
  readonly name: string;
  readonly alias: string;
  readonly annotations: readonly string[];
}
export type MatchType = 'EXACT' | 'LPM' | 'TERNARY' | 'RANGE' | 'OPTIONAL';
export interface MatchField {
  readonly id: number;
  readonly name: string;
  readonly annotations: readonly string[];
  readonly bitwidth: number;
  /** Standard match type, or undefined with `otherMatchType` set. */
  readonly matchType: MatchType | undefined;
  readonly otherMatchType: string | undefined;
}
export type ActionScope = 'TABLE_AND_DEFAULT' | 'TABLE_ONLY' | 'DEFAULT_ONLY';
export interface ActionRefInfo {
  readonly id: number;
  readonly annotations: readonly string[];
  readonly scope: ActionScope;
}
export interface Table {
  readonly preamble: Preamble;
  readonly matchFields: readonly MatchField[];
  readonly actionRefs: readonly ActionRefInfo[];
  /** Non-zero when the default action is `const`. */
  readonly constDefaultActionId: number;
  /** The declared default action and its arguments (P4Runtime 1.4 `initial_default_action`). */
  readonly initialDefaultAction: TableActionCall | undefined;
  readonly directResourceIds: readonly number[];
  readonly size: number;
  /** `const entries`: the control plane cannot change the entries. */
  readonly isConstTable: boolean;
  /** The table declares at least one entry (`entries`/`const entries`). */
  readonly hasInitialEntries: boolean;
}
/** An action with its arguments; values are big-endian, ceil(bitwidth / 8) bytes. */
export interface TableActionCall {
  readonly actionId: number;
  readonly arguments: readonly { readonly paramId: number; readonly value: Uint8Array }[];
}
export interface ActionParam {
  readonly id: number;
  readonly name: string;
  readonly annotations: readonly string[];
  readonly bitwidth: number;
}
export interface Action {
  readonly preamble: Preamble;
  readonly params: readonly ActionParam[];
}
export type CounterUnit = 'BYTES' | 'PACKETS' | 'BOTH';
export interface Counter { readonly preamble: Preamble; readonly unit: CounterUnit; readonly size: number }
export interface DirectCounter { readonly preamble: Preamble; readonly unit: CounterUnit; readonly directTableId: number }
export type MeterUnit = 'BYTES' | 'PACKETS';
export interface Meter { readonly preamble: Preamble; readonly unit: MeterUnit; readonly size: number }
export interface DirectMeter { readonly preamble: Preamble; readonly unit: MeterUnit; readonly directTableId: number }
export interface ControllerPacketMetadata {
  readonly preamble: Preamble;
  readonly metadata: readonly { readonly id: number; readonly name: string; readonly annotations: readonly string[]; readonly bitwidth: number }[];
}
/** p4types.proto P4DataTypeSpec, the cases v1model programs produce. */
export type TypeSpec =
  | { readonly kind: 'bit'; readonly bitwidth: number }
  | { readonly kind: 'int'; readonly bitwidth: number }
  | { readonly kind: 'bool' }
  | { readonly kind: 'error' }
  | { readonly kind: 'struct'; readonly name: string }
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'enum'; readonly name: string }
  | { readonly kind: 'tuple'; readonly members: readonly TypeSpec[] };
export interface Register { readonly preamble: Preamble; readonly typeSpec: TypeSpec; readonly size: number }
export interface Digest { readonly preamble: Preamble; readonly typeSpec: TypeSpec }
export interface TypeInfo {
  readonly structs: ReadonlyMap<string, readonly { readonly name: string; readonly typeSpec: TypeSpec }[]>;
  readonly headers: ReadonlyMap<string, readonly { readonly name: string; readonly bitwidth: number; readonly signed: boolean }[]>;
  readonly enums: ReadonlyMap<string, readonly string[]>;
  /** Error members, when some type refers to `error`. */
  readonly errors: readonly string[] | undefined;
}
export interface P4Info {
  /** Undefined when the program has no `main` (p4c then leaves pkg_info out). */
  readonly pkgInfo: { readonly arch: string } | undefined;
  readonly tables: readonly Table[];
  readonly actions: readonly Action[];
  readonly counters: readonly Counter[];
  readonly directCounters: readonly DirectCounter[];
  readonly meters: readonly Meter[];
  readonly directMeters: readonly DirectMeter[];
  readonly controllerPacketMetadata: readonly ControllerPacketMetadata[];
  readonly registers: readonly Register[];
  readonly digests: readonly Digest[];
  /** Undefined where p4c would not write `type_info` at all; it writes an empty one once any table, action parameter, extern call or extern instance was seen. */
  readonly typeInfo: TypeInfo | undefined;
}

/** P4Ids.Prefix of p4info.proto: the id's top byte per object kind. */
export const ID_PREFIX = {
  action: 0x01, table: 0x02, valueSet: 0x03, controllerHeader: 0x04, actionProfile: 0x11, counter: 0x12,
  directCounter: 0x13, meter: 0x14, directMeter: 0x15, register: 0x16, digest: 0x17,
} as const;
export type ObjectKind = keyof typeof ID_PREFIX;

/** Jenkins one-at-a-time hash over the UTF-8 bytes of `name` (p4c hashes names with it for ids). */
export function jenkinsOneAtATime(name: string): number {
  let h = 0;
  for (const byte of new TextEncoder().encode(name)) {
    h = (h + byte) >>> 0;
    h = (h + (h << 10)) >>> 0;
    h = (h ^ (h >>> 6)) >>> 0;
  }
  h = (h + (h << 3)) >>> 0;
  h = (h ^ (h >>> 11)) >>> 0;
  h = (h + (h << 15)) >>> 0;
  return h;
}

/** Annotations P4Info leaves out of `annotations` lists: they have fields of their own. */
const NOT_LISTED = new Set(['name', 'id', 'brief', 'description']);

function listed(annotations: readonly Annotation[]): string[] {
  return annotations.filter((a) => !NOT_LISTED.has(a.name)).map((a) => a.text);
}

/** The default size p4c gives tables without a `size` property. */
const DEFAULT_TABLE_SIZE = 1024;

// ---------------------------------------------------------------------------------------------
// Symbols and ids

interface SymbolEntry { kind: ObjectKind; name: string; explicit: number | undefined; id: number; span: Annotation['span'] | undefined }

class SymbolTable {
  private readonly entries = new Map<string, SymbolEntry>();
  private readonly assigned = new Set<number>();
  private readonly suffixCounts = new Map<string, number>();
  private readonly allNames = new Set<string>();

  add(kind: ObjectKind, name: string, annotations: readonly Annotation[]): void {
    const key = `${kind}:${name}`;
    if (this.entries.has(key)) return;
    const idAnn = findAnnotation(annotations, 'id');
    let explicit: number | undefined;
    if (idAnn !== undefined) {
      const raw = idAnn.args[0];
      if (typeof raw !== 'bigint' || raw < 0n || raw > 0xffffffffn) throw new P4TypeError(`@id must be an unsigned 32-bit integer`, idAnn.span);
      const prefix = ID_PREFIX[kind] << 24;
      const n = Number(raw);
      const top = (n >>> 24) & 0xff;
      if (top !== 0 && top !== ID_PREFIX[kind]) throw new P4TypeError(`@id ${n} has the wrong 8-bit prefix for a ${kind}`, idAnn.span);
      explicit = (n | prefix) >>> 0;
      if (this.assigned.has(explicit)) throw new P4TypeError(`@id ${n} is assigned to multiple declarations`, idAnn.span);
      this.assigned.add(explicit);
    }
    this.entries.set(key, { kind, name, explicit, id: explicit ?? 0, span: idAnn?.span });
    if (!this.allNames.has(name)) {
      this.allNames.add(name);
      const parts = name.split('.');
      for (let i = parts.length - 1; i >= 0; i--) {
        const suffix = parts.slice(i).join('.');
        this.suffixCounts.set(suffix, (this.suffixCounts.get(suffix) ?? 0) + 1);
      }
    }
  }

  /** Hash-based ids for the rest, per kind in sorted name order (p4c's probing depends on it). */
  computeIds(): void {
    for (const kind of Object.keys(ID_PREFIX) as ObjectKind[]) {
      const pending = [...this.entries.values()].filter((e) => e.kind === kind && e.explicit === undefined);
      pending.sort((a, b) => byCodeUnit(a.name, b.name));
      const prefix = ID_PREFIX[kind] << 24;
      for (const e of pending) {
        const start = jenkinsOneAtATime(e.name) & 0xffffff;
        let low = start;
        let id = (prefix | low) >>> 0;
        while (this.assigned.has(id)) {
          low = (low + 1) & 0xffffff;
          if (low === start) throw new P4TypeError(`no id left for ${e.name}`, { file: '', line: 0, col: 0, offset: 0, end: 0 });
          id = (prefix | low) >>> 0;
        }
        this.assigned.add(id);
        e.id = id;
      }
    }
  }

  id(kind: ObjectKind, name: string): number {
    const e = this.entries.get(`${kind}:${name}`);
    if (e === undefined) throw new Error(`internal: ${kind} ${name} has no id`);
    return e.id;
  }

  /** The shortest dot-separated suffix of `name` that no other symbol shares. */
  alias(name: string): string {
    const parts = name.split('.');
    for (let i = parts.length - 1; i >= 0; i--) {
      const suffix = parts.slice(i).join('.');
      if ((this.suffixCounts.get(suffix) ?? 0) < 2) return suffix;
    }
    return name;
  }

  preamble(kind: ObjectKind, name: string, annotations: readonly Annotation[]): Preamble {
    return { id: this.id(kind, name), name, alias: this.alias(name), annotations: listed(annotations) };
  }
}

// ---------------------------------------------------------------------------------------------
// Derivation

/** The control-plane name of a declaration inside `scope` (a control name) or at top level. */
function controlPlaneName(d: { readonly name: string; readonly annotations: readonly Annotation[] }, scope: string | undefined): string {
  const n = findAnnotation(d.annotations, 'name');
  const given = typeof n?.args[0] === 'string' ? n.args[0] : undefined;
  if (given !== undefined && given.startsWith('.')) return given.slice(1);
  const local = given ?? d.name;
  return scope === undefined ? local : `${scope}.${local}`;
}

/** A key expression as p4c names match fields without `@name`: `hdr.ipv4.dstAddr`, `m.h[9:0]`. */
export function keyExpressionText(e: Expression): string {
  switch (e.kind) {
    case 'name': return (e.global ? '.' : '') + e.name;
    case 'member': return `${keyExpressionText(e.expr)}.${e.member}`;
    case 'index': return `${keyExpressionText(e.expr)}[${keyExpressionText(e.index)}]`;
    case 'slice': return `${keyExpressionText(e.expr)}[${keyExpressionText(e.hi)}:${keyExpressionText(e.lo)}]`;
    case 'call':
      // p4c names a validity key `hdr.ipv4.$valid$`.
      if (e.target?.kind === 'headerMethod' && e.target.method === 'isValid' && e.callee.kind === 'member') return `${keyExpressionText(e.callee.expr)}.$valid$`;
      return `${keyExpressionText(e.callee)}(${e.args.map(keyExpressionText).join(', ')})`;
    case 'binary': return `${keyExpressionText(e.left)} ${e.op} ${keyExpressionText(e.right)}`;
    case 'int': return e.width === undefined && /^0[xX]/.test(e.text) ? `0x${e.value.toString(16)}` : e.text;
    case 'bool': return String(e.value);
    case 'cast': return `(${typeRefText(e.target)})${keyExpressionText(e.expr)}`;
    default: return e.kind;
  }
}

function typeRefText(t: TypeRef): string {
  switch (t.kind) {
    case 'bitType': return `bit<${keyExpressionText(t.width)}>`;
    case 'intType': return `int<${keyExpressionText(t.width)}>`;
    case 'namedType': return t.name;
    case 'boolType': return 'bool';
    default: return t.kind;
  }
}

const MATCH_TYPES: Readonly<Record<string, MatchType>> = {
  exact: 'EXACT', lpm: 'LPM', ternary: 'TERNARY', range: 'RANGE', optional: 'OPTIONAL',
};

const COUNTER_UNITS: Readonly<Record<string, CounterUnit>> = { packets: 'PACKETS', bytes: 'BYTES', packets_and_bytes: 'BOTH' };
const METER_UNITS: Readonly<Record<string, MeterUnit>> = { packets: 'PACKETS', bytes: 'BYTES' };

function isHidden(annotations: readonly Annotation[]): boolean {
  return findAnnotation(annotations, 'hidden') !== undefined;
}

/** Walks statements and expressions, calling `visit` on every call expression. */
function forEachCall(stmts: readonly Statement[], visit: (c: CallExpr) => void): void {
  const expr = (e: Expression | undefined): void => {
    if (e === undefined) return;
    switch (e.kind) {
      case 'call': visit(e); expr(e.callee); e.args.forEach(expr); return;
      case 'member': expr(e.expr); return;
      case 'index': expr(e.expr); expr(e.index); return;
      case 'slice': expr(e.expr); return;
      case 'unary': expr(e.operand); return;
      case 'binary': expr(e.left); expr(e.right); return;
      case 'ternary': expr(e.cond); expr(e.then); expr(e.else); return;
      case 'cast': expr(e.expr); return;
      case 'list': e.elements.forEach(expr); return;
      default: return;
    }
  };
  const stmt = (s: Statement): void => {
    switch (s.kind) {
      case 'assign': expr(s.left); expr(s.right); return;
      case 'callStmt': expr(s.call); return;
      case 'if': expr(s.cond); stmt(s.then); if (s.else !== undefined) stmt(s.else); return;
      case 'block': s.statements.forEach(stmt); return;
      case 'switch': expr(s.expr); for (const c of s.cases) if (c.body !== undefined) stmt(c.body); return;
      case 'var': expr(s.init); return;
      case 'return': expr(s.value); return;
      default: return;
    }
  };
  stmts.forEach(stmt);
}

interface ControlObjects {
  readonly control: ControlDecl;
  /** The control instance's name, prefixing its objects: `MyIngress`, or `ingress.c` for an instance `c` inside `ingress`. */
  readonly prefix: string;
  /** `listBound`: arguments bound in a table's actions list; undefined when no table lists the action. */
  readonly actions: { decl: ActionDecl; name: string; listBound: number | undefined }[];
  /** Tables the control applies (p4c drops the others). */
  readonly tables: TableDecl[];
  readonly instances: Instantiation[];
  readonly digests: { name: string; type: P4Type; span: CallExpr['span'] }[];
}

/**
 * What p4c keeps of a control: applied tables; actions those tables use or apply calls (globals
 * first, as p4c's LocalizeAllActions puts them); instances; digest calls. A table without a default
 * action gets `NoAction`, as p4c's CreateBuiltins adds it.
 */
function collectControl(control: ControlDecl, prefix: string, noAction: ActionDecl | undefined): ControlObjects {
  const used = new Set<ActionDecl>();
  const globalsUsed: ActionDecl[] = [];
  const own = new Set(control.locals.filter((l): l is ActionDecl => l.kind === 'action'));
  const use = (d: ActionDecl | undefined): void => {
    if (d === undefined || used.has(d)) return;
    used.add(d);
    if (!own.has(d)) globalsUsed.push(d);
  };
  const applied = new Set<TableDecl>();
  forEachCall(control.apply.statements, (c) => {
    if (c.target?.kind === 'tableApply') applied.add(c.target.table);
  });
  const tables = control.locals.filter((l): l is TableDecl => l.kind === 'table' && applied.has(l));
  for (const t of tables) {
    for (const p of t.properties) {
      if (p.kind === 'actions') p.actions.forEach((a) => use(a.decl));
      if (p.kind === 'defaultAction' && p.action.target?.kind === 'action') use(p.action.target.decl);
      if (p.kind === 'entries') p.entries.forEach((e) => e.action.target?.kind === 'action' && use(e.action.target.decl));
    }
    if (!t.properties.some((p) => p.kind === 'defaultAction')) {
      if (noAction === undefined) throw new P4TypeError(`table ${t.name} has no default action and NoAction is not declared (include core.p4)`, t.span);
      use(noAction);
    }
  }
  forEachCall(control.apply.statements, (c) => {
    if (c.target?.kind === 'action') use(c.target.decl);
  });
  const listBound = new Map<ActionDecl, number>();
  for (const t of tables) {
    for (const p of t.properties) if (p.kind === 'actions') for (const a of p.actions) if (a.decl !== undefined) listBound.set(a.decl, a.args.length);
    if (noAction !== undefined && !t.properties.some((p) => p.kind === 'defaultAction')) listBound.set(noAction, 0);
  }
  const actions = [
    ...globalsUsed.map((decl) => ({ decl, name: controlPlaneName(decl, undefined), listBound: listBound.get(decl) })),
    ...control.locals.filter((l): l is ActionDecl => l.kind === 'action' && used.has(l))
      .map((decl) => ({ decl, name: controlPlaneName(decl, prefix), listBound: listBound.get(decl) })),
  ];
  const digests: ControlObjects['digests'] = [];
  const findDigests = (stmts: readonly Statement[]): void => forEachCall(stmts, (c) => {
    if (c.target?.kind === 'externFunction' && c.target.decl.name === 'digest') {
      const t = c.args[1]?.type;
      if (t === undefined || (t.kind !== 'struct' && t.kind !== 'header')) {
        throw new P4TypeError(`digest data must be a struct (got ${t === undefined ? 'nothing' : typeToString(t)}); write digest<my_struct_t>(...)`, c.span);
      }
      digests.push({ name: controlPlaneName(t.decl, undefined), type: t, span: c.span });
    }
  });
  for (const a of actions) if (own.has(a.decl)) findDigests(a.decl.body.statements);
  findDigests(control.apply.statements);
  const instances = control.locals.filter((l): l is Instantiation => l.kind === 'instantiation');
  return { control, prefix, actions, tables: tables.filter((t) => !isHidden(t.annotations)), instances, digests };
}

/**
 * The parameters the control plane supplies: directionless ones not bound in the actions list.
 * An action no table lists has none: p4c's RemoveActionParameters turns them into locals.
 */
function controlPlaneParams(a: ActionDecl, listBound: number | undefined): readonly ActionDecl['params'][number][] {
  if (listBound === undefined) return [];
  return a.params.slice(listBound).filter((p) => p.direction === 'none');
}

/** p4c prefixes a top-level control's objects with its declared name (an @name on the control does not count). */
function controlName(c: ControlDecl): string {
  return c.name;
}

function intArg(e: Expression | undefined, what: string, span: CallExpr['span']): number {
  if (e === undefined || typeof e.constValue !== 'bigint') throw new P4TypeError(`${what} must be a compile-time integer`, e?.span ?? span);
  return Number(e.constValue);
}

/** Derives P4Info from a checked v1model program (its `main` package's controls). */
export function deriveP4Info(checked: CheckedProgram): P4Info {
  const symbols = new SymbolTable();
  const controls = checked.pipeline.map((b) => b.decl).filter((d): d is ControlDecl => d.kind === 'control');
  const noAction = checked.program.declarations.find((d): d is ActionDecl => d.kind === 'action' && d.name === 'NoAction');
  // p4c visits blocks breadth-first: main's controls, then controls instantiated inside them.
  const queue = controls.map((control) => ({ control, prefix: controlName(control) }));
  const collected: ControlObjects[] = [];
  for (let i = 0; i < queue.length; i++) {
    const { control, prefix } = queue[i]!;
    collected.push(collectControl(control, prefix, noAction));
    for (const l of control.locals) {
      if (l.kind === 'instantiation' && l.type?.kind === 'control' && l.type.decl.kind === 'control') {
        queue.push({ control: l.type.decl, prefix: `${prefix}.${controlPlaneName(l, undefined)}` });
      }
    }
    // `c.apply(...)` on a control type instantiates it implicitly under the type's name.
    const direct = new Set<ControlDecl>();
    forEachCall(control.apply.statements, (call) => {
      const callee = call.callee;
      if (call.target?.kind === 'blockApply' && callee.kind === 'member' && callee.expr.kind === 'name' && callee.expr.decl?.kind === 'control') {
        direct.add(callee.expr.decl);
      }
    });
    for (const d of direct) queue.push({ control: d, prefix: `${prefix}.${d.name}` });
  }
  const program = checked.program;
  const controllerHeaders = program.declarations.filter(
    (d): d is HeaderDecl => d.kind === 'header' && findAnnotation(d.annotations, 'controller_header') !== undefined && !isHidden(d.annotations),
  );

  const globals = program.declarations.filter((d): d is Instantiation => d.kind === 'instantiation' && instanceKind(d) !== undefined);

  // Pass 1: every control-plane symbol, so that explicit ids are reserved before hashing.
  for (const i of globals) symbols.add(instanceKind(i)!, controlPlaneName(i, undefined), i.annotations);
  for (const c of collected) {
    const scope = c.prefix;
    for (const a of c.actions) if (!isHidden(a.decl.annotations)) symbols.add('action', a.name, a.decl.annotations);
    for (const i of c.instances) {
      const kind = instanceKind(i);
      if (kind !== undefined) symbols.add(kind, controlPlaneName(i, scope), i.annotations);
    }
    for (const t of c.tables) symbols.add('table', controlPlaneName(t, scope), t.annotations);
    for (const d of c.digests) symbols.add('digest', d.name, []);
  }
  // p4c keys a controller header by its type's name; the preamble shows the annotation's name.
  for (const h of controllerHeaders) symbols.add('controllerHeader', controlPlaneName(h, undefined), h.annotations);
  symbols.computeIds();

  const typeInfo = new TypeInfoBuilder(checked.errorMembers);
  const tables: Table[] = [];
  const actions: Action[] = [];
  const counters: Counter[] = [];
  const directCounters: DirectCounter[] = [];
  const meters: Meter[] = [];
  const directMeters: DirectMeter[] = [];
  const registers: Register[] = [];
  const digests: Digest[] = [];
  const seenActions = new Set<number>();
  const seenDigests = new Set<string>();
  const directOwner = new Map<Instantiation, string>();

  const emitInstances = (instances: readonly Instantiation[], scope: string | undefined): void => {
    for (const i of instances) {
      const kind = instanceKind(i);
      if (kind === undefined) continue;
      const name = controlPlaneName(i, scope);
      const preamble = symbols.preamble(kind, name, i.annotations);
      const enumArg = (e: Expression | undefined): string => (e?.kind === 'member' ? e.member : '');
      switch (kind) {
        case 'counter':
          counters.push({ preamble, unit: COUNTER_UNITS[enumArg(i.args[1])]!, size: intArg(i.args[0], 'counter size', i.span) });
          break;
        case 'directCounter': {
          const owner = directOwner.get(i);
          if (owner === undefined) throw new P4TypeError(`direct_counter ${i.name} is not attached to a table`, i.span);
          directCounters.push({ preamble, unit: COUNTER_UNITS[enumArg(i.args[0])]!, directTableId: symbols.id('table', owner) });
          break;
        }
        case 'meter':
          meters.push({ preamble, unit: METER_UNITS[enumArg(i.args[1])]!, size: intArg(i.args[0], 'meter size', i.span) });
          break;
        case 'directMeter': {
          const owner = directOwner.get(i);
          if (owner === undefined) throw new P4TypeError(`direct_meter ${i.name} is not attached to a table`, i.span);
          directMeters.push({ preamble, unit: METER_UNITS[enumArg(i.args[0])]!, directTableId: symbols.id('table', owner) });
          break;
        }
        case 'register': {
          const t = i.type?.kind === 'extern' ? i.type.typeArgs[0] : undefined;
          if (t === undefined) throw new P4TypeError(`register ${i.name} has no element type`, i.span);
          registers.push({ preamble, typeSpec: typeInfo.spec(t, i.span), size: intArg(i.args[0], 'register size', i.span) });
          break;
        }
        default:
          break;
      }
    }
  };
  // Extern instances declared at top level come first: p4c meets them before main's blocks.
  emitInstances(globals, undefined);

  for (const c of collected) {
    const scope = c.prefix;
    for (const a of c.actions) {
      if (isHidden(a.decl.annotations)) continue;
      const id = symbols.id('action', a.name);
      if (seenActions.has(id)) continue;
      seenActions.add(id);
      actions.push({
        preamble: symbols.preamble('action', a.name, a.decl.annotations),
        params: controlPlaneParams(a.decl, a.listBound).map((p, i, all) => ({
          id: fieldIds(all)[i]!, name: controlPlaneName(p, undefined), annotations: listed(p.annotations), bitwidth: paramWidth(p.type, p.span),
        })),
      });
    }
    for (const t of c.tables) {
      const name = controlPlaneName(t, scope);
      const direct: number[] = [];
      let size = DEFAULT_TABLE_SIZE;
      let constDefault = 0;
      let initialDefault: TableActionCall | undefined;
      let isConst = false;
      let hasEntries = false;
      const matchFields: MatchField[] = [];
      const actionRefs: ActionRefInfo[] = [];
      for (const p of t.properties) {
        switch (p.kind) {
          case 'key': {
            const ids = fieldIds(p.elements);
            for (const [i, k] of p.elements.entries()) {
              const id = ids[i]!;
              if (k.matchKind === 'selector') continue;
              const n = findAnnotation(k.annotations, 'name');
              const fieldName = typeof n?.args[0] === 'string' ? n.args[0] : keyExpressionText(k.expr);
              const std = MATCH_TYPES[k.matchKind];
              matchFields.push({
                id, name: fieldName, annotations: listed(k.annotations), bitwidth: keyWidth(k.expr.type!),
                matchType: std, otherMatchType: std === undefined ? k.matchKind : undefined,
              });
            }
            break;
          }
          case 'actions':
            for (const a of p.actions) {
              if (a.decl === undefined) continue;
              const scopeOf = a.decl.kind === 'action' && c.control.locals.includes(a.decl) ? scope : undefined;
              const tableOnly = findAnnotation(a.annotations, 'tableonly') !== undefined;
              const defaultOnly = findAnnotation(a.annotations, 'defaultonly') !== undefined;
              if (tableOnly && defaultOnly) throw new P4TypeError(`action '${a.decl.name}' cannot be both @tableonly and @defaultonly`, a.span);
              actionRefs.push({
                id: symbols.id('action', controlPlaneName(a.decl, scopeOf)), annotations: listed(a.annotations),
                scope: tableOnly ? 'TABLE_ONLY' : defaultOnly ? 'DEFAULT_ONLY' : 'TABLE_AND_DEFAULT',
              });
            }
            break;
          case 'defaultAction': {
            const target = p.action.target;
            if (target?.kind !== 'action') break;
            const scopeOf = c.control.locals.includes(target.decl) ? scope : undefined;
            const id = symbols.id('action', controlPlaneName(target.decl, scopeOf));
            // Only directionless parameters are control-plane arguments (p4c's RemoveActionParameters drops the rest).
            const cp = controlPlaneParams(target.decl, 0);
            const ids = fieldIds(cp);
            initialDefault = {
              actionId: id,
              arguments: cp.map((param, i) => {
                const arg = p.action.args[target.decl.params.indexOf(param)]!;
                return { paramId: ids[i]!, value: bytesOf(intArg(arg, 'a default action argument', arg.span), paramWidth(param.type, arg.span)) };
              }),
            };
            if (p.isConst) constDefault = id;
            break;
          }
          case 'entries':
            isConst = p.isConst;
            hasEntries = p.entries.length > 0;
            break;
          case 'other':
            if (p.name === 'size') size = intArg(p.value, 'size', p.span);
            else if (p.name === 'counters' || p.name === 'meters') {
              const inst = p.value.kind === 'name' && p.value.decl?.kind === 'instantiation' ? p.value.decl : undefined;
              const kind = inst === undefined ? undefined : instanceKind(inst);
              if (inst === undefined || (kind !== 'directCounter' && kind !== 'directMeter')) {
                throw new P4TypeError(`'${p.name}' must name a direct_counter or direct_meter instance`, p.value.span);
              }
              if (directOwner.has(inst)) throw new P4TypeError(`${inst.name} is attached to two tables`, p.value.span);
              directOwner.set(inst, name);
              direct.push(symbols.id(kind, controlPlaneName(inst, scope)));
            } else if (p.name === 'implementation') {
              throw new P4TypeError(`table implementations (action profiles/selectors) are not supported`, p.span);
            }
            break;
        }
      }
      if (noAction !== undefined && !t.properties.some((p) => p.kind === 'defaultAction')) {
        const id = symbols.id('action', controlPlaneName(noAction, undefined));
        if (!actionRefs.some((r) => r.id === id)) actionRefs.push({ id, annotations: ['@defaultonly'], scope: 'DEFAULT_ONLY' });
        initialDefault = { actionId: id, arguments: [] };
      }
      tables.push({
        preamble: symbols.preamble('table', name, t.annotations), matchFields, actionRefs, constDefaultActionId: constDefault,
        initialDefaultAction: initialDefault, directResourceIds: direct, size, isConstTable: isConst, hasInitialEntries: hasEntries,
      });
    }
    emitInstances(c.instances, scope);
    for (const d of c.digests) {
      if (seenDigests.has(d.name)) continue;
      seenDigests.add(d.name);
      digests.push({ preamble: symbols.preamble('digest', d.name, []), typeSpec: typeInfo.spec(d.type, d.span) });
    }
  }

  const controllerPacketMetadata = controllerHeaders.map((h) => {
    const name = controllerHeaderName(h);
    const pre = symbols.preamble('controllerHeader', controlPlaneName(h, undefined), h.annotations);
    return {
      preamble: { ...pre, name, alias: name },
      metadata: h.fields.filter((f) => !isHidden(f.annotations)).map((f) => ({
        id: fieldIds(h.fields)[h.fields.indexOf(f)]!, name: controlPlaneName(f, undefined), annotations: listed(f.annotations), bitwidth: widthOf(f.type!) ?? 0,
      })),
    };
  });

  return {
    pkgInfo: checked.main === undefined ? undefined : { arch: 'v1model' }, tables, actions, counters, directCounters, meters, directMeters,
    controllerPacketMetadata, registers, digests,
    typeInfo: typeInfoTouched(collected, checked, tables.length, actions, controllerPacketMetadata) ? typeInfo.build() : undefined,
  };
}

/**
 * Whether p4c's serializer would have created `type_info`: it does so (possibly leaving it empty)
 * when it adds a table, an action parameter, a controller header field, an extern instance or
 * meets an extern function call in a control.
 */
function typeInfoTouched(
  collected: readonly ControlObjects[], checked: CheckedProgram, tableCount: number, actions: readonly Action[],
  headers: readonly ControllerPacketMetadata[],
): boolean {
  if (tableCount > 0 || actions.some((a) => a.params.length > 0) || headers.some((h) => h.metadata.length > 0)) return true;
  const isExternInstance = (d: Statement | Declaration): boolean => d.kind === 'instantiation' && d.type?.kind === 'extern';
  for (const b of checked.pipeline) {
    const locals: readonly (Statement | Declaration)[] = b.decl.locals;
    if (locals.some(isExternInstance)) return true;
  }
  if (collected.some((c) => c.instances.some(isExternInstance))) return true;
  if (checked.program.declarations.some(isExternInstance)) return true;
  let externCall = false;
  for (const c of collected) {
    const visit = (call: CallExpr): void => {
      if (call.target?.kind === 'externFunction') externCall = true;
    };
    forEachCall(c.control.apply.statements, visit);
    for (const a of c.actions) if (c.control.locals.includes(a.decl)) forEachCall(a.decl.body.statements, visit);
  }
  return externCall;
}

function controllerHeaderName(h: HeaderDecl): string {
  const a = findAnnotation(h.annotations, 'controller_header')!;
  const n = a.args[0];
  if (typeof n !== 'string') throw new P4TypeError(`@controller_header needs a name such as "packet_in"`, a.span);
  return n;
}

function instanceKind(i: Declaration): ObjectKind | undefined {
  if (i.kind !== 'instantiation' || i.type?.kind !== 'extern') return undefined;
  switch (i.type.name) {
    case 'counter': return 'counter';
    case 'direct_counter': return 'directCounter';
    case 'meter': return 'meter';
    case 'direct_meter': return 'directMeter';
    case 'register': return 'register';
    default: return undefined;
  }
}

function paramWidth(t: P4Type | undefined, span: CallExpr['span']): number {
  const w = t === undefined ? undefined : t.kind === 'bit' || t.kind === 'int' || t.kind === 'bool' || (t.kind === 'enum' && t.underlying !== undefined) ? widthOf(t) : undefined;
  if (w === undefined) throw new P4TypeError(`action parameters must be bit<W>, int<W> or bool for P4Runtime, not ${t === undefined ? '?' : typeToString(t)}`, span);
  return w;
}

/**
 * Ids of match fields, parameters and metadata fields: `@id(N)` where given, else 1, 2, 3 … by
 * position, skipping ids taken by `@id` (p4c's FieldIdAllocator).
 */
function fieldIds(items: readonly { readonly annotations: readonly Annotation[]; readonly span: CallExpr['span'] }[]): number[] {
  const explicit = items.map((it) => {
    const a = findAnnotation(it.annotations, 'id');
    if (a === undefined) return undefined;
    const v = a.args[0];
    if (typeof v !== 'bigint' || v <= 0n || v > 0xffffffffn) throw new P4TypeError(`@id must be a positive 32-bit integer`, a.span);
    return Number(v);
  });
  const taken = new Set<number>();
  for (const [i, id] of explicit.entries()) {
    if (id === undefined) continue;
    if (taken.has(id)) throw new P4TypeError(`@id ${id} is used twice`, items[i]!.span);
    taken.add(id);
  }
  let index = 1;
  return explicit.map((id) => {
    if (id !== undefined) {
      index++;
      return id;
    }
    while (taken.has(index)) index++;
    taken.add(index);
    return index;
  });
}

/** `v` as ceil(width / 8) big-endian bytes. */
function bytesOf(v: number, width: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(width / 8));
  let x = BigInt(v);
  for (let i = out.length - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

function keyWidth(t: P4Type): number {
  if (t.kind === 'error') return 0;
  return widthOf(t) ?? 0;
}

class TypeInfoBuilder {
  private readonly structs = new Map<string, { name: string; typeSpec: TypeSpec }[]>();
  private readonly headers = new Map<string, { name: string; bitwidth: number; signed: boolean }[]>();
  private readonly enums = new Map<string, string[]>();
  private usesError = false;

  constructor(private readonly errorMembers: readonly string[]) {}

  spec(t: P4Type, span: CallExpr['span']): TypeSpec {
    switch (t.kind) {
      case 'bit': return { kind: 'bit', bitwidth: t.width };
      case 'int': return { kind: 'int', bitwidth: t.width };
      case 'bool': return { kind: 'bool' };
      case 'error':
        this.usesError = true;
        return { kind: 'error' };
      case 'enum':
        if (t.underlying !== undefined) throw new P4TypeError(`serializable enums in P4Info are not supported`, span);
        this.enums.set(t.name, [...t.members]);
        return { kind: 'enum', name: t.name };
      case 'struct': {
        const name = controlPlaneName(t.decl, undefined);
        if (!this.structs.has(name)) {
          this.structs.set(name, []);
          this.structs.set(name, t.fields.map((f) => ({ name: f.name, typeSpec: this.spec(f.type, span) })));
        }
        return { kind: 'struct', name };
      }
      case 'header': {
        const name = controlPlaneName(t.decl, undefined);
        this.headers.set(name, t.fields.map((f) => ({ name: f.name, bitwidth: widthOf(f.type) ?? 0, signed: f.type.kind === 'int' })));
        return { kind: 'header', name };
      }
      case 'tuple': return { kind: 'tuple', members: t.elements.map((e) => this.spec(e, span)) };
      default:
        throw new P4TypeError(`type ${typeToString(t)} cannot appear in P4Info`, span);
    }
  }

  build(): TypeInfo {
    return { structs: this.structs, headers: this.headers, enums: this.enums, errors: this.usesError ? this.errorMembers : undefined };
  }
}
