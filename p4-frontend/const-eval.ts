/**
 * Compile-time integer arithmetic with P4 widths: truncation to bit<W>/int<W>, saturating
 * operations, and giving unsized-integer expression trees the width they meet.
 */
import type { Expression } from './ast.ts';
import type { P4Type } from './types.ts';

/** Reduces an integer to the range of `t` (two's complement for int<W>); infint unchanged. */
export function truncate(v: bigint, t: P4Type): bigint {
  if (t.kind === 'bit') return BigInt.asUintN(t.width, v);
  if (t.kind === 'int') return BigInt.asIntN(t.width, v);
  return v;
}

export function signedView(v: bigint, t: P4Type): bigint {
  return t.kind === 'int' ? BigInt.asIntN(t.width, v) : v;
}

export function foldArith(op: string, a: bigint, b: bigint, t: P4Type): bigint {
  const w = t.kind === 'bit' || t.kind === 'int' ? t.width : undefined;
  const max = w === undefined ? undefined : t.kind === 'bit' ? (1n << BigInt(w)) - 1n : (1n << BigInt(w - 1)) - 1n;
  const min = w === undefined ? undefined : t.kind === 'bit' ? 0n : -(1n << BigInt(w - 1));
  switch (op) {
    case '+': return truncate(a + b, t);
    case '-': return truncate(a - b, t);
    case '*': return truncate(a * b, t);
    case '/': return truncate(a / b, t);
    case '%': return truncate(a % b, t);
    case '&': return truncate(a & b, t);
    case '|': return truncate(a | b, t);
    case '^': return truncate(a ^ b, t);
    case '|+|': {
      const r = signedView(a, t) + signedView(b, t);
      return max !== undefined && r > max ? truncate(max, t) : truncate(r, t);
    }
    case '|-|': {
      const r = signedView(a, t) - signedView(b, t);
      return min !== undefined && r < min ? truncate(min, t) : truncate(r, t);
    }
    default: return a;
  }
}

/** Gives an unsized-integer expression tree the width it meets; constants are truncated to it. */
export function retype(e: Expression, to: P4Type): void {
  e.type = to;
  if (typeof e.constValue === 'bigint') e.constValue = truncate(e.constValue, to);
  switch (e.kind) {
    case 'binary':
      if (e.op !== '<<' && e.op !== '>>' || e.left.type?.kind === 'infint') {
        if (e.left.type?.kind === 'infint') retype(e.left, to);
        if (e.right.type?.kind === 'infint' && e.op !== '<<' && e.op !== '>>') retype(e.right, to);
      }
      return;
    case 'unary':
      if (e.operand.type?.kind === 'infint') retype(e.operand, to);
      return;
    case 'ternary':
      if (e.then.type?.kind === 'infint') retype(e.then, to);
      if (e.else.type?.kind === 'infint') retype(e.else, to);
      return;
    default:
      return;
  }
}
