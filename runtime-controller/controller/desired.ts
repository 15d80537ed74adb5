/**
 * What each switch should hold, pure: the lb layer's tables with the token entries replaced by
 * the registry planner's (the planner owns token generations: several accepted at once on the
 * receiver, one sent), converted at the boundary from lb's `keys` to the client's `match`.
 */
import {
  computeGatewayTables, computeHostTables, entryKey, GATEWAY_ACTIONS, GATEWAY_P4, HOST_ACTIONS, HOST_P4,
  type DefaultAction, type GatewayTables, type GatewayTablesSummary, type GatewayView, type TableEntry, type TokenKeys,
} from '../lb/index.ts';
import { generationTimes, sendingGeneration, type PlannedTokenEntry, type TokenPlan } from '../registry/tokens.ts';
import type { DesiredState } from '../switch/reconcile.ts';
import type { TableEntryValue } from '../schema/codec.ts';
import type { SpecIds } from '../../core/spec/ids.ts';
import type { LbSpec } from '../../core/spec/schema.ts';

export interface SwitchTables {
  readonly defaults: readonly DefaultAction[];
  readonly entries: readonly TableEntry[];
}

/** The action a planned 'accept' entry installs, per token table. */
const ACCEPT_ACTION: Readonly<Record<string, string>> = {
  [GATEWAY_P4.tokenTable]: GATEWAY_ACTIONS.acceptTunnel,
  [HOST_P4.tokenTable]: HOST_ACTIONS.acceptTunnel,
};

/** Tables whose entries come wholly from the planner (lb computes only one generation of them). */
const PLANNED_TABLES: ReadonlySet<string> = new Set([GATEWAY_P4.tokenTable, HOST_P4.tokenTable, HOST_P4.peerTable]);

/** The expiry senders use at `plan.now`: lb's tables are computed with it, so their tokens match the plan's. */
export function sendingExpiry(plan: TokenPlan): number {
  return generationTimes(plan.schedule, sendingGeneration(plan.schedule, plan.now)).expiry;
}

function plannedEntry(e: PlannedTokenEntry): TableEntry {
  if (e.use === 'accept') {
    const action = ACCEPT_ACTION[e.table];
    if (action === undefined) throw new Error(`token plan accepts in ${e.table}, which is no token table`);
    return { table: e.table, keys: e.match, action, params: {} };
  }
  return { table: e.table, keys: e.match, action: HOST_ACTIONS.encapToPeer, params: e.params };
}

/**
 * `computed` with the planner's entries of `switchName` merged in: token tables (and the host's
 * peer_table, all of whose entries carry a token) are replaced by the plan; the token and expiry of
 * any other sending entry (gateway backend_table) are taken from the plan's entry with its key.
 */
export function mergeTokenPlan(computed: SwitchTables, plan: TokenPlan, switchName: string): SwitchTables {
  const mine = plan.entries.filter((e) => e.switch === switchName);
  const sends = new Map<string, PlannedTokenEntry>();
  for (const e of mine) if (e.use === 'send' && !PLANNED_TABLES.has(e.table)) sends.set(entryKey({ table: e.table, keys: e.match }), e);
  const entries: TableEntry[] = [];
  // Only tables with planned sending entries need a key (not the 65,536 slot entries a VIP).
  const sendTables = new Set([...sends.values()].map((e) => e.table));
  // The table's answers are kept while the table stays the same (entries come in runs per table).
  let table: string | undefined;
  let planned = false;
  let sending = false;
  for (const e of computed.entries) {
    if (e.table !== table) {
      table = e.table;
      planned = PLANNED_TABLES.has(table);
      sending = sendTables.has(table);
    }
    if (planned) continue;
    const send = sending ? sends.get(entryKey(e)) : undefined;
    entries.push(send === undefined ? e : { ...e, params: { ...e.params, token: send.token.value, expiry: send.token.expiry } });
  }
  for (const e of mine) if (PLANNED_TABLES.has(e.table)) entries.push(plannedEntry(e));
  return { defaults: computed.defaults, entries };
}

export interface GatewayDesiredInput {
  readonly spec: LbSpec;
  readonly ids: SpecIds;
  readonly gateway: string;
  readonly view: GatewayView;
  readonly keys: TokenKeys;
  readonly plan: TokenPlan;
  readonly previous?: GatewayTablesSummary;
}

/** A gateway's tables (with VIP status and alarms) and the entries to install. */
export function gatewayDesired(input: GatewayDesiredInput): { readonly tables: GatewayTables; readonly desired: SwitchTables } {
  const tables = computeGatewayTables({
    spec: input.spec,
    ids: input.ids,
    gateway: input.gateway,
    view: input.view,
    keys: input.keys,
    expiry: sendingExpiry(input.plan),
    ...(input.previous === undefined ? {} : { previous: input.previous }),
  });
  return { tables, desired: mergeTokenPlan(tables, input.plan, input.gateway) };
}

export function hostDesired(input: { readonly spec: LbSpec; readonly ids: SpecIds; readonly host: string; readonly keys: TokenKeys; readonly plan: TokenPlan; readonly replyGateway?: string }): SwitchTables {
  const tables = computeHostTables({
    spec: input.spec,
    ids: input.ids,
    host: input.host,
    keys: input.keys,
    expiry: sendingExpiry(input.plan),
    ...(input.replyGateway === undefined ? {} : { replyGateway: input.replyGateway }),
  });
  return mergeTokenPlan(tables, input.plan, input.host);
}

/** lb's entry (`keys`) as the client's (`match`). */
export function toClientEntry(e: TableEntry): TableEntryValue {
  return { table: e.table, match: e.keys, action: e.action, params: e.params, ...(e.priority === undefined ? {} : { priority: e.priority }) };
}

/**
 * The reconcile input: every table the role's program has entries in is owned (stale entries
 * deleted), even when it is empty now; `ownedTables` lists them.
 */
export function toDesiredState(tables: SwitchTables, ownedTables: readonly string[], registersToClearOnPush: readonly string[] = []): DesiredState {
  const byTable: Record<string, TableEntryValue[]> = {};
  for (const t of ownedTables) byTable[t] = [];
  for (const e of tables.entries) (byTable[e.table] ??= []).push(toClientEntry(e));
  return {
    tables: byTable,
    defaultActions: tables.defaults.map((d) => ({ table: d.table, action: d.action, params: d.params })),
    registersToClearOnPush,
  };
}
