/**
 * Spec → view models of the gateway and host programs: every number and name the templates
 * print, computed here (templates hold no logic). A spec that the programs cannot honour fails
 * here, before anything is written.
 */
import { createHash } from 'node:crypto';
import { FLOW_KEY_FIELDS, FLOW_KEY_KINDS, FLOW_STATE_WAY1_SALT, type FlowKeyFieldName } from '../core/hash/flow-key.ts';
import { byCodeUnit } from '../core/order.ts';
import { TUNNEL_HEADER_BYTES, TUNNEL_HEADER_FIELDS } from '../core/packet/tunnel.ts';
import { TUNNEL_OUTER_IPV4 } from '../core/packet/tunnel-packet.ts';
import {
  FLOW_KEY_CODES,
  GATEWAY_DROP_REASONS,
  HOST_DROP_REASONS,
  VIP_MODE_CODES,
  type DropReason,
} from '../core/p4-contract.ts';
import { MAX_DATA_PLANE_ID, maxId, positionalIds, type SpecIds } from '../core/spec/ids.ts';
import type { LbSpec } from '../core/spec/schema.ts';
import { GenerateError } from './errors.ts';
import { GATEWAY_IDS, HOST_IDS } from './ids.ts';

/** BMv2's conventional CPU port (simple_switch_grpc --cpu-port), used when the spec names none. */
export const DEFAULT_CPU_PORT = 255;
const IPV4_HEADER_BYTES = 20;
const UDP_HEADER_BYTES = 8;
/** Smallest size of the tables whose entries the controller adds at run time. */
const MIN_RUNTIME_TABLE = 1024;

/** The action that computes a flow-key kind's hashes, and its id's name in ids.ts. */
const HASH_ACTIONS = {
  '5-tuple': { name: 'hash_flow_5_tuple', id: 'hashFlow5Tuple' },
  '3-tuple': { name: 'hash_flow_3_tuple', id: 'hashFlow3Tuple' },
  '2-tuple': { name: 'hash_flow_2_tuple', id: 'hashFlow2Tuple' },
} as const;

/** Where each flow-key field is in the gateway program, in core's field order. */
export const FLOW_KEY_P4_FIELDS: Readonly<Record<FlowKeyFieldName, string>> = {
  srcAddr: 'hdr.ipv4.srcAddr',
  dstAddr: 'hdr.ipv4.dstAddr',
  protocol: 'hdr.ipv4.protocol',
  srcPort: 'meta.l4_src_port',
  dstPort: 'meta.l4_dst_port',
};

export interface CommonViewModel {
  readonly deployment: string;
  readonly generatorVersion: string;
  readonly specDigest: string;
  readonly cpuPort: number;
  readonly tunnelHeaderBytes: number;
  readonly tunnelHeaderFields: readonly { name: string; width: number }[];
  /** Outer IPv4 + UDP + tunnel header: what encapsulation adds to the IPv4 total length. */
  readonly tunnelOverhead: number;
  /** UDP header + tunnel header: the UDP length beyond the inner packet. */
  readonly tunnelUdpOverhead: number;
  /** TTL, flags and identification of the outer IPv4 header. */
  readonly outerIpv4: typeof TUNNEL_OUTER_IPV4;
  /** UDP destination ports that the parser reads a tunnel header after. */
  readonly tunnelPorts: readonly number[];
  readonly dropReasons: readonly DropReason[];
  readonly dropReasonCount: number;
}

/** Entries per table (and cells per counter) of the gateway program. */
export interface GatewaySizes {
  readonly vipTable: number;
  readonly slotTable: number;
  readonly backendTable: number;
  readonly tokenTable: number;
  readonly natReverse: number;
  readonly routes: number;
  readonly vipCounter: number;
  readonly backendCounter: number;
}

/** Entries per table (and cells per counter) of the host program. */
export interface HostSizes {
  readonly localVm: number;
  readonly tokenTable: number;
  readonly peerTable: number;
  readonly routes: number;
  readonly vmCounter: number;
}

export interface GatewayViewModel extends CommonViewModel {
  readonly ids: typeof GATEWAY_IDS;
  readonly modes: typeof VIP_MODE_CODES;
  readonly flowKeys: readonly { constName: string; code: number; fields: readonly string[]; actionName: string; actionId: number }[];
  readonly flowSlots: number;
  readonly flowWay1Salt: string;
  readonly sizes: GatewaySizes;
}

export interface HostViewModel extends CommonViewModel {
  readonly ids: typeof HOST_IDS;
  readonly sizes: HostSizes;
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** A table the controller fills at run time: room for twice the spec's entries, at least 1024. */
function runtimeTableSize(entries: number): number {
  return Math.max(MIN_RUNTIME_TABLE, nextPowerOfTwo(entries * 2));
}

/**
 * What the gateway tables must hold for `spec`, without headroom: the controller installs this
 * many entries (counters: the largest id + 1 cells). A running program can take a changed spec
 * whose needs fit its sizes (program-change.ts). `ids` default to the positions a deployment starts with.
 */
export function gatewayNeeds(spec: LbSpec, ids: SpecIds = positionalIds(spec)): GatewaySizes {
  const vipBackends = spec.vips.reduce((n, v) => n + v.backends.length, 0);
  return {
    vipTable: spec.vips.reduce((n, v) => n + v.ports.length, 0),
    slotTable: spec.vips.reduce((n, v) => n + v.slots, 0),
    // Two entries per (VIP, backend): the current token and its successor during renewal.
    backendTable: vipBackends * 2,
    tokenTable: spec.vms.length * 2,
    // One entry per (NAT VIP, backend, VIP port): replies are translated back by VM and port.
    natReverse: spec.vips.reduce((n, v) => n + (v.mode === 'nat' ? v.backends.length * v.ports.length : 0), 0),
    routes: spec.hosts.length + 1,
    vipCounter: maxId(ids.vip) + 1,
    backendCounter: maxId(ids.backend) + 1,
  };
}

/** Per table, the larger of two needs. */
function larger<T extends object>(a: T, b: T): T {
  return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, Math.max(v as number, (b as Record<string, number>)[k]!)])) as T;
}

/** What `spec.capacity` plans for: VIPs as large as the spec's largest, any VM a backend of any VIP. */
function planned(spec: LbSpec): { readonly vips: number; readonly vms: number; readonly ports: number; readonly slots: number } | undefined {
  if (spec.capacity === undefined) return undefined;
  return {
    vips: Math.max(spec.capacity.vips ?? 0, spec.vips.length),
    vms: Math.max(spec.capacity.vms ?? 0, spec.vms.length),
    ports: Math.max(...spec.vips.map((v) => v.ports.length)),
    slots: Math.max(...spec.vips.map((v) => v.slots)),
  };
}

/** The gateway tables at the spec's `capacity`, or its own needs when it plans none. */
function gatewayRoom(spec: LbSpec): GatewaySizes {
  const needs = gatewayNeeds(spec);
  const p = planned(spec);
  if (p === undefined) return needs;
  return larger(needs, {
    vipTable: p.vips * p.ports,
    slotTable: p.vips * p.slots,
    backendTable: p.vips * p.vms * 2,
    tokenTable: p.vms * 2,
    natReverse: p.vips * p.vms * p.ports,
    routes: needs.routes,
    vipCounter: p.vips + 1,
    backendCounter: p.vms + 1,
  });
}

/** The host tables at the spec's `capacity`, or its own needs when it plans none. */
function hostRoom(spec: LbSpec): HostSizes {
  const needs = hostNeeds(spec);
  const p = planned(spec);
  if (p === undefined) return needs;
  const peers = spec.gateways.length + p.vms;
  return larger(needs, { localVm: p.vms, tokenTable: p.vms * peers * 2, peerTable: p.vms * peers, routes: needs.routes, vmCounter: p.vms + 1 });
}

/** What the host tables must hold for `spec`, without headroom (see gatewayNeeds). */
export function hostNeeds(spec: LbSpec, ids: SpecIds = positionalIds(spec)): HostSizes {
  const peers = spec.gateways.length + spec.vms.length;
  return {
    localVm: spec.vms.length,
    // Tokens from every gateway and peer host, for each VM, with renewals overlapping.
    tokenTable: spec.vms.length * peers * 2,
    peerTable: spec.vms.length * peers,
    routes: spec.hosts.length + 1,
    vmCounter: maxId(ids.backend) + 1,
  };
}

/** SHA-256 of the validated spec as canonical JSON (keys sorted): comments and layout do not count. */
export function specDigest(spec: LbSpec): string {
  const canonical = JSON.stringify(spec, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => byCodeUnit(a, b)))
      : value,
  );
  return `sha256:${createHash('sha256').update(canonical).digest('hex')}`;
}

function uniqueSorted(values: readonly number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

function cpuPortOf(spec: LbSpec): number {
  const ports = uniqueSorted(spec.gateways.map((g) => g.ports.cpu ?? DEFAULT_CPU_PORT));
  if (ports.length > 1) {
    throw new GenerateError(
      'GENERATE_CPU_PORT',
      `gateways use different CPU ports (${ports.join(', ')}); one gateway program serves them all`,
      { location: { path: 'gateways[].ports.cpu' }, hint: 'give every gateway the same ports.cpu' },
    );
  }
  return ports[0]!;
}

function checkLimits(spec: LbSpec, gatewayTunnelPorts: readonly number[]): void {
  if (spec.vips.length > MAX_DATA_PLANE_ID) {
    throw new GenerateError('GENERATE_TOO_MANY', `${spec.vips.length} VIPs; vip_id is 16 bits`, {
      location: { path: 'vips' },
    });
  }
  if (spec.vms.length > MAX_DATA_PLANE_ID) {
    throw new GenerateError('GENERATE_TOO_MANY', `${spec.vms.length} VMs; backend_id is 16 bits`, {
      location: { path: 'vms' },
    });
  }
  spec.vips.forEach((vip, i) => {
    if (vip.protocol !== 'udp') return;
    vip.ports.forEach((port, j) => {
      if (gatewayTunnelPorts.includes(port)) {
        throw new GenerateError(
          'GENERATE_PORT_CLASH',
          `UDP VIP port ${port} is also a gateway tunnel port: the parser could not tell them apart`,
          { location: { path: `vips[${i}].ports[${j}]` }, hint: 'choose another VIP port or tunnelUdpPort' },
        );
      }
    });
  });
}

function common(spec: LbSpec, version: string, tunnelPorts: readonly number[], drops: readonly DropReason[]) {
  return {
    deployment: spec.deployment,
    generatorVersion: version,
    specDigest: specDigest(spec),
    cpuPort: cpuPortOf(spec),
    tunnelHeaderBytes: TUNNEL_HEADER_BYTES,
    tunnelHeaderFields: TUNNEL_HEADER_FIELDS.map((f) => ({ name: f.name, width: f.bits })),
    tunnelOverhead: IPV4_HEADER_BYTES + UDP_HEADER_BYTES + TUNNEL_HEADER_BYTES,
    tunnelUdpOverhead: UDP_HEADER_BYTES + TUNNEL_HEADER_BYTES,
    outerIpv4: TUNNEL_OUTER_IPV4,
    tunnelPorts,
    dropReasons: drops,
    dropReasonCount: drops.length,
  };
}

export function gatewayViewModel(spec: LbSpec, generatorVersion: string): GatewayViewModel {
  const tunnelPorts = uniqueSorted(spec.gateways.map((g) => g.underlay.tunnelUdpPort));
  checkLimits(spec, tunnelPorts);
  const needs = gatewayRoom(spec);
  const largestVip = Math.max(...spec.vips.map((v) => v.slots));
  return {
    ...common(spec, generatorVersion, tunnelPorts, GATEWAY_DROP_REASONS),
    ids: GATEWAY_IDS,
    modes: VIP_MODE_CODES,
    flowKeys: FLOW_KEY_KINDS.map((kind) => ({
      ...FLOW_KEY_CODES[kind],
      fields: FLOW_KEY_FIELDS[kind].map((f) => FLOW_KEY_P4_FIELDS[f.name]),
      actionName: HASH_ACTIONS[kind].name,
      actionId: GATEWAY_IDS.actions[HASH_ACTIONS[kind].id],
    })),
    flowSlots: spec.flowState.slotsPerGateway,
    flowWay1Salt: `0x${FLOW_STATE_WAY1_SALT.toString(16)}`,
    sizes: {
      vipTable: runtimeTableSize(needs.vipTable),
      // Room for the spec's VIPs (or its capacity) and one more of the largest size, added at run time.
      slotTable: needs.slotTable + largestVip,
      backendTable: Math.max(MIN_RUNTIME_TABLE, nextPowerOfTwo(needs.backendTable)),
      tokenTable: runtimeTableSize(needs.tokenTable),
      natReverse: runtimeTableSize(needs.natReverse),
      routes: MIN_RUNTIME_TABLE,
      vipCounter: runtimeTableSize(needs.vipCounter),
      backendCounter: runtimeTableSize(needs.backendCounter),
    },
  };
}

export function hostViewModel(spec: LbSpec, generatorVersion: string): HostViewModel {
  // Spare ports let a running controller add VMs without new programs (program-change.ts).
  const tunnelPorts = uniqueSorted([...spec.vms.map((vm) => vm.udpPort), ...spec.spareVmUdpPorts]);
  checkLimits(spec, uniqueSorted(spec.gateways.map((g) => g.underlay.tunnelUdpPort)));
  const needs = hostRoom(spec);
  return {
    ...common(spec, generatorVersion, tunnelPorts, HOST_DROP_REASONS),
    ids: HOST_IDS,
    sizes: {
      localVm: runtimeTableSize(needs.localVm),
      tokenTable: runtimeTableSize(needs.tokenTable),
      peerTable: runtimeTableSize(needs.peerTable),
      routes: MIN_RUNTIME_TABLE,
      vmCounter: runtimeTableSize(needs.vmCounter),
    },
  };
}
