/**
 * The minimal writes that turn the installed entries into the desired ones, keyed by table and
 * match key: a new key is an INSERT, a changed action or parameter a MODIFY (so a slot that
 * changes owner is rewritten in place), a key no longer wanted a DELETE. The order is fixed
 * (make before break, then by key) whatever order the inputs come in.
 */
import { canonicalScalar, entryKey, entryValue, type DefaultAction, type KeyValue, type TableEntry } from './entry.ts';
import { LbError } from './errors.ts';
import { GATEWAY_TABLE_ORDER, HOST_TABLE_ORDER } from './p4-names.ts';

export type EntryUpdate =
  | { readonly type: 'INSERT'; readonly entry: TableEntry }
  | { readonly type: 'MODIFY'; readonly entry: TableEntry; readonly installed: TableEntry }
  | { readonly type: 'DELETE'; readonly entry: TableEntry };

export interface DiffOptions {
  /**
   * Tables in dependency order: INSERT and MODIFY go in this order, DELETE in the reverse, so
   * nothing points at an entry that is not there yet or any more. Tables not listed come last
   * by name. Default: the gateway's, then the host's tables.
   */
  readonly tableOrder?: readonly string[];
}

type SortPart = bigint | string;

interface Keyed {
  readonly key: string;
  readonly entry: TableEntry;
}

function indexByKey(entries: readonly TableEntry[], what: string): Map<string, TableEntry> {
  const map = new Map<string, TableEntry>();
  for (const e of entries) {
    const key = entryKey(e);
    if (map.has(key)) throw new LbError('LB_DUPLICATE_KEY', `${what} entries hold key ${key} twice`);
    map.set(key, e);
  }
  return map;
}

function scalarPart(v: Parameters<typeof canonicalScalar>[0]): SortPart {
  const c = canonicalScalar(v);
  return /^\d+$/.test(c) ? BigInt(c) : c;
}

function keyParts(v: KeyValue): SortPart[] {
  if (typeof v !== 'object') return [scalarPart(v)];
  if ('mask' in v) return [scalarPart(v.value), scalarPart(v.mask)];
  if ('prefixLength' in v) return [scalarPart(v.value), BigInt(v.prefixLength)];
  return [scalarPart(v.low), scalarPart(v.high)];
}

/** Key fields by name, values numerically where they are numbers: slot 9 sorts before slot 10. */
function sortParts(e: TableEntry): SortPart[] {
  const names = Object.keys(e.keys).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const parts: SortPart[] = [];
  for (const n of names) parts.push(n, ...keyParts(e.keys[n]!));
  parts.push(BigInt(e.priority ?? 0));
  return parts;
}

function compareParts(a: readonly SortPart[], b: readonly SortPart[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    // Numbers before text when a field holds both kinds.
    if (typeof x !== typeof y) return typeof x === 'bigint' ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

function sortByTableAndKey(items: Keyed[], rank: (table: string) => number, reverseTables: boolean): TableEntry[] {
  const decorated = items.map((k) => ({ entry: k.entry, rank: rank(k.entry.table), parts: sortParts(k.entry) }));
  decorated.sort((a, b) => {
    if (a.rank !== b.rank) return reverseTables ? b.rank - a.rank : a.rank - b.rank;
    if (a.entry.table !== b.entry.table) return a.entry.table < b.entry.table === !reverseTables ? -1 : 1;
    return compareParts(a.parts, b.parts);
  });
  return decorated.map((d) => d.entry);
}

export function diffEntries(installed: readonly TableEntry[], desired: readonly TableEntry[], options: DiffOptions = {}): EntryUpdate[] {
  const order = options.tableOrder ?? [...GATEWAY_TABLE_ORDER, ...HOST_TABLE_ORDER];
  const ranks = new Map(order.map((t, i) => [t, i]));
  const rank = (table: string) => ranks.get(table) ?? order.length;
  const have = indexByKey(installed, 'installed');
  const want = indexByKey(desired, 'desired');

  const writes: Keyed[] = [];
  const modifies = new Map<TableEntry, TableEntry>();
  for (const [key, entry] of want) {
    const current = have.get(key);
    if (current === undefined) {
      writes.push({ key, entry });
    } else if (entryValue(current) !== entryValue(entry)) {
      writes.push({ key, entry });
      modifies.set(entry, current);
    }
  }
  const deletes: Keyed[] = [];
  for (const [key, entry] of have) if (!want.has(key)) deletes.push({ key, entry });

  const updates: EntryUpdate[] = [];
  for (const entry of sortByTableAndKey(writes, rank, false)) {
    const current = modifies.get(entry);
    updates.push(current === undefined ? { type: 'INSERT', entry } : { type: 'MODIFY', entry, installed: current });
  }
  for (const entry of sortByTableAndKey(deletes, rank, true)) updates.push({ type: 'DELETE', entry });
  return updates;
}

/** The entries after `updates` were written: what the switch holds when the write succeeded. */
export function applyUpdates(installed: readonly TableEntry[], updates: readonly EntryUpdate[]): TableEntry[] {
  const map = new Map(installed.map((e) => [entryKey(e), e]));
  for (const u of updates) {
    const key = entryKey(u.entry);
    if (u.type === 'DELETE') map.delete(key);
    else map.set(key, u.entry);
  }
  return [...map.values()];
}

/** Default actions that differ from (or are missing in) the installed ones; each is a MODIFY of the table's default entry. */
export function diffDefaults(installed: readonly DefaultAction[], desired: readonly DefaultAction[]): DefaultAction[] {
  const have = new Map(installed.map((d) => [d.table, entryValue(d)]));
  return desired.filter((d) => have.get(d.table) !== entryValue(d));
}
