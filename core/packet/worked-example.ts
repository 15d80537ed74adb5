/**
 * The worked example of docs/packet-formats.md, built with the codecs so a test can check the
 * document's bytes: a client's TCP SYN to a VIP, tunnelled from a gateway to the VM's host, and
 * the same SYN NAT-rewritten. Documentation data, not used by the data path.
 */
import { computeToken, type TokenFields } from '../token/token.ts';
import { fromHex } from './bytes.ts';
import { IP_PROTO_TCP, ipv4Header } from './ipv4.ts';
import { natRewrite } from './nat.ts';
import { type InnerPacket, encodePacket } from './packet.ts';
import { TCP_FLAGS, tcpHeader } from './tcp.ts';
import { tunnelPacket } from './tunnel-packet.ts';

export const EXAMPLE = {
  client: { ip: '198.51.100.7', port: 40000 },
  vip: { ip: '203.0.113.10', port: 80 },
  gateway: { ip: '10.0.0.1', port: 6635, mac: '02:00:00:00:00:01' },
  host: { ip: '10.0.1.1', port: 7001, mac: '02:00:00:00:01:01' },
  /** The host's secret (the receiving side signs): bytes 00 01 … 1f. */
  hostKey: Uint8Array.from({ length: 32 }, (_, i) => i),
  /** 2026-01-01T00:00:00Z */
  expiry: 1767225600,
  /** NAT mode: the backend the gateway picked. */
  backend: { ip: '192.168.10.5', port: 8080 },
} as const;

/** The client's SYN, as it arrives at the gateway (and as the VM receives it, unchanged). */
export function exampleSyn(): InnerPacket {
  return {
    ipv4: ipv4Header({ src: EXAMPLE.client.ip, dst: EXAMPLE.vip.ip, protocol: IP_PROTO_TCP, ttl: 64 }),
    tcp: tcpHeader({
      srcPort: EXAMPLE.client.port,
      dstPort: EXAMPLE.vip.port,
      seq: 0x00000001,
      flags: TCP_FLAGS.SYN,
      window: 64240,
      options: fromHex('020405b4'), // MSS 1460
    }),
    payload: new Uint8Array(0),
  };
}

export function exampleTokenFields(): TokenFields {
  return {
    senderIp: EXAMPLE.gateway.ip,
    senderPort: EXAMPLE.gateway.port,
    receiverIp: EXAMPLE.host.ip,
    receiverPort: EXAMPLE.host.port,
    innerSrcIp: 0, // a gateway's token for Internet clients does not bind the client address
    innerDstIp: EXAMPLE.vip.ip,
    expiry: EXAMPLE.expiry,
  };
}

export function exampleToken(): bigint {
  return computeToken(EXAMPLE.hostKey, exampleTokenFields());
}

/** The whole tunnelled frame, gateway → host. */
export function exampleTunnelledFrame(): Uint8Array {
  return encodePacket(
    tunnelPacket({
      eth: { dst: EXAMPLE.host.mac, src: EXAMPLE.gateway.mac },
      sender: EXAMPLE.gateway,
      receiver: EXAMPLE.host,
      header: { token: exampleToken(), expiry: EXAMPLE.expiry },
      inner: exampleSyn(),
    }),
  );
}

/** The SYN as a frame at the gateway (NAT mode input) and after the NAT rewrite. */
export function exampleNat(): { before: Uint8Array; after: Uint8Array } {
  const before = encodePacket(
    { eth: { dst: EXAMPLE.gateway.mac, src: '02:00:00:00:00:fe', etherType: 0x0800 }, ...exampleSyn() },
    { fixLengths: true, fixChecksums: true },
  );
  return { before, after: natRewrite(before, EXAMPLE.backend) };
}
