/**
 * Tunnel tokens: the first 64 bits (big-endian) of HMAC-SHA256 keyed with the receiving side's
 * 32-byte secret, over fixed-width big-endian fields (TOKEN_MAC_INPUT_FIELDS, 24 bytes).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { P4lbError } from '../errors.ts';
import { type Ipv4Like, ipv4Number, writeU16, writeU32 } from '../packet/bytes.ts';
import type { FieldSpec } from '../packet/fields.ts';

export const TOKEN_KEY_BYTES = 32;
export const TOKEN_BITS = 64;
export const TOKEN_MAC_INPUT_BYTES = 24;

/** The MAC input, in order. Field names match `TokenFields`. */
export const TOKEN_MAC_INPUT_FIELDS: readonly FieldSpec[] = [
  { name: 'senderIp', bits: 32 },
  { name: 'senderPort', bits: 16 },
  { name: 'receiverIp', bits: 32 },
  { name: 'receiverPort', bits: 16 },
  { name: 'innerSrcIp', bits: 32 },
  { name: 'innerDstIp', bits: 32 },
  { name: 'expiry', bits: 32 },
];

export interface TokenFields {
  /** Underlay address and tunnel UDP port of the side that sends tunnelled packets. */
  readonly senderIp: Ipv4Like;
  readonly senderPort: number;
  /** Underlay address and UDP port of the receiving side (whose key signs the token). */
  readonly receiverIp: Ipv4Like;
  readonly receiverPort: number;
  /** Inner source address; 0 ("0.0.0.0") in the tokens a gateway uses for Internet clients. */
  readonly innerSrcIp: Ipv4Like;
  readonly innerDstIp: Ipv4Like;
  /** Seconds since the Unix epoch. */
  readonly expiry: number;
}

export class TokenError extends P4lbError {
  constructor(field: string, message: string) {
    super('TOKEN_INPUT_INVALID', message, { location: { path: field } });
  }
}

function checkUint(value: number, bits: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    throw new TokenError(field, `${field} = ${value} does not fit ${bits} bits`);
  }
}

/** The 24 bytes the MAC covers. */
export function encodeTokenInput(f: TokenFields): Uint8Array {
  checkUint(f.senderPort, 16, 'senderPort');
  checkUint(f.receiverPort, 16, 'receiverPort');
  checkUint(f.expiry, 32, 'expiry');
  const out = new Uint8Array(TOKEN_MAC_INPUT_BYTES);
  writeU32(out, 0, ipv4Number(f.senderIp));
  writeU16(out, 4, f.senderPort);
  writeU32(out, 6, ipv4Number(f.receiverIp));
  writeU16(out, 10, f.receiverPort);
  writeU32(out, 12, ipv4Number(f.innerSrcIp));
  writeU32(out, 16, ipv4Number(f.innerDstIp));
  writeU32(out, 20, f.expiry);
  return out;
}

function checkKey(key: Uint8Array): void {
  if (key.length !== TOKEN_KEY_BYTES) {
    throw new TokenError('key', `token key is ${key.length} bytes, expected ${TOKEN_KEY_BYTES}`);
  }
}

function macPrefix(key: Uint8Array, f: TokenFields): Buffer {
  checkKey(key);
  return createHmac('sha256', key).update(encodeTokenInput(f)).digest().subarray(0, TOKEN_BITS / 8);
}

/** The token: HMAC-SHA256(key, input) truncated to its first 8 bytes, read big-endian. */
export function computeToken(key: Uint8Array, fields: TokenFields): bigint {
  return macPrefix(key, fields).readBigUInt64BE(0);
}

export type TokenVerdict = { ok: true } | { ok: false; reason: 'mac' | 'expired' | 'not-yet-valid' };

export interface VerifyTokenLimits {
  /**
   * Longest validity a token may claim: an expiry beyond now + maxLifetime + skew is
   * 'not-yet-valid' (minted by a clock running ahead, or forged far into the future). Without it
   * that reason is never given.
   */
  readonly maxLifetimeSeconds?: number;
}

/**
 * Checks a received token: the MAC first (constant-time compare), then the expiry: 'expired' when
 * now > expiry + skew.
 */
export function verifyToken(
  key: Uint8Array,
  fields: TokenFields,
  token: bigint,
  nowSeconds: number,
  skewSeconds: number,
  limits: VerifyTokenLimits = {},
): TokenVerdict {
  const expected = macPrefix(key, fields);
  const inRange = token >= 0n && token <= 0xffffffffffffffffn;
  const got = Buffer.alloc(TOKEN_BITS / 8);
  // An out-of-range token cannot match; compare a masked value anyway so timing does not differ.
  got.writeBigUInt64BE(token & 0xffffffffffffffffn, 0);
  if (!timingSafeEqual(expected, got) || !inRange) return { ok: false, reason: 'mac' };
  if (nowSeconds > fields.expiry + skewSeconds) return { ok: false, reason: 'expired' };
  const max = limits.maxLifetimeSeconds;
  if (max !== undefined && fields.expiry > nowSeconds + max + skewSeconds) {
    return { ok: false, reason: 'not-yet-valid' };
  }
  return { ok: true };
}

/** A fresh 32-byte key from the OS CSPRNG. */
export function generateKey(): Uint8Array {
  return new Uint8Array(randomBytes(TOKEN_KEY_BYTES));
}
