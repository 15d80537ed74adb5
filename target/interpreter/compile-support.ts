/**
 * Type queries and value-representation conversions the compile-* modules share: widths and
 * field indexes from checked types, integers as numbers (≤ 32 bits) or bigints (values.ts),
 * slices, what an assignment stores, and values flattened for hashes and digests.
 */
import type { Expression, Span } from '../../p4-frontend/ast.ts';
import type { P4Type } from '../../p4-frontend/types.ts';
import type { Getter } from './compile-context.ts';
import { TargetError, spanLocation } from './errors.ts';
import type { Frame } from './frame.ts';
import {
  HeaderValue, StructValue, TupleValue, cloneValue, maskOf, numberWidth, numberWrapper, toBigint, type Value,
} from './values.ts';

export function typeOf(e: Expression): P4Type {
  if (e.type === undefined) throw new TargetError('TARGET_RUNTIME', 'expression was not type-checked', { location: spanLocation(e.span) });
  return e.type;
}

export function widthOf(t: P4Type): number {
  if (t.kind === 'bit' || t.kind === 'int' || t.kind === 'varbit') return t.width;
  if (t.kind === 'bool') return 1;
  if (t.kind === 'enum' && t.underlying !== undefined) return widthOf(t.underlying);
  return 0;
}

export function fieldIndex(t: P4Type, name: string, span: Span): number {
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
export function bigGetter(g: Getter, t: P4Type): (f: Frame) => bigint {
  if (numberWidth(t) !== undefined) return (f) => BigInt(g(f) as number);
  if (t.kind === 'bool') return (f) => (g(f) ? 1n : 0n);
  return g as (f: Frame) => bigint;
}

/** A getter of a value of type `t` as a number modulo 2^width (width ≤ 32). */
export function numberGetter(g: Getter, t: P4Type, width: number): (f: Frame) => number {
  const nw = numberWidth(t);
  if (nw !== undefined) {
    if (nw <= width) return g as (f: Frame) => number;
    const wrap = numberWrapper(width);
    return (f) => wrap(g(f) as number);
  }
  if (t.kind === 'bool') return (f) => (g(f) ? 1 : 0);
  return (f) => Number(BigInt.asUintN(width, toBigint(g(f))));
}

/** The conversion of a value that needs none. */
export const identity = (v: Value): Value => v;

/**
 * Reads bits hi..lo of a value of type `bt`: as a number when the slice has 32 bits or less
 * (values.ts), else as a bigint.
 */
export function sliceReader(base: Getter, bt: P4Type, lo: number, hi: number): Getter {
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
export function assignable(old: Value, v: Value, wrap: (v: Value) => Value): Value {
  if (typeof v === 'bigint' || typeof v === 'number') return wrap(v);
  if (old instanceof HeaderValue && v instanceof HeaderValue) {
    old.copyFrom(v);
    return old;
  }
  return cloneValue(v);
}
