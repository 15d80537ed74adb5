/** UDP header (RFC 768). A checksum of 0 means "none" (allowed over IPv4). */
import { readU16, writeU16 } from './bytes.ts';
import { PacketError } from './errors.ts';
import type { FieldSpec } from './fields.ts';
import { checkField, requireBytes } from './reader.ts';

export const UDP_HEADER_BYTES = 8;

export const UDP_FIELDS: readonly FieldSpec[] = [
  { name: 'srcPort', bits: 16 },
  { name: 'dstPort', bits: 16 },
  { name: 'length', bits: 16 },
  { name: 'checksum', bits: 16 },
];

export const UDP_OFFSET = { srcPort: 0, dstPort: 2, length: 4, checksum: 6 } as const;

export interface UdpHeader {
  readonly srcPort: number;
  readonly dstPort: number;
  /** Header + data, in bytes. */
  readonly length: number;
  readonly checksum: number;
}

export function encodeUdp(h: UdpHeader): Uint8Array {
  for (const f of UDP_FIELDS) checkField(h[f.name as keyof UdpHeader], f.bits, `udp.${f.name}`);
  const out = new Uint8Array(UDP_HEADER_BYTES);
  writeU16(out, 0, h.srcPort);
  writeU16(out, 2, h.dstPort);
  writeU16(out, 4, h.length);
  writeU16(out, 6, h.checksum);
  return out;
}

/** Decodes the header and checks its length field against the bytes before `end`. */
export function decodeUdp(b: Uint8Array, at = 0, end = b.length, prefix = 'udp'): UdpHeader {
  requireBytes(b, at, end, UDP_HEADER_BYTES, prefix, 'UDP header');
  const length = readU16(b, at + 4);
  const left = Math.min(end, b.length) - at;
  if (length < UDP_HEADER_BYTES) {
    throw new PacketError(at + 4, `${prefix}.length`, `UDP length ${length} < header length ${UDP_HEADER_BYTES}`);
  }
  if (length > left) {
    throw new PacketError(at + 4, `${prefix}.length`, `UDP length ${length} exceeds the ${left} bytes left`);
  }
  return { srcPort: readU16(b, at), dstPort: readU16(b, at + 2), length, checksum: readU16(b, at + 6) };
}
