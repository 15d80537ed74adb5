/**
 * Expected-versus-received packets for humans: byte patterns with don't-care ranges, the first
 * differing byte, and both packets decoded into layers (core/packet) with the fields that differ
 * named, so a failure says "ipv4.flags: expected 2, received 0" instead of two hex blobs.
 */
import { hexDump } from '../../core/packet/bytes.ts';
import { decodePacket, type DecodeOptions, type Packet } from '../../core/packet/packet.ts';
import { PacketTestError } from './errors.ts';

export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

/** Expected bytes, with ranges whose content does not matter (a timestamp, an id). */
export interface PacketPattern {
  readonly bytes: Uint8Array;
  readonly ignore: readonly ByteRange[];
}

export function pattern(bytes: Uint8Array, ...ignore: ByteRange[]): PacketPattern {
  return { bytes, ignore };
}

/** A pattern from hex where `**` stands for any byte: `'02 00 ** ** 08 00'`. */
export function hexPattern(text: string): PacketPattern {
  const clean = text.replace(/^0x/i, '').replace(/[\s:]/g, '');
  if (clean.length % 2 !== 0) throw new PacketTestError('PACKET_TEST_BAD_VALUE', `hex pattern has an odd number of digits (${clean.length})`);
  const bytes = new Uint8Array(clean.length / 2);
  const ignore: ByteRange[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const pair = clean.slice(2 * i, 2 * i + 2);
    if (pair === '**') ignore.push({ offset: i, length: 1 });
    else if (/^[0-9a-fA-F]{2}$/.test(pair)) bytes[i] = parseInt(pair, 16);
    else throw new PacketTestError('PACKET_TEST_BAD_VALUE', `hex pattern: '${pair}' at byte ${i} is neither hex nor '**'`);
  }
  return { bytes, ignore };
}

export function asPattern(expected: Uint8Array | PacketPattern): PacketPattern {
  return expected instanceof Uint8Array ? { bytes: expected, ignore: [] } : expected;
}

function ignored(p: PacketPattern, offset: number): boolean {
  return p.ignore.some((r) => offset >= r.offset && offset < r.offset + r.length);
}

/** The first offset where `received` differs from the pattern (a length difference counts), or undefined. */
export function firstDifference(expected: PacketPattern, received: Uint8Array): number | undefined {
  const n = Math.min(expected.bytes.length, received.length);
  for (let i = 0; i < n; i++) {
    if (expected.bytes[i] !== received[i] && !ignored(expected, i)) return i;
  }
  return expected.bytes.length === received.length ? undefined : n;
}

export function matches(expected: PacketPattern, received: Uint8Array): boolean {
  return firstDifference(expected, received) === undefined;
}

/** Dotted field path → printable value, over a decoded packet. */
export function packetFields(p: Packet): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (v: unknown, path: string): void => {
    if (v instanceof Uint8Array) out.set(path, v.length === 0 ? '(none)' : Buffer.from(v).toString('hex'));
    else if (typeof v === 'bigint') out.set(path, `0x${v.toString(16)}`);
    else if (typeof v === 'number') out.set(path, path.endsWith('checksum') ? `0x${v.toString(16).padStart(4, '0')}` : String(v));
    else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) walk(x, path === '' ? k : `${path}.${k}`);
    } else out.set(path, String(v));
  };
  walk(p, '');
  return out;
}

function decodeOrReason(bytes: Uint8Array, opts: DecodeOptions): Packet | string {
  try {
    return decodePacket(bytes, opts);
  } catch (err) {
    return `(undecodable: ${err instanceof Error ? err.message : String(err)})`;
  }
}

/** One line a layer: what a reader scans first. */
export function describePacket(bytes: Uint8Array, opts: DecodeOptions = {}): string {
  const p = decodeOrReason(bytes, opts);
  if (typeof p === 'string') return p;
  const lines = [`eth ${p.eth.src} > ${p.eth.dst} type 0x${p.eth.etherType.toString(16).padStart(4, '0')}`];
  const ip = (h: NonNullable<Packet['ipv4']>, indent: string): void => {
    lines.push(`${indent}ipv4 ${h.src} > ${h.dst} proto ${h.protocol} ttl ${h.ttl} len ${h.totalLength} id ${h.identification} flags ${h.flags} csum 0x${h.checksum.toString(16).padStart(4, '0')}`);
  };
  const l4 = (q: Pick<Packet, 'tcp' | 'udp' | 'payload'>, indent: string): void => {
    if (q.tcp !== undefined) {
      lines.push(`${indent}tcp ${q.tcp.srcPort} > ${q.tcp.dstPort} flags 0x${q.tcp.flags.toString(16)} seq ${q.tcp.seq} csum 0x${q.tcp.checksum.toString(16).padStart(4, '0')}`);
    }
    if (q.udp !== undefined) {
      lines.push(`${indent}udp ${q.udp.srcPort} > ${q.udp.dstPort} len ${q.udp.length} csum 0x${q.udp.checksum.toString(16).padStart(4, '0')}`);
    }
    if (q.payload.length > 0) lines.push(`${indent}payload ${q.payload.length} bytes`);
  };
  if (p.ipv4 !== undefined) ip(p.ipv4, '  ');
  l4(p, '    ');
  if (p.tunnel !== undefined) {
    lines.push(`      tunnel token 0x${p.tunnel.header.token.toString(16).padStart(16, '0')} expiry ${p.tunnel.header.expiry}`);
    ip(p.tunnel.inner.ipv4, '        ');
    l4(p.tunnel.inner, '          ');
  }
  return lines.join('\n');
}

/** The decoded fields that differ (ignoring nothing: a don't-care byte may still show here). */
export function fieldDifferences(expected: Uint8Array, received: Uint8Array, opts: DecodeOptions = {}): string[] {
  const a = decodeOrReason(expected, opts);
  const b = decodeOrReason(received, opts);
  if (typeof a === 'string' || typeof b === 'string') return [];
  const fa = packetFields(a);
  const fb = packetFields(b);
  const out: string[] = [];
  for (const key of new Set([...fa.keys(), ...fb.keys()])) {
    const x = fa.get(key) ?? '(absent)';
    const y = fb.get(key) ?? '(absent)';
    if (x !== y) out.push(`${key}: expected ${x}, received ${y}`);
  }
  return out;
}

/** The whole story of one mismatch, for an assertion message. */
export function explainMismatch(expected: PacketPattern, received: Uint8Array, opts: DecodeOptions = {}): string {
  const at = firstDifference(expected, received);
  const lines: string[] = [];
  if (at === undefined) return 'the packets match';
  if (at < Math.min(expected.bytes.length, received.length)) {
    const h = (n: number | undefined): string => (n === undefined ? '--' : n.toString(16).padStart(2, '0'));
    lines.push(`first difference at byte ${at} (0x${at.toString(16)}): expected ${h(expected.bytes[at])}, received ${h(received[at])}`);
  } else {
    lines.push(`lengths differ: expected ${expected.bytes.length} bytes, received ${received.length} (equal up to byte ${at})`);
  }
  const fields = fieldDifferences(expected.bytes, received, opts);
  if (fields.length > 0) lines.push('fields that differ:', ...fields.map((f) => `  ${f}`));
  if (expected.ignore.length > 0) {
    lines.push(`don't-care bytes: ${expected.ignore.map((r) => `${r.offset}..${r.offset + r.length - 1}`).join(', ')}`);
  }
  lines.push('expected:', describePacket(expected.bytes, opts), hexDump(expected.bytes));
  lines.push('received:', describePacket(received, opts), hexDump(received));
  return lines.join('\n');
}
