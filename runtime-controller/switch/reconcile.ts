/**
 * Reconciliation after a (re)connection: read what the switch holds and write only the
 * difference to the desired state — new entries inserted, changed ones modified in place, stale
 * ones deleted, default actions and digest configs set where they differ, and chosen registers
 * cleared after a pipeline push. The diff is pure; `reconcile` does the reads and writes.
 */
import { decodeDigestEntry, encodeDigestEntry, normalizeTableEntry, type DecodedTableEntry, type DigestConfigValue, type TableEntryValue } from '../schema/codec.ts';
import type { UpdateValue } from '../schema/entities.ts';
import { SchemaError } from '../schema/errors.ts';
import type { P4Schema } from '../schema/p4-schema.ts';
import { P4RuntimeRegisterAccess, type RegisterAccess } from '../client/registers.ts';
import type { SwitchClient } from '../client/switch-client.ts';
import { TypedEvents } from '../client/events.ts';

export interface DefaultActionValue {
  readonly table: string;
  readonly action: string;
  readonly params?: TableEntryValue['params'];
}

export interface DesiredState {
  /**
   * Every entry each listed table should hold, by table name or alias. A listed table is owned:
   * entries not in its list are deleted. Tables not listed are left alone.
   */
  readonly tables: Readonly<Record<string, readonly TableEntryValue[]>>;
  readonly defaultActions?: readonly DefaultActionValue[];
  readonly digests?: readonly DigestConfigValue[];
  /** Registers to zero after a pipeline push (flow state that must not outlive a program change). */
  readonly registersToClearOnPush?: readonly string[];
}

function matchText(v: DecodedTableEntry['match'][string]): string {
  if (typeof v !== 'object') return String(v);
  if ('mask' in v) return `${v.value}&${v.mask}`;
  if ('prefixLength' in v) return `${v.value}/${v.prefixLength}`;
  return `${v.low}..${v.high}`;
}

/** Field names in a fixed order: decoded entries list them in P4Info order already, so this is mostly a check. */
function sortedFields(record: Readonly<Record<string, unknown>>): string[] {
  const names = Object.keys(record);
  for (let i = 1; i < names.length; i++) if (names[i - 1]! > names[i]!) return names.sort();
  return names;
}

/**
 * The key of an entry in its table: table, match fields and priority (normal form). Plain text
 * rather than JSON: it is built for every entry of every owned table, 65,536 a VIP in slot_table.
 */
function entryKey(e: DecodedTableEntry): string {
  let key = e.table;
  for (const k of sortedFields(e.match)) key += ` ${k}=${matchText(e.match[k]!)}`;
  return `${key} @${e.priority ?? 0}`;
}

/** What the entry does. */
function entryAction(e: DecodedTableEntry): string {
  let value = e.action ?? '';
  for (const k of sortedFields(e.params)) value += ` ${k}=${String(e.params[k])}`;
  return value;
}

/** Normal form of a desired entry: the same shape a read returns. */
function normalize(schema: P4Schema, e: TableEntryValue): DecodedTableEntry {
  return normalizeTableEntry(schema, e);
}

/**
 * Updates that turn `installed` into `desired` for the tables in `desired.tables`: INSERTs and
 * MODIFYs first (make before break), then DELETEs; within each, desired order. Throws
 * SCHEMA_BAD_ENTRY for two desired entries with one key. The written entries are in normal form.
 */
export function diffTables(schema: P4Schema, installed: readonly DecodedTableEntry[], desired: DesiredState['tables']): UpdateValue[] {
  return tableUpdates(schema, installed, desired, 'normal');
}

/**
 * diffTables' work. With `write: 'given'` an INSERT or MODIFY carries the caller's entry rather
 * than its normal form: the caller holds those already, so a full install (65,536 slot entries a
 * VIP) does not keep a second, bigint-valued copy of every entry alive until the write ends.
 * Either form encodes to the same bytes (the normal form is what the given one decodes back to).
 */
function tableUpdates(schema: P4Schema, installed: readonly DecodedTableEntry[], desired: DesiredState['tables'], write: 'normal' | 'given'): UpdateValue[] {
  const owned = new Set(Object.keys(desired).map((t) => schema.table(t).name));
  const have = new Map<string, DecodedTableEntry>();
  for (const e of installed) if (owned.has(e.table) && e.isDefaultAction !== true) have.set(entryKey(e), e);
  // Keys of desired entries: duplicate detection and stale-entry deletion need the key alone.
  const want = new Set<string>();
  const updates: UpdateValue[] = [];
  for (const [table, entries] of Object.entries(desired)) {
    const tableName = schema.table(table).name;
    entries.forEach((raw, i) => {
      const e = normalize(schema, raw);
      if (e.table !== tableName) {
        throw new SchemaError('SCHEMA_BAD_ENTRY', `desired ${table}[${i}] is an entry of ${e.table}`, { location: { path: `tables.${table}[${i}]` } });
      }
      const key = entryKey(e);
      if (want.has(key)) throw new SchemaError('SCHEMA_BAD_ENTRY', `desired ${table}[${i}] repeats the key of an earlier entry`, { location: { path: `tables.${table}[${i}]` } });
      want.add(key);
      const old = have.get(key);
      const value = write === 'normal' ? e : raw;
      if (old === undefined) updates.push({ type: 'insert', entity: { kind: 'tableEntry', value } });
      else if (entryAction(old) !== entryAction(e)) updates.push({ type: 'modify', entity: { kind: 'tableEntry', value } });
    });
  }
  for (const [key, e] of have) {
    if (!want.has(key)) updates.push({ type: 'delete', entity: { kind: 'tableEntry', value: { table: e.table, match: e.match, ...(e.priority === undefined ? {} : { priority: e.priority }) } } });
  }
  return updates;
}

/** MODIFYs of default entries that differ from the wanted ones. */
export function diffDefaultActions(schema: P4Schema, installed: readonly DecodedTableEntry[], desired: readonly DefaultActionValue[]): UpdateValue[] {
  const out: UpdateValue[] = [];
  for (const d of desired) {
    const want = normalize(schema, { table: d.table, isDefaultAction: true, action: d.action, ...(d.params === undefined ? {} : { params: d.params }) });
    const have = installed.find((e) => e.table === want.table && e.isDefaultAction === true);
    if (have === undefined || entryAction(have) !== entryAction(want)) out.push({ type: 'modify', entity: { kind: 'tableEntry', value: want } });
  }
  return out;
}

/** INSERT for digests not configured, MODIFY for those configured otherwise. */
export function diffDigests(schema: P4Schema, installed: readonly DigestConfigValue[], desired: readonly DigestConfigValue[]): UpdateValue[] {
  const out: UpdateValue[] = [];
  for (const d of desired) {
    const want = decodeDigestEntry(schema, encodeDigestEntry(schema, d));
    const have = installed.find((x) => x.digest === want.digest);
    if (have === undefined) out.push({ type: 'insert', entity: { kind: 'digestEntry', value: want } });
    else if (have.maxTimeoutNs !== want.maxTimeoutNs || have.maxListSize !== want.maxListSize || have.ackTimeoutNs !== want.ackTimeoutNs) {
      out.push({ type: 'modify', entity: { kind: 'digestEntry', value: want } });
    }
  }
  return out;
}

export interface ReconcileOptions {
  /** True when the pipeline was just pushed (clears `registersToClearOnPush`). */
  readonly pipelinePushed: boolean;
  readonly batchSize?: number;
  /** Register access to clear with (default: P4Runtime). */
  readonly registers?: RegisterAccess;
}

export interface ReconcileReport {
  readonly inserted: number;
  readonly modified: number;
  readonly deleted: number;
  readonly registersCleared: readonly string[];
}

/** Reads the switch, writes the difference to `desired`, and reports what it changed. */
export async function reconcile(client: SwitchClient, desired: DesiredState, options: ReconcileOptions): Promise<ReconcileReport> {
  const schema = client.requireSchema();
  const installed: DecodedTableEntry[] = [];
  for (const table of Object.keys(desired.tables)) for (const e of await client.readTableEntries(table)) installed.push(e);
  const defaults: DecodedTableEntry[] = [];
  for (const d of desired.defaultActions ?? []) defaults.push(await client.readDefaultEntry(d.table));
  const digestConfigs = (desired.digests ?? []).length > 0 ? await client.readDigestConfigs() : [];
  // One list, appended to rather than spread: a full install holds 131,072 updates a gateway.
  const updates = diffDigests(schema, digestConfigs, desired.digests ?? []);
  for (const u of tableUpdates(schema, installed, desired.tables, 'given')) updates.push(u);
  for (const u of diffDefaultActions(schema, defaults, desired.defaultActions ?? [])) updates.push(u);
  // The read-back is compared; let it go before the (long) write.
  installed.length = 0;
  // Desired entries were normalised (validated) above: encode each batch only as it goes out.
  if (updates.length > 0) await client.write(updates, { validateFirst: false, ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }) });
  const cleared: string[] = [];
  if (options.pipelinePushed) {
    const registers = options.registers ?? new P4RuntimeRegisterAccess(client);
    for (const name of desired.registersToClearOnPush ?? []) {
      await registers.clear(name);
      cleared.push(schema.register(name).name);
    }
  }
  const counts = { insert: 0, modify: 0, delete: 0 };
  for (const u of updates) counts[u.type]++;
  return { inserted: counts.insert, modified: counts.modify, deleted: counts.delete, registersCleared: cleared };
}

export type AutoReconcileEvents = {
  reconciled: ReconcileReport & { readonly pipelinePushed: boolean };
  error: { readonly error: unknown };
};

/**
 * Reconciles each time `connection` reaches pipeline-ready (first connect, reconnect, takeover),
 * with the desired state current at that moment. Runs never overlap: one that arrives while
 * another runs waits for it. A failure (typically: lost primary mid-way) is reported, not thrown;
 * the next pipeline-ready reconciles again. Returns the events and the function that detaches.
 */
export function autoReconcile(
  connection: { readonly events: { on(event: 'pipeline-ready', l: (p: { pushed: boolean; client: SwitchClient }) => void): () => void } },
  desired: () => DesiredState,
  options: Omit<ReconcileOptions, 'pipelinePushed'> = {},
): { readonly events: TypedEvents<AutoReconcileEvents>; readonly detach: () => void } {
  const events = new TypedEvents<AutoReconcileEvents>();
  let chain: Promise<void> = Promise.resolve();
  const detach = connection.events.on('pipeline-ready', ({ client, pushed }) => {
    chain = chain.then(async () => {
      try {
        const report = await reconcile(client, desired(), { ...options, pipelinePushed: pushed });
        events.emit('reconciled', { ...report, pipelinePushed: pushed });
      } catch (error) {
        events.emit('error', { error });
      }
    });
  });
  return { events, detach };
}
