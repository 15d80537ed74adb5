import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fromHex,
  hex,
  hexDump,
  ipv4FromNumber,
  ipv4ToNumber,
  macFromBigInt,
  macFromBytes,
  macToBigInt,
  macToBytes,
  readU16,
  readU32,
  readU64,
  writeU16,
  writeU32,
  writeU64,
} from './bytes.ts';

describe('big-endian readers and writers', () => {
  it('put the most significant byte first', () => {
    const b = new Uint8Array(14);
    writeU16(b, 0, 0x1234);
    writeU32(b, 2, 0xdeadbeef);
    writeU64(b, 6, 0x0102030405060708n);
    expect(hex(b)).toBe('1234deadbeef0102030405060708');
    expect(readU16(b, 0)).toBe(0x1234);
    expect(readU32(b, 2)).toBe(0xdeadbeef);
    expect(readU64(b, 6)).toBe(0x0102030405060708n);
  });

  it('round-trip any 64-bit value', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (v) => {
        const b = new Uint8Array(8);
        writeU64(b, 0, v);
        return readU64(b, 0) === v;
      }),
    );
  });
});

describe('addresses', () => {
  it('convert IPv4 text and numbers both ways', () => {
    expect(ipv4ToNumber('10.0.0.1')).toBe(0x0a000001);
    expect(ipv4ToNumber('255.255.255.255')).toBe(0xffffffff);
    expect(ipv4FromNumber(0xcb00710a)).toBe('203.0.113.10');
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => ipv4ToNumber(ipv4FromNumber(n)) === n));
  });

  it('reject malformed IPv4 text with the reason', () => {
    expect(() => ipv4ToNumber('10.0.0.256')).toThrow(/octet 256 > 255/);
    expect(() => ipv4ToNumber('10.0.0')).toThrow(/not an IPv4 address/);
  });

  it('convert MACs to bytes and 48-bit numbers', () => {
    expect(hex(macToBytes('02:00:5E:10:00:01'))).toBe('02005e100001');
    expect(macFromBytes(fromHex('02005e100001'))).toBe('02:00:5e:10:00:01');
    expect(macToBigInt('00:00:00:00:01:00')).toBe(256n);
    expect(macFromBigInt(0xffeeddccbbaan)).toBe('ff:ee:dd:cc:bb:aa');
    expect(() => macToBytes('02:00:5e:10:00')).toThrow(/not a MAC address/);
  });
});

describe('hex helpers', () => {
  it('ignore layout whitespace, colons and 0x', () => {
    expect(hex(fromHex('0x45 00\n00:73'))).toBe('45000073');
  });

  it('refuse odd lengths and stray characters', () => {
    expect(() => fromHex('abc')).toThrow(/odd number of hex digits/);
    expect(() => fromHex('zz')).toThrow(/not a hex digit: 'z'/);
  });

  it('dump 16 bytes a line with offsets', () => {
    expect(hexDump(Uint8Array.from({ length: 18 }, (_, i) => i))).toBe(
      '0000  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n0010  10 11',
    );
  });
});
