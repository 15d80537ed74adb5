import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, readU16, readU32, writeU16, writeU32 } from './bytes.ts';
import {
  internetChecksum,
  ipv4HeaderChecksum,
  onesComplementSum,
  tcpChecksum,
  udpChecksum,
  updateChecksum16,
  updateChecksum32,
} from './checksum.ts';

describe('internet checksum known answers', () => {
  it('gives 0xb861 for the classic IPv4 header example', () => {
    const h = fromHex('4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7');
    expect(ipv4HeaderChecksum(h, 0, 20)).toBe(0xb861);
    // The checksum field's current value is ignored, so a filled-in header gives the same.
    h[10] = 0xb8;
    h[11] = 0x61;
    expect(ipv4HeaderChecksum(h, 0, 20)).toBe(0xb861);
    // …and the whole header then sums to ones' complement zero.
    expect(internetChecksum(h)).toBe(0);
  });

  it('follows the RFC 1071 §3 worked sum (00 01 f2 03 f4 f5 f6 f7 → ddf2)', () => {
    const b = fromHex('0001f203f4f5f6f7');
    expect(onesComplementSum(b)).toBe(0xddf2);
    expect(internetChecksum(b)).toBe(0x220d);
  });

  it('pads an odd last byte with zero', () => {
    expect(onesComplementSum(fromHex('0102 03'))).toBe(0x0102 + 0x0300);
  });
});

/** Checksum the slow, obvious way: build the pseudo-header + segment buffer and sum it. */
function naiveL4(src: number, dst: number, proto: number, seg: Uint8Array, csumAt: number): number {
  const b = new Uint8Array(12 + seg.length + (seg.length % 2));
  writeU32(b, 0, src);
  writeU32(b, 4, dst);
  b[9] = proto;
  writeU16(b, 10, seg.length);
  b.set(seg, 12);
  b[12 + csumAt] = 0;
  b[13 + csumAt] = 0;
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += readU16(b, i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

describe('TCP and UDP pseudo-header checksums', () => {
  const addr = fc.integer({ min: 0, max: 0xffffffff });
  const seg = (min: number) => fc.uint8Array({ minLength: min, maxLength: 80 });

  it('TCP equals the naive pseudo-header sum', () => {
    fc.assert(
      fc.property(addr, addr, seg(20), (s, d, segment) => {
        expect(tcpChecksum(s, d, segment)).toBe(naiveL4(s, d, 6, segment, 16));
      }),
    );
  });

  it('UDP equals it too, with a computed 0 sent as 0xffff', () => {
    fc.assert(
      fc.property(addr, addr, seg(8), (s, d, datagram) => {
        const naive = naiveL4(s, d, 17, datagram, 6);
        expect(udpChecksum(s, d, datagram)).toBe(naive === 0 ? 0xffff : naive);
      }),
    );
  });
});

describe('RFC 1624 incremental update', () => {
  /** A valid IPv4-like header: random words with a correct checksum at bytes 10-11. */
  const arbHeader = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((h) => {
    h[0] = 0x45; // keeps the sum nonzero, as in any real header
    writeU16(h, 10, ipv4HeaderChecksum(h, 0, 20));
    return h;
  });

  it('equals full recomputation when one 16-bit word changes', () => {
    const word = fc.integer({ min: 0, max: 9 }).filter((w) => w !== 5); // word 5 is the checksum
    fc.assert(
      fc.property(arbHeader, word, fc.integer({ min: 0, max: 0xffff }), (h, w, value) => {
        const old = readU16(h, 2 * w);
        const incremental = updateChecksum16(readU16(h, 10), old, value);
        writeU16(h, 2 * w, value);
        expect(incremental).toBe(ipv4HeaderChecksum(h, 0, 20));
      }),
      { numRuns: 500 },
    );
  });

  it('equals full recomputation when an address changes', () => {
    fc.assert(
      fc.property(arbHeader, fc.constantFrom(12, 16), fc.integer({ min: 0, max: 0xffffffff }), (h, at, addr) => {
        const incremental = updateChecksum32(readU16(h, 10), readU32(h, at), addr);
        writeU32(h, at, addr);
        expect(incremental).toBe(ipv4HeaderChecksum(h, 0, 20));
      }),
      { numRuns: 500 },
    );
  });

  it('leaves the checksum alone when a word is rewritten with its own value', () => {
    // Eqn. 3 gets this right even for a checksum of 0x0000, where eqn. 2 of RFC 1141 gave 0xffff.
    fc.assert(
      fc.property(arbHeader, (h) => {
        const c = readU16(h, 10);
        expect(updateChecksum16(c, readU16(h, 0), readU16(h, 0))).toBe(c);
      }),
    );
  });
});
