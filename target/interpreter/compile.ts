/**
 * Compiles a checked block (parser or control) of a v1model program into JavaScript closures:
 * one closure per expression and statement, with names resolved to slots and field names to
 * indexes once, so that running a packet does no lookup by name. Semantics follow the P4_16
 * specification and BMv2 (behavioral-model docs/simple_switch.md; p4c's v1model.p4):
 * bit<W> arithmetic wraps, int<W> is two's complement, headers start invalid, metadata zero.
 */
import type {
  ActionDecl, BlockStmt, CallExpr, ControlDecl, Expression, KeyElement, MemberExpr, NameExpr,
  ParserDecl, SelectCase, Span, Statement, TableDecl,
} from '../../p4-frontend/ast.ts';
import { findAnnotation } from '../../p4-frontend/ast.ts';
import type { P4Type } from '../../p4-frontend/types.ts';
import { TargetError, spanLocation, unsupported } from './errors.ts';
import { Flow, type FlowCode, type Frame } from './frame.ts';
import {
  HeaderValue, StackValue, StructValue, TupleValue, cloneValue, defaultValue, maskOf, normalise,
  wrapperFor, type ExternObject, type Value,
} from './values.ts';
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

/** The result of `t.apply()`. */
export interface ApplyResult {
  readonly hit: boolean;
  readonly action: ActionDecl;
}

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

function typeOf(e: Expression): P4Type {
  if (e.type === undefined) throw new TargetError('TARGET_RUNTIME', 'expression was not type-checked', { location: spanLocation(e.span) });
  return e.type;
}

function widthOf(t: P4Type): number {
  if (t.kind === 'bit' || t.kind === 'int' || t.kind === 'varbit') return t.width;
  if (t.kind === 'bool') return 1;
  if (t.kind === 'enum' && t.underlying !== undefined) return widthOf(t.underlying);
  return 0;
}

function fieldIndex(t: P4Type, name: string, span: Span): number {
  if (t.kind !== 'header' && t.kind !== 'struct' && t.kind !== 'headerUnion') {
    throw new TargetError('TARGET_RUNTIME', `no field '${name}' in a ${t.kind}`, { location: spanLocation(span) });
  }
  const i = t.fields.findIndex((f) => f.name === name);
  if (i < 0) throw new TargetError('TARGET_RUNTIME', `no field '${name}'`, { location: spanLocation(span) });
  return i;
}

/** Flattens a value into (value, width) pairs in declaration order, as hash and digest data. */
export function flattenValue(v: Value, t: P4Type, out: { value: bigint; width: number }[] = []): { value: bigint; width: number }[] {
  if (v instanceof HeaderValue) {
    v.type.fields.forEach((f, i) => out.push({ value: v.fields[i]!, width: widthOf(f.type) }));
  } else if (v instanceof StructValue) {
    v.type.fields.forEach((f, i) => flattenValue(v.fields[i], f.type, out));
  } else if (v instanceof TupleValue) {
    v.elements.forEach((e, i) => flattenValue(e, v.types[i]!, out));
  } else if (typeof v === 'boolean') {
    out.push({ value: v ? 1n : 0n, width: 1 });
  } else if (typeof v === 'bigint') {
    out.push({ value: t.kind === 'int' ? BigInt.asUintN(t.width, v) : v, width: widthOf(t) });
  }
  return out;
}

export class BlockCompiler {
  constructor(private readonly env: BlockEnvironment) {}

  // ================================================================== expressions
  expr(e: Expression, fn: FunctionScope): Getter {
    const t = e.type;
    if (e.constValue !== undefined && e.kind !== 'call') {
      const c: Value = typeof e.constValue === 'bigint' ? normalise(e.constValue, t) : e.constValue;
      return () => c;
    }
    switch (e.kind) {
      case 'int': {
        const c = normalise(e.value, t);
        return () => c;
      }
      case 'bool': {
        const c = e.value;
        return () => c;
      }
      case 'string': {
        const c = e.value;
        return () => c;
      }
      case 'name':
        return this.nameGetter(e, fn);
      case 'member':
        return this.memberGetter(e, fn);
      case 'index': {
        const base = this.expr(e.expr, fn);
        const index = this.expr(e.index, fn);
        return (f) => {
          const s = base(f) as StackValue;
          const i = Number(index(f) as bigint);
          const h = s.elements[i];
          if (h === undefined) throw new ParserReject('StackOutOfBounds');
          return h;
        };
      }
      case 'slice': {
        const base = this.expr(e.expr, fn);
        const lo = BigInt(e.loValue ?? 0);
        const mask = maskOf((e.hiValue ?? 0) - (e.loValue ?? 0) + 1);
        const bt = typeOf(e.expr);
        const unsignedWidth = bt.kind === 'int' ? bt.width : undefined;
        return (f) => {
          let v = base(f) as bigint;
          if (unsignedWidth !== undefined) v = BigInt.asUintN(unsignedWidth, v);
          return (v >> lo) & mask;
        };
      }
      case 'call':
        return this.call(e, fn);
      case 'unary':
        return this.unary(e.op, this.expr(e.operand, fn), typeOf(e));
      case 'binary':
        return this.binary(e, fn);
      case 'ternary': {
        const c = this.expr(e.cond, fn);
        const a = this.expr(e.then, fn);
        const b = this.expr(e.else, fn);
        return (f) => (c(f) ? a(f) : b(f));
      }
      case 'cast':
        return this.cast(this.expr(e.expr, fn), typeOf(e.expr), typeOf(e));
      case 'list': {
        const items = e.elements.map((x) => this.expr(x, fn));
        const types = e.elements.map(typeOf);
        const lt = typeOf(e);
        if (lt.kind === 'struct' || lt.kind === 'headerUnion') {
          return (f) => new StructValue(lt, items.map((g, i) => normalised(cloneValue(g(f)), lt.fields[i]?.type)));
        }
        if (lt.kind === 'header') {
          return (f) => new HeaderValue(lt, true, items.map((g, i) => normalise(g(f) as bigint, lt.fields[i]?.type)));
        }
        return (f) => new TupleValue(types, items.map((g) => g(f)));
      }
      case 'typeName':
      case 'mask':
      case 'range':
      case 'default':
        throw new TargetError('TARGET_RUNTIME', `a ${e.kind} expression has no value here`, { location: spanLocation(e.span) });
    }
  }

  private nameGetter(e: NameExpr, fn: FunctionScope): Getter {
    const d = e.decl;
    if (d === undefined) throw new TargetError('TARGET_RUNTIME', `unresolved name '${e.name}'`, { location: spanLocation(e.span) });
    const local = fn.slots.get(d);
    if (local !== undefined) return (f) => f.local[local];
    const block = this.env.blockSlots.get(d);
    if (block !== undefined) return (f) => f.block[block];
    if (d.kind === 'const') {
      const v = d.constValue;
      if (v === undefined) throw new TargetError('TARGET_RUNTIME', `constant '${d.name}' has no value`, { location: spanLocation(e.span) });
      const c: Value = typeof v === 'bigint' ? normalise(v, d.type) : v;
      return () => c;
    }
    const ext = this.env.externs.get(d);
    if (ext !== undefined) return () => ext;
    throw unsupported(`the name '${e.name}' (${d.kind}) used as a value`, e.span);
  }

  private memberGetter(e: MemberExpr, fn: FunctionScope): Getter {
    const r = e.resolution;
    switch (r?.kind) {
      case 'field': {
        const base = this.expr(e.expr, fn);
        const i = fieldIndex(typeOf(e.expr), e.member, e.span);
        return (f) => {
          const v = base(f);
          return v instanceof HeaderValue ? v.fields[i] : (v as StructValue).fields[i];
        };
      }
      case 'enumMember': {
        const t = typeOf(e);
        if (t.kind === 'enum' && t.underlying !== undefined) {
          const member = t.decl.members.find((m) => m.name === e.member);
          const v = member?.value?.constValue;
          const c = typeof v === 'bigint' ? normalise(v, t.underlying) : 0n;
          return () => c;
        }
        const name = e.member;
        return () => name;
      }
      case 'errorMember': {
        const name = e.member;
        return () => name;
      }
      case 'applyResult': {
        const base = this.expr(e.expr, fn);
        if (r.field === 'hit') return (f) => (base(f) as unknown as ApplyResult).hit;
        if (r.field === 'miss') return (f) => !(base(f) as unknown as ApplyResult).hit;
        return (f) => (base(f) as unknown as ApplyResult).action as unknown as Value;
      }
      case 'stackProperty': {
        const base = this.expr(e.expr, fn);
        switch (r.property) {
          case 'size':
            return (f) => BigInt((base(f) as StackValue).elements.length);
          case 'lastIndex':
            return (f) => BigInt((base(f) as StackValue).nextIndex - 1) & maskOf(32);
          case 'next':
            return (f) => {
              const s = base(f) as StackValue;
              const h = s.elements[s.nextIndex];
              if (h === undefined) throw new ParserReject('StackOutOfBounds');
              return h;
            };
          case 'last':
            return (f) => {
              const s = base(f) as StackValue;
              const h = s.elements[s.nextIndex - 1];
              if (h === undefined) throw new ParserReject('StackOutOfBounds');
              return h;
            };
        }
        break;
      }
      default:
        break;
    }
    throw unsupported(`the member access '.${e.member}'`, e.span);
  }

  private unary(op: string, operand: Getter, t: P4Type): Getter {
    switch (op) {
      case '!':
        return (f) => !operand(f);
      case '~': {
        const wrap = wrapperFor(t);
        return (f) => wrap(~(operand(f) as bigint));
      }
      case '-': {
        const wrap = wrapperFor(t);
        return (f) => wrap(-(operand(f) as bigint));
      }
      default:
        return operand;
    }
  }

  private binary(e: Extract<Expression, { kind: 'binary' }>, fn: FunctionScope): Getter {
    const l = this.expr(e.left, fn);
    const r = this.expr(e.right, fn);
    const t = typeOf(e);
    const lt = typeOf(e.left);
    const rt = typeOf(e.right);
    // Operands of comparisons meet at the sized type (an unsized literal takes the other's width).
    const common = lt.kind === 'infint' ? rt : lt;
    switch (e.op) {
      case '&&':
        return (f) => (l(f) as boolean) && (r(f) as boolean);
      case '||':
        return (f) => (l(f) as boolean) || (r(f) as boolean);
      case '==':
      case '!=': {
        const w = wrapperFor(common);
        const eq = (a: Value, b: Value): boolean => {
          if (typeof a === 'bigint' && typeof b === 'bigint') return w(a) === w(b);
          if (a instanceof HeaderValue && b instanceof HeaderValue) {
            return a.valid === b.valid && (!a.valid || a.fields.every((x, i) => x === b.fields[i]));
          }
          return a === b;
        };
        return e.op === '==' ? (f) => eq(l(f), r(f)) : (f) => !eq(l(f), r(f));
      }
      case '<': {
        const w = wrapperFor(common);
        return (f) => w(l(f) as bigint) < w(r(f) as bigint);
      }
      case '<=': {
        const w = wrapperFor(common);
        return (f) => w(l(f) as bigint) <= w(r(f) as bigint);
      }
      case '>': {
        const w = wrapperFor(common);
        return (f) => w(l(f) as bigint) > w(r(f) as bigint);
      }
      case '>=': {
        const w = wrapperFor(common);
        return (f) => w(l(f) as bigint) >= w(r(f) as bigint);
      }
      case '+': {
        const wrap = wrapperFor(t);
        return (f) => wrap((l(f) as bigint) + (r(f) as bigint));
      }
      case '-': {
        const wrap = wrapperFor(t);
        return (f) => wrap((l(f) as bigint) - (r(f) as bigint));
      }
      case '*': {
        const wrap = wrapperFor(t);
        return (f) => wrap((l(f) as bigint) * (r(f) as bigint));
      }
      case '/':
        return (f) => {
          const d = r(f) as bigint;
          return d === 0n ? 0n : normalise((l(f) as bigint) / d, t);
        };
      case '%':
        return (f) => {
          const d = r(f) as bigint;
          return d === 0n ? 0n : normalise((l(f) as bigint) % d, t);
        };
      // Operands are already normalised to the (common) type: the result stays in range.
      case '&':
        return (f) => (l(f) as bigint) & (r(f) as bigint);
      case '|':
        return (f) => (l(f) as bigint) | (r(f) as bigint);
      case '^':
        return (f) => (l(f) as bigint) ^ (r(f) as bigint);
      case '|+|':
      case '|-|': {
        const [min, max] = t.kind === 'int' ? [-(1n << BigInt(t.width - 1)), (1n << BigInt(t.width - 1)) - 1n] : [0n, maskOf(widthOf(t))];
        const sign = e.op === '|+|' ? 1n : -1n;
        return (f) => {
          const v = (l(f) as bigint) + sign * (r(f) as bigint);
          return v < min ? min : v > max ? max : v;
        };
      }
      case '<<': {
        const w = BigInt(widthOf(t));
        const wrap = wrapperFor(t);
        return (f) => {
          const s = r(f) as bigint;
          if (t.kind === 'infint') return (l(f) as bigint) << s;
          return s >= w ? 0n : wrap((l(f) as bigint) << s);
        };
      }
      case '>>': {
        const w = BigInt(widthOf(t));
        const wrap = wrapperFor(t);
        return (f) => {
          const s = r(f) as bigint;
          const v = l(f) as bigint;
          if (t.kind === 'infint') return v >> s;
          if (s >= w) return t.kind === 'int' && v < 0n ? -1n : 0n;
          return wrap(v >> s);
        };
      }
      case '++': {
        const rw = BigInt(widthOf(rt));
        const rmask = maskOf(widthOf(rt));
        const lw = widthOf(lt);
        const wrap = wrapperFor(t);
        return (f) => {
          const lv = BigInt.asUintN(lw, l(f) as bigint);
          return wrap((lv << rw) | ((r(f) as bigint) & rmask));
        };
      }
    }
  }

  private cast(inner: Getter, from: P4Type, to: P4Type): Getter {
    if (to.kind === 'bool') return (f) => (inner(f) as bigint) !== 0n;
    if (to.kind === 'bit' || to.kind === 'int') {
      if (from.kind === 'bool') return (f) => ((inner(f) as boolean) ? 1n : 0n);
      const fromInt = from.kind === 'int' ? from.width : undefined;
      const wrap = wrapperFor(to);
      // int<W> → bit<V> of another width goes through bit<W> first (P4_16 §8.11.1).
      if (fromInt !== undefined && to.kind === 'bit') return (f) => wrap(BigInt.asUintN(fromInt, inner(f) as bigint));
      return (f) => wrap(inner(f) as bigint);
    }
    if (to.kind === 'enum' && to.underlying !== undefined) return (f) => normalise(inner(f) as bigint, to.underlying);
    return inner;
  }

  // ================================================================== lvalues
  lvalue(e: Expression, fn: FunctionScope): LValue {
    const t = e.type;
    switch (e.kind) {
      case 'name': {
        const d = e.decl;
        if (d === undefined) throw new TargetError('TARGET_RUNTIME', `unresolved name '${e.name}'`, { location: spanLocation(e.span) });
        const wrap = wrapperFor(t);
        const local = fn.slots.get(d);
        if (local !== undefined) {
          return { get: (f) => f.local[local], set: (f, v) => void (f.local[local] = assignable(f.local[local], v, wrap)) };
        }
        const block = this.env.blockSlots.get(d);
        if (block !== undefined) {
          return { get: (f) => f.block[block], set: (f, v) => void (f.block[block] = assignable(f.block[block], v, wrap)) };
        }
        throw unsupported(`assignment to '${e.name}'`, e.span);
      }
      case 'member': {
        if (e.resolution?.kind === 'stackProperty') {
          const get = this.memberGetter(e, fn);
          return { get, set: (f, v) => (get(f) as HeaderValue).copyFrom(v as HeaderValue) };
        }
        const base = this.expr(e.expr, fn);
        const i = fieldIndex(typeOf(e.expr), e.member, e.span);
        const wrap = wrapperFor(t);
        return {
          get: (f) => {
            const o = base(f);
            return o instanceof HeaderValue ? o.fields[i] : (o as StructValue).fields[i];
          },
          set: (f, v) => {
            const o = base(f);
            if (o instanceof HeaderValue) o.fields[i] = typeof v === 'boolean' ? (v ? 1n : 0n) : wrap(v as bigint);
            else {
              const s = o as StructValue;
              s.fields[i] = assignable(s.fields[i], v, wrap);
            }
          },
        };
      }
      case 'index': {
        const get = this.expr(e, fn);
        return { get, set: (f, v) => (get(f) as HeaderValue).copyFrom(v as HeaderValue) };
      }
      case 'slice': {
        const base = this.lvalue(e.expr, fn);
        const lo = BigInt(e.loValue ?? 0);
        const mask = maskOf((e.hiValue ?? 0) - (e.loValue ?? 0) + 1);
        const bt = typeOf(e.expr);
        const bw = widthOf(bt);
        return {
          get: (f) => ((BigInt.asUintN(bw, base.get(f) as bigint)) >> lo) & mask,
          set: (f, v) => {
            const old = BigInt.asUintN(bw, base.get(f) as bigint);
            base.set(f, (old & ~(mask << lo)) | (((v as bigint) & mask) << lo));
          },
        };
      }
      default:
        throw unsupported(`assignment to a ${e.kind} expression`, e.span);
    }
  }

  // ================================================================== calls
  private call(e: CallExpr, fn: FunctionScope): Getter {
    const target = e.target;
    if (target === undefined) throw new TargetError('TARGET_RUNTIME', 'unresolved call', { location: spanLocation(e.span) });
    switch (target.kind) {
      case 'headerMethod': {
        const callee = e.callee as MemberExpr;
        const header = this.expr(callee.expr, fn);
        switch (target.method) {
          case 'isValid':
            return (f) => (header(f) as HeaderValue).valid;
          case 'setValid':
            return (f) => {
              (header(f) as HeaderValue).valid = true;
              return undefined;
            };
          case 'setInvalid':
            return (f) => {
              (header(f) as HeaderValue).valid = false;
              return undefined;
            };
        }
        break;
      }
      case 'stackMethod': {
        const callee = e.callee as MemberExpr;
        const stack = this.expr(callee.expr, fn);
        const count = e.args[0] === undefined ? () => 1n : this.expr(e.args[0], fn);
        const push = target.method === 'push_front';
        return (f) => {
          const s = stack(f) as StackValue;
          const n = Number(count(f) as bigint);
          const els = s.elements;
          if (push) {
            for (let i = els.length - 1; i >= 0; i--) {
              if (i >= n) els[i]!.copyFrom(els[i - n]!);
              else els[i]!.valid = false;
            }
            s.nextIndex = Math.min(els.length, s.nextIndex + n);
          } else {
            for (let i = 0; i < els.length; i++) {
              if (i + n < els.length) els[i]!.copyFrom(els[i + n]!);
              else els[i]!.valid = false;
            }
            s.nextIndex = Math.max(0, s.nextIndex - n);
          }
          return undefined;
        };
      }
      case 'tableApply': {
        const table = this.env.tables.get(target.table);
        if (table === undefined) throw new TargetError('TARGET_RUNTIME', `table ${target.table.name} is not instantiated`);
        return this.tableApply(target.table, table, fn);
      }
      case 'action': {
        const info = this.env.actions.get(target.decl) ?? this.compileAction(target.decl);
        return this.directActionCall(info, target.decl, e, fn);
      }
      case 'externFunction':
        return this.env.runtime.compileFunctionCall(this, e, target.decl.name, target.decl.params, fn);
      case 'externMethod': {
        const callee = e.callee as MemberExpr;
        const receiver = this.expr(callee.expr, fn);
        return this.env.runtime.compileMethodCall(this, e, target.extern.name, target.method, receiver, fn);
      }
      case 'blockApply':
        throw unsupported('applying a sub-parser or sub-control', e.span);
    }
    throw unsupported('this call', e.span);
  }

  private directActionCall(info: ActionInfo, decl: ActionDecl, e: CallExpr, fn: FunctionScope): Getter {
    // Directionless and `in` arguments are values; `out`/`inout` are copied back after the body.
    const args = decl.params.map((p, i) => {
      const a = e.args[i];
      if (a === undefined) throw new TargetError('TARGET_RUNTIME', `missing argument '${p.name}'`, { location: spanLocation(e.span) });
      if (p.direction === 'out' || p.direction === 'inout') return { param: p, lv: this.lvalue(a, fn), get: undefined };
      return { param: p, lv: undefined, get: this.expr(a, fn) };
    });
    const body = this.actionBodies.get(decl)!;
    return (f) => {
      const local: Value[] = new Array(body.scope.size);
      args.forEach((a, i) => {
        const slot = body.paramSlots[i]!;
        if (a.get !== undefined) local[slot] = cloneValue(a.get(f));
        else local[slot] = a.param.direction === 'inout' ? cloneValue(a.lv!.get(f)) : defaultValue(a.param.type!);
      });
      body.run({ block: f.block, local, packet: f.packet });
      args.forEach((a, i) => {
        if (a.lv !== undefined) a.lv.set(f, local[body.paramSlots[i]!]);
      });
      return undefined;
    };
  }

  private readonly actionBodies = new Map<ActionDecl, { scope: FunctionScope; paramSlots: number[]; run: (f: Frame) => void }>();

  /** Compiles an action once; tables and direct calls share it. */
  compileAction(decl: ActionDecl): ActionInfo {
    const existing = this.env.actions.get(decl);
    if (existing !== undefined) return existing;
    const scope = new FunctionScope();
    const paramSlots = decl.params.map((p) => scope.allocate(p));
    // Register before compiling the body so that a recursive lookup finds it.
    const holder: { exec?: Exec } = {};
    const run = (f: Frame): void => {
      holder.exec!(f);
    };
    this.actionBodies.set(decl, { scope, paramSlots, run });
    const controlPlane = decl.params.filter((p) => p.direction === 'none');
    const info: ActionInfo = {
      name: controlPlaneName(this.env.topLevelActions.has(decl) ? '' : this.env.prefix, decl),
      decl,
      params: controlPlane.map((p) => ({ name: p.name, width: widthOf(p.type!) })),
      run: (f, args) => {
        const local: Value[] = new Array(scope.size);
        let k = 0;
        decl.params.forEach((p, i) => {
          local[paramSlots[i]!] = p.direction === 'none' ? args[k++] : defaultValue(p.type!);
        });
        holder.exec!({ block: f.block, local, packet: f.packet });
      },
    };
    this.env.actions.set(decl, info);
    holder.exec = this.block(decl.body, scope);
    return info;
  }

  private tableApply(decl: TableDecl, table: Table, fn: FunctionScope): Getter {
    const keyProp = decl.properties.find((p) => p.kind === 'key');
    const keys = (keyProp?.kind === 'key' ? keyProp.elements : []).map((k: KeyElement) => {
      const g = this.expr(k.expr, fn);
      const kt = typeOf(k.expr);
      if (kt.kind === 'bool') return (f: Frame) => ((g(f) as boolean) ? 1n : 0n);
      if (kt.kind === 'int') return (f: Frame) => BigInt.asUintN(kt.width, g(f) as bigint);
      return g as (f: Frame) => bigint;
    });
    const runtime = this.env.runtime;
    return (f) => {
      const key: bigint[] = new Array(keys.length);
      for (let i = 0; i < keys.length; i++) key[i] = keys[i]!(f);
      const result: LookupResult = table.lookup(key);
      if (result.entry !== undefined && table.hasDirectCounter) {
        result.entry.packets += 1n;
        result.entry.bytes += BigInt(f.packet.ingressLength);
      }
      runtime.traceTable(f, table, key, result);
      result.call.action.run(f, result.call.args);
      return { hit: result.hit, action: result.call.action.decl } as unknown as Value;
    };
  }

  // ================================================================== statements
  block(b: BlockStmt, fn: FunctionScope): Exec {
    return this.sequence(b.statements, fn);
  }

  sequence(statements: readonly Statement[], fn: FunctionScope): Exec {
    const steps = statements.map((s) => this.statement(s, fn));
    if (steps.length === 1) return steps[0]!;
    return (f) => {
      for (const step of steps) {
        const r = step(f);
        if (r !== Flow.Normal) return r;
      }
      return Flow.Normal;
    };
  }

  statement(s: Statement, fn: FunctionScope): Exec {
    switch (s.kind) {
      case 'assign': {
        const lv = this.lvalue(s.left, fn);
        const rv = this.expr(s.right, fn);
        return (f) => {
          lv.set(f, rv(f));
          return Flow.Normal;
        };
      }
      case 'callStmt': {
        const c = this.expr(s.call, fn);
        return (f) => {
          c(f);
          return Flow.Normal;
        };
      }
      case 'if': {
        const c = this.expr(s.cond, fn);
        const a = this.statement(s.then, fn);
        const b = s.else === undefined ? undefined : this.statement(s.else, fn);
        return b === undefined ? (f) => (c(f) ? a(f) : Flow.Normal) : (f) => (c(f) ? a(f) : b(f));
      }
      case 'block':
        return this.block(s, fn);
      case 'switch':
        return this.switchStatement(s, fn);
      case 'return':
        return () => Flow.Return;
      case 'exit':
        return () => {
          throw new ExitSignal();
        };
      case 'empty':
        return () => Flow.Normal;
      case 'var': {
        const slot = fn.allocate(s);
        const t = s.type!;
        const init = s.init === undefined ? undefined : this.expr(s.init, fn);
        const wrap = wrapperFor(t);
        return (f) => {
          f.local[slot] = init === undefined ? defaultValue(t) : assignable(undefined, init(f), wrap);
          return Flow.Normal;
        };
      }
      case 'const': {
        const slot = fn.allocate(s);
        const v = s.constValue;
        const c: Value = typeof v === 'bigint' ? normalise(v, s.type) : v;
        return (f) => {
          f.local[slot] = c;
          return Flow.Normal;
        };
      }
      case 'instantiation':
        throw unsupported('an instantiation inside a block', s.span);
    }
  }

  private switchStatement(s: Extract<Statement, { kind: 'switch' }>, fn: FunctionScope): Exec {
    const subject = this.expr(s.expr, fn);
    const st = typeOf(s.expr);
    // Fall-through labels (`a: b: {...}`) share the next body.
    const cases: { match: (v: Value) => boolean; body: Exec }[] = [];
    let pending: ((v: Value) => boolean)[] = [];
    for (const c of s.cases) {
      let m: (v: Value) => boolean;
      if (c.label.kind === 'default') m = () => true;
      else if (st.kind === 'actionEnum') {
        const decl = (c.label as NameExpr).decl;
        m = (v) => v === (decl as unknown as Value);
      } else {
        const label = this.expr(c.label, fn);
        const dummy = { block: [], local: [], packet: undefined as never };
        const lv = label(dummy);
        m = (v) => (typeof v === 'bigint' ? v === normalise(lv as bigint, st) : v === lv);
      }
      pending.push(m);
      if (c.body !== undefined) {
        const ms = pending;
        cases.push({ match: (v) => ms.some((x) => x(v)), body: this.block(c.body, fn) });
        pending = [];
      }
    }
    return (f) => {
      const v = subject(f);
      for (const c of cases) if (c.match(v)) return c.body(f);
      return Flow.Normal;
    };
  }

  // ================================================================== parser selects
  /** A select case's keyset as a predicate over the select values. */
  keyset(c: SelectCase, selectTypes: readonly P4Type[], fn: FunctionScope): (values: readonly Value[]) => boolean {
    const k = c.keyset;
    if (k.kind === 'default') return () => true;
    const parts = k.kind === 'list' && selectTypes.length > 1 ? k.elements : [k];
    const preds = parts.map((p, i) => this.keysetElement(p, selectTypes[i] ?? typeOf(p), fn));
    return (values) => preds.every((p, i) => p(values[i]));
  }

  private keysetElement(e: Expression, t: P4Type, fn: FunctionScope): (v: Value) => boolean {
    const dummy = { block: [], local: [], packet: undefined as never };
    const constant = (x: Expression): bigint => normalise(this.expr(x, fn)(dummy) as bigint, t);
    switch (e.kind) {
      case 'default':
        return () => true;
      case 'mask': {
        const mask = constant(e.mask);
        const value = constant(e.value) & mask;
        return (v) => ((v as bigint) & mask) === value;
      }
      case 'range': {
        const lo = constant(e.lo);
        const hi = constant(e.hi);
        return (v) => (v as bigint) >= lo && (v as bigint) <= hi;
      }
      default: {
        const g = this.expr(e, fn);
        const c = g(dummy);
        if (typeof c === 'bigint') {
          const value = normalise(c, t);
          return (v) => v === value;
        }
        return (v) => v === c;
      }
    }
  }
}

/** Integer values take the width of their destination; aggregates are copied. */
function normalised(v: Value, t: P4Type | undefined): Value {
  return typeof v === 'bigint' ? normalise(v, t) : v;
}

/** What assignment stores: a normalised integer, or a copy of an aggregate written in place. */
function assignable(old: Value, v: Value, wrap: (v: bigint) => bigint): Value {
  if (typeof v === 'bigint') return wrap(v);
  if (old instanceof HeaderValue && v instanceof HeaderValue) {
    old.copyFrom(v);
    return old;
  }
  return cloneValue(v);
}

export type { ControlDecl, ParserDecl };
