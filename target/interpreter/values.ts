/**
 * Run-time values of the interpreter. Integers are bigints kept normalised to their type
 * (bit<W> in [0, 2^W), int<W> in two's-complement range); bool is boolean; error and enum values
 * are their member names; headers, structs and stacks are mutable objects that assignment copies.
 */
import type { P4Type } from '../../p4-frontend/types.ts';

export class HeaderValue {
  constructor(
    readonly type: Extract<P4Type, { kind: 'header' }>,
    public valid: boolean,
    /** Field values in declaration order. */
    readonly fields: bigint[],
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

export type Value =
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
      return 0n;
    case 'bool':
      return false;
    case 'error':
      return 'NoError';
    case 'enum':
      return type.underlying === undefined ? (type.members[0] ?? '') : 0n;
    case 'header':
      return new HeaderValue(type, false, type.fields.map(() => 0n));
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
      const zeros = type.fields.map(() => 0n);
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
