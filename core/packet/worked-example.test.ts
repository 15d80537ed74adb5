import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hex, hexDump } from './bytes.ts';
import { decodePacket } from './packet.ts';
import { exampleNat, exampleSyn, exampleToken, exampleTunnelledFrame } from './worked-example.ts';

const DOC = readFileSync(new URL('../../docs/packet-formats.md', import.meta.url), 'utf8');

describe('docs/packet-formats.md worked example', () => {
  it('token matches the openssl vector quoted in the doc', () => {
    expect(exampleToken()).toBe(0xe61c65e47b072cd7n);
    expect(DOC).toContain('token = **0xe61c65e47b072cd7**');
  });

  it('the tunnelled frame is the one the doc shows', () => {
    const frame = exampleTunnelledFrame();
    expect(hex(frame)).toBe(
      '020000000101020000000001080045000054000040004011' +
        '25980a0000010a00010119eb1b5900400000e61c65e47b07' +
        '2cd76955b9004500002c000040004006d486c6336407cb00' +
        '710a9c40005000000001000000006002faf09a5e00000204' +
        '05b4',
    );
    expect(DOC).toContain(hexDump(frame));
    const p = decodePacket(frame, { tunnel: 'always', verifyChecksums: true });
    expect(p.tunnel?.header).toEqual({ token: 0xe61c65e47b072cd7n, expiry: 1767225600 });
    expect(p.tunnel?.options.length).toBe(0);
    expect(p.tunnel?.inner.tcp?.dstPort).toBe(exampleSyn().tcp?.dstPort);
  });

  it('the NAT before/after dumps and checksums are the ones the doc shows', () => {
    const { before, after } = exampleNat();
    expect(DOC).toContain(hexDump(before));
    expect(DOC).toContain(hexDump(after));
    const b = decodePacket(before, { verifyChecksums: true });
    const a = decodePacket(after, { verifyChecksums: true });
    expect([b.ipv4?.checksum, b.tcp?.checksum]).toEqual([0xd486, 0x9a5e]);
    expect([a.ipv4?.checksum, a.tcp?.checksum]).toEqual([0x45e4, 0xec7b]);
    expect([a.ipv4?.dst, a.tcp?.dstPort]).toEqual(['192.168.10.5', 8080]);
  });
});
