/** TCP header (RFC 793/9293), options included via the data offset. */
import { readU16, readU32, readU8, writeU16, writeU32, writeU8 } from './bytes.ts';
import { PacketEncodeError, PacketError } from './errors.ts';
import type { FieldSpec } from './fields.ts';
import { checkField, requireBytes } from './reader.ts';

export const TCP_MIN_HEADER_BYTES = 20;
export const TCP_MAX_HEADER_BYTES = 60;

export const TCP_FIELDS: readonly FieldSpec[] = [
  { name: 'srcPort', bits: 16 },
  { name: 'dstPort', bits: 16 },
  { name: 'seq', bits: 32 },
  { name: 'ack', bits: 32 },
  { name: 'dataOffset', bits: 4 },
  { name: 'reserved', bits: 4 },
  { name: 'flags', bits: 8 },
  { name: 'window', bits: 16 },
  { name: 'checksum', bits: 16 },
  { name: 'urgentPointer', bits: 16 },
];

export const TCP_OFFSET = { srcPort: 0, dstPort: 2, checksum: 16 } as const;

/** Bits of `flags` (RFC 9293 §3.1, with CWR/ECE of RFC 3168). */
export const TCP_FLAGS = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

export interface TcpHeader {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  /** Header length in 32-bit words. */
  readonly dataOffset: number;
  readonly reserved: number;
  readonly flags: number;
  readonly window: number;
  readonly checksum: number;
  readonly urgentPointer: number;
  /** (dataOffset - 5) × 4 bytes. */
  readonly options: Uint8Array;
}

/** A header with defaults (no options, window 65535) for builders; checksum left 0. */
export function tcpHeader(h: Partial<TcpHeader> & Pick<TcpHeader, 'srcPort' | 'dstPort'>): TcpHeader {
  const options = h.options ?? new Uint8Array(0);
  return {
    seq: 0,
    ack: 0,
    dataOffset: 5 + Math.ceil(options.length / 4),
    reserved: 0,
    flags: 0,
    window: 0xffff,
    checksum: 0,
    urgentPointer: 0,
    ...h,
    options,
  };
}

export function encodeTcp(h: TcpHeader): Uint8Array {
  for (const f of TCP_FIELDS) checkField(h[f.name as keyof TcpHeader] as number, f.bits, `tcp.${f.name}`);
  if (h.options.length !== (h.dataOffset - 5) * 4) {
    throw new PacketEncodeError(
      'tcp.options',
      `TCP options are ${h.options.length} bytes but dataOffset ${h.dataOffset} implies ${Math.max(0, (h.dataOffset - 5) * 4)}`,
    );
  }
  const out = new Uint8Array(h.dataOffset * 4);
  writeU16(out, 0, h.srcPort);
  writeU16(out, 2, h.dstPort);
  writeU32(out, 4, h.seq);
  writeU32(out, 8, h.ack);
  writeU8(out, 12, (h.dataOffset << 4) | h.reserved);
  writeU8(out, 13, h.flags);
  writeU16(out, 14, h.window);
  writeU16(out, 16, h.checksum);
  writeU16(out, 18, h.urgentPointer);
  out.set(h.options, TCP_MIN_HEADER_BYTES);
  return out;
}

export function decodeTcp(b: Uint8Array, at = 0, end = b.length, prefix = 'tcp'): TcpHeader {
  requireBytes(b, at, end, TCP_MIN_HEADER_BYTES, prefix, 'TCP header');
  const off = readU8(b, at + 12);
  const dataOffset = off >>> 4;
  if (dataOffset < 5) {
    throw new PacketError(at + 12, `${prefix}.dataOffset`, `TCP dataOffset ${dataOffset}, must be at least 5`);
  }
  requireBytes(b, at, end, dataOffset * 4, `${prefix}.options`, `TCP header with dataOffset ${dataOffset}`);
  return {
    srcPort: readU16(b, at),
    dstPort: readU16(b, at + 2),
    seq: readU32(b, at + 4),
    ack: readU32(b, at + 8),
    dataOffset,
    reserved: off & 0x0f,
    flags: readU8(b, at + 13),
    window: readU16(b, at + 14),
    checksum: readU16(b, at + 16),
    urgentPointer: readU16(b, at + 18),
    options: b.slice(at + TCP_MIN_HEADER_BYTES, at + dataOffset * 4),
  };
}
