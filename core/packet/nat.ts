/**
 * NAT-mode rewrites as the gateway does them: new destination (requests) or source (replies)
 * address and port, checksums patched incrementally (RFC 1624) instead of recomputed, the way a
 * switch updates them. Pure: returns new bytes. Tests compare against a full recomputation.
 */
import { type Ipv4Like, ipv4Number, macToBytes, readU16, readU32, writeU16, writeU32 } from './bytes.ts';
import { updateChecksum16, updateChecksum32 } from './checksum.ts';
import { PacketEncodeError } from './errors.ts';
import { ETHERNET_HEADER_BYTES } from './ethernet.ts';
import { IPV4_OFFSET, IP_PROTO_TCP, IP_PROTO_UDP } from './ipv4.ts';
import { decodePacket } from './packet.ts';
import { TCP_OFFSET } from './tcp.ts';
import { UDP_OFFSET } from './udp.ts';

export interface AddressRewrite {
  readonly srcIp?: Ipv4Like;
  readonly srcPort?: number;
  readonly dstIp?: Ipv4Like;
  readonly dstPort?: number;
  /** New Ethernet addresses (next hop); no checksum covers them. */
  readonly ethSrc?: string;
  readonly ethDst?: string;
}

/** An IPv4 address and L4 port. */
export interface Endpoint {
  readonly ip: Ipv4Like;
  readonly port: number;
}

function checkPort(port: number | undefined, field: string): void {
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 0xffff)) {
    throw new PacketEncodeError(field, `${field} = ${port} does not fit 16 bits`);
  }
}

/**
 * Rewrites addresses and ports of an Ethernet/IPv4/TCP|UDP packet, patching the IPv4 checksum and
 * the L4 checksum (whose pseudo-header covers the addresses). A UDP checksum of 0 stays 0. In a
 * non-first fragment only the IPv4 header is rewritten. Throws PacketError for undecodable input.
 */
export function rewriteAddresses(bytes: Uint8Array, rw: AddressRewrite): Uint8Array {
  checkPort(rw.srcPort, 'srcPort');
  checkPort(rw.dstPort, 'dstPort');
  const p = decodePacket(bytes);
  const out = bytes.slice();
  if (rw.ethDst !== undefined) out.set(macToBytes(rw.ethDst), 0);
  if (rw.ethSrc !== undefined) out.set(macToBytes(rw.ethSrc), 6);
  if (p.ipv4 === undefined) {
    if (rw.srcIp !== undefined || rw.dstIp !== undefined || rw.srcPort !== undefined || rw.dstPort !== undefined) {
      throw new PacketEncodeError('ipv4', 'not an IPv4 packet: no address to rewrite');
    }
    return out;
  }
  const ip = ETHERNET_HEADER_BYTES;
  const l4 = ip + p.ipv4.ihl * 4;
  let ipSum = readU16(out, ip + IPV4_OFFSET.checksum);
  // Word changes that the L4 pseudo-header checksum must also absorb.
  const addrChanges: Array<[number, number]> = [];
  for (const [value, off] of [
    [rw.srcIp, IPV4_OFFSET.src],
    [rw.dstIp, IPV4_OFFSET.dst],
  ] as const) {
    if (value === undefined) continue;
    const before = readU32(out, ip + off);
    const after = ipv4Number(value);
    ipSum = updateChecksum32(ipSum, before, after);
    writeU32(out, ip + off, after);
    addrChanges.push([before, after]);
  }
  writeU16(out, ip + IPV4_OFFSET.checksum, ipSum);

  const l4Csum =
    p.tcp !== undefined ? l4 + TCP_OFFSET.checksum : p.udp !== undefined ? l4 + UDP_OFFSET.checksum : undefined;
  if (l4Csum === undefined) return out; // fragments, ICMP, …: no ports, no pseudo-header
  const proto = p.ipv4.protocol;
  const srcPortAt = l4 + (proto === IP_PROTO_TCP ? TCP_OFFSET.srcPort : UDP_OFFSET.srcPort);
  const dstPortAt = l4 + (proto === IP_PROTO_TCP ? TCP_OFFSET.dstPort : UDP_OFFSET.dstPort);
  let sum = readU16(out, l4Csum);
  const udpNone = proto === IP_PROTO_UDP && sum === 0;
  for (const [before, after] of addrChanges) sum = updateChecksum32(sum, before, after);
  for (const [port, at] of [
    [rw.srcPort, srcPortAt],
    [rw.dstPort, dstPortAt],
  ] as const) {
    if (port === undefined) continue;
    sum = updateChecksum16(sum, readU16(out, at), port);
    writeU16(out, at, port);
  }
  if (udpNone) sum = 0;
  else if (proto === IP_PROTO_UDP && sum === 0) sum = 0xffff; // RFC 768: computed 0 is sent as 0xffff
  writeU16(out, l4Csum, sum);
  return out;
}

/** Gateway → backend: the VIP destination becomes the backend's address and port. */
export function natRewrite(bytes: Uint8Array, backend: Endpoint): Uint8Array {
  return rewriteAddresses(bytes, { dstIp: backend.ip, dstPort: backend.port });
}

/** Backend → client reply: the backend source becomes the VIP again. */
export function natReverse(bytes: Uint8Array, vip: Endpoint): Uint8Array {
  return rewriteAddresses(bytes, { srcIp: vip.ip, srcPort: vip.port });
}
