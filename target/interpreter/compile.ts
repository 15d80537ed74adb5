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
  HeaderValue, StackValue, StructValue, TupleValue, cloneValue, coercerFor, defaultValue, maskOf, normalise,
  numberWidth, numberWrapper, represent, toBigint, wrapperFor, type ExternObject, type Scalar, type Value,
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
    v.type.fields.forEach((f, i) => out.push({ value: toBigint(v.fields[i]!), width: widthOf(f.type) }));
  } else if (v instanceof StructValue) {
    v.type.fields.forEach((f, i) => flattenValue(v.fields[i], f.type, out));
  } else if (v instanceof TupleValue) {
    v.elements.forEach((e, i) => flattenValue(e, v.types[i]!, out));
  } else if (typeof v === 'boolean') {
    out.push({ value: v ? 1n : 0n, width: 1 });
  } else if (typeof v === 'bigint') {
    out.push({ value: t.kind === 'int' ? BigInt.asUintN(t.width, v) : v, width: widthOf(t) });
  } else if (typeof v === 'number') {
    out.push({ value: BigInt(v), width: widthOf(t) });
  }
  return out;
}

/** A getter of a value of type `t` as a bigint (numbers converted, booleans as 1n/0n). */
function bigGetter(g: Getter, t: P4Type): (f: Frame) => bigint {
  if (numberWidth(t) !== undefined) return (f) => BigInt(g(f) as number);
  if (t.kind === 'bool') return (f) => (g(f) ? 1n : 0n);
  return g as (f: Frame) => bigint;
}

/** A getter of a value of type `t` as a number modulo 2^width (width ≤ 32). */
function numberGetter(g: Getter, t: P4Type, width: number): (f: Frame) => number {
  const nw = numberWidth(t);
  if (nw !== undefined) {
    if (nw <= width) return g as (f: Frame) => number;
    const wrap = numberWrapper(width);
    return (f) => wrap(g(f) as number);
  }
  if (t.kind === 'bool') return (f) => (g(f) ? 1 : 0);
  return (f) => Number(BigInt.asUintN(width, toBigint(g(f))));
}

export class BlockCompiler {
  constructor(private readonly env: BlockEnvironment) {}

  // ================================================================== expressions
  expr(e: Expression, fn: FunctionScope): Getter {
    const t = e.type;
    if (e.constValue !== undefined && e.kind !== 'call') {
      const c: Value = typeof e.constValue === 'bigint' ? represent(e.constValue, t) : e.constValue;
      return () => c;
    }
    switch (e.kind) {
      case 'int': {
        const c = represent(e.value, t);
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
          const i = Number(index(f) as Scalar);
          const h = s.elements[i];
          if (h === undefined) throw new ParserReject('StackOutOfBounds');
          return h;
        };
      }
      case 'slice':
        return sliceReader(this.expr(e.expr, fn), typeOf(e.expr), e.loValue ?? 0, e.hiValue ?? 0);
      case 'call':
        return this.call(e, fn);
      case 'unary':
        return this.unary(e.op, e.operand, typeOf(e), fn);
      case 'binary':
        return this.binary(e, fn);
      case 'ternary': {
        const c = this.expr(e.cond, fn);
        const a = this.exprAs(e.then, typeOf(e), fn);
        const b = this.exprAs(e.else, typeOf(e), fn);
        return (f) => (c(f) ? a(f) : b(f));
      }
      case 'cast':
        return this.cast(this.expr(e.expr, fn), typeOf(e.expr), typeOf(e));
      case 'list': {
        const items = e.elements.map((x) => this.expr(x, fn));
        const types = e.elements.map(typeOf);
        const lt = typeOf(e);
        if (lt.kind === 'struct' || lt.kind === 'headerUnion') {
          const conv = lt.fields.map((x) => coercerFor(x.type));
          return (f) => new StructValue(lt, items.map((g, i) => (conv[i] ?? identity)(cloneValue(g(f)))));
        }
        if (lt.kind === 'header') {
          const conv = lt.fields.map((x) => coercerFor(x.type));
          return (f) => new HeaderValue(lt, true, items.map((g, i) => (conv[i] ?? identity)(g(f)) as Scalar));
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

  /**
   * `e` in the representation of `t` (a number or a bigint): most expressions already have it;
   * an unsized literal or an operand of another type is converted.
   */
  exprAs(e: Expression, t: P4Type, fn: FunctionScope): Getter {
    if (typeof e.constValue === 'bigint' && e.kind !== 'call') {
      const c = represent(e.constValue, t);
      return () => c;
    }
    const et = typeOf(e);
    const g = this.expr(e, fn);
    const isInteger = (x: P4Type): boolean => x.kind === 'bit' || x.kind === 'int' || x.kind === 'infint' || (x.kind === 'enum' && x.underlying !== undefined);
    if (!isInteger(t) || !isInteger(et)) return g;
    if ((numberWidth(et) === undefined) === (numberWidth(t) === undefined)) return g;
    const conv = coercerFor(t);
    return (f) => conv(g(f));
  }

  /** An integer operand as a number modulo 2^width; constants are converted once. */
  private numberOperand(e: Expression, width: number, fn: FunctionScope): (f: Frame) => number {
    if (typeof e.constValue === 'bigint' && e.kind !== 'call') {
      const c = Number(BigInt.asUintN(width, e.constValue));
      return () => c;
    }
    return numberGetter(this.expr(e, fn), typeOf(e), width);
  }

  /** An integer operand as a bigint, normalised to `t` when `t` is given. */
  private bigOperand(e: Expression, fn: FunctionScope, t?: P4Type): (f: Frame) => bigint {
    if (typeof e.constValue === 'bigint' && e.kind !== 'call') {
      const c = t === undefined ? normalise(e.constValue, typeOf(e)) : normalise(e.constValue, t);
      return () => c;
    }
    const g = bigGetter(this.expr(e, fn), typeOf(e));
    if (t === undefined) return g;
    const w = wrapperFor(t);
    return (f) => w(g(f));
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
      const c: Value = typeof v === 'bigint' ? represent(v, d.type) : v;
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
        const bt = typeOf(e.expr);
        const i = fieldIndex(bt, e.member, e.span);
        // The static type says which class the base is: no test per access.
        if (bt.kind === 'header') return (f) => (base(f) as HeaderValue).fields[i];
        return (f) => (base(f) as StructValue).fields[i];
      }
      case 'enumMember': {
        const t = typeOf(e);
        if (t.kind === 'enum' && t.underlying !== undefined) {
          const member = t.decl.members.find((m) => m.name === e.member);
          const v = member?.value?.constValue;
          const c = represent(typeof v === 'bigint' ? v : 0n, t.underlying);
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
        return (f) => (base(f) as unknown as ApplyResult).call.action.decl as unknown as Value;
      }
      case 'stackProperty': {
        const base = this.expr(e.expr, fn);
        const asType = coercerFor(typeOf(e));
        switch (r.property) {
          case 'size':
            return (f) => asType(BigInt((base(f) as StackValue).elements.length));
          case 'lastIndex':
            return (f) => asType(BigInt((base(f) as StackValue).nextIndex - 1) & maskOf(32));
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

  private unary(op: string, operandExpr: Expression, t: P4Type, fn: FunctionScope): Getter {
    if (op === '!') {
      const operand = this.expr(operandExpr, fn);
      return (f) => !operand(f);
    }
    if (op !== '~' && op !== '-') return this.expr(operandExpr, fn);
    const nw = numberWidth(t);
    if (nw !== undefined) {
      const operand = this.numberOperand(operandExpr, nw, fn);
      const wrap = numberWrapper(nw);
      return op === '~' ? (f) => wrap(~operand(f)) : (f) => wrap(-operand(f));
    }
    const operand = this.bigOperand(operandExpr, fn);
    const wrap = wrapperFor(t);
    return op === '~' ? (f) => wrap(~operand(f)) : (f) => wrap(-operand(f));
  }

  private binary(e: Extract<Expression, { kind: 'binary' }>, fn: FunctionScope): Getter {
    const t = typeOf(e);
    const lt = typeOf(e.left);
    const rt = typeOf(e.right);
    // Operands of comparisons meet at the sized type (an unsized literal takes the other's width).
    const common = lt.kind === 'infint' ? rt : lt;
    switch (e.op) {
      case '&&': {
        const l = this.expr(e.left, fn);
        const r = this.expr(e.right, fn);
        return (f) => (l(f) as boolean) && (r(f) as boolean);
      }
      case '||': {
        const l = this.expr(e.left, fn);
        const r = this.expr(e.right, fn);
        return (f) => (l(f) as boolean) || (r(f) as boolean);
      }
      case '==':
      case '!=':
      case '<':
      case '<=':
      case '>':
      case '>=':
        return this.comparison(e, common, fn);
      case '++':
        return this.concat(e, t, lt, rt, fn);
      default:
        break;
    }
    const nw = numberWidth(t);
    if (nw !== undefined) return this.numberArithmetic(e, nw, fn);
    return this.bigArithmetic(e, t, fn);
  }

  private comparison(e: Extract<Expression, { kind: 'binary' }>, common: P4Type, fn: FunctionScope): Getter {
    const nw = numberWidth(common);
    const isInteger = nw !== undefined || common.kind === 'bit' || common.kind === 'int' || common.kind === 'infint' ||
      (common.kind === 'enum' && common.underlying !== undefined);
    if (nw !== undefined || isInteger) {
      const [l, r] = nw !== undefined
        ? [this.numberOperand(e.left, nw, fn), this.numberOperand(e.right, nw, fn)]
        : [this.bigOperand(e.left, fn, common), this.bigOperand(e.right, fn, common)];
      const lx = l as (f: Frame) => Scalar;
      const rx = r as (f: Frame) => Scalar;
      switch (e.op) {
        case '==':
          return (f) => lx(f) === rx(f);
        case '!=':
          return (f) => lx(f) !== rx(f);
        case '<':
          return (f) => lx(f) < rx(f);
        case '<=':
          return (f) => lx(f) <= rx(f);
        case '>':
          return (f) => lx(f) > rx(f);
        default:
          return (f) => lx(f) >= rx(f);
      }
    }
    const l = this.expr(e.left, fn);
    const r = this.expr(e.right, fn);
    const eq = (a: Value, b: Value): boolean => {
      if (a instanceof HeaderValue && b instanceof HeaderValue) {
        return a.valid === b.valid && (!a.valid || a.fields.every((x, i) => x === b.fields[i]));
      }
      return a === b;
    };
    if (e.op === '==') return (f) => eq(l(f), r(f));
    if (e.op === '!=') return (f) => !eq(l(f), r(f));
    throw unsupported(`'${e.op}' on ${common.kind} values`, e.span);
  }

  /** `a ++ b`: the left operand's bits above the right's. */
  private concat(e: Extract<Expression, { kind: 'binary' }>, t: P4Type, lt: P4Type, rt: P4Type, fn: FunctionScope): Getter {
    const lw = widthOf(lt);
    const rw = widthOf(rt);
    const nw = numberWidth(t);
    if (nw !== undefined) {
      const l = this.numberOperand(e.left, lw, fn);
      const r = this.numberOperand(e.right, rw, fn);
      const scale = 2 ** rw;
      return (f) => l(f) * scale + r(f);
    }
    const wrap = wrapperFor(t);
    // Up to 53 bits of unsigned operands fit a double exactly: one bigint conversion at the end.
    if (t.kind === 'bit' && lw + rw <= 53 && lw <= 32 && rw <= 32) {
      const l = this.numberOperand(e.left, lw, fn);
      const r = this.numberOperand(e.right, rw, fn);
      const scale = 2 ** rw;
      return (f) => BigInt(l(f) * scale + r(f));
    }
    const rwBig = BigInt(rw);
    const rmask = maskOf(rw);
    const lRaw = this.bigOperand(e.left, fn);
    const rRaw = this.bigOperand(e.right, fn);
    // Unsigned operands are in range already: shift and or, nothing to mask.
    if (t.kind === 'bit' && lt.kind === 'bit' && rt.kind === 'bit') return (f) => (lRaw(f) << rwBig) | rRaw(f);
    return (f) => {
      const lv = BigInt.asUintN(lw, lRaw(f));
      return wrap((lv << rwBig) | (rRaw(f) & rmask));
    };
  }

  /** Arithmetic on bit<W ≤ 32> as numbers: every result is reduced modulo 2^W. */
  private numberArithmetic(e: Extract<Expression, { kind: 'binary' }>, width: number, fn: FunctionScope): Getter {
    const wrap = numberWrapper(width);
    if (e.op === '<<' || e.op === '>>') {
      const l = this.numberOperand(e.left, width, fn);
      const r = this.shiftAmount(e.right, fn);
      if (e.op === '<<') return (f) => {
        const s = r(f);
        return s >= width ? 0 : wrap(l(f) << s);
      };
      return (f) => {
        const s = r(f);
        return s >= width ? 0 : l(f) >>> s;
      };
    }
    const l = this.numberOperand(e.left, width, fn);
    const r = this.numberOperand(e.right, width, fn);
    switch (e.op) {
      case '+':
        return (f) => wrap(l(f) + r(f));
      case '-':
        return (f) => wrap(l(f) - r(f));
      case '*':
        return (f) => wrap(Math.imul(l(f), r(f)));
      case '/':
        return (f) => {
          const d = r(f);
          return d === 0 ? 0 : Math.floor(l(f) / d);
        };
      case '%':
        return (f) => {
          const d = r(f);
          return d === 0 ? 0 : l(f) % d;
        };
      case '&':
        return (f) => (l(f) & r(f)) >>> 0;
      case '|':
        return (f) => (l(f) | r(f)) >>> 0;
      case '^':
        return (f) => (l(f) ^ r(f)) >>> 0;
      case '|+|': {
        const max = 2 ** width - 1;
        return (f) => Math.min(l(f) + r(f), max);
      }
      case '|-|':
        return (f) => Math.max(l(f) - r(f), 0);
      default:
        throw unsupported(`the operator '${e.op}'`, e.span);
    }
  }

  /** A shift amount as a number (amounts beyond any width stay beyond it). */
  private shiftAmount(e: Expression, fn: FunctionScope): (f: Frame) => number {
    if (typeof e.constValue === 'bigint' && e.kind !== 'call') {
      const c = Number(e.constValue);
      return () => c;
    }
    const rt = typeOf(e);
    const g = this.expr(e, fn);
    if (numberWidth(rt) !== undefined) return g as (f: Frame) => number;
    return (f) => Number(toBigint(g(f)));
  }

  /** Arithmetic on bigints: wider bit<W>, int<W> and arbitrary-precision integers. */
  private bigArithmetic(e: Extract<Expression, { kind: 'binary' }>, t: P4Type, fn: FunctionScope): Getter {
    const l = this.bigOperand(e.left, fn);
    const r = this.bigOperand(e.right, fn);
    switch (e.op) {
      case '+': {
        const wrap = wrapperFor(t);
        return (f) => wrap(l(f) + r(f));
      }
      case '-': {
        const wrap = wrapperFor(t);
        return (f) => wrap(l(f) - r(f));
      }
      case '*': {
        const wrap = wrapperFor(t);
        return (f) => wrap(l(f) * r(f));
      }
      case '/':
        return (f) => {
          const d = r(f);
          return d === 0n ? 0n : normalise(l(f) / d, t);
        };
      case '%':
        return (f) => {
          const d = r(f);
          return d === 0n ? 0n : normalise(l(f) % d, t);
        };
      // Operands are already normalised to the (common) type: the result stays in range.
      case '&':
        return (f) => l(f) & r(f);
      case '|':
        return (f) => l(f) | r(f);
      case '^':
        return (f) => l(f) ^ r(f);
      case '|+|':
      case '|-|': {
        const [min, max] = t.kind === 'int' ? [-(1n << BigInt(t.width - 1)), (1n << BigInt(t.width - 1)) - 1n] : [0n, maskOf(widthOf(t))];
        const sign = e.op === '|+|' ? 1n : -1n;
        return (f) => {
          const v = l(f) + sign * r(f);
          return v < min ? min : v > max ? max : v;
        };
      }
      case '<<': {
        const w = BigInt(widthOf(t));
        const wrap = wrapperFor(t);
        return (f) => {
          const s = r(f);
          if (t.kind === 'infint') return l(f) << s;
          return s >= w ? 0n : wrap(l(f) << s);
        };
      }
      case '>>': {
        const w = BigInt(widthOf(t));
        const wrap = wrapperFor(t);
        return (f) => {
          const s = r(f);
          const v = l(f);
          if (t.kind === 'infint') return v >> s;
          if (s >= w) return t.kind === 'int' && v < 0n ? -1n : 0n;
          return wrap(v >> s);
        };
      }
      default:
        throw unsupported(`the operator '${e.op}'`, e.span);
    }
  }

  private cast(inner: Getter, from: P4Type, to: P4Type): Getter {
    const fromNumber = numberWidth(from);
    if (to.kind === 'bool') {
      if (fromNumber !== undefined) return (f) => (inner(f) as number) !== 0;
      return (f) => (inner(f) as bigint) !== 0n;
    }
    const toNumber = numberWidth(to);
    if (to.kind === 'bit' || to.kind === 'int') {
      if (from.kind === 'bool') {
        if (toNumber !== undefined) return (f) => ((inner(f) as boolean) ? 1 : 0);
        return (f) => ((inner(f) as boolean) ? 1n : 0n);
      }
      const fromInt = from.kind === 'int' ? from.width : undefined;
      if (toNumber !== undefined) {
        if (fromNumber !== undefined) {
          if (fromNumber <= toNumber) return inner;
          const wrap = numberWrapper(toNumber);
          return (f) => wrap(inner(f) as number);
        }
        // int<W> → bit<V> of another width goes through bit<W> first (P4_16 §8.11.1).
        if (fromInt !== undefined && toNumber > fromInt) return (f) => Number(BigInt.asUintN(fromInt, inner(f) as bigint));
        return (f) => Number(BigInt.asUintN(toNumber, toBigint(inner(f))));
      }
      const wrap = wrapperFor(to);
      if (fromNumber !== undefined) {
        if (to.kind === 'bit') return (f) => BigInt(inner(f) as number);
        return (f) => wrap(BigInt(inner(f) as number));
      }
      if (fromInt !== undefined && to.kind === 'bit') return (f) => wrap(BigInt.asUintN(fromInt, inner(f) as bigint));
      return (f) => wrap(inner(f) as bigint);
    }
    if (to.kind === 'enum' && to.underlying !== undefined) {
      const conv = coercerFor(to.underlying);
      return (f) => conv(inner(f));
    }
    return inner;
  }

  // ================================================================== lvalues
  lvalue(e: Expression, fn: FunctionScope): LValue {
    const t = e.type;
    switch (e.kind) {
      case 'name': {
        const d = e.decl;
        if (d === undefined) throw new TargetError('TARGET_RUNTIME', `unresolved name '${e.name}'`, { location: spanLocation(e.span) });
        const wrap = coercerFor(t);
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
        const bt = typeOf(e.expr);
        const i = fieldIndex(bt, e.member, e.span);
        const wrap = coercerFor(t);
        // Header fields hold integers only: a boolean is stored as 1/0 in the field's representation.
        const one = represent(1n, numberWidth(t) === undefined ? undefined : t);
        const zero = represent(0n, numberWidth(t) === undefined ? undefined : t);
        const get = (f: Frame): Value => {
          const o = base(f);
          return o instanceof HeaderValue ? o.fields[i] : (o as StructValue).fields[i];
        };
        if (bt.kind === 'header') {
          return {
            get: (f) => (base(f) as HeaderValue).fields[i],
            set: (f, v) => {
              (base(f) as HeaderValue).fields[i] = (typeof v === 'boolean' ? (v ? one : zero) : wrap(v)) as Scalar;
            },
          };
        }
        return {
          get,
          set: (f, v) => {
            const o = base(f);
            if (o instanceof HeaderValue) o.fields[i] = (typeof v === 'boolean' ? (v ? one : zero) : wrap(v)) as Scalar;
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
        const loValue = e.loValue ?? 0;
        const hiValue = e.hiValue ?? 0;
        const bt = typeOf(e.expr);
        const bw = widthOf(bt);
        const get = sliceReader(base.get, bt, loValue, hiValue);
        const sliceWidth = hiValue - loValue + 1;
        if (numberWidth(bt) !== undefined) {
          const field = sliceWidth >= 32 ? 0xffffffff : (2 ** sliceWidth - 1) * 2 ** loValue;
          const sliceWrap = numberWrapper(sliceWidth);
          return {
            get,
            set: (f, v) => {
              const old = base.get(f) as number;
              const nv = sliceWrap(typeof v === 'number' ? v : Number(BigInt.asUintN(sliceWidth, toBigint(v))));
              base.set(f, ((old & ~field) | (nv * 2 ** loValue)) >>> 0);
            },
          };
        }
        const lo = BigInt(loValue);
        const mask = maskOf(sliceWidth);
        return {
          get,
          set: (f, v) => {
            const old = BigInt.asUintN(bw, base.get(f) as bigint);
            base.set(f, (old & ~(mask << lo)) | ((toBigint(v) & mask) << lo));
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
          const n = Number(count(f) as Scalar);
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
      // An argument takes the parameter's type (an unsized literal becomes a bit<W> value).
      return { param: p, lv: undefined, get: this.exprAs(a, p.type!, fn) };
    });
    const body = this.actionBodies.get(decl)!;
    const n = args.length;
    return (f) => {
      const local: Value[] = new Array(body.scope.size);
      for (let i = 0; i < n; i++) {
        const a = args[i]!;
        const slot = body.paramSlots[i]!;
        if (a.get !== undefined) local[slot] = cloneValue(a.get(f));
        else local[slot] = a.param.direction === 'inout' ? cloneValue(a.lv!.get(f)) : defaultValue(a.param.type!);
      }
      body.run({ block: f.block, local, packet: f.packet });
      for (let i = 0; i < n; i++) {
        const a = args[i]!;
        if (a.lv !== undefined) a.lv.set(f, local[body.paramSlots[i]!]);
      }
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
    // Actions do not recurse (P4_16 §6.8): one frame and locals array per action serve every run;
    // parameters are bound and variables initialised before they are read.
    const local: Value[] = new Array(scope.size);
    let frame: { block: Value[]; local: Value[]; packet: Frame['packet'] } | undefined;
    const controlPlane = decl.params.filter((p) => p.direction === 'none');
    // Control-plane arguments are bigints, checked against the parameter widths when the entry was
    // written: a bit<W ≤ 32> parameter takes the number, any other the bigint as it is.
    const binders = decl.params.map((p, i) => ({
      slot: paramSlots[i]!,
      type: p.type!,
      fromControlPlane: p.direction === 'none',
      conv: numberWidth(p.type) === undefined ? identity : (v: Value): Value => (typeof v === 'bigint' ? Number(v) : v),
    }));
    const info: ActionInfo = {
      name: controlPlaneName(this.env.topLevelActions.has(decl) ? '' : this.env.prefix, decl),
      decl,
      params: controlPlane.map((p) => ({ name: p.name, width: widthOf(p.type!) })),
      run: (f, args) => {
        let k = 0;
        for (const b of binders) local[b.slot] = b.fromControlPlane ? b.conv(args[k++]) : defaultValue(b.type);
        if (frame === undefined || frame.block !== f.block) frame = { block: f.block, local, packet: f.packet };
        else frame.packet = f.packet;
        holder.exec!(frame);
      },
    };
    this.env.actions.set(decl, info);
    holder.exec = this.block(decl.body, scope);
    return info;
  }

  private tableApply(decl: TableDecl, table: Table, fn: FunctionScope): Getter {
    const keyProp = decl.properties.find((p) => p.kind === 'key');
    // Key values as the table looks them up: numbers for fields of 32 bits or less, else bigints.
    const keys = (keyProp?.kind === 'key' ? keyProp.elements : []).map((k: KeyElement, i): ((f: Frame) => Scalar) => {
      const g = this.expr(k.expr, fn);
      const kt = typeOf(k.expr);
      const width = table.keys[i]!.width;
      if (table.numberKeys[i]!) {
        if (kt.kind === 'bool') return (f) => ((g(f) as boolean) ? 1 : 0);
        return numberGetter(g, kt, width);
      }
      if (kt.kind === 'bool') return (f) => ((g(f) as boolean) ? 1n : 0n);
      if (kt.kind === 'int') return (f) => BigInt.asUintN(kt.width, g(f) as bigint);
      return bigGetter(g, kt);
    });
    const runtime = this.env.runtime;
    const n = keys.length;
    // One key array per call site, refilled on every apply: lookups do not keep it.
    const key: Scalar[] = new Array(n);
    return (f) => {
      for (let i = 0; i < n; i++) key[i] = keys[i]!(f);
      const result: LookupResult = table.lookupScalars(key);
      if (result.entry !== undefined && table.hasDirectCounter) {
        result.entry.packets += 1n;
        result.entry.bytes += BigInt(f.packet.ingressLength);
      }
      if (f.packet.trace !== undefined) runtime.traceTable(f, table, key, result);
      result.call.action.run(f, result.call.args);
      return result as unknown as Value;
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
        const direct = this.directAssignment(s.left, s.right, fn);
        if (direct !== undefined) return direct;
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
        const wrap = coercerFor(t);
        return (f) => {
          f.local[slot] = init === undefined ? defaultValue(t) : assignable(undefined, init(f), wrap);
          return Flow.Normal;
        };
      }
      case 'const': {
        const slot = fn.allocate(s);
        const v = s.constValue;
        const c: Value = typeof v === 'bigint' ? represent(v, s.type) : v;
        return (f) => {
          f.local[slot] = c;
          return Flow.Normal;
        };
      }
      case 'instantiation':
        throw unsupported('an instantiation inside a block', s.span);
    }
  }

  /**
   * An integer assignment to a field whose right side is already in the field's representation
   * and range (a constant, or a number no wider than the field, or a bigint of the same type):
   * stored as is, without the conversion a general assignment does.
   */
  private directAssignment(left: Expression, right: Expression, fn: FunctionScope): Exec | undefined {
    if (left.kind !== 'member' || left.resolution?.kind !== 'field') return undefined;
    const t = typeOf(left);
    const rt = typeOf(right);
    const nw = numberWidth(t);
    const rnw = numberWidth(rt);
    const isConstant = typeof right.constValue === 'bigint' && right.kind !== 'call';
    const inRange =
      (isConstant && (nw !== undefined || t.kind === 'bit' || t.kind === 'int')) ||
      (nw !== undefined && rnw !== undefined && rnw <= nw) ||
      (nw === undefined && (t.kind === 'bit' || t.kind === 'int') && rt.kind === t.kind && rt.width === t.width);
    if (!inRange) return undefined;
    const bt = typeOf(left.expr);
    if (bt.kind !== 'header' && bt.kind !== 'struct') return undefined;
    const base = this.expr(left.expr, fn);
    const i = fieldIndex(bt, left.member, left.span);
    const rv = this.exprAs(right, t, fn);
    return (f) => {
      (base(f) as HeaderValue | StructValue).fields[i] = rv(f) as Scalar;
      return Flow.Normal;
    };
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
        const raw = label(dummy);
        const lv = typeof raw === 'bigint' || typeof raw === 'number' ? represent(raw, st) : raw;
        m = (v) => v === lv;
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
    if (preds.length === 1) {
      const p0 = preds[0]!;
      return (values) => p0(values[0]);
    }
    const n = preds.length;
    return (values) => {
      for (let i = 0; i < n; i++) if (!preds[i]!(values[i])) return false;
      return true;
    };
  }

  private keysetElement(e: Expression, t: P4Type, fn: FunctionScope): (v: Value) => boolean {
    const dummy = { block: [], local: [], packet: undefined as never };
    const constant = (x: Expression): Value => represent(toBigint(this.expr(x, fn)(dummy)), t);
    switch (e.kind) {
      case 'default':
        return () => true;
      case 'mask': {
        if (numberWidth(t) !== undefined) {
          const mask = constant(e.mask) as number;
          const value = ((constant(e.value) as number) & mask) >>> 0;
          return (v) => (((v as number) & mask) >>> 0) === value;
        }
        const mask = toBigint(constant(e.mask));
        const value = toBigint(constant(e.value)) & mask;
        return (v) => ((v as bigint) & mask) === value;
      }
      case 'range': {
        const lo = constant(e.lo) as Scalar;
        const hi = constant(e.hi) as Scalar;
        return (v) => (v as Scalar) >= lo && (v as Scalar) <= hi;
      }
      default: {
        const g = this.expr(e, fn);
        const c = g(dummy);
        if (typeof c === 'bigint' || typeof c === 'number') {
          const value = represent(c, t);
          return (v) => v === value;
        }
        return (v) => v === c;
      }
    }
  }
}
const identity = (v: Value): Value => v;

/**
 * Reads bits hi..lo of a value of type `bt`: as a number when the slice has 32 bits or less
 * (values.ts), else as a bigint.
 */
function sliceReader(base: Getter, bt: P4Type, lo: number, hi: number): Getter {
  const width = hi - lo + 1;
  const baseNumber = numberWidth(bt) !== undefined;
  if (width <= 32) {
    if (baseNumber) {
      if (width >= 32) return base;
      const mask = 2 ** width - 1;
      return (f) => ((base(f) as number) >>> lo) & mask;
    }
    const loBig = BigInt(lo);
    if (lo === 0) return (f) => Number(BigInt.asUintN(width, base(f) as bigint));
    return (f) => Number(BigInt.asUintN(width, (base(f) as bigint) >> loBig));
  }
  const loBig = BigInt(lo);
  const mask = maskOf(width);
  const unsignedWidth = bt.kind === 'int' ? bt.width : undefined;
  return (f) => {
    let v = base(f) as bigint;
    if (unsignedWidth !== undefined) v = BigInt.asUintN(unsignedWidth, v);
    return (v >> loBig) & mask;
  };
}

/** What assignment stores: a normalised integer, or a copy of an aggregate written in place. */
function assignable(old: Value, v: Value, wrap: (v: Value) => Value): Value {
  if (typeof v === 'bigint' || typeof v === 'number') return wrap(v);
  if (old instanceof HeaderValue && v instanceof HeaderValue) {
    old.copyFrom(v);
    return old;
  }
  return cloneValue(v);
}

export type { ControlDecl, ParserDecl };
