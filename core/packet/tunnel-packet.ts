/**
 * Builder for a whole tunnelled packet: outer Ethernet + IPv4 (sender → receiver underlay, UDP) +
 * UDP (sender tunnel port → receiver port) + tunnel header + inner packet + options.
 */
import { ETHERTYPE_IPV4, type EthernetHeader } from './ethernet.ts';
import { IPV4_FLAG_DF, IP_PROTO_UDP, ipv4Header } from './ipv4.ts';
import { type InnerPacket, type Packet, encodePacket, finalizePacket } from './packet.ts';
import type { TunnelHeader } from './tunnel.ts';

/**
 * How gateways and hosts fill the outer IPv4 header (the P4 templates take these numbers from
 * here): TTL 64, Don't Fragment, identification 0; DSCP and ECN are copied from the inner header
 * (the uniform model of RFC 2983), so the underlay honours the client's marking.
 */
export const TUNNEL_OUTER_IPV4 = { ttl: 64, flags: IPV4_FLAG_DF, identification: 0 } as const;

export interface TunnelPacketSpec {
  /** Outer MACs; the EtherType is IPv4. */
  readonly eth: Omit<EthernetHeader, 'etherType'>;
  /** Underlay endpoints: gateway → host for requests, host → gateway for replies. */
  readonly sender: { readonly ip: string; readonly port: number };
  readonly receiver: { readonly ip: string; readonly port: number };
  readonly header: TunnelHeader;
  /** The inner IPv4 packet. */
  readonly inner: InnerPacket;
  /**
   * Fix the inner packet's lengths and checksums too (default true, handy when building one from
   * scratch); false keeps it byte for byte as given, as a gateway forwards it.
   */
  readonly fixInner?: boolean;
  readonly options?: Uint8Array;
  /** Outer IPv4 TTL and identification (defaults: TUNNEL_OUTER_IPV4). */
  readonly ttl?: number;
  readonly identification?: number;
  /** Outer UDP checksum: 'zero' (default, none) or 'compute'. */
  readonly udpChecksum?: 'zero' | 'compute';
}

/** The tunnelled packet as a model, outer lengths and checksums filled in. */
export function tunnelPacket(spec: TunnelPacketSpec): Packet {
  const p: Packet = {
    eth: { ...spec.eth, etherType: ETHERTYPE_IPV4 },
    ipv4: ipv4Header({
      src: spec.sender.ip,
      dst: spec.receiver.ip,
      protocol: IP_PROTO_UDP,
      ttl: spec.ttl ?? TUNNEL_OUTER_IPV4.ttl,
      flags: TUNNEL_OUTER_IPV4.flags,
      identification: spec.identification ?? TUNNEL_OUTER_IPV4.identification,
      dscp: spec.inner.ipv4.dscp,
      ecn: spec.inner.ipv4.ecn,
    }),
    udp: { srcPort: spec.sender.port, dstPort: spec.receiver.port, length: 0, checksum: 0 },
    tunnel: { header: spec.header, inner: spec.inner, options: spec.options ?? new Uint8Array(0) },
    payload: new Uint8Array(0),
  };
  return finalizePacket(p, {
    udpZeroChecksum: spec.udpChecksum === 'compute' ? 'compute' : 'keep',
    outerOnly: spec.fixInner === false,
  });
}

export function encodeTunnelPacket(spec: TunnelPacketSpec): Uint8Array {
  return encodePacket(tunnelPacket(spec));
}
