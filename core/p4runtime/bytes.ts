/**
 * P4Runtime's binary-string encoding of P4 values (P4Runtime spec §8.4 "Bytestrings"): unsigned
 * big-endian; the canonical form is the shortest string of at least one byte. Servers must accept
 * padded forms too, and answer a value that does not fit the field's width with OUT_OF_RANGE.
 */
import { P4RuntimeError } from './errors.ts';
import type { ErrorLocation } from '../errors.ts';

/** Bytes a full-width value of `bitwidth` bits occupies. */
export function byteWidth(bitwidth: number): number {
  return Math.ceil(bitwidth / 8);
}

function checkBitwidth(bitwidth: number): void {
  if (!Number.isInteger(bitwidth) || bitwidth < 1) {
    throw new P4RuntimeError('INVALID_ARGUMENT', `bitwidth must be a positive integer, got ${bitwidth}`);
  }
}

/** 2^bitwidth - 1. */
/** maxValue by width, built on first use (every write checks against it). */
const maxValues: bigint[] = [];

export function maxValue(bitwidth: number): bigint {
  const cached = maxValues[bitwidth];
  if (cached !== undefined) return cached;
  checkBitwidth(bitwidth);
  const max = (1n << BigInt(bitwidth)) - 1n;
  if (bitwidth <= 4096) maxValues[bitwidth] = max;
  return max;
}

function checkRange(value: bigint, bitwidth: number, location?: ErrorLocation): void {
  if (value < 0n || value > maxValue(bitwidth)) {
    throw new P4RuntimeError('OUT_OF_RANGE', `value ${value} does not fit in bit<${bitwidth}>`, {
      ...(location === undefined ? {} : { location }),
      hint: `bit<${bitwidth}> holds 0..${maxValue(bitwidth)}`,
    });
  }
}

/** Big-endian bytes of a non-negative value, exactly `length` long (value must fit). */
function toBigEndian(value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let v = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Canonical P4Runtime form: shortest big-endian string, at least one byte (0 is `00`). */
const MAX_SAFE_BYTES6 = (1n << 48n) - 1n;

export function encodeP4Value(value: bigint, bitwidth: number): Uint8Array {
  checkRange(value, bitwidth);
  if (value <= MAX_SAFE_BYTES6) {
    // Up to 48 bits: number arithmetic, exact.
    let n = Number(value);
    let length = 1;
    for (let v = Math.floor(n / 256); v > 0; v = Math.floor(v / 256)) length++;
    const out = new Uint8Array(length);
    for (let i = length - 1; i >= 0; i--) {
      out[i] = n % 256;
      n = Math.floor(n / 256);
    }
    return out;
  }
  let length = 1;
  for (let v = value >> 8n; v > 0n; v >>= 8n) length++;
  return toBigEndian(value, length);
}

/** Full-width form (ceil(bitwidth/8) bytes), for consumers that want fixed-size fields. */
export function encodeP4ValuePadded(value: bigint, bitwidth: number): Uint8Array {
  checkRange(value, bitwidth);
  return toBigEndian(value, byteWidth(bitwidth));
}

/**
 * Reads a binary string for a bit<bitwidth> field. Padded (non-canonical) strings are accepted;
 * an empty string is INVALID_ARGUMENT and a value wider than the field is OUT_OF_RANGE.
 */
export function decodeP4Value(bytes: Uint8Array, bitwidth: number, location?: ErrorLocation): bigint {
  checkBitwidth(bitwidth);
  if (bytes.length === 0) {
    throw new P4RuntimeError('INVALID_ARGUMENT', `empty byte string for a bit<${bitwidth}> value`, {
      ...(location === undefined ? {} : { location }),
      hint: 'the value 0 is encoded as one zero byte',
    });
  }
  let value: bigint;
  if (bytes.length <= 6) {
    // Up to 48 bits add up exactly in a double: one BigInt instead of one per byte.
    let n = 0;
    for (let i = 0; i < bytes.length; i++) n = n * 256 + bytes[i]!;
    value = BigInt(n);
  } else {
    value = 0n;
    for (let i = 0; i < bytes.length; i++) value = (value << 8n) | BigInt(bytes[i]!);
  }
  checkRange(value, bitwidth, location);
  return value;
}

/**
 * `decodeP4Value` for the hot path: the value, or undefined when `decodeP4Value` would throw
 * (empty, too wide) — the caller then calls it to get the error with its location.
 */
export function tryDecodeP4Value(bytes: Uint8Array, bitwidth: number): bigint | undefined {
  const len = bytes.length;
  if (len === 0 || len > 6 || !Number.isInteger(bitwidth) || bitwidth < 1) return undefined;
  let n = 0;
  for (let i = 0; i < len; i++) n = n * 256 + bytes[i]!;
  const value = BigInt(n);
  return value <= maxValue(bitwidth) ? value : undefined;
}

/** True when `bytes` is the canonical encoding (no leading zero byte unless it is the only one). */
export function isCanonical(bytes: Uint8Array): boolean {
  return bytes.length === 1 || (bytes.length > 1 && bytes[0] !== 0);
}

/** Rewrites any accepted encoding into canonical form. */
export function canonicalize(bytes: Uint8Array, bitwidth: number): Uint8Array {
  return encodeP4Value(decodeP4Value(bytes, bitwidth), bitwidth);
}

/** The mask of an LPM prefix: the top `prefixLength` bits of a bit<bitwidth> field set. */
export function prefixMask(prefixLength: number, bitwidth: number): bigint {
  checkBitwidth(bitwidth);
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > bitwidth) {
    throw new P4RuntimeError('INVALID_ARGUMENT', `prefix length ${prefixLength} is outside 0..${bitwidth}`);
  }
  return maxValue(bitwidth) ^ ((1n << BigInt(bitwidth - prefixLength)) - 1n);
}

/**
 * The spec makes a ternary or LPM value with bits set outside its mask INVALID_ARGUMENT
 * (instead of silently masking them), so that reads return exactly what was written.
 */
export function checkMaskedValue(value: bigint, mask: bigint, location?: ErrorLocation): void {
  if ((value & ~mask) !== 0n) {
    throw new P4RuntimeError(
      'INVALID_ARGUMENT',
      `value 0x${value.toString(16)} has bits set outside mask 0x${mask.toString(16)}`,
      { ...(location === undefined ? {} : { location }), hint: `use 0x${(value & mask).toString(16)}` },
    );
  }
}

/** Encodes an LPM match (value, prefix) after checking the value has no bits past the prefix. */
export function encodeLpm(
  value: bigint,
  prefixLength: number,
  bitwidth: number,
): { value: Uint8Array; prefixLen: number } {
  checkMaskedValue(value, prefixMask(prefixLength, bitwidth));
  return { value: encodeP4Value(value, bitwidth), prefixLen: prefixLength };
}

/** Encodes a ternary match after checking value & ~mask == 0. */
export function encodeTernary(
  value: bigint,
  mask: bigint,
  bitwidth: number,
): { value: Uint8Array; mask: Uint8Array } {
  const encodedMask = encodeP4Value(mask, bitwidth);
  checkMaskedValue(value, mask);
  return { value: encodeP4Value(value, bitwidth), mask: encodedMask };
}

const UINT64_MASK = (1n << 64n) - 1n;

/** A P4Runtime `Uint128` (election id) as its two 64-bit halves. */
export interface Uint128Parts {
  readonly high: bigint;
  readonly low: bigint;
}

export function uint128FromBigint(value: bigint): Uint128Parts {
  if (value < 0n || value >> 128n !== 0n) {
    throw new P4RuntimeError('OUT_OF_RANGE', `election id ${value} does not fit in 128 bits`);
  }
  return { high: value >> 64n, low: value & UINT64_MASK };
}

export function uint128ToBigint(parts: Uint128Parts): bigint {
  return ((parts.high & UINT64_MASK) << 64n) | (parts.low & UINT64_MASK);
}
