import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import zlib from 'node:zlib';
import { crc16, crc32, packFields, v1modelHash } from './bmv2-hashes.ts';
import {
  FLOW_KEY_FIELDS,
  encodeFlowKey,
  flowHash,
  flowKeyHashFields,
  flowStateIndexes,
  flowTuple,
  formatIpv4,
  parseIpv4,
  slotOf,
  type FlowKeyKind,
  type FlowTuple,
} from './flow-key.ts';
import { HashError } from './errors.ts';

const tuple = flowTuple({ src: '10.0.0.1', dst: '192.168.1.2', protocol: 6, srcPort: 12345, dstPort: 80 });

const tupleArb: fc.Arbitrary<FlowTuple> = fc.record({
  srcAddr: fc.nat({ max: 0xffffffff }),
  dstAddr: fc.nat({ max: 0xffffffff }),
  protocol: fc.nat({ max: 255 }),
  srcPort: fc.nat({ max: 0xffff }),
  dstPort: fc.nat({ max: 0xffff }),
});
const kindArb = fc.constantFrom<FlowKeyKind>('5-tuple', '3-tuple', '2-tuple');

describe('flow key encoding', () => {
  it('orders the 5-tuple fields as the P4 hash data list', () => {
    expect(FLOW_KEY_FIELDS['5-tuple'].map((f) => `${f.name}:${f.width}`)).toEqual([
      'srcAddr:32',
      'dstAddr:32',
      'protocol:8',
      'srcPort:16',
      'dstPort:16',
    ]);
    expect(FLOW_KEY_FIELDS['2-tuple'].map((f) => f.name)).toEqual(['srcAddr', 'dstAddr']);
  });
  it('encodes a 5-tuple as 13 bytes', () => {
    expect(Buffer.from(encodeFlowKey('5-tuple', tuple)).toString('hex')).toBe('0a000001c0a80102063039' + '0050');
    expect(encodeFlowKey('3-tuple', tuple)).toHaveLength(9);
    expect(encodeFlowKey('2-tuple', tuple)).toHaveLength(8);
  });
  it('equals packFields of the hash fields for every kind', () => {
    fc.assert(
      fc.property(kindArb, tupleArb, (kind, t) => {
        expect(encodeFlowKey(kind, t)).toEqual(packFields(flowKeyHashFields(kind, t)));
      }),
    );
  });
  it('rejects a field that does not fit its width', () => {
    expect(() => encodeFlowKey('5-tuple', { ...tuple, srcPort: 65536 })).toThrow(HashError);
  });
});

describe('flowHash and slotOf', () => {
  it('flowHash of a fixed 5-tuple equals zlib.crc32 of the 13 bytes (known answer)', () => {
    const bytes = Buffer.from('0a000001c0a80102063039' + '0050', 'hex');
    expect(flowHash('5-tuple', tuple)).toBe(zlib.crc32(bytes));
    expect(flowHash('5-tuple', tuple)).toBe(0xcf839cbe);
  });
  it('equals the v1model hash() the P4 program runs', () => {
    fc.assert(
      fc.property(kindArb, tupleArb, fc.integer({ min: 0, max: 20 }), (kind, t, log2) => {
        const m = 2 ** log2;
        const fields = flowKeyHashFields(kind, t);
        expect(BigInt(slotOf(flowHash(kind, t), m))).toBe(v1modelHash('crc32', 0n, fields, BigInt(m), 32));
      }),
    );
  });
});

describe('flowStateIndexes', () => {
  it('makes the two ways independent: flows that share a way-0 index almost never share the way-1 index', () => {
    // Two clients to one VIP port: for each port of one there is a port of the other with the same
    // way-0 index (CRCs are affine in the port). With two CRC-16s the way-1 index was then always equal
    // too, so such a pair could never both be pinned.
    const key = (src: number, srcPort: number): FlowTuple => ({ srcAddr: src, dstAddr: 0xcb007114, protocol: 6, srcPort, dstPort: 8080 });
    let sharedWay0 = 0;
    let sharedBoth = 0;
    for (let p = 40000; p < 40400; p++) {
      const b = flowStateIndexes('5-tuple', key(0xc6336406, p), 65536);
      for (let q = 1024; q < 65536; q++) {
        const a = flowStateIndexes('5-tuple', key(0xc6336402, q), 65536);
        if (a.way0 !== b.way0) continue;
        sharedWay0++;
        if (a.way1 === b.way1) sharedBoth++;
      }
    }
    expect(sharedWay0).toBeGreaterThan(300);
    expect(sharedBoth).toBeLessThanOrEqual(2);
  });

  it('matches the hash() calls of the data plane', () => {
    fc.assert(
      fc.property(kindArb, tupleArb, fc.integer({ min: 1, max: 1 << 20 }), (kind, t, size) => {
        const fields = flowKeyHashFields(kind, t);
        const idx = flowStateIndexes(kind, t, size);
        expect(idx.signature).toBe(flowHash(kind, t));
        expect(BigInt(idx.way0)).toBe(v1modelHash('crc16', 0n, fields, BigInt(size), 32));
        const salted = [{ value: 0xa5n, width: 8 }, ...fields];
        expect(BigInt(idx.way1)).toBe(v1modelHash('crc32', 0n, salted, BigInt(size), 32));
      }),
    );
  });
  it('known answer for the fixed tuple and S = 4096', () => {
    const key = encodeFlowKey('5-tuple', tuple);
    const idx = flowStateIndexes('5-tuple', tuple, 4096);
    expect(idx.way0).toBe(crc16(key) % 4096);
    expect(idx.way1).toBe(crc32(Uint8Array.from([0xa5, ...key])) % 4096);
    expect(idx.signature).toBe(crc32(key));
    expect(idx).toEqual({ signature: 0xcf839cbe, way0: 1876, way1: 2732 });
  });
  it('rejects a size below 1', () => expect(() => flowStateIndexes('2-tuple', tuple, 0)).toThrow(HashError));
});

describe('IPv4 helpers', () => {
  it('parses and formats', () => {
    expect(parseIpv4('192.168.1.2')).toBe(0xc0a80102);
    expect(formatIpv4(0xc0a80102)).toBe('192.168.1.2');
    fc.assert(fc.property(fc.nat({ max: 0xffffffff }), (a) => parseIpv4(formatIpv4(a)) === a));
  });
  it('rejects malformed addresses', () => {
    for (const bad of ['1.2.3', '1.2.3.256', '01.2.3.4', 'a.b.c.d', '1.2.3.4.5']) {
      expect(() => parseIpv4(bad)).toThrow(HashError);
    }
  });
});
