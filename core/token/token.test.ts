import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hex } from '../packet/bytes.ts';
import { fieldsByteLength } from '../packet/fields.ts';
import {
  TOKEN_MAC_INPUT_BYTES,
  TOKEN_MAC_INPUT_FIELDS,
  type TokenFields,
  computeToken,
  encodeTokenInput,
  generateKey,
  verifyToken,
} from './token.ts';

/*
 * Known answers produced independently of this code with the openssl command line, e.g. vector 1:
 *   printf 0a00000119eb0a0001011b5900000000cb00710a6955b900 | xxd -r -p |
 *     openssl dgst -sha256 -mac HMAC -macopt hexkey:000102…1e1f
 *   → e61c65e47b072cd75f752f77f1bd7fac0e2fe7527dd2cbbeabf3b93244153c34
 * The token is the first 8 bytes of that digest.
 */
const VECTORS: ReadonlyArray<{ name: string; key: string; fields: TokenFields; input: string; token: bigint }> = [
  {
    name: 'gateway 10.0.0.1:6635 → host 10.0.1.1:7001 for Internet clients (inner src 0)',
    key: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
    fields: {
      senderIp: '10.0.0.1',
      senderPort: 6635,
      receiverIp: '10.0.1.1',
      receiverPort: 7001,
      innerSrcIp: 0,
      innerDstIp: '203.0.113.10',
      expiry: 1767225600, // 2026-01-01T00:00:00Z
    },
    input: '0a00000119eb0a0001011b5900000000cb00710a6955b900',
    token: 0xe61c65e47b072cd7n,
  },
  {
    name: 'host → gateway reply, maximal expiry',
    key: 'aa'.repeat(32),
    fields: {
      senderIp: '10.0.1.1',
      senderPort: 7001,
      receiverIp: '10.0.0.1',
      receiverPort: 6635,
      innerSrcIp: '192.168.10.5',
      innerDstIp: '198.51.100.7',
      expiry: 0xffffffff,
    },
    input: '0a0001011b590a00000119ebc0a80a05c6336407ffffffff',
    token: 0x45fc79ad5b7250d1n,
  },
  {
    name: 'all-zero fields',
    key: '4a6f7365706820466f7572696572206b657920666f722070346c6220746f6b3a',
    fields: { senderIp: 0, senderPort: 0, receiverIp: 0, receiverPort: 0, innerSrcIp: 0, innerDstIp: 0, expiry: 0 },
    input: '00'.repeat(24),
    token: 0xb0f0da713f8f167bn,
  },
];

const keyOf = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

describe('token MAC input', () => {
  it('lists 24 bytes of fields in order', () => {
    expect(fieldsByteLength(TOKEN_MAC_INPUT_FIELDS)).toBe(TOKEN_MAC_INPUT_BYTES);
    expect(TOKEN_MAC_INPUT_FIELDS.map((f) => f.name)).toEqual([
      'senderIp',
      'senderPort',
      'receiverIp',
      'receiverPort',
      'innerSrcIp',
      'innerDstIp',
      'expiry',
    ]);
  });

  for (const v of VECTORS) {
    it(`encodes big-endian: ${v.name}`, () => {
      expect(hex(encodeTokenInput(v.fields))).toBe(v.input);
    });
  }

  it('rejects a port that does not fit 16 bits, naming it', () => {
    const f = { ...VECTORS[0]!.fields, senderPort: 70000 };
    expect(() => encodeTokenInput(f)).toThrow(/senderPort = 70000 does not fit 16 bits/);
  });
});

describe('computeToken', () => {
  for (const v of VECTORS) {
    it(`matches openssl: ${v.name}`, () => {
      expect(computeToken(keyOf(v.key), v.fields)).toBe(v.token);
    });
  }

  it('accepts addresses as numbers or text alike', () => {
    const v = VECTORS[0]!;
    const numeric = { ...v.fields, senderIp: 0x0a000001, receiverIp: 0x0a000101, innerDstIp: 0xcb00710a };
    expect(computeToken(keyOf(v.key), numeric)).toBe(v.token);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => computeToken(new Uint8Array(16), VECTORS[0]!.fields)).toThrow(/16 bytes, expected 32/);
  });
});

describe('verifyToken', () => {
  const v = VECTORS[0]!;
  const key = keyOf(v.key);
  const expiry = v.fields.expiry;

  it('accepts the right token before expiry and within the skew after it', () => {
    expect(verifyToken(key, v.fields, v.token, expiry - 100, 5)).toEqual({ ok: true });
    expect(verifyToken(key, v.fields, v.token, expiry + 5, 5)).toEqual({ ok: true });
  });

  it('calls it expired once now > expiry + skew', () => {
    expect(verifyToken(key, v.fields, v.token, expiry + 6, 5)).toEqual({ ok: false, reason: 'expired' });
  });

  it('reports a bad MAC before looking at the time', () => {
    expect(verifyToken(key, v.fields, v.token ^ 1n, expiry + 1000, 0)).toEqual({ ok: false, reason: 'mac' });
    expect(verifyToken(key, v.fields, -1n, expiry, 0)).toEqual({ ok: false, reason: 'mac' });
    expect(verifyToken(key, v.fields, v.token + (1n << 64n), expiry, 0)).toEqual({ ok: false, reason: 'mac' });
  });

  it('reports not-yet-valid for an expiry beyond the allowed lifetime', () => {
    const now = expiry - 3600;
    expect(verifyToken(key, v.fields, v.token, now, 5, { maxLifetimeSeconds: 600 })).toEqual({
      ok: false,
      reason: 'not-yet-valid',
    });
    expect(verifyToken(key, v.fields, v.token, now, 5, { maxLifetimeSeconds: 3600 })).toEqual({ ok: true });
  });

  it('binds every field: changing any one of them breaks the MAC', () => {
    const arbField = fc.constantFrom(...TOKEN_MAC_INPUT_FIELDS.map((f) => f.name as keyof TokenFields));
    fc.assert(
      fc.property(arbField, fc.integer({ min: 1, max: 0xffff }), (name, delta) => {
        const bits = TOKEN_MAC_INPUT_FIELDS.find((f) => f.name === name)!.bits;
        const changed = { ...v.fields, [name]: (fieldValue(v.fields, name) + delta) % 2 ** bits };
        const r = verifyToken(key, changed, v.token, expiry, 0);
        return !r.ok && r.reason === 'mac';
      }),
      { numRuns: 50 },
    );
  });
});

/** A field's value as a number (addresses given as text are converted through the encoding). */
function fieldValue(f: TokenFields, name: keyof TokenFields): number {
  let at = 0;
  const bytes = encodeTokenInput(f);
  for (const spec of TOKEN_MAC_INPUT_FIELDS) {
    const n = spec.bits / 8;
    if (spec.name === name) return bytes.subarray(at, at + n).reduce((acc, x) => acc * 256 + x, 0);
    at += n;
  }
  throw new Error(`no field ${name}`);
}

describe('generateKey', () => {
  it('gives 32 bytes that differ between calls', () => {
    const a = generateKey();
    const b = generateKey();
    expect(a.length).toBe(32);
    expect(hex(a)).not.toBe(hex(b));
  });
});
