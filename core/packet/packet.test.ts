import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { P4lbError } from '../errors.ts';
import { fromHex, hex, writeU16 } from './bytes.ts';
import { PacketError } from './errors.ts';
import { IP_PROTO_TCP, IP_PROTO_UDP, ipv4Header } from './ipv4.ts';
import {
  type DecodeOptions,
  type Packet,
  decodeInnerPacket,
  decodePacket,
  encodeInnerPacket,
  encodePacket,
  finalizePacket,
  tunnelOnPorts,
} from './packet.ts';
import { TCP_FLAGS, tcpHeader } from './tcp.ts';
import { arbPacket } from './test-arbitraries.ts';
import { tunnelPacket } from './tunnel-packet.ts';

const ETH = { dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01', etherType: 0x0800 };

/** A UDP packet built by hand: 14 + 20 + 8 + data bytes. */
function udpPacket(data: Uint8Array): Packet {
  return finalizePacket({
    eth: ETH,
    ipv4: ipv4Header({ src: '10.0.0.1', dst: '10.0.1.1', protocol: IP_PROTO_UDP }),
    udp: { srcPort: 6635, dstPort: 7001, length: 0, checksum: 0 },
    payload: data,
  });
}

function decodeError(bytes: Uint8Array, opts?: DecodeOptions): PacketError {
  try {
    decodePacket(bytes, opts);
  } catch (e) {
    if (e instanceof PacketError) return e;
    throw e;
  }
  throw new Error('decoded without error');
}

describe('encodePacket ∘ decodePacket', () => {
  it('decode(encode(p)) = p for generated packets, and encode(decode(b)) = b', () => {
    fc.assert(
      fc.property(arbPacket, ({ packet, tunnelled }) => {
        const opts: DecodeOptions = { tunnel: tunnelled ? 'always' : 'never' };
        // Lengths must agree for the bytes to parse; checksums are left random on purpose.
        const bytes = encodePacket(packet, { fixLengths: true });
        const decoded = decodePacket(bytes, opts);
        expect(hex(encodePacket(decoded))).toBe(hex(bytes));
        expect(decodePacket(encodePacket(decoded), opts)).toEqual(decoded);
        // Only length fields may differ from the generated model.
        expect(stripLengths(decoded)).toEqual(stripLengths(packet));
      }),
      { numRuns: 300 },
    );
  });

  it('with fixed checksums, every checksum verifies', () => {
    fc.assert(
      fc.property(arbPacket, ({ packet, tunnelled }) => {
        const bytes = encodePacket(packet, { fixLengths: true, fixChecksums: true, udpZeroChecksum: 'compute' });
        decodePacket(bytes, { tunnel: tunnelled ? 'always' : 'never', verifyChecksums: true });
      }),
      { numRuns: 200 },
    );
  });
});

/** The model with ihl/totalLength/dataOffset/length removed, at every layer. */
function stripLengths(p: object): unknown {
  return JSON.parse(
    JSON.stringify(p, (k, v: unknown) => {
      if (['ihl', 'totalLength', 'dataOffset', 'length'].includes(k)) return undefined;
      if (typeof v === 'bigint') return v.toString();
      if (v instanceof Uint8Array) return hex(v);
      return v;
    }),
  );
}

describe('encodePacket refusals', () => {
  it('names options that are not whole 32-bit words', () => {
    const p: Packet = {
      eth: ETH,
      ipv4: ipv4Header({ src: '10.0.0.1', dst: '10.0.0.2', protocol: IP_PROTO_TCP }),
      tcp: tcpHeader({ srcPort: 1, dstPort: 2, options: fromHex('0101ff') }),
      payload: new Uint8Array(0),
    };
    expect(() => encodePacket(p, { fixLengths: true })).toThrow(
      'tcp.options are 3 bytes, not a whole number of 32-bit words',
    );
  });

  it('names a field value out of range', () => {
    const p: Packet = {
      eth: ETH,
      ipv4: ipv4Header({ src: '10.0.0.1', dst: '10.0.0.2', protocol: IP_PROTO_UDP, ttl: 256 }),
      payload: new Uint8Array(0),
    };
    expect(() => encodePacket(p)).toThrow('ipv4.ttl = 256 does not fit 8 bits');
  });
});

describe('inner packets alone', () => {
  it('encode and decode without Ethernet, refusing trailing bytes', () => {
    const inner = finalizePacket({
      eth: ETH,
      ipv4: ipv4Header({ src: '198.51.100.7', dst: '203.0.113.10', protocol: IP_PROTO_TCP }),
      tcp: tcpHeader({ srcPort: 40000, dstPort: 80 }),
      payload: fromHex('0102'),
    });
    const { eth: _eth, ...ip } = inner;
    const bytes = encodeInnerPacket({ ipv4: ip.ipv4!, tcp: ip.tcp!, payload: ip.payload });
    expect(bytes.length).toBe(42);
    expect(decodeInnerPacket(bytes, { verifyChecksums: true })).toEqual(ip);
    const extra = new Uint8Array(43);
    extra.set(bytes);
    expect(() => decodeInnerPacket(extra)).toThrow('1 byte after the IPv4 packet');
  });
});

describe('decodePacket layers', () => {
  it('decodes a TCP SYN with options field by field', () => {
    const p = finalizePacket({
      eth: ETH,
      ipv4: ipv4Header({ src: '198.51.100.7', dst: '203.0.113.10', protocol: IP_PROTO_TCP }),
      tcp: tcpHeader({ srcPort: 40000, dstPort: 80, seq: 1, flags: TCP_FLAGS.SYN, options: fromHex('020405b4') }),
      payload: new Uint8Array(0),
    });
    expect(p.ipv4).toMatchObject({ ihl: 5, totalLength: 44, protocol: 6, src: '198.51.100.7' });
    expect(p.tcp).toMatchObject({ dataOffset: 6, flags: TCP_FLAGS.SYN, dstPort: 80 });
    expect(hex(p.tcp!.options)).toBe('020405b4');
  });

  it('keeps Ethernet padding as a trailer, outside the IPv4 packet', () => {
    const bytes = new Uint8Array(60);
    bytes.set(encodePacket(udpPacket(fromHex('aabb'))));
    const p = decodePacket(bytes);
    expect(hex(p.payload)).toBe('aabb');
    expect(p.trailer?.length).toBe(60 - 44);
    expect(encodePacket(p)).toEqual(bytes);
  });

  it('leaves fragments as raw IPv4 data', () => {
    const p = finalizePacket({
      eth: ETH,
      ipv4: ipv4Header({ src: '10.0.0.1', dst: '10.0.0.2', protocol: IP_PROTO_UDP, flags: 1 }),
      payload: fromHex('0102030405060708090a'),
    });
    expect(p.udp).toBeUndefined();
    expect(hex(p.payload)).toBe('0102030405060708090a');
  });

  it('treats UDP as a tunnel only where the matcher says so', () => {
    const bytes = encodePacket(udpPacket(new Uint8Array(12 + 20).fill(0x45, 12)));
    expect(decodePacket(bytes).tunnel).toBeUndefined();
    expect(decodePacket(bytes, { tunnel: tunnelOnPorts([9999]) }).tunnel).toBeUndefined();
    // 7001 matches; the inner "packet" 45 45 … then fails as IPv4, at the inner header's offset.
    expect(decodeError(bytes, { tunnel: tunnelOnPorts([7001]) }).field).toBe('tunnel.inner.ipv4.totalLength');
  });

  it('keeps bytes of a non-IPv4 frame as payload', () => {
    const p = decodePacket(fromHex('ffffffffffff 020000000001 0806 0001 0800'));
    expect(p.eth.etherType).toBe(0x0806);
    expect(hex(p.payload)).toBe('00010800');
  });
});

describe('malformed input → PacketError naming offset and field', () => {
  const good = encodePacket(udpPacket(fromHex('00112233')));

  const cases: ReadonlyArray<{ name: string; bytes: () => Uint8Array; offset: number; field: string; text: string }> = [
    {
      name: 'short Ethernet header',
      bytes: () => good.slice(0, 10),
      offset: 0,
      field: 'eth',
      text: 'byte 0: truncated Ethernet header: 10 bytes left, need 14',
    },
    {
      name: 'IPv4 version 6',
      bytes: () => patch(good, 14, 0x65),
      offset: 14,
      field: 'ipv4.version',
      text: 'byte 14: IPv4 version 6, expected 4',
    },
    {
      name: 'IHL below 5',
      bytes: () => patch(good, 14, 0x44),
      offset: 14,
      field: 'ipv4.ihl',
      text: 'byte 14: IPv4 ihl 4, must be at least 5',
    },
    {
      name: 'IHL beyond the data',
      bytes: () => good.slice(0, 14 + 20).map((x, i) => (i === 14 ? 0x4f : x)),
      offset: 14,
      field: 'ipv4.options',
      text: 'byte 14: truncated IPv4 header with ihl 15: 20 bytes left, need 60',
    },
    {
      name: 'totalLength beyond the frame',
      bytes: () => patch16(good, 16, 200),
      offset: 16,
      field: 'ipv4.totalLength',
      text: 'byte 16: IPv4 totalLength 200 exceeds the 32 bytes left',
    },
    {
      name: 'truncated UDP header',
      bytes: () => patch16(good, 16, 25).slice(0, 39),
      offset: 34,
      field: 'udp',
      text: 'byte 34: truncated UDP header: 5 bytes left, need 8',
    },
    {
      name: 'UDP length shorter than the IPv4 data',
      bytes: () => patch16(good, 38, 10),
      offset: 38,
      field: 'udp.length',
      text: 'byte 38: UDP length 10 disagrees with the 12 bytes of IPv4 data',
    },
    {
      name: 'truncated tunnel header',
      bytes: () => good,
      offset: 42,
      field: 'tunnel',
      text: 'byte 42: truncated tunnel header: 4 bytes left, need 12',
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const e = decodeError(c.bytes(), { tunnel: 'always' });
      expect(e).toBeInstanceOf(P4lbError);
      expect(e.code).toBe('PACKET_MALFORMED');
      expect(e.offset).toBe(c.offset);
      expect(e.location?.offset).toBe(c.offset);
      expect(e.field).toBe(c.field);
      expect(e.describe()).toBe(c.text);
    });
  }

  it('faults inside the tunnel name the inner layer and its absolute offset', () => {
    const frame = encodePacket(
      tunnelPacket({
        eth: ETH,
        sender: { ip: '10.0.0.1', port: 6635 },
        receiver: { ip: '10.0.1.1', port: 7001 },
        header: { token: 1n, expiry: 2 },
        inner: { ipv4: ipv4Header({ src: '1.2.3.4', dst: '5.6.7.8', protocol: 1 }), payload: fromHex('0800') },
      }),
    );
    const v6 = decodeError(patch(frame, 54, 0x65), { tunnel: 'always' });
    expect([v6.field, v6.describe()]).toEqual(['tunnel.inner.ipv4.version', 'byte 54: IPv4 version 6, expected 4']);
    const long = decodeError(patch16(frame, 56, 23), { tunnel: 'always' });
    expect(long.describe()).toBe('byte 56: IPv4 totalLength 23 exceeds the 22 bytes left');
  });

  it('a bad TCP data offset points at byte 46', () => {
    const p = finalizePacket({
      eth: ETH,
      ipv4: ipv4Header({ src: '10.0.0.1', dst: '10.0.0.2', protocol: IP_PROTO_TCP }),
      tcp: tcpHeader({ srcPort: 1, dstPort: 2 }),
      payload: new Uint8Array(0),
    });
    const e = decodeError(patch(encodePacket(p), 46, 0x30));
    expect(e.describe()).toBe('byte 46: TCP dataOffset 3, must be at least 5');
  });

  it('checksums are checked only when asked, at the checksum field', () => {
    const bad = patch16(good, 24, 0x1234);
    expect(() => decodePacket(bad)).not.toThrow();
    const e = decodeError(bad, { verifyChecksums: true });
    expect(e.field).toBe('ipv4.checksum');
    expect(e.describe()).toMatch(/^byte 24: IPv4 checksum 0x1234, expected 0x[0-9a-f]{4}$/);
  });
});

describe('fuzz: decoding throws nothing but PacketError', () => {
  const check = (bytes: Uint8Array, opts: DecodeOptions) => {
    try {
      decodePacket(bytes, opts);
    } catch (e) {
      if (!(e instanceof PacketError)) throw e;
      expect(e.offset).toBeGreaterThanOrEqual(0);
      expect(e.offset).toBeLessThanOrEqual(bytes.length);
    }
  };
  const arbOpts = fc.record({ tunnel: fc.constantFrom('never' as const, 'always' as const), verifyChecksums: fc.boolean() });

  it('on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 160 }), arbOpts, (b, o) => check(b, o)), { numRuns: 1000 });
  });

  it('on mutated and truncated valid packets', () => {
    const arbMutated = arbPacket.chain(({ packet }) => {
      const bytes = encodePacket(packet, { fixLengths: true, fixChecksums: true });
      return fc
        .record({
          flips: fc.array(fc.record({ at: fc.nat(bytes.length - 1), value: fc.integer({ min: 0, max: 255 }) }), {
            maxLength: 4,
          }),
          cut: fc.nat(bytes.length),
        })
        .map(({ flips, cut }) => {
          const m = bytes.slice();
          for (const f of flips) m[f.at] = f.value;
          return m.slice(0, cut);
        });
    });
    fc.assert(fc.property(arbMutated, arbOpts, (b, o) => check(b, o)), { numRuns: 1000 });
  });
});

function patch(b: Uint8Array, at: number, value: number): Uint8Array {
  const out = b.slice();
  out[at] = value;
  return out;
}

function patch16(b: Uint8Array, at: number, value: number): Uint8Array {
  const out = b.slice();
  writeU16(out, at, value);
  return out;
}
