/**
 * The table entries a gateway or host program needs for a spec, for packet tests: a thin
 * adapter over the controller's definition in runtime-controller/lb/, so the tests install
 * exactly what the controller would. Health is a per-VM predicate here (default: all healthy).
 */
import { positionalIds } from '../../core/spec/ids.ts';
import type { SlotTable } from '../../core/hash/index.ts';
import type { Gateway, LbSpec, Vip, Vm } from '../../core/spec/schema.ts';
import {
  computeGatewayTables, computeHostTables, healthyBackends, slotTableOf, type GatewayView, type TokenKeys,
} from '../../runtime-controller/lb/index.ts';
import type { DefaultAction, TableEntry } from './target.ts';

export {
  GATEWAY_P4, HOST_P4, replyGatewayOf, replyTokenFields, requestTokenFields, slotEntries, type TokenKeys,
} from '../../runtime-controller/lb/index.ts';

export interface ProgramEntries {
  readonly defaults: readonly DefaultAction[];
  readonly entries: readonly TableEntry[];
}

function viewOf(healthy: (vm: string) => boolean): GatewayView {
  return { isHealthy: (_vip, vm) => healthy(vm), isDrained: () => false };
}

/**
 * The VMs a gateway balances a VIP over: the healthy ones, and with geoPreference those of its
 * own location, else of the closest location that still has a healthy one.
 */
export function vipBackendsFor(spec: LbSpec, gateway: Gateway, vip: Vip, healthy: (vm: string) => boolean): Vm[] {
  const selection = healthyBackends(spec, gateway, vip, viewOf(healthy));
  return selection.ok ? [...selection.vms] : [];
}

/** The VIP's slot table as this gateway computes it; undefined when no backend is up. */
export function vipSlotTable(spec: LbSpec, gateway: Gateway, vip: Vip, healthy: (vm: string) => boolean): SlotTable | undefined {
  const backends = vipBackendsFor(spec, gateway, vip, healthy);
  return backends.length === 0 ? undefined : slotTableOf(vip, backends);
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
  /** Which VMs count as healthy (default: all); an unhealthy VM has no slots and no backend entry. */
  readonly healthy?: (vm: string) => boolean;
}

export function gatewayEntries(spec: LbSpec, options: GatewayEntriesOptions): ProgramEntries {
  const { defaults, entries } = computeGatewayTables({
    spec,
    // Packet tests install a fresh deployment: its ids are the starting positions.
    ids: positionalIds(spec),
    gateway: options.gateway,
    view: viewOf(options.healthy ?? (() => true)),
    keys: options.keys,
    expiry: options.expiry,
    publicNextHopMac: options.publicNextHopMac,
    ...(options.publicMac === undefined ? {} : { publicMac: options.publicMac }),
  });
  return { defaults, entries };
}

export interface HostEntriesOptions {
  readonly host: string;
  readonly keys: TokenKeys;
  readonly expiry: number;
  /** The gateway the VMs' replies go to (default: replyGatewayOf). */
  readonly replyGateway?: string;
}

export function hostEntries(spec: LbSpec, options: HostEntriesOptions): ProgramEntries {
  const { defaults, entries } = computeHostTables({ spec, ids: positionalIds(spec), ...options });
  return { defaults, entries };
}
