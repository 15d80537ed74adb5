/**
 * Bit-granular big-endian packing, as P4 lays out headers and as BMv2 packs hash inputs: values
 * are written most-significant bit first at any bit offset. One implementation serves the hash
 * input packing (core/hash) and the interpreter's parser and deparser. Numbers carry up to 32 bits
 * at a time so that the common case does no BigInt arithmetic per bit.
 */

const CHUNK = 32;
const CHUNK_MASK = 0xffffffffn;

/** ORs the low `width` bits (≤ 32) of `value` into `out` at bit offset `bitPos`. */
export function writeNumberBits(out: Uint8Array, bitPos: number, value: number, width: number): void {
  let pos = bitPos;
  let remaining = width;
  while (remaining > 0) {
    const room = 8 - (pos & 7);
    const take = room < remaining ? room : remaining;
    const chunk = (value >>> (remaining - take)) & ((1 << take) - 1);
    out[pos >> 3]! |= chunk << (room - take);
    pos += take;
    remaining -= take;
  }
}

/** ORs the low `width` bits of `value` into `out` (zeroed there) at bit offset `bitPos`. */
export function writeBits(out: Uint8Array, bitPos: number, value: bigint, width: number): void {
  if (width <= CHUNK) {
    writeNumberBits(out, bitPos, Number(BigInt.asUintN(width, value)), width);
    return;
  }
  let pos = bitPos;
  let remaining = width;
  // The top chunk takes the odd bits, then whole 32-bit chunks.
  while (remaining > 0) {
    const take = remaining % CHUNK === 0 ? CHUNK : remaining % CHUNK;
    const chunk = Number((value >> BigInt(remaining - take)) & CHUNK_MASK);
    writeNumberBits(out, pos, take === CHUNK ? chunk : chunk & ((1 << take) - 1) >>> 0, take);
    pos += take;
    remaining -= take;
  }
}

/** Reads `width` bits (≤ 32) at bit offset `bitPos` as a number. */
export function readNumberBits(bytes: Uint8Array, bitPos: number, width: number): number {
  let value = 0;
  let pos = bitPos;
  let remaining = width;
  while (remaining > 0) {
    const room = 8 - (pos & 7);
    const take = room < remaining ? room : remaining;
    const chunk = ((bytes[pos >> 3] ?? 0) >> (room - take)) & ((1 << take) - 1);
    value = value * (1 << take) + chunk;
    pos += take;
    remaining -= take;
  }
  return value;
}

/** Reads `width` bits at bit offset `bitPos` as an unsigned integer (bytes past the end read 0). */
export function readBits(bytes: Uint8Array, bitPos: number, width: number): bigint {
  if (width <= CHUNK) return BigInt(readNumberBits(bytes, bitPos, width));
  let value = 0n;
  let pos = bitPos;
  let remaining = width;
  while (remaining > 0) {
    const take = remaining % CHUNK === 0 ? CHUNK : remaining % CHUNK;
    value = (value << BigInt(take)) | BigInt(readNumberBits(bytes, pos, take));
    pos += take;
    remaining -= take;
  }
  return value;
}
