import { describe, expect, it } from 'vitest';
import { encodePacket } from '../../core/packet/packet.ts';
import { explainMismatch, firstDifference, hexPattern, matches, pattern } from './packet-diff.ts';
import { frame, innerPacket } from './scenario.ts';

const syn = (ttl: number): Uint8Array => {
  const inner = innerPacket({ src: '198.51.100.7', srcPort: 40000, dst: '203.0.113.10', dstPort: 80 });
  return frame('02:00:00:00:00:01', '02:00:00:00:00:fe', { ...inner, ipv4: { ...inner.ipv4, ttl } });
};

describe('packet patterns', () => {
  it('finds the first differing byte, and a length difference where the shorter ends', () => {
    expect(firstDifference(pattern(Uint8Array.of(1, 2, 3)), Uint8Array.of(1, 9, 3))).toBe(1);
    expect(firstDifference(pattern(Uint8Array.of(1, 2, 3)), Uint8Array.of(1, 2))).toBe(2);
    expect(firstDifference(pattern(Uint8Array.of(1, 2)), Uint8Array.of(1, 2))).toBeUndefined();
  });

  it('skips don\'t-care bytes, from ranges or from ** in hex', () => {
    expect(matches(pattern(Uint8Array.of(1, 2, 3), { offset: 1, length: 1 }), Uint8Array.of(1, 7, 3))).toBe(true);
    expect(matches(hexPattern('01 ** 03'), Uint8Array.of(1, 0xee, 3))).toBe(true);
    expect(matches(hexPattern('01 ** 03'), Uint8Array.of(2, 0xee, 3))).toBe(false);
    expect(() => hexPattern('01 zz')).toThrow(/neither hex nor/);
  });

  it('explains a mismatch by offset, by decoded field, and with both packets decoded', () => {
    const text = explainMismatch(pattern(syn(64)), syn(63));
    expect(text).toContain('first difference at byte 22 (0x16): expected 40, received 3f');
    expect(text).toContain('ipv4.ttl: expected 64, received 63');
    expect(text).toMatch(/expected:\neth 02:00:00:00:00:fe > 02:00:00:00:00:01 type 0x0800\n {2}ipv4 198\.51\.100\.7 > 203\.0\.113\.10 proto 6 ttl 64/);
    expect(text).toMatch(/received:\neth .*\n {2}ipv4 .* ttl 63/);
  });

  it('still shows undecodable packets', () => {
    const text = explainMismatch(pattern(syn(64)), encodePacket({ eth: { dst: '02:00:00:00:00:01', src: '02:00:00:00:00:fe', etherType: 0x0800 }, payload: Uint8Array.of(0x65) }));
    expect(text).toContain('first difference at byte 14 (0xe): expected 45, received 65');
    expect(text).toContain('(undecodable: ');
  });
});
