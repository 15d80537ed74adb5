import { describe, expect, it } from 'vitest';
import { comparePortOutputs, describeMismatch, matchExpected } from './expect.ts';
import type { ExpectedPacket } from './model.ts';

const exp = (nibbles: string, exactLength = false): ExpectedPacket => ({ nibbles, exactLength });
const bytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));

describe('matchExpected', () => {
  it('accepts an equal packet, with or without $', () => {
    expect(matchExpected(exp('0A0B0C', true), bytes('0a0b0c'))).toEqual({ ok: true });
    expect(matchExpected(exp('0A0B0C'), bytes('0a0b0c'))).toEqual({ ok: true });
  });

  it('lets * match any nibble', () => {
    expect(matchExpected(exp('0*0B**', true), bytes('0f0bff'))).toEqual({ ok: true });
  });

  it('accepts a longer packet unless the expectation ends in $', () => {
    expect(matchExpected(exp('0A0B'), bytes('0a0b0c'))).toEqual({ ok: true });
    expect(matchExpected(exp('0A0B', true), bytes('0a0b0c'))).toEqual({
      ok: false,
      reason: 'too-long',
      firstDifference: 4,
      byteOffset: 2,
      expectedHex: '0A0B$',
      receivedHex: '0A0B0C',
      message: 'is too long: received 3 bytes, expected exactly 2 bytes',
    });
  });

  it('rejects a shorter packet', () => {
    expect(matchExpected(exp('0A0B0C'), bytes('0a0b'))).toEqual({
      ok: false,
      reason: 'too-short',
      firstDifference: 4,
      byteOffset: 2,
      expectedHex: '0A0B0C',
      receivedHex: '0A0B',
      message: 'is too short: received 2 bytes, expected at least 3 bytes',
    });
    // Even when the missing digits are wildcards: p4c compares lengths first.
    expect(matchExpected(exp('0A0B**'), bytes('0a0b'))).toMatchObject({ ok: false, reason: 'too-short' });
  });

  it('names the first differing nibble, even in a packet that is also too short', () => {
    expect(matchExpected(exp('0A0B0C0D', true), bytes('0a0c0c'))).toEqual({
      ok: false,
      reason: 'content',
      firstDifference: 3,
      byteOffset: 1,
      expectedHex: '0A0B0C0D$',
      receivedHex: '0A0C0C',
      message: 'differs at byte 1 (hex digit 3): expected B, received C',
    });
  });

  it('checks an odd number of expected nibbles to the half byte', () => {
    expect(matchExpected(exp('0A0', true), bytes('0a0f'))).toMatchObject({ ok: false, reason: 'too-long', firstDifference: 3 });
    expect(matchExpected(exp('0A0'), bytes('0a0f'))).toEqual({ ok: true });
    expect(matchExpected(exp('0A0B0'), bytes('0a0b'))).toMatchObject({
      ok: false,
      message: 'is too short: received 2 bytes, expected at least 5 hex digits',
    });
  });

  it('matches an empty expectation', () => {
    expect(matchExpected(exp('', true), new Uint8Array())).toEqual({ ok: true });
    expect(matchExpected(exp(''), bytes('ff'))).toEqual({ ok: true });
  });
});

describe('describeMismatch', () => {
  it('shows expected and received with a caret under the first difference', () => {
    expect(describeMismatch({ port: 2, packetIndex: 0, expected: exp('0000080045', true), received: bytes('0000860045') })).toBe(
      [
        'port 2, packet 0: received packet differs at byte 2 (hex digit 4): expected 0, received 8',
        '  expected  0000080045$',
        '  received  0000860045',
        '                ^',
      ].join('\n'),
    );
  });

  it('cuts long packets to a window around the difference', () => {
    const head = '00'.repeat(40);
    const tail = 'EE'.repeat(40);
    const text = describeMismatch({ port: 7, expected: exp(`${head}AB${tail}`), received: bytes(`${head}AC${tail}`) });
    const lines = text.split('\n');
    expect(lines[0]).toBe('port 7: received packet differs at byte 40 (hex digit 81): expected B, received C');
    // Window starts 16 digits before the difference (digit 64), shows 64 digits.
    expect(lines[1]).toBe(`  expected  ...${'0'.repeat(16)}AB${'E'.repeat(46)}...`);
    expect(lines[2]).toBe(`  received  ...${'0'.repeat(16)}AC${'E'.repeat(46)}...`);
    expect(lines[3]!.indexOf('^')).toBe(lines[1]!.indexOf('AB') + 1);
  });

  it('puts the caret where the shorter packet ends', () => {
    expect(describeMismatch({ port: 1, expected: exp('AABB', true), received: bytes('aabbcc') })).toBe(
      [
        'port 1: received packet is too long: received 3 bytes, expected exactly 2 bytes',
        '  expected  AABB$',
        '  received  AABBCC',
        '                ^',
      ].join('\n'),
    );
  });

  it('says when no packet came', () => {
    expect(describeMismatch({ port: 3, expected: exp('AA*', false), received: undefined })).toBe(
      ['port 3: no packet received', '  expected  AA*'].join('\n'),
    );
  });
});

describe('comparePortOutputs', () => {
  const want: ExpectedPacket[] = [{ nibbles: 'AA', exactLength: false }, { nibbles: 'BB', exactLength: false }];
  const bytes = (...b: number[]): Uint8Array[] => b.map((x) => new Uint8Array([x]));

  it('by content: matches a port\'s outputs whatever their order, and names what is left', () => {
    expect(comparePortOutputs(1, want, bytes(0xbb, 0xaa), 'by-content')).toEqual([]);
    expect(comparePortOutputs(1, want, bytes(0xbb, 0xaa, 0xcc), 'by-content')).toEqual(['port 1: 1 unexpected packet(s), first: CC']);
    const failures = comparePortOutputs(1, want, bytes(0xbb), 'by-content');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^port 1, packet 0: no packet received/);
  });

  it('in order: the n-th packet answers the n-th expectation, as p4c\'s runner', () => {
    expect(comparePortOutputs(1, want, bytes(0xaa, 0xbb), 'in-order')).toEqual([]);
    const swapped = comparePortOutputs(1, want, bytes(0xbb, 0xaa), 'in-order');
    expect(swapped).toHaveLength(2);
    expect(swapped[0]).toMatch(/^port 1, packet 0:/);
    expect(swapped[1]).toMatch(/^port 1, packet 1:/);
    expect(comparePortOutputs(1, want, bytes(0xaa, 0xbb, 0xcc, 0xdd), 'in-order')).toEqual(['port 1: 2 unexpected packet(s), first: CC']);
    expect(comparePortOutputs(1, want, bytes(0xaa), 'in-order')).toEqual([expect.stringMatching(/^port 1, packet 1: no packet received/)]);
  });
});
