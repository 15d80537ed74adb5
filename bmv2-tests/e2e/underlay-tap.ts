/**
 * A tap on one switch's link to the underlay bridge (the bridge-side veth end, in the underlay
 * namespace): it sees every frame the switch sends or receives there, and can send a frame to the
 * switch as if it came over the underlay — how the token scenarios capture a real tunnelled
 * packet and replay it forged or after its token expired.
 */
import { decodeEthernet, ETHERTYPE_IPV4 } from '../../core/packet/ethernet.ts';
import { decodeIpv4, IP_PROTO_UDP } from '../../core/packet/ipv4.ts';
import { decodeTunnelHeader, TUNNEL_OFFSET, TUNNEL_HEADER_BYTES, type TunnelHeader } from '../../core/packet/tunnel.ts';
import { decodeUdp } from '../../core/packet/udp.ts';
import { InterfacePort } from '../../target/ports/interface-port.ts';
import { E2eError } from './errors.ts';
import type { Topology } from './topology.ts';

/** A tunnelled frame seen on the underlay, with its outer addressing and tunnel header. */
export interface TunnelFrame {
  readonly bytes: Uint8Array;
  readonly outer: { readonly src: string; readonly dst: string; readonly srcPort: number; readonly dstPort: number };
  readonly header: TunnelHeader;
  /** Offset of the tunnel header in `bytes`. */
  readonly headerAt: number;
}

/** The frame as a tunnelled packet, or undefined for anything else (ARP, plain IPv4, short frames). */
export function readTunnelFrame(bytes: Uint8Array): TunnelFrame | undefined {
  try {
    const eth = decodeEthernet(bytes);
    if (eth.etherType !== ETHERTYPE_IPV4) return undefined;
    const ip = decodeIpv4(bytes, 14);
    if (ip.protocol !== IP_PROTO_UDP) return undefined;
    const udpAt = 14 + ip.ihl * 4;
    const udp = decodeUdp(bytes, udpAt);
    const headerAt = udpAt + 8;
    if (bytes.length < headerAt + TUNNEL_HEADER_BYTES) return undefined;
    return { bytes, outer: { src: ip.src, dst: ip.dst, srcPort: udp.srcPort, dstPort: udp.dstPort }, header: decodeTunnelHeader(bytes, headerAt), headerAt };
  } catch {
    return undefined;
  }
}

/** A copy of the frame with one bit of its token flipped: a forged token (the outer UDP checksum is zero, as tunnels send it). */
export function forgeToken(frame: TunnelFrame): Uint8Array {
  const copy = Uint8Array.from(frame.bytes);
  copy[frame.headerAt + TUNNEL_OFFSET.token + 7]! ^= 0x01;
  return copy;
}

export class UnderlayTap {
  private readonly seen: TunnelFrame[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly port: InterfacePort, readonly switchName: string) {
    port.onFrame((bytes) => {
      const frame = readTunnelFrame(bytes);
      if (frame === undefined) return;
      if (this.seen.length < 10_000) this.seen.push(frame);
      for (const w of [...this.waiters]) w();
    });
  }

  /** Opens the tap on `switchName`'s underlay link (a gateway or a host of the topology). */
  static open(topology: Topology, switchName: string): UnderlayTap {
    const ifname = topology.layout.underlay.ports[switchName];
    if (ifname === undefined) throw new E2eError('E2E_UNKNOWN_NAME', `no underlay link for switch '${switchName}'`);
    return new UnderlayTap(InterfacePort.open({ number: 0, ifname, netns: topology.layout.underlay.netns }), switchName);
  }

  /** The first tunnelled frame so far (or to come) that matches, within `timeoutMs`. */
  waitFor(match: (f: TunnelFrame) => boolean, timeoutMs: number, what: string): Promise<TunnelFrame> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.seen.find(match);
        if (found === undefined) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new E2eError('E2E_TIMEOUT', `no ${what} on ${this.switchName}'s underlay link within ${timeoutMs} ms (${this.seen.length} tunnelled frames seen)`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Sends a frame to the switch, as if it came over the underlay. */
  inject(frame: Uint8Array): void {
    this.port.send(frame);
  }

  close(): Promise<void> {
    return this.port.close();
  }
}
