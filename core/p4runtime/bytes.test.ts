import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  byteWidth,
  canonicalize,
  checkMaskedValue,
  decodeP4Value,
  encodeLpm,
  encodeP4Value,
  encodeP4ValuePadded,
  encodeTernary,
  isCanonical,
  prefixMask,
  uint128FromBigint,
  uint128ToBigint,
} from './bytes.ts';
import { P4RuntimeError } from './errors.ts';

/** A bit width and a value that fits it. */
const widthAndValue = fc
  .integer({ min: 1, max: 160 })
  .chain((w) => fc.tuple(fc.constant(w), fc.bigInt({ min: 0n, max: (1n << BigInt(w)) - 1n })));

function thrown(f: () => unknown): P4RuntimeError {
  try {
    f();
  } catch (e) {
    if (e instanceof P4RuntimeError) return e;
    throw e;
  }
  throw new Error('expected a P4RuntimeError');
}

describe('encodeP4Value', () => {
  it('writes the shortest big-endian form, zero as one byte', () => {
    expect([...encodeP4Value(0n, 9)]).toEqual([0]);
    expect([...encodeP4Value(1n, 48)]).toEqual([1]);
    expect([...encodeP4Value(0x1ffn, 9)]).toEqual([0x01, 0xff]);
    expect([...encodeP4Value(0x0a000001n, 32)]).toEqual([0x0a, 0x00, 0x00, 0x01]);
    expect([...encodeP4Value(0x100n, 16)]).toEqual([0x01, 0x00]);
  });

  it('round-trips and is canonical for every value of every width', () => {
    fc.assert(
      fc.property(widthAndValue, ([w, v]) => {
        const bytes = encodeP4Value(v, w);
        expect(isCanonical(bytes)).toBe(true);
        expect(bytes.length).toBeLessThanOrEqual(byteWidth(w));
        expect(decodeP4Value(bytes, w)).toBe(v);
      }),
    );
  });

  it('rejects values wider than the field and negative values as OUT_OF_RANGE', () => {
    expect(thrown(() => encodeP4Value(512n, 9)).code).toBe('OUT_OF_RANGE');
    expect(thrown(() => encodeP4Value(-1n, 8)).code).toBe('OUT_OF_RANGE');
  });
});

describe('decodeP4Value', () => {
  it('accepts padded forms and canonicalize() removes the padding', () => {
    fc.assert(
      fc.property(widthAndValue, ([w, v]) => {
        const padded = encodeP4ValuePadded(v, w);
        expect(padded.length).toBe(byteWidth(w));
        expect(decodeP4Value(padded, w)).toBe(v);
        expect(canonicalize(padded, w)).toEqual(encodeP4Value(v, w));
      }),
    );
  });

  it('answers bits beyond the width with OUT_OF_RANGE naming the width', () => {
    const e = thrown(() => decodeP4Value(Uint8Array.of(0x02, 0x00), 9, { path: 'match[0]' }));
    expect(e.code).toBe('OUT_OF_RANGE');
    expect(e.message).toContain('bit<9>');
    expect(e.location?.path).toBe('match[0]');
  });

  it('rejects every value at or above 2^width', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.bigInt({ min: 0n, max: 1n << 70n }), (w, extra) => {
        const v = (1n << BigInt(w)) + extra;
        expect(thrown(() => decodeP4Value(encodeP4Value(v, 72), w)).code).toBe('OUT_OF_RANGE');
      }),
    );
  });

  it('rejects an empty string', () => {
    expect(thrown(() => decodeP4Value(new Uint8Array(0), 8)).code).toBe('INVALID_ARGUMENT');
  });
});

describe('LPM and ternary helpers', () => {
  it('builds prefix masks from the top bit down', () => {
    expect(prefixMask(0, 32)).toBe(0n);
    expect(prefixMask(24, 32)).toBe(0xffffff00n);
    expect(prefixMask(32, 32)).toBe(0xffffffffn);
    expect(prefixMask(1, 9)).toBe(0x100n);
    expect(thrown(() => prefixMask(33, 32)).code).toBe('INVALID_ARGUMENT');
  });

  it('encodes a clean LPM value and refuses one with host bits set', () => {
    expect(encodeLpm(0x0a000000n, 8, 32)).toEqual({ value: Uint8Array.of(0x0a, 0, 0, 0), prefixLen: 8 });
    const e = thrown(() => encodeLpm(0x0a000001n, 8, 32));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.hint).toBe('use 0xa000000');
  });

  it('accepts value & ~mask == 0 and refuses anything else', () => {
    fc.assert(
      fc.property(widthAndValue, fc.bigInt({ min: 0n, max: (1n << 160n) - 1n }), fc.boolean(), ([w, raw], m, clean) => {
        const mask = m & ((1n << BigInt(w)) - 1n);
        // Half the cases are clean by construction, so both branches are exercised.
        const v = clean ? raw & mask : raw;
        if ((v & ~mask) === 0n) {
          expect(() => checkMaskedValue(v, mask)).not.toThrow();
          expect(encodeTernary(v, mask, w).mask).toEqual(encodeP4Value(mask, w));
        } else {
          expect(thrown(() => encodeTernary(v, mask, w)).code).toBe('INVALID_ARGUMENT');
        }
      }),
    );
  });
});

describe('Uint128 election ids', () => {
  it('splits into 64-bit halves and joins back', () => {
    expect(uint128FromBigint(1n)).toEqual({ high: 0n, low: 1n });
    expect(uint128FromBigint((5n << 64n) | 7n)).toEqual({ high: 5n, low: 7n });
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (v) => {
        expect(uint128ToBigint(uint128FromBigint(v))).toBe(v);
      }),
    );
  });

  it('refuses ids that do not fit 128 bits', () => {
    expect(thrown(() => uint128FromBigint(1n << 128n)).code).toBe('OUT_OF_RANGE');
    expect(thrown(() => uint128FromBigint(-1n)).code).toBe('OUT_OF_RANGE');
  });
});
