/**
 * The entries a gateway's program needs, computed from the spec and that gateway's view alone:
 * vip_table, slot_table (the consistent-hash table of the selected backends), backend_table
 * (with request tokens), token_table (reply tokens), nat_reverse and routes. When a VIP has no
 * backend to select, its last table is kept and an alarm raised: a stale table still serves
 * pinned and lucky flows, an empty one would drop them all.
 */
import { buildSlotTable, type SlotTable } from '../../core/hash/index.ts';
import { FLOW_KEY_CODES, VIP_MODE_CODES, idleTimeoutTicks } from '../../core/p4-contract.ts';
import { backendIdIn, vipIdIn, type SpecIds } from '../../core/spec/ids.ts';
import { gatewayByName, hostOfVm, vmsOfVip, vipsOfVm } from '../../core/spec/lookup.ts';
import type { Gateway, LbSpec, Vip, Vm } from '../../core/spec/schema.ts';
import { computeToken } from '../../core/token/token.ts';
import { healthyBackends, type BackendSelection, type GatewayView } from './backends.ts';
import type { DefaultAction, KeyValue, ScalarValue, TableEntry } from './entry.ts';
import { GATEWAY_ACTIONS, GATEWAY_P4 } from './p4-names.ts';
import { requestTokenFields, replyTokenFields, type TokenKeys } from './tokens.ts';
import { uniqueEntries } from './unique.ts';

export const PROTOCOL_NUMBERS = { tcp: 6, udp: 17 } as const;
/** The default route's key: every IPv4 destination. */
export const ANY_IPV4: KeyValue = { value: '0.0.0.0', prefixLength: 0 };
export const hostRoute = (ip: string): KeyValue => ({ value: ip, prefixLength: 32 });

/**
 * `ok`: computed from the current selection. `kept-last`: nothing to select, the previous
 * table stays. `empty`: nothing to select and no previous table (the VIP drops as `no-slot`).
 */
export type VipTableStatus = 'ok' | 'kept-last' | 'empty';

export interface VipTables {
  readonly vip: string;
  readonly status: VipTableStatus;
  readonly selection: BackendSelection;
  readonly slotTable: SlotTable | undefined;
  /** slotTableKey of the slot table's inputs, to reuse it next round when they are unchanged. */
  readonly slotTableKey: string | undefined;
  /** VMs with a backend_table entry: the healthy ones, drained or not (their pinned flows continue). */
  readonly backendVms: readonly string[];
}

/** A VIP this gateway cannot balance: every backend is down or drained. */
export interface LbAlarm {
  readonly code: 'LB_NO_BACKEND';
  readonly gateway: string;
  readonly vip: string;
  readonly reason: 'no-healthy-backend' | 'all-drained';
  /** True when the previous table was kept; false when there was none (the VIP has no slots). */
  readonly keptLastTable: boolean;
  readonly message: string;
}

export interface GatewayTables {
  readonly gateway: string;
  readonly defaults: readonly DefaultAction[];
  readonly entries: readonly TableEntry[];
  /** Per VIP, in spec order: what was selected and why; pass the whole result back as `previous`. */
  readonly vips: readonly VipTables[];
  readonly alarms: readonly LbAlarm[];
}

/** A gateway's tables without the entry list: what a caller keeps between rounds (the entries live on as what it wrote). */
export type GatewayTablesSummary = Omit<GatewayTables, 'entries'>;

export interface GatewayTablesOptions {
  readonly spec: LbSpec;
  /** The data-plane ids of the spec's VIPs and VMs (the registry's; positionalIds for a fresh deployment). */
  readonly ids: SpecIds;
  readonly gateway: string;
  readonly view: GatewayView;
  readonly keys: TokenKeys;
  /** Token expiry, seconds since the Unix epoch. */
  readonly expiry: number;
  /** The router on the public side, the destination MAC of packets to clients; default: the spec's `gateways[].publicNextHopMac`. */
  readonly publicNextHopMac?: string;
  /** Source MAC on the public side; the spec has none, so the underlay MAC by default. */
  readonly publicMac?: string;
  /**
   * The last result for this gateway (only its `vips` are read): its tables are kept for VIPs
   * with nothing to select, and reused when unchanged.
   */
  readonly previous?: GatewayTablesSummary;
}

/** The consistent-hash table over `vms` with their spec weights. */
export function slotTableOf(vip: Vip, vms: readonly Vm[]): SlotTable {
  return buildSlotTable(vip.algorithm, vms.map((vm) => ({ name: vm.name, weight: vm.weight })), vip.slots);
}

/** Identifies a slot table's inputs: equal keys build equal tables, so the previous one is reused. */
export function slotTableKey(vip: Vip, vms: readonly Vm[]): string {
  const backends = vms.map((vm) => `${vm.name}:${vm.weight}`).sort();
  return `${vip.algorithm}/${vip.slots}/${backends.join(',')}`;
}

interface SlotEntryList {
  readonly vipId: number;
  readonly ids: readonly number[];
  readonly owner: Uint32Array;
  readonly entries: readonly TableEntry[];
}

/**
 * The slot entries of each slot table already turned into entries, with the ids they were made
 * with: a table reused from the previous round gives back the very same entry objects, which the
 * diff recognises by identity without comparing 65,536 entries field by field.
 */
const slotEntryCache = new WeakMap<SlotTable, SlotEntryList>();

/**
 * The same lists by VIP id and backend ids, weakly held: gateways with one view of a VIP build
 * equal slot tables, and share one list of entries instead of 65,536 objects each. Held while
 * some gateway's slot table (slotEntryCache) holds it.
 */
const sharedSlotEntries = new Map<string, WeakRef<SlotEntryList>>();

/**
 * `{ vip_id, slot }` key objects by VIP id, slot-indexed: one value on every gateway and in every
 * round, so one object (entries are read-only values) — and the diff passes equal keys by identity.
 */
const slotKeyCache = new Map<number, Readonly<Record<string, KeyValue>>[]>();

function slotKeys(id: number, slots: number): readonly Readonly<Record<string, KeyValue>>[] {
  let keys = slotKeyCache.get(id);
  if (keys === undefined) {
    keys = [];
    slotKeyCache.set(id, keys);
  }
  for (let slot = keys.length; slot < slots; slot++) keys.push({ vip_id: id, slot });
  return keys;
}

function sameOwners(a: Uint32Array, b: Uint32Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `entries` holds the very entry of `previous` at each slot whose backend stayed. */
function keepsUnchanged(entries: readonly TableEntry[], previous: readonly TableEntry[]): boolean {
  if (entries.length !== previous.length) return false;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const p = previous[i]!;
    if (e !== p && e.params.backend_id === p.params.backend_id) return false;
  }
  return true;
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * One slot_table entry per slot: (vip_id, slot) → the owner's backend id. With `previous` (the
 * VIP's slot table of the round before), a slot whose entry is unchanged gets that round's entry
 * object back: a one-backend change allocates only the ~M/n entries that move, and the diff
 * passes the others by identity. Entries with one backend share one params object, and every
 * entry of a slot shares one key object (entries are read-only values).
 */
export function slotEntries(specIds: SpecIds, vip: Vip, table: SlotTable, previous?: SlotTable): readonly TableEntry[] {
  const id = vipIdIn(specIds, vip.name);
  const ids = table.backends.map((name) => backendIdIn(specIds, name));
  const cached = slotEntryCache.get(table);
  if (cached !== undefined && cached.vipId === id && sameIds(cached.ids, ids)) return cached.entries;
  const before = previous === undefined || previous === table ? undefined : slotEntryCache.get(previous);
  const reuse = before !== undefined && before.vipId === id && before.entries.length === table.slots ? before.entries : undefined;
  const sharedKey = `${id}|${table.slots}|${ids.join(',')}`;
  const shared = sharedSlotEntries.get(sharedKey)?.deref();
  // Another gateway's list, if it is this one's by value and keeps this gateway's unchanged entries.
  if (shared !== undefined && sameOwners(shared.owner, table.owner) && (reuse === undefined || keepsUnchanged(shared.entries, reuse))) {
    slotEntryCache.set(table, shared);
    return shared.entries;
  }
  const params = ids.map((backend_id) => ({ backend_id }));
  const keys = slotKeys(id, table.slots);
  const out: TableEntry[] = new Array(table.slots);
  for (let slot = 0; slot < table.slots; slot++) {
    const p = params[table.owner[slot]!]!;
    const old = reuse?.[slot];
    if (old !== undefined && old.params.backend_id === p.backend_id) {
      out[slot] = old;
      continue;
    }
    out[slot] = { table: GATEWAY_P4.slotTable, keys: keys[slot]!, action: GATEWAY_ACTIONS.setSlotBackend, params: p };
  }
  const list: SlotEntryList = { vipId: id, ids, owner: table.owner, entries: out };
  slotEntryCache.set(table, list);
  sharedSlotEntries.set(sharedKey, new WeakRef(list));
  return out;
}

function entry(table: string, keys: Record<string, KeyValue>, action: string, params: Record<string, ScalarValue>): TableEntry {
  return { table, keys, action, params };
}

/** What a VIP's slots and backend entries are this round, from the selection or, failing it, the previous round. */
function vipTables(options: GatewayTablesOptions, gw: Gateway, vip: Vip): VipTables {
  const { spec, view, previous } = options;
  const selection = healthyBackends(spec, gw, vip, view);
  const before = previous?.vips.find((v) => v.vip === vip.name);
  if (selection.ok) {
    const key = slotTableKey(vip, selection.vms);
    const slotTable = before?.slotTable !== undefined && before.slotTableKey === key ? before.slotTable : slotTableOf(vip, selection.vms);
    const backendVms = vmsOfVip(spec, vip).filter((vm) => view.isHealthy(vip.name, vm.name)).map((vm) => vm.name);
    return { vip: vip.name, status: 'ok', selection, slotTable, slotTableKey: key, backendVms };
  }
  // Keep only what still fits the spec: the same slot count and backends the VIP still lists.
  const listed = new Set(vip.backends);
  const kept = before?.slotTable;
  if (before !== undefined && kept !== undefined && kept.slots === vip.slots && kept.backends.every((n) => listed.has(n))) {
    // Every slot owner keeps its backend entry, or its slots would drop as no-backend.
    const keep = new Set([...before.backendVms, ...kept.backends]);
    const backendVms = vip.backends.filter((n) => keep.has(n));
    return { vip: vip.name, status: 'kept-last', selection, slotTable: kept, slotTableKey: before.slotTableKey, backendVms };
  }
  return { vip: vip.name, status: 'empty', selection, slotTable: undefined, slotTableKey: undefined, backendVms: [] };
}

export function computeGatewayTables(options: GatewayTablesOptions): GatewayTables {
  const { spec, ids, keys, expiry } = options;
  const gw = gatewayByName(spec, options.gateway);
  const defaults: DefaultAction[] = [
    {
      table: GATEWAY_P4.gatewayConfig,
      action: GATEWAY_ACTIONS.setGateway,
      params: { underlay_addr: gw.underlay.ipv4, tunnel_port: gw.underlay.tunnelUdpPort },
    },
  ];
  const entries: TableEntry[] = [];
  const vips: VipTables[] = [];
  const alarms: LbAlarm[] = [];
  for (const vip of spec.vips) {
    const id = vipIdIn(ids, vip.name);
    const protocol = PROTOCOL_NUMBERS[vip.protocol];
    for (const port of vip.ports) {
      entries.push(entry(GATEWAY_P4.vipTable, { dst_addr: vip.address, protocol, dst_port: port }, GATEWAY_ACTIONS.setVip, {
        vip_id: id,
        mode: VIP_MODE_CODES[vip.mode],
        flow_key: FLOW_KEY_CODES[vip.flowKey].code,
        slots: vip.slots,
        idle_ticks: idleTimeoutTicks(vip.flowIdleTimeoutSeconds),
        // 0 keeps the client's destination port.
        nat_port: vip.mode === 'nat' ? (vip.targetPort ?? 0) : 0,
      }));
    }
    const tables = vipTables(options, gw, vip);
    vips.push(tables);
    if (!tables.selection.ok) {
      const keptLastTable = tables.status === 'kept-last';
      alarms.push({
        code: 'LB_NO_BACKEND',
        gateway: gw.name,
        vip: vip.name,
        reason: tables.selection.reason,
        keptLastTable,
        message: `${gw.name}: VIP ${vip.name} has no ${tables.selection.reason === 'all-drained' ? 'undrained healthy' : 'healthy'} backend; ${keptLastTable ? 'keeping its last slot table' : 'it has no slot table'}`,
      });
    }
    // A loop, not push(...): 65,536 arguments come near the engine's limit.
    const previousTable = options.previous?.vips.find((v) => v.vip === vip.name)?.slotTable;
    if (tables.slotTable !== undefined) for (const e of slotEntries(ids, vip, tables.slotTable, previousTable)) entries.push(e);
    const withEntry = new Set(tables.backendVms);
    for (const vm of vmsOfVip(spec, vip)) {
      if (!withEntry.has(vm.name)) continue;
      const host = hostOfVm(spec, vm);
      const token = computeToken(keys.host(host.name), requestTokenFields(spec, gw, vip, vm, expiry));
      entries.push(entry(GATEWAY_P4.backendTable, { vip_id: id, backend_id: backendIdIn(ids, vm.name) }, GATEWAY_ACTIONS.setBackend, {
        host_addr: host.underlay.ipv4,
        vm_port: vm.udpPort,
        vm_addr: vm.privateIpv4,
        token,
        expiry,
      }));
    }
    // Replies of every backend are translated back, healthy or not: a reply in flight is still a reply.
    if (vip.mode === 'nat') {
      for (const vm of vmsOfVip(spec, vip)) {
        for (const port of vip.ports) {
          entries.push(entry(GATEWAY_P4.natReverse, { vm_addr: vm.privateIpv4, protocol, vm_port: vip.targetPort ?? port }, GATEWAY_ACTIONS.natToVip, {
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
    const token = computeToken(keys.gateway(gw.name), replyTokenFields(spec, gw, vm, expiry));
    entries.push(entry(GATEWAY_P4.tokenTable, { src_addr: host.underlay.ipv4, src_port: vm.udpPort, token, expiry }, GATEWAY_ACTIONS.acceptTunnel, {}));
  }
  for (const host of spec.hosts) {
    entries.push(entry(GATEWAY_P4.routes, { dst_addr: hostRoute(host.underlay.ipv4) }, GATEWAY_ACTIONS.forward, {
      port: gw.ports.underlay,
      src_mac: gw.underlay.mac,
      dst_mac: host.underlay.mac,
    }));
  }
  entries.push(entry(GATEWAY_P4.routes, { dst_addr: ANY_IPV4 }, GATEWAY_ACTIONS.forward, {
    port: gw.ports.public,
    src_mac: options.publicMac ?? gw.underlay.mac,
    dst_mac: options.publicNextHopMac ?? gw.publicNextHopMac,
  }));
  // Slot entries are unique by construction (one per slot of each VIP, VIP ids distinct): checking
  // them would build a text key for each of the 65,536 per VIP, the bulk of this function's time.
  return { gateway: gw.name, defaults, entries: uniqueEntries(entries, (e) => e.table === GATEWAY_P4.slotTable), vips, alarms };
}
