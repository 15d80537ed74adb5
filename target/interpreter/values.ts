/**
 * Run-time values of the interpreter. Integers are kept normalised to their type (bit<W> in
 * [0, 2^W), int<W> in two's-complement range): bit<W> with W ≤ 32 (and enums over one) as JS
 * numbers, which need no allocation, every other integer as a bigint; bool is boolean; error and
 * enum values are their member names; headers, structs and stacks are mutable objects that
 * assignment copies. The representation follows from the static type, so compiled code picks
 * its operators once, at compile time.
 */
import type { P4Type } from '../../p4-frontend/types.ts';

export class HeaderValue {
  constructor(
    readonly type: Extract<P4Type, { kind: 'header' }>,
    public valid: boolean,
    /** Field values in declaration order, each in its field type's representation. */
    readonly fields: Scalar[],
  ) {}

  copyFrom(other: HeaderValue): void {
    this.valid = other.valid;
    for (let i = 0; i < this.fields.length; i++) this.fields[i] = other.fields[i]!;
  }

  clone(): HeaderValue {
    return new HeaderValue(this.type, this.valid, [...this.fields]);
  }
}

export class StructValue {
  constructor(
    readonly type: Extract<P4Type, { kind: 'struct' | 'headerUnion' }>,
    readonly fields: Value[],
  ) {}

  clone(): StructValue {
    return new StructValue(this.type, this.fields.map(cloneValue));
  }
}

export class StackValue {
  nextIndex = 0;
  constructor(
    readonly type: Extract<P4Type, { kind: 'stack' }>,
    readonly elements: HeaderValue[],
  ) {}

  clone(): StackValue {
    const s = new StackValue(this.type, this.elements.map((h) => h.clone()));
    s.nextIndex = this.nextIndex;
    return s;
  }
}

/** A list expression's value (`{a, b}` before it meets a struct): hash and digest data. */
export class TupleValue {
  constructor(
    readonly types: readonly P4Type[],
    readonly elements: Value[],
  ) {}
}

/** Anything an extern instance is: the interpreter calls its methods by name. */
export interface ExternObject {
  readonly externName: string;
}

/** An integer value: a number for bit<W ≤ 32>, else a bigint. */
export type Scalar = number | bigint;

export type Value =
  | number
  | bigint
  | boolean
  | string
  | HeaderValue
  | StructValue
  | StackValue
  | TupleValue
  | ExternObject
  | undefined;

export function cloneValue(v: Value): Value {
  if (v instanceof HeaderValue || v instanceof StructValue || v instanceof StackValue) return v.clone();
  return v;
}

const masks: bigint[] = [];
/** 2^width - 1, cached: widths repeat constantly. */
export function maskOf(width: number): bigint {
  let m = masks[width];
  if (m === undefined) {
    m = (1n << BigInt(width)) - 1n;
    masks[width] = m;
  }
  return m;
}

/** Wraps an integer to bit<W> (unsigned modulo 2^W). */
export function toBit(value: bigint, width: number): bigint {
  return value & maskOf(width);
}

/** Wraps an integer to int<W> (two's complement). */
export function toInt(value: bigint, width: number): bigint {
  return BigInt.asIntN(width, value);
}

/** Normalises an integer to a type: bit, int, or left alone for arbitrary-precision int. */
export function normalise(value: bigint, type: P4Type | undefined): bigint {
  if (type === undefined) return value;
  if (type.kind === 'bit') return toBit(value, type.width);
  if (type.kind === 'int') return toInt(value, type.width);
  if (type.kind === 'enum' && type.underlying !== undefined) return normalise(value, type.underlying);
  return value;
}

/**
 * A function that normalises integers to `type`, specialised once at compile time so that the
 * per-packet path does no type dispatch.
 */
export function wrapperFor(type: P4Type | undefined): (v: bigint) => bigint {
  if (type?.kind === 'bit') {
    const mask = maskOf(type.width);
    return (v) => v & mask;
  }
  if (type?.kind === 'int') {
    const width = type.width;
    return (v) => BigInt.asIntN(width, v);
  }
  if (type?.kind === 'enum' && type.underlying !== undefined) return wrapperFor(type.underlying);
  return (v) => v;
}

/** The zero value of a type, as BMv2 initialises metadata and headers (invalid, fields 0). */
export function defaultValue(type: P4Type): Value {
  switch (type.kind) {
    case 'bit':
    case 'int':
    case 'infint':
    case 'varbit':
      return numberWidth(type) === undefined ? 0n : 0;
    case 'bool':
      return false;
    case 'error':
      return 'NoError';
    case 'enum':
      return type.underlying === undefined ? (type.members[0] ?? '') : numberWidth(type) === undefined ? 0n : 0;
    case 'header':
      return new HeaderValue(type, false, type.fields.map((f) => fieldZero(f.type)));
    case 'struct':
    case 'headerUnion':
      return new StructValue(type, type.fields.map((f) => defaultValue(f.type)));
    case 'stack': {
      const element = type.element;
      if (element.kind !== 'header') return new StackValue(type, []);
      return new StackValue(
        type,
        Array.from({ length: type.size }, () => defaultValue(element) as HeaderValue),
      );
    }
    default:
      return undefined;
  }
}

/**
 * A factory of zero values of a type, built once: per packet the switch needs fresh headers,
 * metadata and standard_metadata, and a prepared factory does no type dispatch.
 */
export function zeroFactory(type: P4Type): () => Value {
  switch (type.kind) {
    case 'header': {
      const zeros = type.fields.map((f) => fieldZero(f.type));
      return () => new HeaderValue(type, false, zeros.slice());
    }
    case 'struct':
    case 'headerUnion': {
      const parts = type.fields.map((f) => zeroFactory(f.type));
      return () => {
        const fields: Value[] = new Array(parts.length);
        for (let i = 0; i < parts.length; i++) fields[i] = parts[i]!();
        return new StructValue(type, fields);
      };
    }
    default: {
      const v = defaultValue(type);
      if (v instanceof StackValue) return () => (defaultValue(type) as StackValue);
      return () => v;
    }
  }
}

/**
 * A function that sets a value of `type` back to its zero value in place (headers invalid,
 * fields zero), built once: the switch reuses its headers and metadata from packet to packet
 * instead of allocating them.
 */
export function resetterFor(type: P4Type): (v: Value) => void {
  switch (type.kind) {
    case 'header': {
      const zeros = type.fields.map((f) => fieldZero(f.type));
      const n = zeros.length;
      return (v) => {
        const h = v as HeaderValue;
        h.valid = false;
        for (let i = 0; i < n; i++) h.fields[i] = zeros[i]!;
      };
    }
    case 'struct':
    case 'headerUnion': {
      const parts = type.fields.map((f): ((s: StructValue, i: number) => void) => {
        const t = f.type;
        if (t.kind === 'header' || t.kind === 'struct' || t.kind === 'headerUnion' || t.kind === 'stack') {
          const reset = resetterFor(t);
          return (s, i) => reset(s.fields[i]);
        }
        const zero = zeroFactory(t);
        return (s, i) => {
          s.fields[i] = zero();
        };
      });
      const n = parts.length;
      return (v) => {
        const s = v as StructValue;
        for (let i = 0; i < n; i++) parts[i]!(s, i);
      };
    }
    case 'stack': {
      const element = type.element;
      const reset = element.kind === 'header' ? resetterFor(element) : () => undefined;
      return (v) => {
        const s = v as StackValue;
        for (const h of s.elements) reset(h);
        s.nextIndex = 0;
      };
    }
    default:
      return () => undefined;
  }
}

/** Field widths of a header type, in declaration order. */
export function headerWidths(type: Extract<P4Type, { kind: 'header' }>): number[] {
  return type.fields.map((f) => {
    const t = f.type;
    if (t.kind === 'bit' || t.kind === 'int' || t.kind === 'varbit') return t.width;
    if (t.kind === 'bool') return 1;
    if (t.kind === 'enum' && t.underlying !== undefined && (t.underlying.kind === 'bit' || t.underlying.kind === 'int')) {
      return t.underlying.width;
    }
    return 0;
  });
}

/** Header size in bits (fixed-width fields only). */
export function headerBits(type: Extract<P4Type, { kind: 'header' }>): number {
  return headerWidths(type).reduce((a, b) => a + b, 0);
}

/** Widest bit<W> held as a number: 32-bit bitwise operators are exact on it. */
export const NUMBER_MAX_WIDTH = 32;

/** W when values of `t` are numbers (bit<W ≤ 32>, or an enum over one), else undefined. */
export function numberWidth(t: P4Type | undefined): number | undefined {
  if (t === undefined) return undefined;
  if (t.kind === 'bit') return t.width <= NUMBER_MAX_WIDTH ? t.width : undefined;
  if (t.kind === 'enum' && t.underlying !== undefined) return numberWidth(t.underlying);
  return undefined;
}

/** Reduces an integral number modulo 2^width (width ≤ 32), specialised once per width. */
export function numberWrapper(width: number): (v: number) => number {
  if (width >= NUMBER_MAX_WIDTH) return (v) => v >>> 0;
  const mask = 2 ** width - 1;
  return (v) => v & mask;
}

/** The zero a header field of type `t` starts with (bool fields hold 0n/1n, as before). */
function fieldZero(t: P4Type): Scalar {
  return numberWidth(t) === undefined ? 0n : 0;
}

/** An integer as a bigint, whichever representation it has (booleans as 1n/0n). */
export function toBigint(v: Value): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  return v === true ? 1n : 0n;
}

/**
 * A function that brings an integer of any representation to `type`'s representation,
 * normalised (as assignment does); other values pass through unchanged. Built once per type.
 */
export function coercerFor(type: P4Type | undefined): (v: Value) => Value {
  const nw = numberWidth(type);
  if (nw !== undefined) {
    const wrap = numberWrapper(nw);
    return (v) => (typeof v === 'number' ? wrap(v) : typeof v === 'bigint' ? Number(BigInt.asUintN(nw, v)) : v);
  }
  if (type?.kind === 'enum' && type.underlying !== undefined) return coercerFor(type.underlying);
  if (type?.kind === 'bit' || type?.kind === 'int' || type?.kind === 'infint' || type?.kind === 'varbit') {
    const wrap = wrapperFor(type);
    return (v) => (typeof v === 'bigint' ? wrap(v) : typeof v === 'number' ? wrap(BigInt(v)) : v);
  }
  return (v) => v;
}

/** A constant in `type`'s representation. */
export function represent(v: Value, type: P4Type | undefined): Value {
  return coercerFor(type)(v);
}
