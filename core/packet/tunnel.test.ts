import { describe, expect, it } from 'vitest';
import { fromHex, hex } from './bytes.ts';
import { PacketEncodeError } from './errors.ts';
import { fieldByteOffsets, fieldsByteLength } from './fields.ts';
import { IP_PROTO_TCP, ipv4Header } from './ipv4.ts';
import { decodePacket, encodeInnerPacket, encodePacket } from './packet.ts';
import { tcpHeader } from './tcp.ts';
import { tunnelPacket } from './tunnel-packet.ts';
import {
  TUNNEL_HEADER_BYTES,
  TUNNEL_HEADER_FIELDS,
  TUNNEL_OFFSET,
  decodeTunnelHeader,
  encodeTunnelHeader,
  tunnelOptionsLength,
} from './tunnel.ts';

describe('tunnel header', () => {
  it('is defined once: the field list, the byte count and the offsets agree', () => {
    expect(TUNNEL_HEADER_FIELDS).toEqual([
      { name: 'token', bits: 64 },
      { name: 'expiry', bits: 32 },
    ]);
    expect(fieldsByteLength(TUNNEL_HEADER_FIELDS)).toBe(TUNNEL_HEADER_BYTES);
    expect(fieldByteOffsets(TUNNEL_HEADER_FIELDS)).toEqual(TUNNEL_OFFSET);
  });

  it('encodes token then expiry, big-endian', () => {
    const b = encodeTunnelHeader({ token: 0x0102030405060708n, expiry: 0x6955b900 });
    expect(hex(b)).toBe('0102030405060708' + '6955b900');
    expect(decodeTunnelHeader(b)).toEqual({ token: 0x0102030405060708n, expiry: 0x6955b900 });
  });

  it('refuses values that do not fit', () => {
    expect(() => encodeTunnelHeader({ token: 1n << 64n, expiry: 0 })).toThrow(PacketEncodeError);
    expect(() => encodeTunnelHeader({ token: 0n, expiry: 2 ** 32 })).toThrow(/expiry 4294967296/);
  });

  it('options length = UDP length − 8 − 12 − inner total length', () => {
    expect(tunnelOptionsLength(64, 44)).toBe(0);
    expect(tunnelOptionsLength(72, 44)).toBe(8);
  });
});

describe('tunnelPacket', () => {
  const inner = {
    ipv4: ipv4Header({ src: '198.51.100.7', dst: '203.0.113.10', protocol: IP_PROTO_TCP }),
    tcp: tcpHeader({ srcPort: 40000, dstPort: 80 }),
    payload: fromHex('68656c6c6f'),
  };
  const spec = {
    eth: { dst: '02:00:00:00:01:01', src: '02:00:00:00:00:01' },
    sender: { ip: '10.0.0.1', port: 6635 },
    receiver: { ip: '10.0.1.1', port: 7001 },
    header: { token: 0xfeedfacecafebeefn, expiry: 1767225600 },
    inner,
    options: fromHex('0a0b0c0d'),
  };

  it('fills outer lengths (UDP = 8 + 12 + inner + options) and checksums', () => {
    const p = tunnelPacket(spec);
    expect(p.udp).toEqual({ srcPort: 6635, dstPort: 7001, length: 8 + 12 + 45 + 4, checksum: 0 });
    expect(p.ipv4).toMatchObject({ src: '10.0.0.1', dst: '10.0.1.1', protocol: 17, totalLength: 20 + 69 });
    expect(hex(p.tunnel!.options)).toBe('0a0b0c0d');
    const bytes = encodePacket(p);
    expect(tunnelOptionsLength(p.udp!.length, p.tunnel!.inner.ipv4.totalLength)).toBe(4);
    // The inner packet sits right after the 12-byte tunnel header at 14 + 20 + 8.
    expect(hex(bytes.subarray(42, 54))).toBe('feedfacecafebeef6955b900');
    expect(hex(bytes.subarray(54, 54 + 45))).toBe(hex(encodeInnerPacket(p.tunnel!.inner)));
    decodePacket(bytes, { tunnel: 'always', verifyChecksums: true });
  });

  it('computes the outer UDP checksum when asked', () => {
    const p = tunnelPacket({ ...spec, udpChecksum: 'compute' });
    expect(p.udp!.checksum).not.toBe(0);
    decodePacket(encodePacket(p), { tunnel: 'always', verifyChecksums: true });
  });

  it('with fixInner: false carries the inner packet byte for byte', () => {
    const raw = { ...inner, ipv4: { ...inner.ipv4, totalLength: 45, checksum: 0xdead }, tcp: { ...inner.tcp, checksum: 0xbeef } };
    const p = tunnelPacket({ ...spec, inner: raw, fixInner: false });
    expect(p.tunnel!.inner.ipv4.checksum).toBe(0xdead);
    expect(p.tunnel!.inner.tcp!.checksum).toBe(0xbeef);
  });
});
