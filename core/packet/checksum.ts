/**
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624), for IPv4 headers and for
 * TCP/UDP over the IPv4 pseudo-header (RFC 793 §3.1, RFC 768).
 */
import { type Ipv4Like, ipv4Number, readU16 } from './bytes.ts';

/** Folds carries back in until the value fits 16 bits (end-around carry). */
function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * Ones' complement sum of big-endian 16-bit words of `b[start, end)`, added to `initial`; an odd
 * last byte is padded with a zero byte (RFC 1071). Not complemented.
 */
export function onesComplementSum(b: Uint8Array, start = 0, end = b.length, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += readU16(b, i);
  if (i < end) sum += b[i]! << 8;
  return fold(sum);
}

/** The Internet checksum of `b[start, end)`: the complement of the ones' complement sum. */
export function internetChecksum(b: Uint8Array, start = 0, end = b.length, initial = 0): number {
  return ~onesComplementSum(b, start, end, initial) & 0xffff;
}

/** IPv4 header checksum byte offset within the header. */
export const IPV4_CHECKSUM_OFFSET = 10;

/**
 * Checksum of the IPv4 header `b[start, start + length)`, computed as if its checksum field
 * (bytes 10-11) were zero, so it can be called on a header that already carries one.
 */
export function ipv4HeaderChecksum(b: Uint8Array, start = 0, length = 20): number {
  const before = onesComplementSum(b, start, start + IPV4_CHECKSUM_OFFSET);
  return internetChecksum(b, start + IPV4_CHECKSUM_OFFSET + 2, start + length, before);
}

/** Ones' complement sum of the IPv4 pseudo-header: src, dst, zero + protocol, L4 length. */
export function pseudoHeaderSum(src: Ipv4Like, dst: Ipv4Like, protocol: number, l4Length: number): number {
  const s = ipv4Number(src);
  const d = ipv4Number(dst);
  return fold((s >>> 16) + (s & 0xffff) + (d >>> 16) + (d & 0xffff) + protocol + l4Length);
}

export interface L4ChecksumInput {
  readonly src: Ipv4Like;
  readonly dst: Ipv4Like;
  readonly protocol: number;
  /** The whole segment (header + data); its length is the pseudo-header's length. */
  readonly segment: Uint8Array;
  /** Where the checksum field is within `segment`; it is treated as zero. */
  readonly checksumOffset: number;
}

/**
 * TCP or UDP checksum over the pseudo-header and segment. For UDP a computed 0 must be sent as
 * 0xffff (RFC 768: 0 means "no checksum"); `udpChecksum` does that, this function does not.
 */
export function l4Checksum(input: L4ChecksumInput): number {
  const { segment, checksumOffset } = input;
  let sum = pseudoHeaderSum(input.src, input.dst, input.protocol, segment.length);
  sum = onesComplementSum(segment, 0, checksumOffset, sum);
  // checksumOffset is even for TCP (16) and UDP (6), so word alignment is kept.
  return internetChecksum(segment, checksumOffset + 2, segment.length, sum);
}

export const TCP_CHECKSUM_OFFSET = 16;
export const UDP_CHECKSUM_OFFSET = 6;

export function tcpChecksum(src: Ipv4Like, dst: Ipv4Like, segment: Uint8Array): number {
  return l4Checksum({ src, dst, protocol: 6, segment, checksumOffset: TCP_CHECKSUM_OFFSET });
}

/** UDP checksum as transmitted: a computed 0 becomes 0xffff. */
export function udpChecksum(src: Ipv4Like, dst: Ipv4Like, datagram: Uint8Array): number {
  const c = l4Checksum({ src, dst, protocol: 17, segment: datagram, checksumOffset: UDP_CHECKSUM_OFFSET });
  return c === 0 ? 0xffff : c;
}

/**
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word changing from `oldWord` to `newWord`.
 */
export function updateChecksum16(checksum: number, oldWord: number, newWord: number): number {
  const sum = fold((~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff));
  return ~sum & 0xffff;
}

/** RFC 1624 for a 32-bit field (an IPv4 address): two 16-bit word updates. */
export function updateChecksum32(checksum: number, oldValue: number, newValue: number): number {
  const hi = updateChecksum16(checksum, oldValue >>> 16, newValue >>> 16);
  return updateChecksum16(hi, oldValue & 0xffff, newValue & 0xffff);
}
