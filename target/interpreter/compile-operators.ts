/**
 * Compiles P4 operators into closures: unary and binary arithmetic, comparisons, concatenation,
 * shifts and casts, over numbers for widths ≤ 32 and bigints above (values.ts). Operands are
 * compiled by the subclass's `expr` (compile-expressions.ts).
 */
import type { Expression } from '../../p4-frontend/ast.ts';
import type { P4Type } from '../../p4-frontend/types.ts';
import type { FunctionScope, Getter } from './compile-context.ts';
import { bigGetter, numberGetter, typeOf, widthOf } from './compile-support.ts';
import { unsupported } from './errors.ts';
import type { Frame } from './frame.ts';
import {
  HeaderValue, coercerFor, maskOf, normalise, numberWidth, numberWrapper, toBigint, wrapperFor, type Scalar, type Value,
} from './values.ts';

export abstract class OperatorCompiler {
  abstract expr(e: Expression, fn: FunctionScope): Getter;

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

  protected unary(op: string, operandExpr: Expression, t: P4Type, fn: FunctionScope): Getter {
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

  protected binary(e: Extract<Expression, { kind: 'binary' }>, fn: FunctionScope): Getter {
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

  protected cast(inner: Getter, from: P4Type, to: P4Type): Getter {
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

}
