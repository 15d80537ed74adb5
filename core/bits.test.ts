import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readBits, writeBits } from './bits.ts';

/** The obvious bit-by-bit reference. */
function referenceWrite(fields: readonly { value: bigint; width: number }[]): Uint8Array {
  const bits: number[] = [];
  for (const f of fields) for (let i = f.width - 1; i >= 0; i--) bits.push(Number((BigInt.asUintN(f.width, f.value) >> BigInt(i)) & 1n));
  const out = new Uint8Array(Math.ceil(bits.length / 8));
  bits.forEach((b, i) => (out[i >> 3]! |= b << (7 - (i & 7))));
  return out;
}

const field = fc.integer({ min: 1, max: 130 }).chain((width) =>
  fc.bigInt({ min: 0n, max: (1n << BigInt(width)) - 1n }).map((value) => ({ value, width })),
);

describe('writeBits / readBits', () => {
  it('pack fields most-significant bit first at any offset, like a bit-by-bit reference', () => {
    fc.assert(
      fc.property(fc.array(field, { minLength: 1, maxLength: 12 }), (fields) => {
        const total = fields.reduce((n, f) => n + f.width, 0);
        const out = new Uint8Array(Math.ceil(total / 8));
        let pos = 0;
        for (const f of fields) {
          writeBits(out, pos, f.value, f.width);
          pos += f.width;
        }
        expect(out).toEqual(referenceWrite(fields));
        pos = 0;
        for (const f of fields) {
          expect(readBits(out, pos, f.width)).toBe(f.value);
          pos += f.width;
        }
      }),
    );
  });

  it('writes an IPv4 version/IHL byte and a 13-bit fragment offset where they belong', () => {
    const out = new Uint8Array(3);
    writeBits(out, 0, 4n, 4);
    writeBits(out, 4, 5n, 4);
    writeBits(out, 8, 0b010n, 3);
    writeBits(out, 11, 0x1fffn, 13);
    expect([...out]).toEqual([0x45, 0x5f, 0xff]);
    expect(readBits(out, 11, 13)).toBe(0x1fffn);
  });
});
