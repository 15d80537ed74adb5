/**
 * The BMv2 runners' bridge to the controller's P4Schema and codec: the packet-test DSL and the
 * STF reader produce typed field matches (as the embedded target takes them); these become the
 * controller's plain table-entry values, which its codec turns into P4Runtime messages. Names
 * resolve as on the embedded target (full, or a unique last part).
 */
import {
  encodeTableEntry, type ActionInfo, type MatchFieldInfo, type MatchValue, type P4Schema, type TableInfo,
} from '../../runtime-controller/schema/index.ts';
import type * as p4v1 from '../../core/p4runtime/gen/p4/v1/p4runtime_pb.ts';
import type { FieldMatch, KeyField } from '../../target/interpreter/tables.ts';
import { resolveName } from '../dsl/embedded-target.ts';
import { Bmv2Error } from './errors.ts';

/** A schema key field in the terms the DSL and STF readers use. */
export function keyFieldOf(table: TableInfo, field: MatchFieldInfo): KeyField {
  if (field.kind === 'other') {
    throw new Bmv2Error('BMV2_UNSUPPORTED', `${table.name}: key '${field.name}' has a match kind the BMv2 runner does not encode`);
  }
  return { name: field.name, matchKind: field.kind, width: field.bitwidth };
}

export function keyFieldsOf(table: TableInfo): KeyField[] {
  return table.matchFields.map((f) => keyFieldOf(table, f));
}

/** An action with its parameters as the DSL's `actionArgs` reads them. */
export function actionParamsOf(action: ActionInfo): { name: string; params: { name: string; width: number }[] } {
  return { name: action.name, params: action.params.map((p) => ({ name: p.name, width: p.bitwidth })) };
}

/** The tables by full name, for suffix lookups. */
export function tablesOf(schema: P4Schema): Map<string, TableInfo> {
  return new Map([...schema.tables].map((t) => [t.name, t]));
}

export function resolveTable(schema: P4Schema, name: string): TableInfo {
  return resolveName('table', tablesOf(schema), name);
}

export function resolveAction(table: TableInfo, name: string): ActionInfo {
  return resolveName(`action of ${table.name}`, new Map(table.actions.map((r) => [r.action.name, r.action])), name);
}

function matchValueOf(m: FieldMatch): MatchValue<bigint> {
  switch (m.kind) {
    case 'exact':
    case 'optional':
      return m.value;
    case 'lpm':
      return { value: m.value, prefixLength: m.prefixLength };
    case 'ternary':
      // Bits outside the mask are don't-care: P4Runtime wants them zero, the interpreter ignores them.
      return { value: m.value & m.mask, mask: m.mask };
    case 'range':
      return { low: m.low, high: m.high };
  }
}

export interface EntryParts {
  readonly table: TableInfo;
  /** In the order of `table.matchFields`; undefined is a don't care. */
  readonly matches: readonly (FieldMatch | undefined)[];
  /** Absent for a DELETE. */
  readonly action?: { readonly action: ActionInfo; readonly args: readonly bigint[] };
  /** Only used by tables that need one, where it defaults to 1 (P4Runtime forbids 0; larger wins, as STF). */
  readonly priority?: number;
}

/** A table entry as P4Runtime carries it, through the controller's codec. */
export function tableEntryOf(schema: P4Schema, parts: EntryParts): p4v1.TableEntry {
  const { table, action } = parts;
  const match: Record<string, MatchValue<bigint>> = {};
  table.matchFields.forEach((f, i) => {
    const m = parts.matches[i];
    if (m !== undefined) match[f.name] = matchValueOf(m);
  });
  const params: Record<string, bigint> = {};
  action?.action.params.forEach((p, i) => (params[p.name] = action.args[i]!));
  return encodeTableEntry(
    schema,
    {
      table: table.name,
      match,
      ...(action === undefined ? {} : { action: action.action.name, params }),
      ...(table.needsPriority ? { priority: parts.priority ?? 1 } : {}),
    },
    { keyOnly: action === undefined },
  );
}

/** The table's default entry; without an action it goes back to the program's default (P4Runtime §9.1.3). */
export function defaultEntryOf(schema: P4Schema, table: TableInfo, action?: { readonly action: ActionInfo; readonly args: readonly bigint[] }): p4v1.TableEntry {
  const params: Record<string, bigint> = {};
  action?.action.params.forEach((p, i) => (params[p.name] = action.args[i]!));
  return encodeTableEntry(schema, { table: table.name, isDefaultAction: true, ...(action === undefined ? {} : { action: action.action.name, params }) });
}
