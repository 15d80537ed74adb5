/** IPv4 header (RFC 791), options included (IHL > 5), with the DS field split per RFC 2474/3168. */
import { readIpv4, readU16, readU8, writeIpv4, writeU16, writeU8 } from './bytes.ts';
import { ipv4HeaderChecksum } from './checksum.ts';
import { PacketEncodeError, PacketError } from './errors.ts';
import type { FieldSpec } from './fields.ts';
import { checkField, requireBytes } from './reader.ts';

/** Header without options (IHL = 5). */
export const IPV4_MIN_HEADER_BYTES = 20;
/** IHL is 4 bits of 32-bit words: 15 × 4. */
export const IPV4_MAX_HEADER_BYTES = 60;

export const IPV4_FIELDS: readonly FieldSpec[] = [
  { name: 'version', bits: 4 },
  { name: 'ihl', bits: 4 },
  { name: 'dscp', bits: 6 },
  { name: 'ecn', bits: 2 },
  { name: 'totalLength', bits: 16 },
  { name: 'identification', bits: 16 },
  { name: 'flags', bits: 3 },
  { name: 'fragmentOffset', bits: 13 },
  { name: 'ttl', bits: 8 },
  { name: 'protocol', bits: 8 },
  { name: 'checksum', bits: 16 },
  { name: 'src', bits: 32 },
  { name: 'dst', bits: 32 },
];

/** Byte offsets inside the header, for code that patches bytes in place. */
export const IPV4_OFFSET = {
  totalLength: 2,
  ttl: 8,
  protocol: 9,
  checksum: 10,
  src: 12,
  dst: 16,
} as const;

export const IP_PROTO_ICMP = 1;
export const IP_PROTO_TCP = 6;
export const IP_PROTO_UDP = 17;

/** `flags` bits (3-bit field: reserved, DF, MF). */
export const IPV4_FLAG_DF = 0b010;
export const IPV4_FLAG_MF = 0b001;

export interface Ipv4Header {
  readonly version: number;
  /** Header length in 32-bit words. */
  readonly ihl: number;
  readonly dscp: number;
  readonly ecn: number;
  /** Header + data, in bytes. */
  readonly totalLength: number;
  readonly identification: number;
  readonly flags: number;
  /** In 8-byte units. */
  readonly fragmentOffset: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly checksum: number;
  /** "10.0.0.1" */
  readonly src: string;
  readonly dst: string;
  /** (ihl - 5) × 4 bytes. */
  readonly options: Uint8Array;
}

/** A header with sensible defaults (IHL 5, TTL 64, DF) for builders; lengths/checksum left 0. */
export function ipv4Header(h: Partial<Ipv4Header> & Pick<Ipv4Header, 'src' | 'dst' | 'protocol'>): Ipv4Header {
  const options = h.options ?? new Uint8Array(0);
  return {
    version: 4,
    ihl: 5 + Math.ceil(options.length / 4),
    dscp: 0,
    ecn: 0,
    totalLength: 0,
    identification: 0,
    flags: IPV4_FLAG_DF,
    fragmentOffset: 0,
    ttl: 64,
    checksum: 0,
    ...h,
    options,
  };
}

/** Whether the header carries the start of the L4 segment (not a later fragment). */
export function isFirstFragment(h: Ipv4Header): boolean {
  return h.fragmentOffset === 0;
}

/** Encodes the header exactly as given: lengths and checksum are not recomputed here. */
export function encodeIpv4(h: Ipv4Header): Uint8Array {
  for (const f of IPV4_FIELDS) {
    if (f.name === 'src' || f.name === 'dst') continue;
    checkField(h[f.name as keyof Ipv4Header] as number, f.bits, `ipv4.${f.name}`);
  }
  if (h.options.length !== (h.ihl - 5) * 4) {
    throw new PacketEncodeError(
      'ipv4.options',
      `IPv4 options are ${h.options.length} bytes but ihl ${h.ihl} implies ${Math.max(0, (h.ihl - 5) * 4)}`,
    );
  }
  const out = new Uint8Array(h.ihl * 4);
  writeU8(out, 0, (h.version << 4) | h.ihl);
  writeU8(out, 1, (h.dscp << 2) | h.ecn);
  writeU16(out, 2, h.totalLength);
  writeU16(out, 4, h.identification);
  writeU16(out, 6, (h.flags << 13) | h.fragmentOffset);
  writeU8(out, 8, h.ttl);
  writeU8(out, 9, h.protocol);
  writeU16(out, 10, h.checksum);
  writeIpv4(out, 12, h.src);
  writeIpv4(out, 16, h.dst);
  out.set(h.options, IPV4_MIN_HEADER_BYTES);
  return out;
}

/**
 * Decodes the header at `at`; checks version, IHL and that totalLength fits before `end`.
 * `prefix` names the layer in errors (`ipv4` or `tunnel.inner.ipv4`).
 */
export function decodeIpv4(b: Uint8Array, at = 0, end = b.length, prefix = 'ipv4'): Ipv4Header {
  requireBytes(b, at, end, IPV4_MIN_HEADER_BYTES, prefix, 'IPv4 header');
  const v = readU8(b, at);
  const version = v >>> 4;
  const ihl = v & 0x0f;
  if (version !== 4) throw new PacketError(at, `${prefix}.version`, `IPv4 version ${version}, expected 4`);
  if (ihl < 5) throw new PacketError(at, `${prefix}.ihl`, `IPv4 ihl ${ihl}, must be at least 5`);
  requireBytes(b, at, end, ihl * 4, `${prefix}.options`, `IPv4 header with ihl ${ihl}`);
  const totalLength = readU16(b, at + 2);
  if (totalLength < ihl * 4) {
    throw new PacketError(at + 2, `${prefix}.totalLength`, `IPv4 totalLength ${totalLength} < header length ${ihl * 4}`);
  }
  const left = Math.min(end, b.length) - at;
  if (totalLength > left) {
    throw new PacketError(
      at + 2,
      `${prefix}.totalLength`,
      `IPv4 totalLength ${totalLength} exceeds the ${left} bytes left`,
    );
  }
  const ff = readU16(b, at + 6);
  const tos = readU8(b, at + 1);
  return {
    version,
    ihl,
    dscp: tos >>> 2,
    ecn: tos & 0b11,
    totalLength,
    identification: readU16(b, at + 4),
    flags: ff >>> 13,
    fragmentOffset: ff & 0x1fff,
    ttl: readU8(b, at + 8),
    protocol: readU8(b, at + 9),
    checksum: readU16(b, at + 10),
    src: readIpv4(b, at + 12),
    dst: readIpv4(b, at + 16),
    options: b.slice(at + IPV4_MIN_HEADER_BYTES, at + ihl * 4),
  };
}

/** The header's correct checksum (the field's current value is ignored). */
export function computeIpv4Checksum(h: Ipv4Header): number {
  const bytes = encodeIpv4({ ...h, checksum: 0 });
  return ipv4HeaderChecksum(bytes, 0, bytes.length);
}
