/**
 * Bit-level reads and writes of header fields in packet bytes, most-significant bit first as
 * P4 lays headers out on the wire.
 */

/** Reads `bits` bits starting at bit offset `start` as an unsigned integer. */
export function readBits(bytes: Uint8Array, start: number, bits: number): bigint {
  let value = 0n;
  let pos = start;
  let left = bits;
  // Whole bytes when aligned: the common case for header fields.
  while (left > 0) {
    const byte = bytes[pos >> 3] ?? 0;
    const bitInByte = pos & 7;
    const take = Math.min(8 - bitInByte, left);
    const chunk = (byte >> (8 - bitInByte - take)) & ((1 << take) - 1);
    value = (value << BigInt(take)) | BigInt(chunk);
    pos += take;
    left -= take;
  }
  return value;
}

/** Splits `total` bits starting at `start` into fields of the given widths. */
export function readFields(bytes: Uint8Array, start: number, widths: readonly number[]): bigint[] {
  const out: bigint[] = [];
  let pos = start;
  for (const w of widths) {
    out.push(w === 0 ? 0n : readBits(bytes, pos, w));
    pos += w;
  }
  return out;
}

/** Appends fields of the given widths to a growing bit buffer. */
export class BitWriter {
  private readonly bytes: number[] = [];
  private bitLength = 0;

  write(value: bigint, width: number): void {
    for (let i = width - 1; i >= 0; i--) {
      const bit = Number((value >> BigInt(i)) & 1n);
      const byteIndex = this.bitLength >> 3;
      if (byteIndex === this.bytes.length) this.bytes.push(0);
      if (bit) this.bytes[byteIndex]! |= 0x80 >> (this.bitLength & 7);
      this.bitLength++;
    }
  }

  /** Appends whole bytes (fast path for byte-aligned output). */
  writeBytes(bytes: Uint8Array): void {
    if ((this.bitLength & 7) === 0) {
      for (const b of bytes) this.bytes.push(b);
      this.bitLength += bytes.length * 8;
    } else {
      for (const b of bytes) this.write(BigInt(b), 8);
    }
  }

  get length(): number {
    return this.bitLength;
  }

  toBytes(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}
