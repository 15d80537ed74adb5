/**
 * P4Runtime entities ↔ interpreter objects: table entries (matches, actions, priorities,
 * direct-counter data), counter cells, register cells and P4Data. Decoding checks everything a
 * client can get wrong and throws a ServerError (or the protocol layer's P4RuntimeError) whose
 * code is the gRPC status the spec asks for. Pure: no I/O.
 */
import { create } from '@bufbuild/protobuf';
import { decodeP4Value, encodeP4Value, tryDecodeP4Value } from '../../core/p4runtime/bytes.ts';
import {
  FieldMatchSchema,
  TableEntrySchema,
  type Action_Param,
  type CounterData,
  type TableAction,
  type FieldMatch as ProtoFieldMatch,
  type TableEntry,
} from '../../core/p4runtime/gen/p4/v1/p4runtime_pb.ts';
import { P4DataSchema, type P4Data } from '../../core/p4runtime/gen/p4/v1/p4data_pb.ts';
import type { ActionCall, FieldMatch, StoredEntry } from '../interpreter/tables.ts';
import { invalidArgument, notFound, unimplemented, ServerError } from './errors.ts';
import type { FieldBinding, Pipeline, TableBinding } from './pipeline.ts';

const NO_BYTES: Uint8Array = new Uint8Array(0);

export interface DecodedTableEntry {
  readonly binding: TableBinding;
  /** One per interpreter key; undefined = don't care. */
  readonly matches: readonly (FieldMatch | undefined)[];
  readonly priority: number;
  /** The action, when the entry carries one. */
  readonly action: ActionCall | undefined;
}

export function tableBinding(pipeline: Pipeline, tableId: number): TableBinding {
  const b = pipeline.tables.get(tableId);
  if (b === undefined) throw notFound(`no table with id 0x${tableId.toString(16)}`);
  return b;
}

function allOnes(width: number): bigint {
  return (1n << BigInt(width)) - 1n;
}

function decodeFieldMatch(binding: TableBinding, m: ProtoFieldMatch): { index: number; match: FieldMatch } {
  const field = binding.fieldsById.get(m.fieldId);
  if (field === undefined) throw invalidArgument(`${binding.name}: no match field with id ${m.fieldId}`);
  const t = m.fieldMatchType;
  // The hot path (slot tables): an exact value of an exact field, decoded without building
  // error text; a bad value takes the general path below, which reports it.
  if (t.case === 'exact' && field.matchKind === 'exact') {
    const value = tryDecodeP4Value(t.value.value, field.bitwidth);
    if (value !== undefined) return { index: field.keyIndex, match: { kind: 'exact', value } };
  }
  return decodeFieldMatchSlow(binding, field, m);
}

function decodeFieldMatchSlow(binding: TableBinding, field: FieldBinding, m: ProtoFieldMatch): { index: number; match: FieldMatch } {
  const where = { path: `${binding.name}.${field.name}` };
  const value = (bytes: Uint8Array): bigint => decodeP4Value(bytes, field.bitwidth, where);
  const kindError = (got: string): ServerError =>
    invalidArgument(`${binding.name}: match field '${field.name}' is ${field.matchKind}, got a ${got} match`);
  const t = m.fieldMatchType;
  switch (t.case) {
    case 'exact':
      if (field.matchKind !== 'exact') throw kindError('exact');
      return { index: field.keyIndex, match: { kind: 'exact', value: value(t.value.value) } };
    case 'optional':
      if (field.matchKind !== 'optional') throw kindError('optional');
      return { index: field.keyIndex, match: { kind: 'optional', value: value(t.value.value) } };
    case 'lpm': {
      if (field.matchKind !== 'lpm') throw kindError('lpm');
      const prefixLength = t.value.prefixLen;
      // P4Runtime §9.1.1: a don't-care match is omitted, never sent as /0.
      if (prefixLength === 0) throw invalidArgument(`${binding.name}: match field '${field.name}': omit an lpm match of prefix length 0`);
      return { index: field.keyIndex, match: { kind: 'lpm', value: value(t.value.value), prefixLength } };
    }
    case 'ternary': {
      if (field.matchKind !== 'ternary') throw kindError('ternary');
      const mask = value(t.value.mask);
      if (mask === 0n) throw invalidArgument(`${binding.name}: match field '${field.name}': omit a ternary match with mask 0`);
      return { index: field.keyIndex, match: { kind: 'ternary', value: value(t.value.value), mask } };
    }
    case 'range': {
      if (field.matchKind !== 'range') throw kindError('range');
      const low = value(t.value.low);
      const high = value(t.value.high);
      if (low === 0n && high === allOnes(field.bitwidth)) {
        throw invalidArgument(`${binding.name}: match field '${field.name}': omit a range match covering every value`);
      }
      return { index: field.keyIndex, match: { kind: 'range', low, high } };
    }
    case 'other':
      throw unimplemented(`${binding.name}: match field '${field.name}': 'other' matches are not supported`);
    default:
      throw invalidArgument(`${binding.name}: match field '${field.name}' has no match value`);
  }
}

/** The interpreter's matches of a TableEntry's `match` list (checks ids, kinds, widths). */
export function decodeMatches(binding: TableBinding, match: readonly ProtoFieldMatch[]): (FieldMatch | undefined)[] {
  const matches: (FieldMatch | undefined)[] = binding.table.keys.map(() => undefined);
  for (let i = 0; i < match.length; i++) {
    const m = match[i]!;
    // Lists are as short as the table's key: a scan beats building a set per entry.
    for (let j = 0; j < i; j++) {
      if (match[j]!.fieldId === m.fieldId) throw invalidArgument(`${binding.name}: match field id ${m.fieldId} appears twice`);
    }
    const { index, match: fm } = decodeFieldMatch(binding, m);
    matches[index] = fm;
  }
  return matches;
}

export function decodeActionCall(pipeline: Pipeline, binding: TableBinding, entry: TableEntry): ActionCall | undefined {
  const t = entry.action?.type;
  if (t === undefined || t.case === undefined) return undefined;
  if (t.case !== 'action') throw unimplemented(`${binding.name}: action profiles are not supported by the embedded target`);
  const a = pipeline.actions.get(t.value.actionId);
  if (a === undefined) throw notFound(`${binding.name}: no action with id 0x${t.value.actionId.toString(16)}`);
  if (!binding.actionIds.has(a.id)) throw invalidArgument(`${binding.name}: action '${a.name}' is not one of the table's actions`);
  const args: (bigint | undefined)[] = a.params.map(() => undefined);
  for (const p of t.value.params) {
    const param = a.paramsById.get(p.paramId);
    if (param === undefined) throw invalidArgument(`${binding.name}: action '${a.name}' has no parameter with id ${p.paramId}`);
    if (args[param.index] !== undefined) throw invalidArgument(`${binding.name}: action '${a.name}': parameter '${param.name}' given twice`);
    args[param.index] = tryDecodeP4Value(p.value, param.bitwidth) ?? decodeP4Value(p.value, param.bitwidth, { path: `${a.name}.${param.name}` });
  }
  const missing = a.params.find((p) => args[p.index] === undefined);
  if (missing !== undefined) throw invalidArgument(`${binding.name}: action '${a.name}': parameter '${missing.name}' is missing`);
  return { action: a.action, args: args as bigint[] };
}

/** Decodes a TableEntry for a write (or a keyed read). */
export function decodeTableEntry(pipeline: Pipeline, entry: TableEntry): DecodedTableEntry {
  const binding = tableBinding(pipeline, entry.tableId);
  return {
    binding,
    matches: decodeMatches(binding, entry.match),
    priority: entry.priority,
    action: decodeActionCall(pipeline, binding, entry),
  };
}

function encodeFieldMatch(fieldId: number, width: number, m: FieldMatch): ProtoFieldMatch {
  const v = (x: bigint): Uint8Array => encodeP4Value(x, width);
  switch (m.kind) {
    case 'exact':
      // Literal messages (every field given) for what a read-back of a slot table is made of:
      // create() fills fields by reflection.
      return { $typeName: 'p4.v1.FieldMatch', fieldId, fieldMatchType: { case: 'exact', value: { $typeName: 'p4.v1.FieldMatch.Exact', value: v(m.value) } } };
    case 'optional':
      return create(FieldMatchSchema, { fieldId, fieldMatchType: { case: 'optional', value: { value: v(m.value) } } });
    case 'lpm':
      return create(FieldMatchSchema, {
        fieldId,
        fieldMatchType: { case: 'lpm', value: { value: v(m.value), prefixLen: m.prefixLength } },
      });
    case 'ternary':
      return create(FieldMatchSchema, {
        fieldId,
        fieldMatchType: { case: 'ternary', value: { value: v(m.value), mask: v(m.mask) } },
      });
    case 'range':
      return create(FieldMatchSchema, { fieldId, fieldMatchType: { case: 'range', value: { low: v(m.low), high: v(m.high) } } });
  }
}

export function encodeCounterData(packets: bigint, bytes: bigint): CounterData {
  return { $typeName: 'p4.v1.CounterData', byteCount: bytes, packetCount: packets };
}

function encodeActionCall(pipeline: Pipeline, call: ActionCall): TableAction {
  const a = pipeline.actionsByName.get(call.action.name);
  // An action missing from the P4Info cannot be named by id: report 0.
  const actionId = a?.id ?? 0;
  const params = (a?.params ?? []).map((p): Action_Param => ({ $typeName: 'p4.v1.Action.Param', paramId: p.id, value: encodeP4Value(call.args[p.index] ?? 0n, p.bitwidth) }));
  return { $typeName: 'p4.v1.TableAction', type: { case: 'action', value: { $typeName: 'p4.v1.Action', actionId, params } } };
}

export interface EncodeEntryOptions {
  readonly withCounter: boolean;
  readonly isConst: boolean;
}

/** A stored entry as P4Runtime reports it: canonical bytes, don't-care fields omitted. */
export function encodeTableEntry(pipeline: Pipeline, binding: TableBinding, e: StoredEntry, options: EncodeEntryOptions): TableEntry {
  const match = binding.fields.flatMap((f) => {
    const m = e.matches[f.keyIndex];
    return m === undefined ? [] : [encodeFieldMatch(f.id, f.bitwidth, m)];
  });
  return {
    $typeName: 'p4.v1.TableEntry',
    tableId: binding.id,
    match,
    action: encodeActionCall(pipeline, e.action),
    priority: e.priority,
    controllerMetadata: 0n,
    meterConfig: undefined,
    counterData: options.withCounter && binding.table.hasDirectCounter ? encodeCounterData(e.packets, e.bytes) : undefined,
    meterCounterData: undefined,
    isDefaultAction: false,
    idleTimeoutNs: 0n,
    timeSinceLastHit: undefined,
    metadata: NO_BYTES,
    isConst: options.isConst,
  };
}

/** The default entry of a table as P4Runtime reports it. */
export function encodeDefaultEntry(pipeline: Pipeline, binding: TableBinding): TableEntry {
  return create(TableEntrySchema, {
    tableId: binding.id,
    isDefaultAction: true,
    action: encodeActionCall(pipeline, binding.table.defaultAction),
  });
}

/** True when two match lists are the same key (what a keyed read compares). */
export function sameMatches(a: readonly (FieldMatch | undefined)[], b: readonly (FieldMatch | undefined)[]): boolean {
  return a.length === b.length && a.every((m, i) => JSON.stringify(m, bigintJson) === JSON.stringify(b[i], bigintJson));
}

function bigintJson(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString(16) : v;
}

// ------------------------------------------------------------------------------------ P4Data

export function encodeBitstring(value: bigint, width: number): P4Data {
  return create(P4DataSchema, { data: { case: 'bitstring', value: encodeP4Value(value, width) } });
}

export function decodeBitstring(data: P4Data | undefined, width: number, path: string): bigint {
  const d = data?.data;
  if (d?.case === 'bitstring') return decodeP4Value(d.value, width, { path });
  if (d?.case === 'bool' && width === 1) return d.value ? 1n : 0n;
  throw invalidArgument(`${path}: expected a bitstring of ${width} bits`);
}

/** An `Index` field as a cell number, or undefined for "every cell" (index unset). */
export function decodeIndex(index: { index: bigint } | undefined, size: number, what: string): number | undefined {
  if (index === undefined) return undefined;
  if (index.index < 0n || index.index >= BigInt(size)) {
    throw new ServerError('OUT_OF_RANGE', `${what}: index ${index.index} outside 0..${size - 1}`);
  }
  return Number(index.index);
}
