/**
 * Header fields in packet bytes: the parser reads them and the deparser writes them, most
 * significant bit first, with the bit packing of core/bits.ts.
 */
import { readBits, writeBits } from '../../core/bits.ts';

export { readBits };

/** Splits the bits starting at `start` into fields of the given widths. */
export function readFields(bytes: Uint8Array, start: number, widths: readonly number[]): bigint[] {
  const out: bigint[] = new Array(widths.length);
  let pos = start;
  for (let i = 0; i < widths.length; i++) {
    const w = widths[i]!;
    out[i] = w === 0 ? 0n : readBits(bytes, pos, w);
    pos += w;
  }
  return out;
}

/** Reads consecutive fields of the given widths into `out` (a header's field array). */
export function readFieldsInto(out: bigint[], bytes: Uint8Array, start: number, widths: readonly number[]): void {
  let pos = start;
  for (let i = 0; i < widths.length; i++) {
    const w = widths[i]!;
    out[i] = w === 0 ? 0n : readBits(bytes, pos, w);
    pos += w;
  }
}

/** Appends fields to a growing buffer, at bit granularity. */
export class BitWriter {
  private buffer = new Uint8Array(64);
  private bitLength = 0;

  write(value: bigint, width: number): void {
    this.reserve(width);
    writeBits(this.buffer, this.bitLength, value, width);
    this.bitLength += width;
  }

  get length(): number {
    return this.bitLength;
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
