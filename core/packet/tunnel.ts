/**
 * The p4lb tunnel header, carried right after the outer UDP header:
 *   token (64 bits, the MAC of core/token) | expiry (32 bits, seconds since the Unix epoch)
 * followed by the inner IPv4 packet, then options up to the end of the UDP datagram.
 */
import { readU32, readU64, writeU32, writeU64 } from './bytes.ts';
import { PacketEncodeError } from './errors.ts';
import type { FieldSpec } from './fields.ts';
import { requireBytes } from './reader.ts';
import { UDP_HEADER_BYTES } from './udp.ts';

export const TUNNEL_HEADER_FIELDS: readonly FieldSpec[] = [
  { name: 'token', bits: 64 },
  { name: 'expiry', bits: 32 },
];

/** Sum of TUNNEL_HEADER_FIELDS in bytes (a test checks they agree). */
export const TUNNEL_HEADER_BYTES = 12;
export const TUNNEL_OFFSET = { token: 0, expiry: 8 } as const;

export interface TunnelHeader {
  /** 64-bit token; see core/token. */
  readonly token: bigint;
  /** Seconds since the Unix epoch, unsigned 32-bit. */
  readonly expiry: number;
}

export function encodeTunnelHeader(h: TunnelHeader): Uint8Array {
  if (h.token < 0n || h.token > 0xffffffffffffffffn) {
    throw new PacketEncodeError('tunnel.token', `token ${h.token} does not fit 64 bits`);
  }
  if (!Number.isInteger(h.expiry) || h.expiry < 0 || h.expiry > 0xffffffff) {
    throw new PacketEncodeError('tunnel.expiry', `expiry ${h.expiry} does not fit 32 bits`);
  }
  const out = new Uint8Array(TUNNEL_HEADER_BYTES);
  writeU64(out, TUNNEL_OFFSET.token, h.token);
  writeU32(out, TUNNEL_OFFSET.expiry, h.expiry);
  return out;
}

export function decodeTunnelHeader(b: Uint8Array, at = 0, end = b.length): TunnelHeader {
  requireBytes(b, at, end, TUNNEL_HEADER_BYTES, 'tunnel', 'tunnel header');
  return { token: readU64(b, at + TUNNEL_OFFSET.token), expiry: readU32(b, at + TUNNEL_OFFSET.expiry) };
}

/** Bytes of options after the inner packet: UDP length − 8 − 12 − inner total length. */
export function tunnelOptionsLength(udpLength: number, innerTotalLength: number): number {
  return udpLength - UDP_HEADER_BYTES - TUNNEL_HEADER_BYTES - innerTotalLength;
}
