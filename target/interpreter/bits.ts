/**
 * Header fields in packet bytes: the parser reads them and the deparser writes them, most
 * significant bit first, with the bit packing of core/bits.ts. Fields of bit<W ≤ 32> are read
 * and written as numbers, wider ones as bigints (values.ts).
 */
import { readBits, readNumberBits, writeBits, writeNumberBits } from '../../core/bits.ts';
import type { Scalar } from './values.ts';

export { readBits, readNumberBits };

/** Bits of an integer a double holds exactly. */
const SAFE_BITS = 53;

/** Splits the bits starting at `start` into fields of the given widths (`numeric[i]`: as a number). */
export function readFields(bytes: Uint8Array, start: number, widths: readonly number[], numeric: readonly boolean[]): Scalar[] {
  const out: Scalar[] = new Array(widths.length);
  readFieldsInto(out, bytes, start, widths, numeric);
  return out;
}

/** Reads consecutive fields of the given widths into `out` (a header's field array). */
export function readFieldsInto(out: Scalar[], bytes: Uint8Array, start: number, widths: readonly number[], numeric: readonly boolean[]): void {
  let pos = start;
  for (let i = 0; i < widths.length; i++) {
    const w = widths[i]!;
    if (numeric[i]!) out[i] = w === 0 ? 0 : readNumberBits(bytes, pos, w);
    else if (w <= SAFE_BITS && w > 32) {
      // Up to 53 bits (a MAC address) in doubles, converted once: exact, and one allocation.
      out[i] = BigInt(readNumberBits(bytes, pos, w - 32) * 2 ** 32 + readNumberBits(bytes, pos + w - 32, 32));
    } else out[i] = w === 0 ? 0n : readBits(bytes, pos, w);
    pos += w;
  }
}

/** Appends fields to a growing buffer, at bit granularity. */
export class BitWriter {
  private buffer = new Uint8Array(64);
  private bitLength = 0;

  write(value: bigint, width: number): void {
    this.reserve(width);
    if (width > 32 && width <= SAFE_BITS) {
      // Through a double, exact below 2^53: no bigint arithmetic.
      const n = Number(BigInt.asUintN(width, value));
      writeNumberBits(this.buffer, this.bitLength, Math.floor(n / 2 ** 32), width - 32);
      writeNumberBits(this.buffer, this.bitLength + width - 32, n >>> 0, 32);
    } else {
      writeBits(this.buffer, this.bitLength, value, width);
    }
    this.bitLength += width;
  }

  /** Appends a field of up to 53 bits held in a bigint already in range (unsigned, below 2^width). */
  writeUnsigned(value: bigint, width: number): void {
    if (width > 32 && width <= SAFE_BITS) {
      this.reserve(width);
      const n = Number(value);
      writeNumberBits(this.buffer, this.bitLength, Math.floor(n / 2 ** 32), width - 32);
      writeNumberBits(this.buffer, this.bitLength + width - 32, n >>> 0, 32);
      this.bitLength += width;
    } else {
      this.write(value, width);
    }
  }

  /** Starts over, keeping the buffer (zeroed): one writer serves packet after packet. */
  reset(): void {
    this.buffer.fill(0, 0, Math.ceil(this.bitLength / 8));
    this.bitLength = 0;
  }

  /** Appends the low `width` (≤ 32) bits of a number. */
  writeNumber(value: number, width: number): void {
    this.reserve(width);
    writeNumberBits(this.buffer, this.bitLength, value, width);
    this.bitLength += width;
  }

  get length(): number {
    return this.bitLength;
  }

  /** The bytes written so far (a view of the buffer: valid until the next write). */
  view(): Uint8Array {
    return this.buffer.subarray(0, Math.ceil(this.bitLength / 8));
  }

  toBytes(): Uint8Array {
    return this.buffer.slice(0, Math.ceil(this.bitLength / 8));
  }

  private reserve(bits: number): void {
    const needed = Math.ceil((this.bitLength + bits) / 8);
    if (needed <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(needed, this.buffer.length * 2));
    grown.set(this.buffer);
    this.buffer = grown;
  }
}
