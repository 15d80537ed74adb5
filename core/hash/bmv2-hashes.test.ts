import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import zlib from 'node:zlib';
import {
  computeHash,
  crc16,
  crc32,
  csum16,
  identityHash,
  packFields,
  parseHashAlgorithm,
  v1modelHash,
  xor16,
} from './bmv2-hashes.ts';
import { HashError } from './errors.ts';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('CRC check values', () => {
  it('crc32("123456789") = 0xCBF43926', () => expect(crc32(ascii('123456789'))).toBe(0xcbf43926));
  it('crc16 is CRC-16/ARC: check 0xBB3D', () => expect(crc16(ascii('123456789'))).toBe(0xbb3d));
  it('crc32 of nothing is 0', () => expect(crc32(new Uint8Array(0))).toBe(0));
  it('crc32 equals zlib.crc32 on any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => crc32(b) === zlib.crc32(b)));
  });
  it('the _custom variants use the default configurations', () => {
    const b = ascii('123456789');
    expect(computeHash('crc32_custom', b)).toBe(0xcbf43926n);
    expect(computeHash('crc16_custom', b)).toBe(0xbb3dn);
  });
});

describe('csum16, xor16, identity', () => {
  it('csum16 is the IPv4 header checksum (RFC 1071 example header)', () => {
    // 20-byte IPv4 header with its checksum field zeroed; the correct checksum is 0xB861.
    const hdr = Uint8Array.from([
      0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00,
      0xc7,
    ]);
    expect(csum16(hdr)).toBe(0xb861);
    hdr[10] = 0xb8;
    hdr[11] = 0x61;
    expect(csum16(hdr)).toBe(0);
  });
  it('csum16 pads an odd last byte on the right', () => {
    expect(csum16(Uint8Array.from([0x12]))).toBe(~0x1200 & 0xffff);
    expect(csum16(Uint8Array.from([0x12, 0x34, 0x56]))).toBe(~(0x1234 + 0x5600) & 0xffff);
    expect(csum16(new Uint8Array(4))).toBe(0xffff);
  });
  it('xor16 xors big-endian words, zero-padding the tail', () => {
    expect(xor16(Uint8Array.from([0x12, 0x34, 0xff, 0x00, 0x0f]))).toBe(0x1234 ^ 0xff00 ^ 0x0f00);
  });
  it('identity takes at most the first 8 bytes, big-endian, unpadded', () => {
    expect(identityHash(Uint8Array.from([1, 2, 3]))).toBe(0x010203n);
    expect(identityHash(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))).toBe(0x0102030405060708n);
  });
});

describe('packFields', () => {
  it('packs a 5-tuple into its 13-byte big-endian concatenation', () => {
    const bytes = packFields([
      { value: 0x0a000001n, width: 32 },
      { value: 0xc0a80102n, width: 32 },
      { value: 6n, width: 8 },
      { value: 12345n, width: 16 },
      { value: 80n, width: 16 },
    ]);
    expect(Buffer.from(bytes).toString('hex')).toBe('0a000001' + 'c0a80102' + '06' + '3039' + '0050');
  });
  it('packs at bit granularity, MSB first, zero-padded on the right', () => {
    // 3 bits 101, 9 bits 1_0000_0001 -> 1011 0000 0001 0000
    expect(Array.from(packFields([{ value: 5n, width: 3 }, { value: 0x101n, width: 9 }]))).toEqual([0xb0, 0x10]);
    expect(Array.from(packFields([{ value: 1n, width: 1 }]))).toEqual([0x80]);
  });
  it('truncates values to their width', () => {
    expect(Array.from(packFields([{ value: 0x1ffn, width: 8 }]))).toEqual([0xff]);
  });
  it('equals a bit-string reference on random fields', () => {
    const field = fc.integer({ min: 1, max: 70 }).chain((width) =>
      fc.bigInt({ min: 0n, max: (1n << BigInt(width)) - 1n }).map((value) => ({ value, width })),
    );
    fc.assert(
      fc.property(fc.array(field, { maxLength: 8 }), (fields) => {
        let bits = fields.map((f) => f.value.toString(2).padStart(f.width, '0')).join('');
        bits = bits.padEnd(Math.ceil(bits.length / 8) * 8, '0');
        const expected = Array.from({ length: bits.length / 8 }, (_, i) => parseInt(bits.slice(i * 8, i * 8 + 8), 2));
        expect(Array.from(packFields(fields))).toEqual(expected);
      }),
    );
  });
  it('rejects a negative width', () => {
    expect(() => packFields([{ value: 0n, width: -1 }])).toThrow(HashError);
  });
});

describe('v1modelHash', () => {
  const fields = [
    { value: 0x0a000001n, width: 32 },
    { value: 0x0a000002n, width: 32 },
  ];
  const h = BigInt(crc32(packFields(fields)));
  it('is base + (H mod max)', () => {
    expect(v1modelHash('crc32', 0n, fields, 1n << 32n, 32)).toBe(h);
    expect(v1modelHash('crc32', 100n, fields, 1000n, 32)).toBe(100n + (h % 1000n));
  });
  it('max is a modulus, not a mask', () => {
    expect(v1modelHash('crc32', 0n, fields, 65535n, 16)).toBe(h % 65535n);
  });
  it('max 0 gives base', () => expect(v1modelHash('crc16', 7n, fields, 0n, 16)).toBe(7n));
  it('truncates to the result width', () => {
    expect(v1modelHash('crc32', 0xffn, fields, 1n << 32n, 8)).toBe((0xffn + h) & 0xffn);
  });
});

describe('parseHashAlgorithm', () => {
  it('accepts v1model names and rejects random with a reason', () => {
    expect(parseHashAlgorithm('crc16')).toBe('crc16');
    expect(() => parseHashAlgorithm('random')).toThrow(/unsupported/);
  });
  it('suggests the closest name', () => {
    try {
      parseHashAlgorithm('crc23');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(HashError);
      expect((e as HashError).code).toBe('HASH_UNKNOWN_ALGORITHM');
      expect((e as HashError).hint).toMatch(/did you mean 'crc3/);
    }
  });
});
