/**
 * fast-check generators of well-formed packets, for this folder's property tests and for other
 * packet tests. Test support only: library code does not import it.
 */
import fc from 'fast-check';
import { ipv4FromNumber, macFromBytes } from './bytes.ts';
import { ETHERTYPE_IPV4, type EthernetHeader } from './ethernet.ts';
import { IP_PROTO_TCP, IP_PROTO_UDP, type Ipv4Header } from './ipv4.ts';
import type { InnerPacket, Packet } from './packet.ts';
import type { TcpHeader } from './tcp.ts';
import type { UdpHeader } from './udp.ts';

export const arbMac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => macFromBytes(b));
export const arbIpv4Address = fc.integer({ min: 0, max: 0xffffffff }).map(ipv4FromNumber);
export const arbPort = fc.integer({ min: 0, max: 0xffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** Options: whole 32-bit words, up to `maxWords`. */
export function arbOptions(maxWords: number): fc.Arbitrary<Uint8Array> {
  return fc.integer({ min: 0, max: maxWords }).chain((w) => fc.uint8Array({ minLength: 4 * w, maxLength: 4 * w }));
}

export const arbPayload = fc.uint8Array({ maxLength: 48 });

export const arbEthernet: fc.Arbitrary<EthernetHeader> = fc.record({
  dst: arbMac,
  src: arbMac,
  etherType: fc.constant(ETHERTYPE_IPV4),
});

/** IPv4 header with lengths 0 (fix them when encoding); `unfragmented` keeps MF and offset 0. */
function arbIpv4(protocol: fc.Arbitrary<number>, unfragmented: boolean): fc.Arbitrary<Ipv4Header> {
  return fc
    .record({
      dscp: fc.integer({ min: 0, max: 63 }),
      ecn: fc.integer({ min: 0, max: 3 }),
      identification: u16,
      flags: unfragmented ? fc.constantFrom(0, 2, 4, 6) : fc.integer({ min: 0, max: 7 }),
      fragmentOffset: unfragmented ? fc.constant(0) : fc.integer({ min: 0, max: 0x1fff }),
      ttl: fc.integer({ min: 0, max: 255 }),
      protocol,
      checksum: u16,
      src: arbIpv4Address,
      dst: arbIpv4Address,
      options: arbOptions(10),
    })
    .map((h) => ({ ...h, version: 4, ihl: 5 + h.options.length / 4, totalLength: 0 }));
}

export const arbTcp: fc.Arbitrary<TcpHeader> = fc
  .record({
    srcPort: arbPort,
    dstPort: arbPort,
    seq: u32,
    ack: u32,
    reserved: fc.integer({ min: 0, max: 15 }),
    flags: fc.integer({ min: 0, max: 255 }),
    window: u16,
    checksum: u16,
    urgentPointer: u16,
    options: arbOptions(10),
  })
  .map((h) => ({ ...h, dataOffset: 5 + h.options.length / 4 }));

export const arbUdp: fc.Arbitrary<UdpHeader> = fc.record({
  srcPort: arbPort,
  dstPort: arbPort,
  length: fc.constant(0),
  checksum: u16,
});

/** An IPv4 packet without tunnel: TCP, UDP, another protocol, or a fragment. */
export const arbInnerPacket: fc.Arbitrary<InnerPacket> = fc.oneof(
  fc.record({ ipv4: arbIpv4(fc.constant(IP_PROTO_TCP), true), tcp: arbTcp, payload: arbPayload }),
  fc.record({ ipv4: arbIpv4(fc.constant(IP_PROTO_UDP), true), udp: arbUdp, payload: arbPayload }),
  fc.record({
    ipv4: arbIpv4(
      fc.integer({ min: 0, max: 255 }).filter((p) => p !== IP_PROTO_TCP && p !== IP_PROTO_UDP),
      false,
    ),
    payload: arbPayload,
  }),
);

const arbTrailer = fc.uint8Array({ maxLength: 8 });

/** A whole packet and whether its UDP data is a tunnel (decode with `tunnel: 'always'` then). */
export const arbPacket: fc.Arbitrary<{ packet: Packet; tunnelled: boolean }> = fc.oneof(
  fc.record({ eth: arbEthernet, inner: arbInnerPacket, trailer: arbTrailer }).map(({ eth, inner, trailer }) => ({
    packet: withTrailer({ eth, ...inner }, trailer),
    tunnelled: false,
  })),
  fc
    .record({
      eth: arbEthernet,
      ipv4: arbIpv4(fc.constant(IP_PROTO_UDP), true),
      udp: arbUdp,
      header: fc.record({ token: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), expiry: u32 }),
      inner: arbInnerPacket,
      options: fc.uint8Array({ maxLength: 12 }),
      trailer: arbTrailer,
    })
    .map(({ eth, ipv4, udp, header, inner, options, trailer }) => ({
      packet: withTrailer(
        { eth, ipv4, udp, tunnel: { header, inner, options }, payload: new Uint8Array(0) },
        trailer,
      ),
      tunnelled: true,
    })),
  fc
    .record({
      dst: arbMac,
      src: arbMac,
      etherType: u16.filter((t) => t !== ETHERTYPE_IPV4),
      payload: arbPayload,
    })
    .map(({ payload, ...eth }) => ({ packet: { eth, payload }, tunnelled: false })),
);

function withTrailer(p: Packet, trailer: Uint8Array): Packet {
  return trailer.length === 0 ? p : { ...p, trailer };
}
