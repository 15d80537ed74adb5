/**
 * The table entries a gateway or host program needs for a spec: the same computation the
 * controller does (VIPs, consistent-hash slots, backends with their tokens, routes, the token
 * tables, NAT reverse), written as pure functions so the controller can take this module over.
 * Ids come from core/spec/lookup.ts, codes and the entry layout from core/p4-contract.ts, slot
 * tables from core/hash, tokens from core/token.
 */
import { buildSlotTable, type SlotTable } from '../../core/hash/index.ts';
import { FLOW_KEY_CODES, VIP_MODE_CODES, idleTimeoutTicks } from '../../core/p4-contract.ts';
import {
  backendId, distanceKm, gatewayByName, hostByName, hostOfVm, locationNameOfVm, locationOf, vipId, vmMac,
  vmsOfHost, vmsOfVip, vipsOfVm,
} from '../../core/spec/lookup.ts';
import type { Gateway, Host, LbSpec, Vip, Vm } from '../../core/spec/schema.ts';
import { computeToken, type TokenFields } from '../../core/token/token.ts';
import { PacketTestError } from './errors.ts';
import type { DefaultAction, KeyValue, ScalarValue, TableEntry } from './target.ts';

/** Control-plane names in templates/gateway.p4.hbs. */
export const GATEWAY_P4 = {
  gatewayConfig: 'GatewayIngress.gateway_config',
  vipTable: 'GatewayIngress.vip_table',
  slotTable: 'GatewayIngress.slot_table',
  backendTable: 'GatewayIngress.backend_table',
  tokenTable: 'GatewayIngress.token_table',
  natReverse: 'GatewayIngress.nat_reverse',
  routes: 'GatewayIngress.routes',
  drops: 'GatewayIngress.drops',
  vipStats: 'GatewayIngress.vip_stats',
  backendStats: 'GatewayIngress.backend_stats',
  flowWay0: 'GatewayIngress.flow_way0',
  flowWay1: 'GatewayIngress.flow_way1',
} as const;

/** Control-plane names in templates/host.p4.hbs. */
export const HOST_P4 = {
  hostConfig: 'HostIngress.host_config',
  localVm: 'HostIngress.local_vm',
  tokenTable: 'HostIngress.token_table',
  vmPort: 'HostIngress.vm_port',
  peerTable: 'HostIngress.peer_table',
  routes: 'HostIngress.routes',
  drops: 'HostIngress.drops',
  vmRx: 'HostIngress.vm_rx',
  vmTx: 'HostIngress.vm_tx',
} as const;

const PROTOCOL_NUMBERS = { tcp: 6, udp: 17 } as const;
const ANY_IPV4: KeyValue = { value: '0.0.0.0', prefixLength: 0 };
const HOST_ROUTE = (ip: string): KeyValue => ({ value: ip, prefixLength: 32 });

/** The 32-byte secrets of the receiving sides: a token is a MAC under the receiver's key. */
export interface TokenKeys {
  gateway(name: string): Uint8Array;
  host(name: string): Uint8Array;
}

export interface ProgramEntries {
  readonly defaults: readonly DefaultAction[];
  readonly entries: readonly TableEntry[];
}

/**
 * The token a gateway puts on a VIP's packets to a VM (checked by the VM's host): it binds the
 * gateway's tunnel endpoint, the VM's, and the inner destination the VM receives (the VIP in
 * tunnel mode, the VM's own address after NAT); the client is left open (0).
 */
export function requestTokenFields(spec: LbSpec, gateway: Gateway, vip: Vip, vm: Vm, expiry: number): TokenFields {
  const host = hostOfVm(spec, vm);
  return {
    senderIp: gateway.underlay.ipv4,
    senderPort: gateway.underlay.tunnelUdpPort,
    receiverIp: host.underlay.ipv4,
    receiverPort: vm.udpPort,
    innerSrcIp: 0,
    innerDstIp: vip.mode === 'nat' ? vm.privateIpv4 : vip.address,
    expiry,
  };
}

/**
 * The token a host puts on a VM's replies to a gateway (checked by the gateway): one per VM, so
 * it binds the VM's tunnel endpoint and its private address and leaves the client open (0).
 */
export function replyTokenFields(spec: LbSpec, gateway: Gateway, vm: Vm, expiry: number): TokenFields {
  const host = hostOfVm(spec, vm);
  return {
    senderIp: host.underlay.ipv4,
    senderPort: vm.udpPort,
    receiverIp: gateway.underlay.ipv4,
    receiverPort: gateway.underlay.tunnelUdpPort,
    innerSrcIp: vm.privateIpv4,
    innerDstIp: 0,
    expiry,
  };
}

/**
 * The VMs a gateway balances a VIP over: the healthy ones, and with geoPreference only those of
 * the closest location (to the gateway) that still has a healthy one.
 */
export function vipBackendsFor(spec: LbSpec, gateway: Gateway, vip: Vip, healthy: (vm: string) => boolean): Vm[] {
  const up = vmsOfVip(spec, vip).filter((vm) => healthy(vm.name));
  const here = locationOf(spec, gateway.location);
  if (!vip.geoPreference || here === undefined) return up;
  let best: { distance: number; location: string | undefined } | undefined;
  for (const vm of up) {
    const name = locationNameOfVm(spec, vm);
    const at = locationOf(spec, name);
    const distance = at === undefined ? Infinity : distanceKm(here, at);
    if (best === undefined || distance < best.distance) best = { distance, location: name };
  }
  return best === undefined ? [] : up.filter((vm) => locationNameOfVm(spec, vm) === best.location);
}

/** The VIP's slot table as this gateway computes it; undefined when no backend is up. */
export function vipSlotTable(spec: LbSpec, gateway: Gateway, vip: Vip, healthy: (vm: string) => boolean): SlotTable | undefined {
  const backends = vipBackendsFor(spec, gateway, vip, healthy);
  if (backends.length === 0) return undefined;
  return buildSlotTable(vip.algorithm, backends.map((vm) => ({ name: vm.name, weight: vm.weight })), vip.slots);
}

/** One slot_table entry per slot: (vip_id, slot) → the owner's backend id. */
export function slotEntries(spec: LbSpec, vip: Vip, table: SlotTable): TableEntry[] {
  const id = vipId(spec, vip.name);
  const ids = table.backends.map((name) => backendId(spec, name));
  const out: TableEntry[] = new Array(table.slots);
  for (let slot = 0; slot < table.slots; slot++) {
    out[slot] = {
      table: GATEWAY_P4.slotTable,
      keys: { vip_id: id, slot },
      action: 'GatewayIngress.set_slot_backend',
      params: { backend_id: ids[table.owner[slot]!]! },
    };
  }
  return out;
}

export interface GatewayEntriesOptions {
  readonly gateway: string;
  readonly keys: TokenKeys;
  /** Token expiry, seconds since the Unix epoch. */
  readonly expiry: number;
  /** The router on the public side: the destination MAC of packets to clients. */
  readonly publicNextHopMac: string;
  /** Source MAC on the public side; the spec has none, so the underlay MAC by default. */
  readonly publicMac?: string;
  /** Which VMs count as healthy (default: all). */
  readonly healthy?: (vm: string) => boolean;
}

function entry(table: string, keys: Record<string, KeyValue>, action: string, params: Record<string, ScalarValue>): TableEntry {
  return { table, keys, action, params };
}

/** Drops exact duplicates (the same key twice with the same action); a conflicting duplicate is a spec the program cannot serve. */
function unique(entries: readonly TableEntry[]): TableEntry[] {
  const seen = new Map<string, string>();
  const out: TableEntry[] = [];
  const text = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  for (const e of entries) {
    const key = `${e.table} ${text(e.keys)}`;
    const value = `${e.action} ${text(e.params)}`;
    const before = seen.get(key);
    if (before === undefined) {
      seen.set(key, value);
      out.push(e);
    } else if (before !== value) {
      throw new PacketTestError('PACKET_TEST_ENTRIES', `${e.table}: key ${text(e.keys)} wanted by two entries (${before} and ${value})`);
    }
  }
  return out;
}

export function gatewayEntries(spec: LbSpec, options: GatewayEntriesOptions): ProgramEntries {
  const gw = gatewayByName(spec, options.gateway);
  const healthy = options.healthy ?? (() => true);
  const { expiry } = options;
  const defaults: DefaultAction[] = [
    {
      table: GATEWAY_P4.gatewayConfig,
      action: 'GatewayIngress.set_gateway',
      params: { underlay_addr: gw.underlay.ipv4, tunnel_port: gw.underlay.tunnelUdpPort },
    },
  ];
  const entries: TableEntry[] = [];
  for (const vip of spec.vips) {
    const id = vipId(spec, vip.name);
    const protocol = PROTOCOL_NUMBERS[vip.protocol];
    for (const port of vip.ports) {
      entries.push(entry(GATEWAY_P4.vipTable, { dst_addr: vip.address, protocol, dst_port: port }, 'GatewayIngress.set_vip', {
        vip_id: id,
        mode: VIP_MODE_CODES[vip.mode],
        flow_key: FLOW_KEY_CODES[vip.flowKey].code,
        slots: vip.slots,
        idle_ticks: idleTimeoutTicks(vip.flowIdleTimeoutSeconds),
        // 0 keeps the client's destination port.
        nat_port: vip.mode === 'nat' ? (vip.targetPort ?? 0) : 0,
      }));
    }
    const table = vipSlotTable(spec, gw, vip, healthy);
    if (table !== undefined) entries.push(...slotEntries(spec, vip, table));
    for (const vm of vmsOfVip(spec, vip)) {
      const host = hostOfVm(spec, vm);
      const token = computeToken(options.keys.host(host.name), requestTokenFields(spec, gw, vip, vm, expiry));
      entries.push(entry(GATEWAY_P4.backendTable, { vip_id: id, backend_id: backendId(spec, vm.name) }, 'GatewayIngress.set_backend', {
        host_addr: host.underlay.ipv4,
        vm_port: vm.udpPort,
        vm_addr: vm.privateIpv4,
        token,
        expiry,
      }));
      if (vip.mode === 'nat') {
        for (const port of vip.ports) {
          entries.push(entry(GATEWAY_P4.natReverse, { vm_addr: vm.privateIpv4, protocol, vm_port: vip.targetPort ?? port }, 'GatewayIngress.nat_to_vip', {
            vip_addr: vip.address,
            vip_port: port,
          }));
        }
      }
    }
  }
  for (const vm of spec.vms) {
    if (vipsOfVm(spec, vm).length === 0) continue;
    const host = hostOfVm(spec, vm);
    const token = computeToken(options.keys.gateway(gw.name), replyTokenFields(spec, gw, vm, expiry));
    entries.push(entry(GATEWAY_P4.tokenTable, { src_addr: host.underlay.ipv4, src_port: vm.udpPort, token, expiry }, 'GatewayIngress.accept_tunnel', {}));
  }
  for (const host of spec.hosts) {
    entries.push(entry(GATEWAY_P4.routes, { dst_addr: HOST_ROUTE(host.underlay.ipv4) }, 'GatewayIngress.forward', {
      port: gw.ports.underlay,
      src_mac: gw.underlay.mac,
      dst_mac: host.underlay.mac,
    }));
  }
  entries.push(entry(GATEWAY_P4.routes, { dst_addr: ANY_IPV4 }, 'GatewayIngress.forward', {
    port: gw.ports.public,
    src_mac: options.publicMac ?? gw.underlay.mac,
    dst_mac: options.publicNextHopMac,
  }));
  return { defaults, entries: unique(entries) };
}

/** The gateway a host's VMs reply through: one at the host's location, else the first by name. */
export function replyGatewayOf(spec: LbSpec, host: Host): Gateway {
  const sorted = [...spec.gateways].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return sorted.find((g) => host.location !== undefined && g.location === host.location) ?? sorted[0]!;
}

export interface HostEntriesOptions {
  readonly host: string;
  readonly keys: TokenKeys;
  readonly expiry: number;
  /** The gateway the VMs' replies go to (default: replyGatewayOf). */
  readonly replyGateway?: string;
}

export function hostEntries(spec: LbSpec, options: HostEntriesOptions): ProgramEntries {
  const host = hostByName(spec, options.host);
  const { expiry } = options;
  const reply = options.replyGateway === undefined ? replyGatewayOf(spec, host) : gatewayByName(spec, options.replyGateway);
  const defaults: DefaultAction[] = [
    { table: HOST_P4.hostConfig, action: 'HostIngress.set_host', params: { underlay_addr: host.underlay.ipv4 } },
  ];
  const entries: TableEntry[] = [];
  for (const vm of vmsOfHost(spec, host)) {
    const id = backendId(spec, vm.name);
    entries.push(entry(HOST_P4.localVm, { vm_udp_port: vm.udpPort }, 'HostIngress.deliver_to_vm', {
      vm_id: id,
      port: vm.nicPort,
      host_mac: host.underlay.mac,
      vm_mac: vmMac(vm),
    }));
    entries.push(entry(HOST_P4.vmPort, { port: vm.nicPort }, 'HostIngress.from_vm', { vm_id: id, vm_udp_port: vm.udpPort }));
    for (const gw of spec.gateways) {
      for (const vip of vipsOfVm(spec, vm)) {
        const token = computeToken(options.keys.host(host.name), requestTokenFields(spec, gw, vip, vm, expiry));
        entries.push(entry(HOST_P4.tokenTable, {
          src_addr: gw.underlay.ipv4,
          src_port: gw.underlay.tunnelUdpPort,
          vm_udp_port: vm.udpPort,
          token,
          expiry,
        }, 'HostIngress.accept_tunnel', {}));
      }
    }
    const replyToken = computeToken(options.keys.gateway(reply.name), replyTokenFields(spec, reply, vm, expiry));
    entries.push(entry(HOST_P4.peerTable, { vm_id: id, dst_addr: ANY_IPV4 }, 'HostIngress.encap_to_peer', {
      peer_addr: reply.underlay.ipv4,
      peer_port: reply.underlay.tunnelUdpPort,
      token: replyToken,
      expiry,
    }));
  }
  for (const gw of spec.gateways) {
    entries.push(entry(HOST_P4.routes, { dst_addr: HOST_ROUTE(gw.underlay.ipv4) }, 'HostIngress.forward', {
      port: host.ports.underlay,
      src_mac: host.underlay.mac,
      dst_mac: gw.underlay.mac,
    }));
  }
  return { defaults, entries: unique(entries) };
}
