/**
 * The v1model `HashAlgorithm`s exactly as BMv2 computes them (behavioral-model
 * src/bm_sim/calculations.cpp), the bit-level packing of the `data` argument, and the
 * `hash(out result, algo, base, data, max)` extern. The P4 program, the controller and the
 * embedded interpreter all call these, so they agree bit for bit.
 */
import { didYouMean } from '../errors.ts';
import { writeBits } from '../bits.ts';
import { HashError } from './errors.ts';

/** Every algorithm p4c accepts for v1model except `random`, which BMv2 does not register. */
export const V1MODEL_HASH_ALGORITHMS = [
  'crc32',
  'crc32_custom',
  'crc16',
  'crc16_custom',
  'identity',
  'csum16',
  'xor16',
] as const;
export type V1ModelHashAlgorithm = (typeof V1MODEL_HASH_ALGORITHMS)[number];

/** One `data` field of a `hash()` call: its value and its declared width in bits. */
export interface HashField {
  readonly value: bigint;
  readonly width: number;
}

// Reflected tables: BMv2 reflects each input byte and the final remainder, which is the same as
// running the reflected polynomial LSB-first (the zlib formulation).
const CRC32_REFLECTED_POLY = 0xedb88320; // 0x04C11DB7 reflected
const CRC16_REFLECTED_POLY = 0xa001; // 0x8005 reflected (CRC-16/ARC)

function reflectedTable(poly: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

const CRC32_TABLE = reflectedTable(CRC32_REFLECTED_POLY);
const CRC16_TABLE = reflectedTable(CRC16_REFLECTED_POLY);

/** CRC-32 (zlib) of the first `length` bytes: poly 0x04C11DB7 reflected, init and xorout 0xFFFFFFFF. check("123456789") = 0xCBF43926. */
export function crc32(bytes: Uint8Array, length: number = bytes.length): number {
  let c = 0xffffffff;
  for (let i = 0; i < length; i++) c = CRC32_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC-16/ARC of the first `length` bytes: poly 0x8005 reflected, init 0, xorout 0. check("123456789") = 0xBB3D. */
export function crc16(bytes: Uint8Array, length: number = bytes.length): number {
  let c = 0;
  for (let i = 0; i < length; i++) c = CRC16_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return c & 0xffff;
}

/**
 * BMv2 `csum16`/`cksum16`: the Internet checksum (RFC 1071) — ones' complement sum of big-endian
 * 16-bit words, an odd last byte padded with a zero byte on the right, complemented.
 * BMv2 sums host-order words and byte-swaps at the end, which gives the same value.
 */
export function csum16(bytes: Uint8Array): number {
  let sum = 0;
  const even = bytes.length & ~1;
  for (let i = 0; i < even; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length & 1) sum += bytes[even]! << 8;
  // End-around carry; sums stay far below 2^53 for any realistic input.
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** BMv2 `xor16`: XOR of big-endian 16-bit words, the last partial word zero-padded on the right. */
export function xor16(bytes: Uint8Array): number {
  let x = 0;
  const even = bytes.length & ~1;
  for (let i = 0; i < even; i += 2) x ^= (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length & 1) x ^= bytes[even]! << 8;
  return x;
}

/** BMv2 `identity`: the first min(8, length) bytes read as one big-endian integer (no padding). */
export function identityHash(bytes: Uint8Array): bigint {
  let v = 0n;
  const n = Math.min(8, bytes.length);
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/** The unreduced value of `algo` over `bytes`, as BMv2's calculation returns it. */
export function computeHash(algo: V1ModelHashAlgorithm, bytes: Uint8Array): bigint {
  switch (algo) {
    case 'crc32':
    case 'crc32_custom': // BMv2's default custom config equals crc32; only Thrift changes it
      return BigInt(crc32(bytes));
    case 'crc16':
    case 'crc16_custom':
      return BigInt(crc16(bytes));
    case 'identity':
      return identityHash(bytes);
    case 'csum16':
      return BigInt(csum16(bytes));
    case 'xor16':
      return BigInt(xor16(bytes));
  }
}

/** Narrows a name from P4 source to a supported algorithm, or throws with a "did you mean". */
export function parseHashAlgorithm(name: string): V1ModelHashAlgorithm {
  if ((V1MODEL_HASH_ALGORITHMS as readonly string[]).includes(name)) return name as V1ModelHashAlgorithm;
  const hint =
    name === 'random'
      ? 'BMv2 registers no hash named "random"'
      : didYouMean(name, V1MODEL_HASH_ALGORITHMS);
  return fail('HASH_UNKNOWN_ALGORITHM', `unsupported v1model hash algorithm '${name}'`, hint);
}

function fail(code: 'HASH_UNKNOWN_ALGORITHM' | 'HASH_BAD_FIELD' | 'HASH_BAD_ARGUMENT', message: string, hint?: string): never {
  throw new HashError(code, message, hint === undefined ? {} : { hint });
}

/**
 * BMv2's input packing: the fields concatenated most-significant bit first at bit granularity,
 * the whole zero-padded on the right to a byte boundary. Values wider than their field are
 * truncated to it (as a P4 field of that width would hold them).
 */
export function packFields(fields: readonly HashField[]): Uint8Array {
  let totalBits = 0;
  fields.forEach((f, i) => {
    if (!Number.isInteger(f.width) || f.width < 0) {
      fail('HASH_BAD_FIELD', `field ${i} has width ${f.width}; expected a non-negative integer`);
    }
    totalBits += f.width;
  });
  const out = new Uint8Array(Math.ceil(totalBits / 8));
  let bitPos = 0;
  for (const f of fields) {
    writeBits(out, bitPos, f.value, f.width);
    bitPos += f.width;
  }
  return out;
}

/** Options of the v1model `hash()` extern, named as in v1model.p4. */
export interface V1ModelHashCall {
  readonly algo: V1ModelHashAlgorithm;
  readonly base: bigint;
  readonly data: readonly HashField[];
  readonly max: bigint;
  /** Width in bits of the `out` argument. */
  readonly resultWidth: number;
}

/**
 * v1model `hash(out result, algo, base, data, max)`: base + (H mod max) when max >= 1, else base,
 * truncated to the width of `result`. `max` is a modulus, not a mask.
 */
export function v1modelHash(
  algo: V1ModelHashAlgorithm,
  base: bigint,
  fields: readonly HashField[],
  max: bigint,
  resultWidth: number,
): bigint {
  return v1modelHashOfBytes(algo, base, packFields(fields), max, resultWidth);
}

/** `v1modelHash` over data already packed with `packFields` (the interpreter packs it itself). */
export function v1modelHashOfBytes(
  algo: V1ModelHashAlgorithm,
  base: bigint,
  packed: Uint8Array,
  max: bigint,
  resultWidth: number,
): bigint {
  if (!Number.isInteger(resultWidth) || resultWidth < 0) {
    fail('HASH_BAD_ARGUMENT', `result width ${resultWidth} is not a non-negative integer`);
  }
  const h = computeHash(algo, packed);
  const raw = max >= 1n ? base + (h % max) : base;
  return BigInt.asUintN(resultWidth, raw);
}

/** The same call with named arguments, for callers that hold a parsed `hash()` invocation. */
export function evaluateHashCall(call: V1ModelHashCall): bigint {
  return v1modelHash(call.algo, call.base, call.data, call.max, call.resultWidth);
}
