import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hex } from './bytes.ts';
import { IP_PROTO_TCP, IP_PROTO_UDP, ipv4Header } from './ipv4.ts';
import { natReverse, natRewrite, rewriteAddresses } from './nat.ts';
import { type Packet, decodePacket, encodePacket, finalizePacket } from './packet.ts';
import { TCP_FLAGS, tcpHeader } from './tcp.ts';
import { arbInnerPacket, arbIpv4Address, arbMac, arbPort } from './test-arbitraries.ts';

const ETH = { dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01', etherType: 0x0800 };

function syn(): Packet {
  return {
    eth: ETH,
    ipv4: ipv4Header({ src: '198.51.100.7', dst: '203.0.113.10', protocol: IP_PROTO_TCP }),
    tcp: tcpHeader({ srcPort: 40000, dstPort: 80, seq: 1000, flags: TCP_FLAGS.SYN }),
    payload: new Uint8Array(0),
  };
}

/** What the rewrite must equal: the same edit on the model, every checksum recomputed. */
function recomputed(bytes: Uint8Array, edit: (p: Packet) => Packet): string {
  const p = edit(decodePacket(bytes));
  return hex(encodePacket(p, { fixChecksums: true }));
}

describe('natRewrite', () => {
  it('rewrites VIP → backend on a TCP SYN with correct checksums', () => {
    const before = encodePacket(syn(), { fixLengths: true, fixChecksums: true });
    const after = natRewrite(before, { ip: '10.0.1.1', port: 8080 });
    const p = decodePacket(after, { verifyChecksums: true });
    expect(p.ipv4?.dst).toBe('10.0.1.1');
    expect(p.tcp?.dstPort).toBe(8080);
    expect(p.ipv4?.src).toBe('198.51.100.7');
    expect(hex(after)).toBe(
      recomputed(before, (q) => ({ ...q, ipv4: { ...q.ipv4!, dst: '10.0.1.1' }, tcp: { ...q.tcp!, dstPort: 8080 } })),
    );
    // The input is not modified.
    expect(decodePacket(before).ipv4?.dst).toBe('203.0.113.10');
  });

  it('natReverse turns a backend reply back into one from the VIP', () => {
    const reply = finalizePacket({
      eth: ETH,
      ipv4: ipv4Header({ src: '10.0.1.1', dst: '198.51.100.7', protocol: IP_PROTO_TCP }),
      tcp: tcpHeader({ srcPort: 8080, dstPort: 40000, flags: TCP_FLAGS.SYN | TCP_FLAGS.ACK }),
      payload: new Uint8Array(0),
    });
    const out = decodePacket(natReverse(encodePacket(reply), { ip: '203.0.113.10', port: 80 }), {
      verifyChecksums: true,
    });
    expect(out.ipv4?.src).toBe('203.0.113.10');
    expect(out.tcp?.srcPort).toBe(80);
  });

  it('keeps a UDP checksum of 0 ("none") at 0', () => {
    const p = finalizePacket({
      eth: ETH,
      ipv4: ipv4Header({ src: '198.51.100.7', dst: '203.0.113.10', protocol: IP_PROTO_UDP }),
      udp: { srcPort: 5353, dstPort: 53, length: 0, checksum: 0 },
      payload: new Uint8Array([1, 2, 3]),
    });
    const out = decodePacket(natRewrite(encodePacket(p), { ip: '10.0.1.1', port: 5300 }), { verifyChecksums: true });
    expect(out.udp?.checksum).toBe(0);
    expect(out.udp?.dstPort).toBe(5300);
  });

  it('refuses a port beyond 16 bits', () => {
    const bytes = encodePacket(syn(), { fixLengths: true, fixChecksums: true });
    expect(() => natRewrite(bytes, { ip: '10.0.1.1', port: 65536 })).toThrow(/dstPort = 65536/);
  });
});

describe('rewriteAddresses (RFC 1624) equals full recomputation', () => {
  const arbRewrite = fc.record(
    { srcIp: arbIpv4Address, srcPort: arbPort, dstIp: arbIpv4Address, dstPort: arbPort, ethDst: arbMac },
    { requiredKeys: [] },
  );

  it('for TCP, UDP, other protocols and fragments', () => {
    fc.assert(
      fc.property(arbInnerPacket, arbRewrite, fc.boolean(), (inner, rw, udpNone) => {
        let p: Packet = { eth: ETH, ...inner };
        if (udpNone && p.udp) p = { ...p, udp: { ...p.udp, checksum: 0 } };
        const bytes = encodePacket(p, { fixLengths: true, fixChecksums: true, udpZeroChecksum: 'keep' });
        const expected = recomputed(bytes, (q) => ({
          ...q,
          eth: { ...q.eth, dst: rw.ethDst ?? q.eth.dst },
          ipv4: { ...q.ipv4!, src: rw.srcIp ?? q.ipv4!.src, dst: rw.dstIp ?? q.ipv4!.dst },
          ...(q.tcp && { tcp: { ...q.tcp, srcPort: rw.srcPort ?? q.tcp.srcPort, dstPort: rw.dstPort ?? q.tcp.dstPort } }),
          ...(q.udp && { udp: { ...q.udp, srcPort: rw.srcPort ?? q.udp.srcPort, dstPort: rw.dstPort ?? q.udp.dstPort } }),
        }));
        expect(hex(rewriteAddresses(bytes, rw))).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});
