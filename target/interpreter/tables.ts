/**
 * Match-action tables as BMv2 runs them: exact tables by hash lookup; lpm tables by longest
 * prefix; tables with ternary, range or optional fields by priority (P4Runtime's convention:
 * the larger number wins). A table refuses inserts beyond its size, as BMv2 does.
 */
import type { ActionDecl, Span } from '../../p4-frontend/ast.ts';
import { TargetError, spanLocation } from './errors.ts';
import type { Frame } from './frame.ts';
import { NUMBER_MAX_WIDTH, maskOf, type Scalar } from './values.ts';

export type MatchKind = 'exact' | 'lpm' | 'ternary' | 'range' | 'optional';

export interface KeyField {
  /** Control-plane name (`@name`, else the key expression as written). */
  readonly name: string;
  readonly matchKind: MatchKind;
  readonly width: number;
}

export type FieldMatch =
  | { readonly kind: 'exact'; readonly value: bigint }
  | { readonly kind: 'lpm'; readonly value: bigint; readonly prefixLength: number }
  | { readonly kind: 'ternary'; readonly value: bigint; readonly mask: bigint }
  | { readonly kind: 'range'; readonly low: bigint; readonly high: bigint }
  | { readonly kind: 'optional'; readonly value: bigint };

export interface ActionParamInfo {
  readonly name: string;
  readonly width: number;
}

/** An action as the control plane and the tables see it. */
export interface ActionInfo {
  /** Fully qualified control-plane name (`MyIngress.forward`, `NoAction`). */
  readonly name: string;
  readonly decl: ActionDecl;
  readonly params: readonly ActionParamInfo[];
  /** Runs the action body with its directionless parameters bound to `args`. */
  readonly run: (frame: Frame, args: readonly bigint[]) => void;
}

export interface ActionCall {
  readonly action: ActionInfo;
  readonly args: readonly bigint[];
}

/** An action the table lists, with the scope annotations P4Info reports. */
export interface TableActionRef {
  readonly action: ActionInfo;
  readonly defaultOnly: boolean;
  readonly tableOnly: boolean;
}

export interface TableEntryData {
  /** One per key field; undefined = wildcard (not allowed for exact fields). */
  readonly matches: readonly (FieldMatch | undefined)[];
  /** P4Runtime priority: > 0 when the table has ternary, range or optional fields, else 0. */
  readonly priority: number;
  readonly action: ActionCall;
}

export interface StoredEntry extends TableEntryData {
  /** Replaced in place by a MODIFY (the entry keeps its identity, order and counters). */
  action: ActionCall;
  /** Direct counter cells, when the table has one. */
  packets: bigint;
  bytes: bigint;
  readonly order: number;
  /** The lookup result a hit on this entry returns (rebuilt when the action changes). */
  hitResult: LookupResult;
}

export interface LookupResult {
  readonly hit: boolean;
  readonly entry: StoredEntry | undefined;
  readonly call: ActionCall;
}

export interface TableOptions {
  readonly name: string;
  readonly span: Span;
  readonly keys: readonly KeyField[];
  readonly actions: readonly TableActionRef[];
  readonly defaultAction: ActionCall;
  readonly defaultIsConst: boolean;
  readonly size: number;
  /** Entries declared in the program; a table with `const entries` takes no others. */
  readonly constEntries: readonly TableEntryData[];
  readonly entriesAreConst: boolean;
  readonly hasDirectCounter: boolean;
}

/** Calls with more arguments than this are not shared (their keys would cost more than they save). */
const MAX_SHARED_ARGS = 4;
/** Distinct shared calls per table, beyond which new ones are stored as given. */
const MAX_SHARED_CALLS = 4096;

function invalid(message: string): TargetError {
  return new TargetError('INVALID_ARGUMENT', message);
}

export class Table {
  readonly name: string;
  readonly keys: readonly KeyField[];
  readonly actions: readonly TableActionRef[];
  readonly size: number;
  readonly hasDirectCounter: boolean;
  readonly needsPriority: boolean;
  /** Per key field: the data plane passes its value as a number (32 bits or less), else a bigint. */
  readonly numberKeys: readonly boolean[];
  private readonly exactOnly: boolean;
  /**
   * Exact tables for the data plane: one Map level per key field, keyed by the field's value as
   * the data plane holds it, so that a lookup neither packs nor allocates.
   */
  private readonly exactIndex = new Map<Scalar, unknown>();
  private readonly bigKey: bigint[];
  private readonly lpmIndex: number;
  /** Entries by identity: for exact tables the key fields packed into one bigint, else a string. */
  private readonly byKey = new Map<bigint | string, StoredEntry>();
  private readonly keyShifts: readonly bigint[];
  /** Per key field: the largest value it holds (checked on every write). */
  private readonly keyMax: readonly bigint[];
  /** The table's actions by identity (a write names one). */
  private readonly actionRefs: ReadonlyMap<ActionInfo, TableActionRef>;
  /**
   * One ActionCall per distinct (action, arguments) among stored entries: a slot table's 65,536
   * entries name a handful of backends, so they share a handful of calls instead of holding
   * one call, argument array and bigint each.
   */
  private readonly sharedCalls = new Map<ActionInfo, Map<bigint | string, ActionCall>>();
  private sharedCallCount = 0;
  private sorted: StoredEntry[] | undefined = [];
  private nextOrder = 0;
  private defaultCall: ActionCall;
  private missResult: LookupResult;
  private readonly initialDefault: ActionCall;
  private readonly defaultIsConst: boolean;
  private readonly entriesAreConst: boolean;
  private readonly span: Span;

  constructor(options: TableOptions) {
    this.name = options.name;
    this.span = options.span;
    this.keys = options.keys;
    this.actions = options.actions;
    this.size = options.size;
    this.hasDirectCounter = options.hasDirectCounter;
    this.defaultCall = options.defaultAction;
    this.missResult = { hit: false, entry: undefined, call: options.defaultAction };
    this.initialDefault = options.defaultAction;
    this.defaultIsConst = options.defaultIsConst;
    this.entriesAreConst = options.entriesAreConst;
    this.exactOnly = options.keys.every((k) => k.matchKind === 'exact');
    this.needsPriority = options.keys.some((k) => k.matchKind === 'ternary' || k.matchKind === 'range' || k.matchKind === 'optional');
    this.lpmIndex = options.keys.findIndex((k) => k.matchKind === 'lpm');
    this.numberKeys = options.keys.map((k) => k.width <= NUMBER_MAX_WIDTH);
    this.bigKey = new Array<bigint>(options.keys.length);
    this.keyMax = options.keys.map((k) => maskOf(k.width));
    const refs = new Map<ActionInfo, TableActionRef>();
    // The first reference wins, as a search of the list would find it.
    for (const a of options.actions) if (!refs.has(a.action)) refs.set(a.action, a);
    this.actionRefs = refs;
    // Exact keys pack into one bigint (first field most significant): a Map looks bigints up by value.
    this.keyShifts = options.keys.map((_, i) => BigInt(options.keys.slice(i + 1).reduce((n, k) => n + k.width, 0)));
    for (const e of options.constEntries) {
      this.validate(e, true);
      this.store(this.newEntry(e));
    }
  }

  get defaultAction(): ActionCall {
    return this.defaultCall;
  }

  get entryCount(): number {
    return this.byKey.size;
  }

  // ------------------------------------------------------------------ data plane
  lookup(key: readonly bigint[]): LookupResult {
    let entry: StoredEntry | undefined;
    if (this.exactOnly) {
      entry = this.byKey.get(this.packExact(key));
    } else {
      entry = this.bestMatch(key);
    }
    return entry === undefined ? this.missResult : entry.hitResult;
  }

  /** `lookup` with each key value as the data plane holds it (`numberKeys`). */
  lookupScalars(key: readonly Scalar[]): LookupResult {
    const n = key.length;
    if (this.exactOnly && n > 0) {
      let node: unknown = this.exactIndex;
      for (let i = 0; i < n; i++) {
        node = (node as Map<Scalar, unknown>).get(key[i]!);
        if (node === undefined) return this.missResult;
      }
      return (node as StoredEntry).hitResult;
    }
    const big = this.bigKey;
    for (let i = 0; i < n; i++) {
      const k = key[i]!;
      big[i] = typeof k === 'bigint' ? k : BigInt(k);
    }
    return this.lookup(big);
  }

  private bestMatch(key: readonly bigint[]): StoredEntry | undefined {
    if (this.sorted === undefined) {
      // Best first: by priority for ternary-like tables, by prefix length for lpm, then age.
      this.sorted = [...this.byKey.values()].sort((a, b) => this.rank(b) - this.rank(a) || a.order - b.order);
    }
    for (const e of this.sorted) {
      if (entryMatches(e, key, this.keys)) return e;
    }
    return undefined;
  }

  private rank(e: StoredEntry): number {
    if (this.needsPriority) return e.priority;
    if (this.lpmIndex >= 0) {
      const m = e.matches[this.lpmIndex];
      return m?.kind === 'lpm' ? m.prefixLength : 0;
    }
    return 0;
  }

  // ------------------------------------------------------------------ control plane
  insert(data: TableEntryData): void {
    this.checkWritable();
    this.validate(data, false);
    const id = this.entryKey(data);
    if (this.byKey.has(id)) throw new TargetError('ALREADY_EXISTS', `${this.name}: the entry already exists`);
    if (this.byKey.size >= this.size) {
      throw new TargetError('RESOURCE_EXHAUSTED', `${this.name}: table is full (${this.size} entries)`);
    }
    this.store(this.newEntry(data), id);
  }

  modify(data: TableEntryData): void {
    this.checkWritable();
    this.validate(data, false);
    const existing = this.byKey.get(this.entryKey(data));
    if (existing === undefined) throw new TargetError('NOT_FOUND', `${this.name}: no such entry to modify`);
    // In place: the key, priority, order and counters stay, so neither index nor sort order
    // changes, and a slot-table change allocates one result object per entry.
    const call = this.shared(data.action);
    existing.action = call;
    existing.hitResult = { hit: true, entry: existing, call };
  }

  delete(data: Pick<TableEntryData, 'matches' | 'priority'>): void {
    this.checkWritable();
    const id = this.entryKey(this.canonicalMatches(data));
    const existing = this.byKey.get(id);
    if (existing === undefined || !this.byKey.delete(id)) throw new TargetError('NOT_FOUND', `${this.name}: no such entry to delete`);
    this.indexExact(existing, false);
    this.sorted = undefined;
  }

  /** The entry with exactly these matches and priority, if any (P4Runtime reads by key). */
  find(data: Pick<TableEntryData, 'matches' | 'priority'>): StoredEntry | undefined {
    return this.byKey.get(this.entryKey(this.canonicalMatches(data)));
  }

  entries(): StoredEntry[] {
    return [...this.byKey.values()].sort((a, b) => a.order - b.order);
  }

  setDefault(call: ActionCall): void {
    if (this.defaultIsConst) {
      throw new TargetError('PERMISSION_DENIED', `${this.name}: the default action is const`);
    }
    const ref = this.actions.find((a) => a.action === call.action);
    if (ref === undefined) throw invalid(`${this.name}: action ${call.action.name} is not one of the table's actions`);
    if (ref.tableOnly) throw invalid(`${this.name}: action ${call.action.name} is @tableonly`);
    checkArgs(this.name, call);
    this.defaultCall = call;
    this.missResult = { hit: false, entry: undefined, call };
  }

  resetDefault(): void {
    if (this.defaultIsConst) return;
    this.defaultCall = this.initialDefault;
    this.missResult = { hit: false, entry: undefined, call: this.initialDefault };
  }

  /** Removes every non-const entry and restores the default action (pipeline reload). */
  clear(): void {
    if (!this.entriesAreConst) {
      this.byKey.clear();
      this.exactIndex.clear();
      this.sorted = [];
      this.sharedCalls.clear();
      this.sharedCallCount = 0;
    }
    this.resetDefault();
  }

  private checkWritable(): void {
    if (this.entriesAreConst) {
      throw new TargetError('PERMISSION_DENIED', `${this.name}: the table's entries are const`);
    }
  }

  private store(entry: StoredEntry, id: bigint | string = this.entryKey(entry)): void {
    this.byKey.set(id, entry);
    this.indexExact(entry, true);
    this.sorted = undefined;
  }

  /** Adds (or replaces) an exact table's entry in the data-plane index, or removes it. */
  private indexExact(entry: StoredEntry, present: boolean): void {
    const n = this.keys.length;
    if (!this.exactOnly || n === 0) return;
    const path = entry.matches.map((m, i): Scalar => {
      const v = m?.kind === 'exact' ? m.value : 0n;
      return this.numberKeys[i]! ? Number(v) : v;
    });
    let node = this.exactIndex;
    for (let i = 0; i < n - 1; i++) {
      let next = node.get(path[i]!) as Map<Scalar, unknown> | undefined;
      if (next === undefined) {
        if (!present) return;
        next = new Map<Scalar, unknown>();
        node.set(path[i]!, next);
      }
      node = next;
    }
    if (present) node.set(path[n - 1]!, entry);
    else node.delete(path[n - 1]!);
  }

  private canonicalMatches(data: Pick<TableEntryData, 'matches' | 'priority'>): Pick<TableEntryData, 'matches' | 'priority'> {
    if (data.matches.length !== this.keys.length) {
      throw invalid(`${this.name}: ${data.matches.length} match fields given, the table has ${this.keys.length}`);
    }
    return data;
  }

  /** Checks an entry against the table's keys and actions (throws the error to report). */
  private validate(data: TableEntryData, fromProgram: boolean): void {
    this.canonicalMatches(data);
    const matches = data.matches;
    for (let i = 0; i < matches.length; i++) {
      const m = matches[i];
      const key = this.keys[i]!;
      // The common case, an exact value that fits, without building error text.
      if (m !== undefined && m.kind === 'exact' && key.matchKind === 'exact' && m.value >= 0n && m.value <= this.keyMax[i]!) continue;
      checkMatch(this.name, key, m);
    }
    if (this.needsPriority && data.priority <= 0 && !fromProgram) {
      throw invalid(`${this.name}: a table with ternary, range or optional fields needs a priority > 0`);
    }
    if (!this.needsPriority && data.priority !== 0 && !fromProgram) {
      throw invalid(`${this.name}: priority must be 0 for a table without ternary, range or optional fields`);
    }
    const ref = this.actionRefs.get(data.action.action);
    if (ref === undefined) {
      throw invalid(`${this.name}: action ${data.action.action.name} is not one of the table's actions`);
    }
    if (ref.defaultOnly && !fromProgram) {
      throw invalid(`${this.name}: action ${data.action.action.name} is @defaultonly`);
    }
    checkArgs(this.name, data.action);
  }

  /** The shared call equal to `call` (calls are immutable, so sharing is safe). */
  private shared(call: ActionCall): ActionCall {
    const args = call.args;
    if (args.length > MAX_SHARED_ARGS) return call;
    let byArgs = this.sharedCalls.get(call.action);
    if (byArgs === undefined) {
      byArgs = new Map();
      this.sharedCalls.set(call.action, byArgs);
    }
    // One argument, the common case, is its own key: no string is built.
    const key = args.length === 1 ? args[0]! : args.join(',');
    const known = byArgs.get(key);
    if (known !== undefined) return known;
    // Calls with arguments unique per entry (flow state) would only grow the map: stop sharing.
    if (this.sharedCallCount >= MAX_SHARED_CALLS) return call;
    this.sharedCallCount++;
    byArgs.set(key, call);
    return call;
  }

  private newEntry(data: TableEntryData): StoredEntry {
    const entry: StoredEntry = {
      matches: data.matches,
      priority: data.priority,
      action: this.shared(data.action),
      packets: 0n,
      bytes: 0n,
      order: this.nextOrder++,
      hitResult: undefined as unknown as LookupResult,
    };
    entry.hitResult = { hit: true, entry, call: entry.action };
    return entry;
  }

  private packExact(values: readonly bigint[]): bigint {
    if (values.length === 1) return values[0]!;
    let packed = 0n;
    for (let i = 0; i < values.length; i++) packed |= values[i]! << this.keyShifts[i]!;
    return packed;
  }

  private entryKey(data: Pick<TableEntryData, 'matches' | 'priority'>): bigint | string {
    if (this.exactOnly) {
      const ms = data.matches;
      if (ms.length === 1) return ms[0]?.kind === 'exact' ? ms[0].value : 0n;
      let packed = 0n;
      for (let i = 0; i < ms.length; i++) {
        const m = ms[i];
        if (m?.kind === 'exact') packed |= m.value << this.keyShifts[i]!;
      }
      return packed;
    }
    const parts = data.matches.map((m) => {
      if (m === undefined) return '*';
      switch (m.kind) {
        case 'exact':
        case 'optional':
          return `${m.value.toString(16)}`;
        case 'lpm':
          return `${m.value.toString(16)}/${m.prefixLength}`;
        case 'ternary':
          return `${m.value.toString(16)}&${m.mask.toString(16)}`;
        case 'range':
          return `${m.low.toString(16)}..${m.high.toString(16)}`;
      }
    });
    return `${parts.join(',')}#${data.priority}`;
  }

  describe(): string {
    return `${this.name} (${spanLocation(this.span)?.file ?? ''})`;
  }
}


function checkMatch(table: string, key: KeyField, m: FieldMatch | undefined): void {
  const max = maskOf(key.width);
  const where = `${table}: key '${key.name}'`;
  if (m === undefined) {
    if (key.matchKind === 'exact') throw invalid(`${where} is exact and needs a value`);
    return;
  }
  const fits = (v: bigint): void => {
    if (v < 0n || v > max) {
      throw new TargetError('OUT_OF_RANGE', `${where}: value 0x${v.toString(16)} does not fit in ${key.width} bits`);
    }
  };
  const kindOk =
    m.kind === key.matchKind ||
    // An exact value is a fine optional match, and the control plane sends optionals so.
    (key.matchKind === 'optional' && m.kind === 'exact');
  if (!kindOk) throw invalid(`${where} is ${key.matchKind}, got a ${m.kind} match`);
  switch (m.kind) {
    case 'exact':
    case 'optional':
      fits(m.value);
      break;
    case 'lpm': {
      fits(m.value);
      if (m.prefixLength < 0 || m.prefixLength > key.width) {
        throw invalid(`${where}: prefix length ${m.prefixLength} is outside 0..${key.width}`);
      }
      const hostBits = maskOf(key.width - m.prefixLength);
      if ((m.value & hostBits) !== 0n) throw invalid(`${where}: value has bits set beyond the /${m.prefixLength} prefix`);
      break;
    }
    case 'ternary':
      fits(m.value);
      fits(m.mask);
      if ((m.value & ~m.mask) !== 0n) throw invalid(`${where}: value has bits set outside the mask`);
      break;
    case 'range':
      fits(m.low);
      fits(m.high);
      if (m.low > m.high) throw invalid(`${where}: range low 0x${m.low.toString(16)} is above high`);
      break;
  }
}

function checkArgs(table: string, call: ActionCall): void {
  const { action, args } = call;
  if (args.length !== action.params.length) {
    throw invalid(`${table}: action ${action.name} takes ${action.params.length} parameters, got ${args.length}`);
  }
  for (let i = 0; i < args.length; i++) {
    const v = args[i]!;
    const p = action.params[i]!;
    if (v < 0n || v > maskOf(p.width)) {
      throw new TargetError(
        'OUT_OF_RANGE',
        `${table}: action ${action.name} parameter '${p.name}' = 0x${v.toString(16)} does not fit in ${p.width} bits`,
      );
    }
  }
}

function entryMatches(e: TableEntryData, key: readonly bigint[], fields: readonly KeyField[]): boolean {
  for (let i = 0; i < key.length; i++) {
    const m = e.matches[i];
    if (m === undefined) continue;
    const v = key[i]!;
    switch (m.kind) {
      case 'exact':
      case 'optional':
        if (v !== m.value) return false;
        break;
      case 'ternary':
        if ((v & m.mask) !== m.value) return false;
        break;
      case 'range':
        if (v < m.low || v > m.high) return false;
        break;
      case 'lpm': {
        const hostBits = BigInt(fields[i]!.width - m.prefixLength);
        if (v >> hostBits !== m.value >> hostBits) return false;
        break;
      }
    }
  }
  return true;
}
