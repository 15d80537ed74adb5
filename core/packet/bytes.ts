/** Big-endian readers and writers on Uint8Array (Buffer works too), MAC and IPv4 text forms. */
import { P4lbError } from '../errors.ts';

export function readU8(b: Uint8Array, at: number): number {
  return b[at]!;
}

export function readU16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

export function readU32(b: Uint8Array, at: number): number {
  // `>>> 0` keeps the top bit from turning the result negative.
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

export function readU64(b: Uint8Array, at: number): bigint {
  return (BigInt(readU32(b, at)) << 32n) | BigInt(readU32(b, at + 4));
}

export function writeU8(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
}

export function writeU16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

export function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 24) & 0xff;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

export function writeU64(b: Uint8Array, at: number, v: bigint): void {
  writeU32(b, at, Number((v >> 32n) & 0xffffffffn));
  writeU32(b, at + 4, Number(v & 0xffffffffn));
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Thrown for text that is not a MAC, an IPv4 address or hex. */
export class AddressFormatError extends P4lbError {
  constructor(message: string) {
    super('ADDRESS_INVALID', message);
  }
}

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** "10.0.0.1" → 0x0a000001. */
export function ipv4ToNumber(text: string): number {
  const m = IPV4_RE.exec(text);
  if (m === null) throw new AddressFormatError(`not an IPv4 address: '${text}'`);
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) throw new AddressFormatError(`IPv4 octet ${octet} > 255 in '${text}'`);
    n = n * 256 + octet;
  }
  return n;
}

/** 0x0a000001 → "10.0.0.1". */
export function ipv4FromNumber(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new AddressFormatError(`not a 32-bit IPv4 address: ${n}`);
  }
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

/** An address as the model holds it (dotted text) or as the data plane does (a 32-bit number). */
export type Ipv4Like = string | number;

export function ipv4Number(a: Ipv4Like): number {
  if (typeof a === 'string') return ipv4ToNumber(a);
  ipv4FromNumber(a); // range check
  return a;
}

export function readIpv4(b: Uint8Array, at: number): string {
  return ipv4FromNumber(readU32(b, at));
}

export function writeIpv4(b: Uint8Array, at: number, a: Ipv4Like): void {
  writeU32(b, at, ipv4Number(a));
}

const MAC_RE = /^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/;

/** "02:00:00:00:00:01" (or with dashes) → 6 bytes. */
export function macToBytes(text: string): Uint8Array {
  if (!MAC_RE.test(text)) throw new AddressFormatError(`not a MAC address: '${text}'`);
  return Uint8Array.from(text.split(/[:-]/), (h) => parseInt(h, 16));
}

/** 6 bytes at `at` → "02:00:00:00:00:01" (lower case). */
export function macFromBytes(b: Uint8Array, at = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push(b[at + i]!.toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** MAC text ↔ 48-bit number, the form P4Runtime and the interpreter use. */
export function macToBigInt(text: string): bigint {
  return macToBytes(text).reduce((n, x) => (n << 8n) | BigInt(x), 0n);
}

export function macFromBigInt(n: bigint): string {
  const b = new Uint8Array(6);
  for (let i = 5; i >= 0; i--) {
    b[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return macFromBytes(b);
}

/** Bytes → lower-case hex with no separators. */
export function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** Hex → bytes; whitespace, `:` and a leading `0x` are ignored so fixtures can be laid out. */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/^0x/i, '').replace(/[\s:]/g, '');
  if (clean.length % 2 !== 0) throw new AddressFormatError(`odd number of hex digits (${clean.length})`);
  const bad = /[^0-9a-fA-F]/.exec(clean);
  if (bad !== null) throw new AddressFormatError(`not a hex digit: '${bad[0]}' at ${bad.index}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Hex dump, 16 bytes a line with the offset, the form the docs show. */
export function hexDump(b: Uint8Array): string {
  const lines: string[] = [];
  for (let at = 0; at < b.length; at += 16) {
    const row: string[] = [];
    for (let i = at; i < Math.min(at + 16, b.length); i++) row.push(b[i]!.toString(16).padStart(2, '0'));
    lines.push(`${at.toString(16).padStart(4, '0')}  ${row.join(' ')}`);
  }
  return lines.join('\n');
}
