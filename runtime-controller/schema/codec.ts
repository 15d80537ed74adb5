/**
 * Pure encode/decode pairs between plain controller values (names, bigints) and P4Runtime
 * messages (ids, canonical byte strings): table entries, counter, direct-counter, register and
 * digest entries, digest lists, and PacketIn/PacketOut metadata. `decodeX(schema, encodeX(schema, v))`
 * gives v in normal form (bigints, full names, don't-care fields left out).
 */
import { create } from '@bufbuild/protobuf';
import { decodeP4Value, encodeP4Value, maxValue, prefixMask } from '../../core/p4runtime/bytes.ts';
import { P4RuntimeError } from '../../core/p4runtime/errors.ts';
import * as p4v1 from '../../core/p4runtime/gen/p4/v1/p4runtime_pb.ts';
import { P4DataSchema, type P4Data } from '../../core/p4runtime/gen/p4/v1/p4data_pb.ts';
import { SchemaError } from './errors.ts';
import type { ActionInfo, MatchFieldInfo, P4Schema, TableInfo } from './p4-schema.ts';
import { toBits, type Scalar } from './values.ts';

// ------------------------------------------------------------------------------------- types

/** One match field: a scalar for exact and optional; the object forms for the other kinds. */
export type MatchValue<V = Scalar> =
  | V
  | { readonly value: V; readonly mask: V }
  | { readonly value: V; readonly prefixLength: number }
  | { readonly low: V; readonly high: V };

export interface TableEntryValue<V = Scalar> {
  /** Table name, alias or id; decoded entries carry the full name. */
  readonly table: string;
  /** Key fields by name; a don't-care field (ternary mask 0, lpm /0, full range, optional) is left out. */
  readonly match?: Readonly<Record<string, MatchValue<V>>>;
  /** Absent only in a DELETE or a read filter. */
  readonly action?: string;
  readonly params?: Readonly<Record<string, V>>;
  /** Required (> 0) for tables with ternary, range or optional fields; absent otherwise. */
  readonly priority?: number;
  /** The table's default entry: no match, no priority. */
  readonly isDefaultAction?: boolean;
}

/** A decoded table entry: bigints, full names, `match` and `params` always present. */
export interface DecodedTableEntry extends TableEntryValue<bigint> {
  readonly match: Readonly<Record<string, MatchValue<bigint>>>;
  readonly params: Readonly<Record<string, bigint>>;
}

export interface CounterValue {
  readonly counter: string;
  /** Absent = every cell (a wildcard read, or a write of all cells). */
  readonly index?: number;
  readonly packets?: bigint;
  readonly bytes?: bigint;
}

export interface DirectCounterValue {
  /** The entry whose counter this is (its action is ignored). */
  readonly entry: TableEntryValue;
  readonly packets?: bigint;
  readonly bytes?: bigint;
}

export interface RegisterValue {
  readonly register: string;
  readonly index?: number;
  readonly value?: Scalar;
}

export interface DigestConfigValue {
  readonly digest: string;
  readonly maxTimeoutNs?: bigint;
  readonly maxListSize?: number;
  readonly ackTimeoutNs?: bigint;
}

export interface DigestListValue {
  readonly digest: string;
  readonly listId: bigint;
  readonly timestampNs: bigint;
  /** One record per digest message, members by name. */
  readonly data: readonly Readonly<Record<string, bigint>>[];
}

export interface PacketValue {
  readonly payload: Uint8Array;
  /** Controller header fields by name. */
  readonly metadata: Readonly<Record<string, Scalar>>;
}

// ------------------------------------------------------------------------------------- helpers

function entryError(path: string, message: string, hint?: string): SchemaError {
  return new SchemaError('SCHEMA_BAD_ENTRY', `${path}: ${message}`, { location: { path }, ...(hint === undefined ? {} : { hint }) });
}

/** Decodes bytes from a switch, reporting a bad width as a schema error naming the field. */
function fromBytes(bytes: Uint8Array, bitwidth: number, path: string): bigint {
  try {
    return decodeP4Value(bytes, bitwidth, { path });
  } catch (err) {
    if (err instanceof P4RuntimeError) throw new SchemaError('SCHEMA_BAD_VALUE', `${path}: ${err.message}`, { location: { path }, cause: err });
    throw err;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** Whether the record has an own enumerable key (what Object.entries would list), without building the list. */
function hasOwnKey(record: Readonly<Record<string, unknown>> | undefined): boolean {
  for (const name in record) if (Object.hasOwn(record, name)) return true;
  return false;
}

// ------------------------------------------------------------------------------------- messages

/*
 * Table entries, their matches and actions as message literals rather than through create():
 * protobuf-es messages are plain objects, and create() finds each field by reflection and fills
 * its zero value, the larger part of encoding time at 65,536 entries a slot table. The types make
 * every literal list every field; a test compares them with what create() builds.
 */
const NO_BYTES = new Uint8Array(0);

function exactMatch(fieldId: number, value: Uint8Array): p4v1.FieldMatch {
  return { $typeName: 'p4.v1.FieldMatch', fieldId, fieldMatchType: { case: 'exact', value: { $typeName: 'p4.v1.FieldMatch.Exact', value } } };
}

function actionMessage(actionId: number, params: p4v1.Action_Param[]): p4v1.TableAction {
  return { $typeName: 'p4.v1.TableAction', type: { case: 'action', value: { $typeName: 'p4.v1.Action', actionId, params } } };
}

function tableEntryMessage(fields: { readonly tableId: number; readonly match?: p4v1.FieldMatch[]; readonly priority?: number; readonly isDefaultAction?: boolean; readonly action?: p4v1.TableAction | undefined }): p4v1.TableEntry {
  const tableId = fields.tableId;
  const match = fields.match ?? [];
  const priority = fields.priority ?? 0;
  const isDefaultAction = fields.isDefaultAction ?? false;
  // Two literals rather than a spread: no `action` key at all when there is none, as create() gives.
  if (fields.action === undefined) {
    return { $typeName: 'p4.v1.TableEntry', tableId, match, priority, controllerMetadata: 0n, isDefaultAction, idleTimeoutNs: 0n, metadata: NO_BYTES, isConst: false };
  }
  return { $typeName: 'p4.v1.TableEntry', tableId, match, action: fields.action, priority, controllerMetadata: 0n, isDefaultAction, idleTimeoutNs: 0n, metadata: NO_BYTES, isConst: false };
}

// ------------------------------------------------------------------------------------- matches

/**
 * The canonical bytes of a safe non-negative integer that fits `bitwidth` (the same bytes as
 * encodeP4Value(BigInt(n), bitwidth)), or undefined when `n` is anything else: the common case of
 * computed entries, without a bigint.
 */
function numberBytes(n: Scalar, bitwidth: number): Uint8Array | undefined {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) return undefined;
  if (bitwidth < 53 && n >= 2 ** bitwidth) return undefined;
  let length = 1;
  for (let v = Math.floor(n / 256); v > 0; v = Math.floor(v / 256)) length++;
  const out = new Uint8Array(length);
  let v = n;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

/** A scalar as the canonical bytes of a bit<bitwidth>; `path` is built only for an error (it costs a string per value). */
function scalarBytes(v: Scalar, bitwidth: number, owner: string, name: string): Uint8Array {
  return numberBytes(v, bitwidth) ?? encodeP4Value(toBits(v, bitwidth, `${owner}.${name}`), bitwidth);
}

function wrongForm(table: TableInfo, field: MatchFieldInfo): SchemaError {
  return entryError(`${table.name}.${field.name}`, `match field '${field.name}' is ${field.kind}: ${FORMS[field.kind]}`);
}

/*
 * No closures here: this runs once per key field of every entry written (65,536 a slot table),
 * and each closure is an allocation (under tsx also a __name call).
 */
function encodeFieldMatch(table: TableInfo, field: MatchFieldInfo, v: MatchValue): p4v1.FieldMatch | undefined {
  const w = field.bitwidth;
  const fieldId = field.id;
  if (field.kind === 'exact') {
    if (isObject(v)) throw wrongForm(table, field);
    return exactMatch(fieldId, scalarBytes(v, w, table.name, field.name));
  }
  const path = `${table.name}.${field.name}`;
  switch (field.kind) {
    case 'optional': {
      if (isObject(v)) throw wrongForm(table, field);
      return create(p4v1.FieldMatchSchema, { fieldId, fieldMatchType: { case: field.kind, value: { value: encodeP4Value(toBits(v, w, path), w) } } });
    }
    case 'lpm': {
      const [value, prefixLength] = isObject(v) ? ('prefixLength' in v ? [toBits(v.value, w, path), v.prefixLength] : [undefined, 0]) : [toBits(v, w, path), w];
      if (value === undefined) throw wrongForm(table, field);
      if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > w) {
        throw entryError(path, `prefix length ${prefixLength} is outside 0..${w}`);
      }
      if ((value & ~prefixMask(prefixLength, w)) !== 0n) {
        throw new SchemaError('SCHEMA_BAD_VALUE', `${path}: 0x${value.toString(16)} has bits set past /${prefixLength}`, {
          location: { path },
          hint: `use 0x${(value & prefixMask(prefixLength, w)).toString(16)}`,
        });
      }
      // P4Runtime §9.1.1: a don't-care match is left out, never sent as /0.
      if (prefixLength === 0) return undefined;
      return create(p4v1.FieldMatchSchema, { fieldId, fieldMatchType: { case: 'lpm', value: { value: encodeP4Value(value, w), prefixLen: prefixLength } } });
    }
    case 'ternary': {
      if (isObject(v) && !('mask' in v)) throw wrongForm(table, field);
      const value = isObject(v) && 'mask' in v ? toBits(v.value, w, path) : toBits(v as Scalar, w, path);
      const mask = isObject(v) && 'mask' in v ? toBits(v.mask, w, `${path}.mask`) : maxValue(w);
      if ((value & ~mask) !== 0n) {
        throw new SchemaError('SCHEMA_BAD_VALUE', `${path}: 0x${value.toString(16)} has bits set outside mask 0x${mask.toString(16)}`, {
          location: { path },
          hint: `use 0x${(value & mask).toString(16)}`,
        });
      }
      if (mask === 0n) return undefined;
      return create(p4v1.FieldMatchSchema, { fieldId, fieldMatchType: { case: 'ternary', value: { value: encodeP4Value(value, w), mask: encodeP4Value(mask, w) } } });
    }
    case 'range': {
      if (isObject(v) && !('low' in v)) throw wrongForm(table, field);
      const low = isObject(v) && 'low' in v ? toBits(v.low, w, `${path}.low`) : toBits(v as Scalar, w, path);
      const high = isObject(v) && 'low' in v ? toBits(v.high, w, `${path}.high`) : low;
      if (low > high) throw entryError(path, `range low ${low} is above high ${high}`);
      if (low === 0n && high === maxValue(w)) return undefined;
      return create(p4v1.FieldMatchSchema, { fieldId, fieldMatchType: { case: 'range', value: { low: encodeP4Value(low, w), high: encodeP4Value(high, w) } } });
    }
    case 'other':
      throw entryError(path, `match field '${field.name}' has a match kind this controller does not encode`);
  }
}

const FORMS: Record<MatchFieldInfo['kind'], string> = {
  exact: 'give a value',
  optional: 'give a value, or leave the field out for "any"',
  lpm: 'give {value, prefixLength} or a value',
  ternary: 'give {value, mask} or a value',
  range: 'give {low, high} or a value',
  other: 'not supported',
};

function decodeFieldMatch(table: TableInfo, m: p4v1.FieldMatch): [string, MatchValue<bigint>] {
  const field = table.matchField(m.fieldId);
  const path = `${table.name}.${field.name}`;
  const w = field.bitwidth;
  const t = m.fieldMatchType;
  if (t.case !== field.kind) throw entryError(path, `match field '${field.name}' is ${field.kind}, the entry has a ${t.case ?? 'missing'} match`);
  switch (t.case) {
    case 'exact':
    case 'optional':
      return [field.name, fromBytes(t.value.value, w, path)];
    case 'lpm':
      return [field.name, { value: fromBytes(t.value.value, w, path), prefixLength: t.value.prefixLen }];
    case 'ternary':
      return [field.name, { value: fromBytes(t.value.value, w, path), mask: fromBytes(t.value.mask, w, `${path}.mask`) }];
    case 'range':
      return [field.name, { low: fromBytes(t.value.low, w, `${path}.low`), high: fromBytes(t.value.high, w, `${path}.high`) }];
    default:
      throw entryError(path, `match field '${field.name}': ${t.case} matches are not decoded`);
  }
}

// ------------------------------------------------------------------------------------- actions

function encodeAction(action: ActionInfo, params: Readonly<Record<string, Scalar>> | undefined): p4v1.TableAction {
  const given = params ?? {};
  // Unknown names fail (with "did you mean"); own keys only, as Object.entries gives them.
  for (const name in given) if (Object.hasOwn(given, name)) action.param(name);
  const encoded: p4v1.Action_Param[] = new Array(action.params.length);
  for (let i = 0; i < action.params.length; i++) {
    const p = action.params[i]!;
    const v = Object.hasOwn(given, p.name) ? given[p.name] : undefined;
    if (v === undefined) throw entryError(`${action.name}.${p.name}`, `action '${action.name}' needs parameter '${p.name}' (bit<${p.bitwidth}>)`);
    encoded[i] = { $typeName: 'p4.v1.Action.Param', paramId: p.id, value: scalarBytes(v, p.bitwidth, action.name, p.name) };
  }
  return actionMessage(action.id, encoded);
}

function decodeAction(schema: P4Schema, a: p4v1.TableAction): { action: string; params: Record<string, bigint> } {
  if (a.type.case !== 'action') throw entryError('action', `only direct actions are decoded, got ${a.type.case ?? 'none'}`);
  const action = schema.action(a.type.value.actionId);
  const params: Record<string, bigint> = {};
  for (const p of a.type.value.params) {
    const info = action.param(p.paramId);
    params[info.name] = fromBytes(p.value, info.bitwidth, `${action.name}.${info.name}`);
  }
  return { action: action.name, params };
}

// ------------------------------------------------------------------------------------- table entries

export interface EncodeTableEntryOptions {
  /**
   * Allow entries without an action and with missing exact fields (read filters and DELETEs
   * need only the key; a filter may be partial).
   */
  readonly keyOnly?: boolean;
}

export function encodeTableEntry(schema: P4Schema, v: TableEntryValue, options: EncodeTableEntryOptions = {}): p4v1.TableEntry {
  const table = schema.table(v.table);
  if (v.isDefaultAction === true) {
    if (hasOwnKey(v.match) || v.priority !== undefined) {
      throw entryError(table.name, 'the default entry has no match fields and no priority');
    }
    if (v.action === undefined) {
      // A MODIFY of the default entry without an action resets it to the program's default.
      return tableEntryMessage({ tableId: table.id, isDefaultAction: true });
    }
    const ref = table.actionRef(v.action);
    if (ref.scope === 'table-only') throw entryError(table.name, `action '${ref.action.name}' may not be the default action (@tableonly)`);
    if (table.constDefaultActionId !== 0) throw entryError(table.name, 'the default action is const');
    return tableEntryMessage({ tableId: table.id, isDefaultAction: true, action: encodeAction(ref.action, v.params) });
  }
  const given = v.match ?? {};
  for (const name in given) if (Object.hasOwn(given, name)) table.matchField(name);
  const match: p4v1.FieldMatch[] = [];
  for (const field of table.matchFields) {
    const value = Object.hasOwn(given, field.name) ? given[field.name] : undefined;
    if (value === undefined) {
      if (field.kind === 'exact' && options.keyOnly !== true) {
        throw entryError(`${table.name}.${field.name}`, `exact match field '${field.name}' (bit<${field.bitwidth}>) is missing`);
      }
      continue;
    }
    const m = encodeFieldMatch(table, field, value);
    if (m !== undefined) match.push(m);
  }
  let priority = 0;
  if (table.needsPriority) {
    priority = v.priority ?? 0;
    if (!Number.isInteger(priority) || priority < 0 || priority > 0x7fffffff) throw entryError(table.name, `priority ${priority} is outside 1..2^31-1`);
    if (priority === 0 && options.keyOnly !== true) {
      throw entryError(table.name, 'entries of this table need a priority > 0', 'it has ternary, range or optional fields');
    }
  } else if (v.priority !== undefined && v.priority !== 0) {
    throw entryError(table.name, 'entries of this table take no priority', 'only tables with ternary, range or optional fields do');
  }
  let action: p4v1.TableAction | undefined;
  if (v.action !== undefined) {
    const ref = table.actionRef(v.action);
    if (ref.scope === 'default-only') throw entryError(table.name, `action '${ref.action.name}' may only be the default action (@defaultonly)`);
    action = encodeAction(ref.action, v.params);
  } else if (options.keyOnly !== true) {
    throw entryError(table.name, 'the entry has no action', `one of ${table.actions.filter((a) => a.scope !== 'default-only').map((a) => a.action.name).join(', ')}`);
  }
  return tableEntryMessage({ tableId: table.id, match, priority, action });
}

export function decodeTableEntry(schema: P4Schema, entry: p4v1.TableEntry): DecodedTableEntry {
  const table = schema.table(entry.tableId);
  const match: Record<string, MatchValue<bigint>> = {};
  for (const m of entry.match) {
    const [name, value] = decodeFieldMatch(table, m);
    match[name] = value;
  }
  const action = entry.action === undefined ? undefined : decodeAction(schema, entry.action);
  return {
    table: table.name,
    match,
    ...(action === undefined ? { params: {} } : action),
    ...(table.needsPriority && !entry.isDefaultAction ? { priority: entry.priority } : {}),
    ...(entry.isDefaultAction ? { isDefaultAction: true } : {}),
  };
}

/** The exact-match fast path of normalizeTableEntry, or undefined for anything else (the general path decides). */
function normalizeExactEntry(schema: P4Schema, v: TableEntryValue): DecodedTableEntry | undefined {
  if (v.isDefaultAction === true || v.action === undefined || (v.priority !== undefined && v.priority !== 0)) return undefined;
  const table = schema.table(v.table);
  if (table.needsPriority) return undefined;
  const given = v.match ?? {};
  let count = 0;
  for (const name in given) {
    count++;
    if (given[name] === undefined) return undefined;
  }
  if (count !== table.matchFields.length) return undefined;
  try {
    const match: Record<string, bigint> = {};
    for (const field of table.matchFields) {
      const value = given[field.name];
      if (field.kind !== 'exact' || value === undefined || typeof value === 'object') return undefined;
      match[field.name] = toBits(value, field.bitwidth, field.name);
    }
    const ref = table.actionRef(v.action);
    if (ref.scope === 'default-only') return undefined;
    const params: Record<string, bigint> = {};
    const givenParams = v.params ?? {};
    let paramCount = 0;
    for (const name in givenParams) if (givenParams[name] !== undefined) paramCount++;
    if (paramCount !== ref.action.params.length) return undefined;
    for (const p of ref.action.params) {
      const value = givenParams[p.name];
      if (value === undefined) return undefined;
      params[p.name] = toBits(value, p.bitwidth, p.name);
    }
    return { table: table.name, match, action: ref.action.name, params };
  } catch {
    // Any doubt (an alias, a bad value): the general path gives the answer and its error.
    return undefined;
  }
}

/**
 * `decodeTableEntry(schema, encodeTableEntry(schema, v))`, with the same errors: the form a read
 * returns. Entries of exact-match tables skip the protobuf round trip (the slot table's 65,536 a
 * VIP are normalised at every reconcile).
 */
export function normalizeTableEntry(schema: P4Schema, v: TableEntryValue): DecodedTableEntry {
  return normalizeExactEntry(schema, v) ?? decodeTableEntry(schema, encodeTableEntry(schema, v));
}

// ------------------------------------------------------------------------------------- counters

function checkIndex(index: number | undefined, size: number, path: string): bigint | undefined {
  if (index === undefined) return undefined;
  if (!Number.isInteger(index) || index < 0 || index >= size) {
    throw new SchemaError('SCHEMA_BAD_VALUE', `${path}: index ${index} is outside 0..${size - 1}`, { location: { path } });
  }
  return BigInt(index);
}

function counterData(packets: bigint | undefined, bytes: bigint | undefined): p4v1.CounterData | undefined {
  if (packets === undefined && bytes === undefined) return undefined;
  return create(p4v1.CounterDataSchema, { packetCount: packets ?? 0n, byteCount: bytes ?? 0n });
}

export function encodeCounterEntry(schema: P4Schema, v: CounterValue): p4v1.CounterEntry {
  const c = schema.counter(v.counter);
  const index = checkIndex(v.index, c.size, c.name);
  const data = counterData(v.packets, v.bytes);
  return create(p4v1.CounterEntrySchema, {
    counterId: c.id,
    ...(index === undefined ? {} : { index: { index } }),
    ...(data === undefined ? {} : { data }),
  });
}

export function decodeCounterEntry(schema: P4Schema, e: p4v1.CounterEntry): CounterValue {
  const c = schema.counter(e.counterId);
  return {
    counter: c.name,
    ...(e.index === undefined ? {} : { index: Number(e.index.index) }),
    ...(e.data === undefined ? {} : { packets: e.data.packetCount, bytes: e.data.byteCount }),
  };
}

export function encodeDirectCounterEntry(schema: P4Schema, v: DirectCounterValue): p4v1.DirectCounterEntry {
  const table = schema.table(v.entry.table);
  if (table.directCounter === undefined) throw entryError(table.name, 'the table has no direct counter');
  const { action: _action, params: _params, ...key } = v.entry;
  const data = counterData(v.packets, v.bytes);
  return create(p4v1.DirectCounterEntrySchema, {
    tableEntry: encodeTableEntry(schema, key, { keyOnly: true }),
    ...(data === undefined ? {} : { data }),
  });
}

export function decodeDirectCounterEntry(schema: P4Schema, e: p4v1.DirectCounterEntry): DirectCounterValue {
  if (e.tableEntry === undefined) throw entryError('direct counter', 'the entry has no table_entry');
  const { action: _action, params: _params, ...entry } = decodeTableEntry(schema, e.tableEntry);
  return { entry, ...(e.data === undefined ? {} : { packets: e.data.packetCount, bytes: e.data.byteCount }) };
}

// ------------------------------------------------------------------------------------- registers

function bitstring(value: bigint, bitwidth: number): P4Data {
  return create(P4DataSchema, { data: { case: 'bitstring', value: encodeP4Value(value, bitwidth) } });
}

function fromP4Data(d: P4Data | undefined, bitwidth: number, path: string): bigint {
  const x = d?.data;
  if (x?.case === 'bitstring') return fromBytes(x.value, bitwidth, path);
  if (x?.case === 'bool' && bitwidth === 1) return x.value ? 1n : 0n;
  throw new SchemaError('SCHEMA_BAD_VALUE', `${path}: expected a bitstring, got ${x?.case ?? 'nothing'}`, { location: { path } });
}

export function encodeRegisterEntry(schema: P4Schema, v: RegisterValue): p4v1.RegisterEntry {
  const r = schema.register(v.register);
  const index = checkIndex(v.index, r.size, r.name);
  return create(p4v1.RegisterEntrySchema, {
    registerId: r.id,
    ...(index === undefined ? {} : { index: { index } }),
    ...(v.value === undefined ? {} : { data: bitstring(toBits(v.value, r.bitwidth, r.name), r.bitwidth) }),
  });
}

export interface DecodedRegisterValue extends RegisterValue {
  readonly value?: bigint;
}

export function decodeRegisterEntry(schema: P4Schema, e: p4v1.RegisterEntry): DecodedRegisterValue {
  const r = schema.register(e.registerId);
  return {
    register: r.name,
    ...(e.index === undefined ? {} : { index: Number(e.index.index) }),
    ...(e.data === undefined ? {} : { value: fromP4Data(e.data, r.bitwidth, r.name) }),
  };
}

// ------------------------------------------------------------------------------------- digests

export function encodeDigestEntry(schema: P4Schema, v: DigestConfigValue): p4v1.DigestEntry {
  const d = schema.digest(v.digest);
  return create(p4v1.DigestEntrySchema, {
    digestId: d.id,
    config: { maxTimeoutNs: v.maxTimeoutNs ?? 0n, maxListSize: v.maxListSize ?? 0, ackTimeoutNs: v.ackTimeoutNs ?? 0n },
  });
}

export function decodeDigestEntry(schema: P4Schema, e: p4v1.DigestEntry): DigestConfigValue {
  const d = schema.digest(e.digestId);
  const c = e.config;
  return {
    digest: d.name,
    ...(c === undefined ? {} : { maxTimeoutNs: c.maxTimeoutNs, maxListSize: c.maxListSize, ackTimeoutNs: c.ackTimeoutNs }),
  };
}

export function encodeDigestList(schema: P4Schema, v: DigestListValue): p4v1.DigestList {
  const d = schema.digest(v.digest);
  return create(p4v1.DigestListSchema, {
    digestId: d.id,
    listId: v.listId,
    timestamp: v.timestampNs,
    data: v.data.map((record, i) => {
      for (const name of Object.keys(record)) {
        if (!d.members.some((m) => m.name === name)) throw entryError(`${d.name}[${i}].${name}`, `digest ${d.name} has no member '${name}'`);
      }
      const values = d.members.map((m) => {
        const path = `${d.name}[${i}].${m.name}`;
        const x = record[m.name];
        if (x === undefined) throw entryError(path, `member '${m.name}' is missing`);
        return bitstring(toBits(x, m.bitwidth, path), m.bitwidth);
      });
      return d.isStruct
        ? create(P4DataSchema, { data: { case: 'struct', value: { members: values } } })
        : values[0]!;
    }),
  });
}

export function decodeDigestList(schema: P4Schema, list: p4v1.DigestList): DigestListValue {
  const d = schema.digest(list.digestId);
  const data = list.data.map((item, i) => {
    const members = item.data.case === 'struct' ? item.data.value.members : item.data.case === 'tuple' ? item.data.value.members : [item];
    if (members.length !== d.members.length) {
      throw entryError(`${d.name}[${i}]`, `digest ${d.name} has ${d.members.length} members, the list item ${members.length}`);
    }
    const record: Record<string, bigint> = {};
    d.members.forEach((m, k) => (record[m.name] = fromP4Data(members[k], m.bitwidth, `${d.name}[${i}].${m.name}`)));
    return record;
  });
  return { digest: d.name, listId: list.listId, timestampNs: list.timestamp, data };
}

// ------------------------------------------------------------------------------------- packets

function encodeMetadata(schema: P4Schema, header: string, metadata: Readonly<Record<string, Scalar>>): p4v1.PacketMetadata[] {
  const h = schema.controllerHeader(header);
  for (const name of Object.keys(metadata)) h.field(name);
  return h.metadata.map((f) => {
    const path = `${h.name}.${f.name}`;
    const v = metadata[f.name];
    if (v === undefined) throw entryError(path, `metadata field '${f.name}' (bit<${f.bitwidth}>) is missing`);
    return create(p4v1.PacketMetadataSchema, { metadataId: f.id, value: encodeP4Value(toBits(v, f.bitwidth, path), f.bitwidth) });
  });
}

function decodeMetadata(schema: P4Schema, header: string, metadata: readonly p4v1.PacketMetadata[]): Record<string, bigint> {
  const h = schema.controllerHeader(header);
  const out: Record<string, bigint> = {};
  for (const m of metadata) {
    const f = h.field(m.metadataId);
    out[f.name] = fromBytes(m.value, f.bitwidth, `${h.name}.${f.name}`);
  }
  return out;
}

/** The controller header names of P4Runtime §16.1. */
export const PACKET_OUT_HEADER = 'packet_out';
export const PACKET_IN_HEADER = 'packet_in';

export function encodePacketOut(schema: P4Schema, v: PacketValue): p4v1.PacketOut {
  return create(p4v1.PacketOutSchema, { payload: v.payload, metadata: encodeMetadata(schema, PACKET_OUT_HEADER, v.metadata) });
}

export function decodePacketOut(schema: P4Schema, p: p4v1.PacketOut): PacketValue {
  return { payload: p.payload, metadata: decodeMetadata(schema, PACKET_OUT_HEADER, p.metadata) };
}

export function encodePacketIn(schema: P4Schema, v: PacketValue): p4v1.PacketIn {
  return create(p4v1.PacketInSchema, { payload: v.payload, metadata: encodeMetadata(schema, PACKET_IN_HEADER, v.metadata) });
}

export function decodePacketIn(schema: P4Schema, p: p4v1.PacketIn): PacketValue {
  return { payload: p.payload, metadata: decodeMetadata(schema, PACKET_IN_HEADER, p.metadata) };
}
