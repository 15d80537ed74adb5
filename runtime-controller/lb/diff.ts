/**
 * The minimal writes that turn the installed entries into the desired ones, keyed by table and
 * match key: a new key is an INSERT, a changed action or parameter a MODIFY (so a slot that
 * changes owner is rewritten in place), a key no longer wanted a DELETE. The order is fixed
 * (make before break, then by key) whatever order the inputs come in.
 */
import { canonicalScalar, entryKey, entryValue, type DefaultAction, type KeyValue, type TableEntry } from './entry.ts';
import { LbError } from './errors.ts';
import { GATEWAY_TABLE_ORDER, HOST_TABLE_ORDER } from './p4-names.ts';
import { byCodeUnit } from '../../core/order.ts';

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

function sortedNames(record: Readonly<Record<string, unknown>>): string[] {
  return Object.keys(record).sort(byCodeUnit);
}

/** Key fields by name, values numerically where they are numbers: slot 9 sorts before slot 10. */
function sortParts(e: TableEntry): SortPart[] {
  const parts: SortPart[] = [];
  for (const n of sortedNames(e.keys)) parts.push(n, ...keyParts(e.keys[n]!));
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

/**
 * One table's entries identified by key. Where every key field of every entry (installed and
 * desired) is a safe integer — slot_table, 65,536 entries a VIP — the key is the numbers in
 * field-name order, compared and sorted as numbers: the same identity and order as entryKey and
 * sortParts give, without building canonical text and bigints for each entry.
 */
interface TableIndex {
  readonly table: string;
  /** Sorted key field names when the table is numeric; undefined for the general form. */
  readonly numericFields: readonly string[] | undefined;
  readonly have: Map<string, TableEntry>;
  readonly want: Map<string, TableEntry>;
}

function numericFieldsOf(lists: readonly (readonly TableEntry[])[]): readonly string[] | undefined {
  const first = lists.find((l) => l.length > 0)?.[0];
  if (first === undefined) return undefined;
  const names = sortedNames(first.keys);
  for (const list of lists) if (!allNumeric(list, names)) return undefined;
  return names;
}

function allNumeric(entries: readonly TableEntry[], names: readonly string[]): boolean {
  for (const e of entries) if (!isNumericEntry(e, names)) return false;
  return true;
}

function numericKey(e: TableEntry, fields: readonly string[]): string {
  let key = '';
  for (const f of fields) key += `${e.keys[f] as number},`;
  return e.priority === undefined ? key : `${key}@${e.priority}`;
}

function indexTable(table: string, installed: readonly TableEntry[], desired: readonly TableEntry[], numericFields: readonly string[] | undefined): TableIndex {
  if (numericFields === undefined) return { table, numericFields, have: indexByKey(installed, 'installed'), want: indexByKey(desired, 'desired') };
  const index = (entries: readonly TableEntry[], what: string) => {
    const map = new Map<string, TableEntry>();
    for (const e of entries) {
      const key = numericKey(e, numericFields);
      if (map.has(key)) throw new LbError('LB_DUPLICATE_KEY', `${what} entries hold key ${entryKey(e)} twice`);
      map.set(key, e);
    }
    return map;
  };
  return { table, numericFields, have: index(installed, 'installed'), want: index(desired, 'desired') };
}

function compareNumeric(a: TableEntry, b: TableEntry, fields: readonly string[]): number {
  for (const f of fields) {
    const d = (a.keys[f] as number) - (b.keys[f] as number);
    if (d !== 0) return d;
  }
  return (a.priority ?? 0) - (b.priority ?? 0);
}

/** Whether `e` has exactly the key fields `names` (in any order), each a safe integer, and a safe-integer priority if any. */
function isNumericEntry(e: TableEntry, names: readonly string[]): boolean {
  if (e.priority !== undefined && !Number.isSafeInteger(e.priority)) return false;
  let count = 0;
  for (const n in e.keys) {
    count++;
    const v = e.keys[n];
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) return false;
  }
  if (count !== names.length) return false;
  for (const n of names) if (!(n in e.keys)) return false;
  return true;
}

/**
 * The common case of a recomputed slot table: every key numeric (as numericFieldsOf decides), and
 * both lists hold the same keys at the same positions, in increasing key order (so each key once).
 * With several VIPs the list runs VIP by VIP (in the spec's order), each by slot: the order its
 * keys are built in, not by field name (`slot` before `vip_id`); that is the order checked.
 * Then the diff is one walk by index — no maps, no sort — and only changed values are written.
 * An entry identical to the installed one (a slot that kept its owner), or sharing its key
 * object, is checked once. Undefined when the lists are not so: the general path decides.
 * (Exported for the tests that check a recomputed table takes this path.)
 */
export function alignedUpdates(installed: readonly TableEntry[], desired: readonly TableEntry[]): EntryUpdate[] | undefined {
  if (installed.length !== desired.length || desired.length === 0) return undefined;
  // Keys in the order their fields were built in (a computed slot table: VIP, then slot). Each
  // run of one first-field value (a VIP) must increase and no run may come back, which proves
  // every key is there once; the updates then go out in key-name order, as the general path gives them.
  const fields = Object.keys(installed[0]!.keys);
  const first = fields[0]!;
  const byName = sortedNames(installed[0]!.keys);
  const runs = new Set<number>();
  const out: EntryUpdate[] = [];
  let previous: TableEntry | undefined;
  for (let i = 0; i < desired.length; i++) {
    const entry = desired[i]!;
    const current = installed[i]!;
    if (!isNumericEntry(entry, fields)) return undefined;
    if (previous === undefined || previous.keys[first] !== entry.keys[first]) {
      const run = entry.keys[first] as number;
      if (runs.has(run)) return undefined;
      runs.add(run);
    } else if (compareNumeric(previous, entry, fields) >= 0) return undefined;
    previous = entry;
    if (current === entry) continue;
    if (current.keys !== entry.keys || current.priority !== entry.priority) {
      if (!isNumericEntry(current, fields) || compareNumeric(current, entry, fields) !== 0) return undefined;
    }
    if (!sameValue(current, entry)) out.push({ type: 'MODIFY', entry, installed: current });
  }
  return out.sort((a, b) => compareNumeric(a.entry, b.entry, byName));
}

/** Equal action and parameters by value; plain numbers are compared as they are. */
function sameValue(a: TableEntry, b: TableEntry): boolean {
  if (a === b) return true;
  if (a.action !== b.action) return entryValue(a) === entryValue(b);
  let count = 0;
  for (const n in a.params) {
    count++;
    const x = a.params[n];
    const y = b.params[n];
    if (x === y && typeof x === 'number') continue;
    // Two different safe integers never print alike: differ without building either text.
    if (typeof x === 'number' && typeof y === 'number' && Number.isSafeInteger(x) && Number.isSafeInteger(y)) return false;
    return entryValue(a) === entryValue(b);
  }
  for (const n in b.params) if (--count < 0 || !(n in a.params)) return entryValue(a) === entryValue(b);
  return count === 0;
}

function sortInTable(entries: TableEntry[], numericFields: readonly string[] | undefined): TableEntry[] {
  if (numericFields !== undefined) {
    return entries.sort((a, b) => {
      return compareNumeric(a, b, numericFields);
    });
  }
  const decorated = entries.map((entry) => ({ entry, parts: sortParts(entry) }));
  decorated.sort((a, b) => compareParts(a.parts, b.parts));
  return decorated.map((d) => d.entry);
}

/** Entries by table, in input order; a table whose entries form one run is sliced, not pushed one by one. */
function groupByTable(entries: readonly TableEntry[]): Map<string, TableEntry[]> {
  const runs = new Map<string, number[]>();
  let start = 0;
  for (let i = 1; i <= entries.length; i++) {
    if (i < entries.length && entries[i]!.table === entries[start]!.table) continue;
    if (start < entries.length) {
      const table = entries[start]!.table;
      const list = runs.get(table);
      if (list === undefined) runs.set(table, [start, i]);
      else list.push(start, i);
    }
    start = i;
  }
  const out = new Map<string, TableEntry[]>();
  for (const [table, bounds] of runs) {
    const list = entries.slice(bounds[0], bounds[1]);
    for (let r = 2; r < bounds.length; r += 2) for (let i = bounds[r]!; i < bounds[r + 1]!; i++) list.push(entries[i]!);
    out.set(table, list);
  }
  return out;
}

export function diffEntries(installed: readonly TableEntry[], desired: readonly TableEntry[], options: DiffOptions = {}): EntryUpdate[] {
  const order = options.tableOrder ?? [...GATEWAY_TABLE_ORDER, ...HOST_TABLE_ORDER];
  const ranks = new Map(order.map((t, i) => [t, i]));
  const rank = (table: string) => ranks.get(table) ?? order.length;
  const haveByTable = groupByTable(installed);
  const wantByTable = groupByTable(desired);
  const tables = [...new Set([...haveByTable.keys(), ...wantByTable.keys()])].sort((a, b) => rank(a) - rank(b) || byCodeUnit(a, b));

  const updates: EntryUpdate[] = [];
  const indexes: TableIndex[] = [];
  for (const table of tables) {
    const have = haveByTable.get(table) ?? [];
    const want = wantByTable.get(table) ?? [];
    const aligned = alignedUpdates(have, want);
    if (aligned !== undefined) {
      for (const u of aligned) updates.push(u);
      continue;
    }
    const numericFields = numericFieldsOf([have, want]);
    const index = indexTable(table, have, want, numericFields);
    indexes.push(index);
    const writes: TableEntry[] = [];
    const modifies = new Map<TableEntry, TableEntry>();
    for (const [key, entry] of index.want) {
      const current = index.have.get(key);
      if (current === undefined) {
        writes.push(entry);
      } else if (!sameValue(current, entry)) {
        writes.push(entry);
        modifies.set(entry, current);
      }
    }
    for (const entry of sortInTable(writes, numericFields)) {
      const current = modifies.get(entry);
      updates.push(current === undefined ? { type: 'INSERT', entry } : { type: 'MODIFY', entry, installed: current });
    }
  }
  // Aligned tables delete nothing (same keys on both sides).
  for (const { have, want, numericFields } of indexes.reverse()) {
    const deletes: TableEntry[] = [];
    for (const [key, entry] of have) if (!want.has(key)) deletes.push(entry);
    for (const entry of sortInTable(deletes, numericFields)) updates.push({ type: 'DELETE', entry });
  }
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
