/**
 * The example deployment (examples/example.yaml) as packet-test scenarios: its gateway or host
 * program loaded on a target with the entries the controller would install, plus builders for
 * the packets that cross it (a client's packet, the tunnelled packet a gateway sends a host, a
 * VM's reply) computed with core/packet and core/token, independently of the P4 program.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { flowHash, slotOf, type FlowTuple, type SlotTable } from '../../core/hash/index.ts';
import { ipv4Number } from '../../core/packet/bytes.ts';
import { ETHERTYPE_IPV4 } from '../../core/packet/ethernet.ts';
import { IP_PROTO_TCP, IP_PROTO_UDP, ipv4Header } from '../../core/packet/ipv4.ts';
import { decodePacket, encodePacket, tunnelOnPorts, type DecodeOptions, type InnerPacket } from '../../core/packet/packet.ts';
import { tcpHeader } from '../../core/packet/tcp.ts';
import { encodeTunnelPacket } from '../../core/packet/tunnel-packet.ts';
import { parseSpec } from '../../core/spec/load.ts';
import { gatewayByName, hostByName, hostOfVm, vipByName, vmByName, vmMac } from '../../core/spec/lookup.ts';
import type { Gateway, Host, LbSpec, Vip, Vm } from '../../core/spec/schema.ts';
import { computeToken } from '../../core/token/token.ts';
import { renderProgram } from '../../generator/render.ts';
import { gatewayViewModel, hostViewModel } from '../../generator/view-model.ts';
import {
  gatewayEntries, hostEntries, replyGatewayOf, replyTokenFields, requestTokenFields, vipSlotTable, type ProgramEntries,
  type TokenKeys,
} from './entries.ts';
import { PacketTest } from './packet-test.ts';
import { EmbeddedTarget } from './embedded-target.ts';
import type { PacketTestTarget } from './target.ts';

export const EXAMPLE_SPEC_FILE = fileURLToPath(new URL('../../examples/example.yaml', import.meta.url));
const GENERATOR_VERSION = '0.1.0';

/** Token expiry of every installed token: 2026-01-01T00:00:00Z (the data plane compares, never checks time). */
export const TEST_EXPIRY = 1767225600;
/** The router on the gateways' public side, where clients' packets come from and replies go. */
export const CLIENT_ROUTER_MAC = '02:00:00:00:00:fe';

let cachedSpec: LbSpec | undefined;

export function exampleSpec(): LbSpec {
  cachedSpec ??= parseSpec(readFileSync(EXAMPLE_SPEC_FILE, 'utf8'), EXAMPLE_SPEC_FILE);
  return cachedSpec;
}

/** Deterministic per-side secrets (SHA-256 of a label): tests need stable tokens, not secret ones. */
export const TEST_KEYS: TokenKeys = {
  gateway: (name) => new Uint8Array(createHash('sha256').update(`p4lb packet-test gateway ${name}`).digest()),
  host: (name) => new Uint8Array(createHash('sha256').update(`p4lb packet-test host ${name}`).digest()),
};

export function gatewayProgram(spec: LbSpec): string {
  return renderProgram('gateway', gatewayViewModel(spec, GENERATOR_VERSION));
}

export function hostProgram(spec: LbSpec): string {
  return renderProgram('host', hostViewModel(spec, GENERATOR_VERSION));
}

/** Decoding for failure messages: UDP to a gateway tunnel port or a VM port carries a tunnel. */
export function tunnelDecoding(spec: LbSpec): DecodeOptions {
  return { tunnel: tunnelOnPorts([...spec.gateways.map((g) => g.underlay.tunnelUdpPort), ...spec.vms.map((v) => v.udpPort)]) };
}

// Entry lists are pure functions of (spec, side); the slot tables make them worth computing once.
const gatewayEntryCache = new WeakMap<LbSpec, Map<string, ProgramEntries>>();

function cachedGatewayEntries(spec: LbSpec, gateway: string): ProgramEntries {
  let perSpec = gatewayEntryCache.get(spec);
  if (perSpec === undefined) gatewayEntryCache.set(spec, (perSpec = new Map()));
  let e = perSpec.get(gateway);
  if (e === undefined) {
    e = gatewayEntries(spec, { gateway, keys: TEST_KEYS, expiry: TEST_EXPIRY, publicNextHopMac: CLIENT_ROUTER_MAC });
    perSpec.set(gateway, e);
  }
  return e;
}

// ------------------------------------------------------------------ packets

export interface ClientPacket {
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly protocol?: 'tcp' | 'udp';
  /** TCP flags (core/packet TCP_FLAGS); SYN by default. */
  readonly tcpFlags?: number;
  readonly payload?: Uint8Array;
}

/** An IPv4 packet with correct lengths and checksums, without link layer. */
export function innerPacket(p: ClientPacket): InnerPacket {
  const udp = p.protocol === 'udp';
  const packet = {
    eth: { dst: '00:00:00:00:00:00', src: '00:00:00:00:00:00', etherType: ETHERTYPE_IPV4 },
    ipv4: ipv4Header({ src: p.src, dst: p.dst, protocol: udp ? IP_PROTO_UDP : IP_PROTO_TCP }),
    ...(udp
      ? { udp: { srcPort: p.srcPort, dstPort: p.dstPort, length: 0, checksum: 1 } }
      : { tcp: tcpHeader({ srcPort: p.srcPort, dstPort: p.dstPort, seq: 1, flags: p.tcpFlags ?? 0x02 }) }),
    payload: p.payload ?? new Uint8Array(0),
  };
  // checksum 1 above only asks the encoder to compute the UDP checksum rather than keep "none".
  const { ipv4, tcp, udp: u, payload } = decodePacket(encodePacket(packet, { fixLengths: true, fixChecksums: true }));
  return { ipv4: ipv4!, ...(tcp === undefined ? {} : { tcp }), ...(u === undefined ? {} : { udp: u }), payload };
}

/** A frame: Ethernet (dst, src) around an IPv4 packet. */
export function frame(dst: string, src: string, inner: InnerPacket): Uint8Array {
  return encodePacket({ eth: { dst, src, etherType: ETHERTYPE_IPV4 }, ...inner });
}

/** The 5-tuple of a packet, as the gateway hashes it. */
export function tupleOf(p: ClientPacket): FlowTuple {
  return {
    srcAddr: ipv4Number(p.src),
    dstAddr: ipv4Number(p.dst),
    protocol: p.protocol === 'udp' ? IP_PROTO_UDP : IP_PROTO_TCP,
    srcPort: p.srcPort,
    dstPort: p.dstPort,
  };
}

/** The packet a gateway sends a VM's host for `inner`, byte for byte as core/packet builds it. */
export function gatewayTunnelFrame(
  spec: LbSpec,
  gateway: Gateway,
  vip: Vip,
  vm: Vm,
  inner: InnerPacket,
  header: { token?: bigint; expiry?: number } = {},
): Uint8Array {
  const host = hostOfVm(spec, vm);
  const expiry = header.expiry ?? TEST_EXPIRY;
  return encodeTunnelPacket({
    eth: { dst: host.underlay.mac, src: gateway.underlay.mac },
    sender: { ip: gateway.underlay.ipv4, port: gateway.underlay.tunnelUdpPort },
    receiver: { ip: host.underlay.ipv4, port: vm.udpPort },
    header: {
      token: header.token ?? computeToken(TEST_KEYS.host(host.name), requestTokenFields(spec, gateway, vip, vm, TEST_EXPIRY)),
      expiry,
    },
    inner,
    fixInner: false,
  });
}

/** The packet a VM's host sends a gateway for the VM's reply `inner`. */
export function hostTunnelFrame(
  spec: LbSpec,
  gateway: Gateway,
  vm: Vm,
  inner: InnerPacket,
  header: { token?: bigint; expiry?: number } = {},
): Uint8Array {
  const host = hostOfVm(spec, vm);
  return encodeTunnelPacket({
    eth: { dst: gateway.underlay.mac, src: host.underlay.mac },
    sender: { ip: host.underlay.ipv4, port: vm.udpPort },
    receiver: { ip: gateway.underlay.ipv4, port: gateway.underlay.tunnelUdpPort },
    header: {
      token: header.token ?? computeToken(TEST_KEYS.gateway(gateway.name), replyTokenFields(spec, gateway, vm, TEST_EXPIRY)),
      expiry: header.expiry ?? TEST_EXPIRY,
    },
    inner,
    fixInner: false,
  });
}

// ------------------------------------------------------------------ scenarios

export interface ScenarioOptions {
  readonly spec?: LbSpec;
  /** Default: a fresh embedded target. */
  readonly target?: PacketTestTarget;
}

export interface GatewayScenario {
  readonly sw: PacketTest;
  readonly spec: LbSpec;
  readonly gateway: Gateway;
  readonly entries: ProgramEntries;
  vip(name: string): Vip;
  vm(name: string): Vm;
  /** The VIP's slot table as installed. */
  slotTable(vip: string): SlotTable;
  /** The VM a new flow of this packet's VIP gets, by core/hash. */
  predictedBackend(vip: string, p: ClientPacket): Vm;
  /** A client's frame as it reaches the gateway's public port. */
  clientFrame(p: ClientPacket): Uint8Array;
}

export async function gatewayScenario(name: string, options: ScenarioOptions = {}): Promise<GatewayScenario> {
  const spec = options.spec ?? exampleSpec();
  const gateway = gatewayByName(spec, name);
  const target = options.target ?? new EmbeddedTarget();
  await target.load(gatewayProgram(spec), 'gateway.p4');
  const sw = new PacketTest(target, { decode: tunnelDecoding(spec) });
  const entries = cachedGatewayEntries(spec, name);
  await sw.install(entries);
  const tables = new Map<string, SlotTable>();
  const slotTable = (vip: string): SlotTable => {
    let t = tables.get(vip);
    if (t === undefined) {
      t = vipSlotTable(spec, gateway, vipByName(spec, vip), () => true);
      if (t === undefined) throw new Error(`VIP ${vip} has no backend`);
      tables.set(vip, t);
    }
    return t;
  };
  return {
    sw,
    spec,
    gateway,
    entries,
    vip: (v) => vipByName(spec, v),
    vm: (v) => vmByName(spec, v),
    slotTable,
    predictedBackend(vip, p) {
      const v = vipByName(spec, vip);
      const table = slotTable(vip);
      return vmByName(spec, table.backends[table.owner[slotOf(flowHash(v.flowKey, tupleOf(p)), v.slots)]!]!);
    },
    clientFrame: (p) => frame(gateway.underlay.mac, CLIENT_ROUTER_MAC, innerPacket(p)),
  };
}

export interface HostScenario {
  readonly sw: PacketTest;
  readonly spec: LbSpec;
  readonly host: Host;
  /** The gateway the host's VMs reply through. */
  readonly replyGateway: Gateway;
  readonly entries: ProgramEntries;
  vm(name: string): Vm;
  /** A frame a VM sends on its NIC port. */
  vmFrame(vm: string, p: ClientPacket): Uint8Array;
}

export async function hostScenario(name: string, options: ScenarioOptions = {}): Promise<HostScenario> {
  const spec = options.spec ?? exampleSpec();
  const host = hostByName(spec, name);
  const target = options.target ?? new EmbeddedTarget();
  await target.load(hostProgram(spec), 'host.p4');
  const sw = new PacketTest(target, { decode: tunnelDecoding(spec) });
  const entries = hostEntries(spec, { host: name, keys: TEST_KEYS, expiry: TEST_EXPIRY });
  await sw.install(entries);
  return {
    sw,
    spec,
    host,
    replyGateway: replyGatewayOf(spec, host),
    entries,
    vm: (v) => vmByName(spec, v),
    vmFrame: (vm, p) => frame(host.underlay.mac, vmMac(vmByName(spec, vm)), innerPacket(p)),
  };
}
