/**
 * A layered packet model and its codec: Ethernet → IPv4 → TCP | UDP → (tunnel header → inner IPv4
 * packet → options) | payload. Decoding throws only PacketError; encoding writes fields as given
 * unless asked to fix lengths and checksums.
 */
import { concatBytes, readU16 } from './bytes.ts';
import { ipv4HeaderChecksum, onesComplementSum, pseudoHeaderSum, tcpChecksum, udpChecksum } from './checksum.ts';
import { PacketEncodeError, PacketError } from './errors.ts';
import { ETHERNET_HEADER_BYTES, ETHERTYPE_IPV4, type EthernetHeader, decodeEthernet, encodeEthernet } from './ethernet.ts';
import {
  IPV4_FLAG_MF,
  IPV4_OFFSET,
  IP_PROTO_TCP,
  IP_PROTO_UDP,
  type Ipv4Header,
  decodeIpv4,
  encodeIpv4,
} from './ipv4.ts';
import { TCP_OFFSET, type TcpHeader, decodeTcp, encodeTcp } from './tcp.ts';
import { TUNNEL_HEADER_BYTES, type TunnelHeader, decodeTunnelHeader, encodeTunnelHeader } from './tunnel.ts';
import { UDP_HEADER_BYTES, UDP_OFFSET, type UdpHeader, decodeUdp, encodeUdp } from './udp.ts';

/** An IPv4 packet without link layer: what a tunnel carries. */
export interface InnerPacket {
  readonly ipv4: Ipv4Header;
  readonly tcp?: TcpHeader;
  readonly udp?: UdpHeader;
  /** L4 data, or the IP data when there is no TCP/UDP header (other protocols, fragments). */
  readonly payload: Uint8Array;
}

/** Tunnel header, the inner packet and the options after it, as one UDP datagram's data. */
export interface TunnelPayload {
  readonly header: TunnelHeader;
  readonly inner: InnerPacket;
  readonly options: Uint8Array;
}

export interface Packet {
  readonly eth: EthernetHeader;
  readonly ipv4?: Ipv4Header;
  readonly tcp?: TcpHeader;
  readonly udp?: UdpHeader;
  /** Set only with `udp`; then `payload` is empty. */
  readonly tunnel?: TunnelPayload;
  /** L4 data; IP data without TCP/UDP; everything after Ethernet when not IPv4. */
  readonly payload: Uint8Array;
  /** Bytes after the IPv4 packet (Ethernet padding to 60 bytes), kept for exact round trips. */
  readonly trailer?: Uint8Array;
}

export interface EncodeOptions {
  /** Recompute IPv4 ihl/totalLength, TCP dataOffset and UDP length from what follows. */
  readonly fixLengths?: boolean;
  /** Recompute the IPv4 header checksum and the TCP/UDP checksums. */
  readonly fixChecksums?: boolean;
  /**
   * With fixChecksums, what to do with a UDP checksum that is 0 ("none"): keep it 0 (the default,
   * what a switch that does not compute UDP checksums sends) or compute it.
   */
  readonly udpZeroChecksum?: 'keep' | 'compute';
  /** Apply fixLengths/fixChecksums to the outer layers only; tunnel.inner is written as given. */
  readonly outerOnly?: boolean;
}

/** Which UDP datagrams carry a tunnel header. */
export type TunnelMatcher = 'never' | 'always' | ((udp: UdpHeader) => boolean);

export interface DecodeOptions {
  /** Default 'never': UDP data is payload. */
  readonly tunnel?: TunnelMatcher;
  /** Throw a PacketError on a wrong IPv4, TCP or (nonzero) UDP checksum. Default false. */
  readonly verifyChecksums?: boolean;
}

/** Tunnel when the UDP destination port is one of `ports` (gateway and VM tunnel ports). */
export function tunnelOnPorts(ports: Iterable<number>): (udp: UdpHeader) => boolean {
  const set = new Set(ports);
  return (udp) => set.has(udp.dstPort);
}

interface IpLayers {
  readonly ipv4: Ipv4Header;
  readonly tcp?: TcpHeader | undefined;
  readonly udp?: UdpHeader | undefined;
  readonly tunnel?: TunnelPayload | undefined;
  readonly payload: Uint8Array;
}

function encodeIp(p: IpLayers, opts: EncodeOptions, prefix: string): Uint8Array {
  if (p.tcp !== undefined && p.udp !== undefined) {
    throw new PacketEncodeError(`${prefix}tcp`, 'a packet has TCP or UDP, not both');
  }
  let data: Uint8Array;
  if (p.tunnel !== undefined) {
    if (p.udp === undefined) throw new PacketEncodeError(`${prefix}tunnel`, 'a tunnel needs a UDP header');
    if (p.payload.length !== 0) {
      throw new PacketEncodeError(`${prefix}payload`, 'a tunnelled packet carries its data in tunnel.inner');
    }
    const innerOpts = opts.outerOnly ? {} : opts;
    const inner = encodeIp(p.tunnel.inner, innerOpts, `${prefix}tunnel.inner.`);
    data = concatBytes([encodeTunnelHeader(p.tunnel.header), inner, p.tunnel.options]);
  } else {
    data = p.payload;
  }

  if (opts.fixLengths) {
    checkWords(p.ipv4.options, `${prefix}ipv4.options`);
    if (p.tcp !== undefined) checkWords(p.tcp.options, `${prefix}tcp.options`);
  }
  let l4: Uint8Array = data;
  if (p.tcp !== undefined) {
    const tcp = opts.fixLengths ? { ...p.tcp, dataOffset: 5 + p.tcp.options.length / 4 } : p.tcp;
    l4 = concatBytes([encodeTcp(tcp), data]);
    if (opts.fixChecksums) {
      const c = tcpChecksum(p.ipv4.src, p.ipv4.dst, l4);
      l4[TCP_OFFSET.checksum] = c >>> 8;
      l4[TCP_OFFSET.checksum + 1] = c & 0xff;
    }
  } else if (p.udp !== undefined) {
    const udp = opts.fixLengths ? { ...p.udp, length: UDP_HEADER_BYTES + data.length } : p.udp;
    l4 = concatBytes([encodeUdp(udp), data]);
    const compute = udp.checksum !== 0 || opts.udpZeroChecksum === 'compute';
    if (opts.fixChecksums && compute) {
      const c = udpChecksum(p.ipv4.src, p.ipv4.dst, l4);
      l4[UDP_OFFSET.checksum] = c >>> 8;
      l4[UDP_OFFSET.checksum + 1] = c & 0xff;
    }
  }

  let ip = p.ipv4;
  if (opts.fixLengths) {
    const ihl = 5 + ip.options.length / 4;
    ip = { ...ip, ihl, totalLength: ihl * 4 + l4.length };
  }
  const header = encodeIpv4(ip);
  if (opts.fixChecksums) {
    const c = ipv4HeaderChecksum(header, 0, header.length);
    header[IPV4_OFFSET.checksum] = c >>> 8;
    header[IPV4_OFFSET.checksum + 1] = c & 0xff;
  }
  return concatBytes([header, l4]);
}

/** Header lengths count 32-bit words, so options must fill whole words (pad with NOP/EOL). */
function checkWords(options: Uint8Array, field: string): void {
  if (options.length % 4 !== 0) {
    throw new PacketEncodeError(field, `${field} are ${options.length} bytes, not a whole number of 32-bit words`);
  }
}

/** Packet → bytes. Without options every field is written as given (for crafting bad packets). */
export function encodePacket(p: Packet, opts: EncodeOptions = {}): Uint8Array {
  const eth = encodeEthernet(p.eth);
  if (p.ipv4 === undefined) {
    if (p.tcp !== undefined || p.udp !== undefined || p.tunnel !== undefined) {
      throw new PacketEncodeError('ipv4', 'TCP, UDP and tunnel layers need an IPv4 header');
    }
    return concatBytes([eth, p.payload]);
  }
  const ip = encodeIp({ ...p, ipv4: p.ipv4 }, opts, '');
  return concatBytes([eth, ip, p.trailer ?? new Uint8Array(0)]);
}

/** Encodes a tunnel's inner packet alone (what a host delivers to its VM). */
export function encodeInnerPacket(p: InnerPacket, opts: EncodeOptions = {}): Uint8Array {
  return encodeIp(p, opts, '');
}

function isTunnel(m: TunnelMatcher, udp: UdpHeader): boolean {
  if (m === 'never') return false;
  if (m === 'always') return true;
  return m(udp);
}

function checkSum16(b: Uint8Array, at: number, field: string, what: string, expected: number): void {
  const actual = readU16(b, at);
  if (actual !== expected) {
    const h = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
    throw new PacketError(at, field, `${what} checksum ${h(actual)}, expected ${h(expected)}`);
  }
}

function decodeIp(
  b: Uint8Array,
  at: number,
  end: number,
  prefix: string,
  opts: DecodeOptions,
  allowTunnel: boolean,
): { layers: IpLayers; end: number } {
  const ipv4 = decodeIpv4(b, at, end, `${prefix}ipv4`);
  const headerEnd = at + ipv4.ihl * 4;
  const ipEnd = at + ipv4.totalLength;
  if (opts.verifyChecksums) {
    checkSum16(b, at + IPV4_OFFSET.checksum, `${prefix}ipv4.checksum`, 'IPv4', ipv4HeaderChecksum(b, at, ipv4.ihl * 4));
  }
  // A fragment carries part of a segment: L4 headers and checksums cannot be checked, keep raw data.
  const fragment = ipv4.fragmentOffset !== 0 || (ipv4.flags & IPV4_FLAG_MF) !== 0;
  if (fragment || (ipv4.protocol !== IP_PROTO_TCP && ipv4.protocol !== IP_PROTO_UDP)) {
    return { layers: { ipv4, payload: b.slice(headerEnd, ipEnd) }, end: ipEnd };
  }
  if (ipv4.protocol === IP_PROTO_TCP) {
    const tcp = decodeTcp(b, headerEnd, ipEnd, `${prefix}tcp`);
    if (opts.verifyChecksums) {
      const expected = tcpChecksum(ipv4.src, ipv4.dst, b.subarray(headerEnd, ipEnd));
      checkSum16(b, headerEnd + TCP_OFFSET.checksum, `${prefix}tcp.checksum`, 'TCP', expected);
    }
    return { layers: { ipv4, tcp, payload: b.slice(headerEnd + tcp.dataOffset * 4, ipEnd) }, end: ipEnd };
  }
  const udp = decodeUdp(b, headerEnd, ipEnd, `${prefix}udp`);
  if (udp.length !== ipEnd - headerEnd) {
    throw new PacketError(
      headerEnd + UDP_OFFSET.length,
      `${prefix}udp.length`,
      `UDP length ${udp.length} disagrees with the ${ipEnd - headerEnd} bytes of IPv4 data`,
    );
  }
  if (opts.verifyChecksums && udp.checksum !== 0) {
    const datagram = b.subarray(headerEnd, ipEnd);
    // Summing with the checksum field in gives 0xffff when it is right; this accepts both forms
    // of zero (0xffff is what RFC 768 sends for a computed 0).
    const total = onesComplementSum(datagram, 0, datagram.length, pseudoHeaderSum(ipv4.src, ipv4.dst, IP_PROTO_UDP, datagram.length));
    if (total !== 0xffff) {
      checkSum16(b, headerEnd + UDP_OFFSET.checksum, `${prefix}udp.checksum`, 'UDP', udpChecksum(ipv4.src, ipv4.dst, datagram));
    }
  }
  const dataAt = headerEnd + UDP_HEADER_BYTES;
  if (!allowTunnel || !isTunnel(opts.tunnel ?? 'never', udp)) {
    return { layers: { ipv4, udp, payload: b.slice(dataAt, ipEnd) }, end: ipEnd };
  }
  const header = decodeTunnelHeader(b, dataAt, ipEnd);
  const innerAt = dataAt + TUNNEL_HEADER_BYTES;
  const inner = decodeIp(b, innerAt, ipEnd, `${prefix}tunnel.inner.`, opts, false);
  const tunnel: TunnelPayload = { header, inner: inner.layers, options: b.slice(inner.end, ipEnd) };
  return { layers: { ipv4, udp, tunnel, payload: new Uint8Array(0) }, end: ipEnd };
}

/** Bytes → Packet. Throws PacketError (and nothing else) naming the byte offset and field at fault. */
export function decodePacket(bytes: Uint8Array, opts: DecodeOptions = {}): Packet {
  const eth = decodeEthernet(bytes, 0, bytes.length);
  if (eth.etherType !== ETHERTYPE_IPV4) return { eth, payload: bytes.slice(ETHERNET_HEADER_BYTES) };
  const { layers, end } = decodeIp(bytes, ETHERNET_HEADER_BYTES, bytes.length, '', opts, true);
  const p: Packet = { eth, ...stripUndefined(layers) };
  return end < bytes.length ? { ...p, trailer: bytes.slice(end) } : p;
}

/** Decodes a bare IPv4 packet (a tunnel's inner packet as a VM sees it). */
export function decodeInnerPacket(bytes: Uint8Array, opts: DecodeOptions = {}): InnerPacket {
  const { layers, end } = decodeIp(bytes, 0, bytes.length, '', opts, false);
  if (end !== bytes.length) {
    const n = bytes.length - end;
    throw new PacketError(end, 'trailer', `${n} byte${n === 1 ? '' : 's'} after the IPv4 packet`);
  }
  return stripUndefined(layers) as InnerPacket;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The packet with lengths and checksums fixed: what a builder hands to a test. */
export function finalizePacket(
  p: Packet,
  opts: Omit<EncodeOptions, 'fixLengths' | 'fixChecksums'> = {},
): Packet {
  const bytes = encodePacket(p, { ...opts, fixLengths: true, fixChecksums: true });
  return decodePacket(bytes, { tunnel: p.tunnel === undefined ? 'never' : 'always' });
}
