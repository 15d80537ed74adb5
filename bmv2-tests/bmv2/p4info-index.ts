/**
 * A P4Info (as p4c wrote it) indexed by control-plane name, and the pure encoding of table
 * entries, counter and digest messages in P4Runtime form: names → ids, values in canonical
 * binary strings (core/p4runtime/bytes.ts), don't-care fields omitted as P4Runtime requires.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { didYouMean } from '../../core/errors.ts';
import { encodeP4Value, encodeLpm, encodeTernary } from '../../core/p4runtime/bytes.ts';
import { MatchField_MatchType, type P4Info } from '../../core/p4runtime/gen/p4/config/v1/p4info_pb.ts';
import type { P4Data } from '../../core/p4runtime/gen/p4/v1/p4data_pb.ts';
import type { FieldMatchSchema, TableEntrySchema } from '../../core/p4runtime/gen/p4/v1/p4runtime_pb.ts';
import { Bmv2Error } from './errors.ts';

export type MatchKind = 'exact' | 'lpm' | 'ternary' | 'range' | 'optional';

/** One key field's match, in the field's own terms; `undefined` in a key list means don't care. */
export type KeyMatch =
  | { readonly kind: 'exact'; readonly value: bigint }
  | { readonly kind: 'optional'; readonly value: bigint }
  | { readonly kind: 'lpm'; readonly value: bigint; readonly prefixLength: number }
  | { readonly kind: 'ternary'; readonly value: bigint; readonly mask: bigint }
  | { readonly kind: 'range'; readonly low: bigint; readonly high: bigint };

export interface MatchFieldInfo {
  readonly id: number;
  readonly name: string;
  readonly bitwidth: number;
  readonly kind: MatchKind;
}

export interface ParamInfo {
  readonly id: number;
  readonly name: string;
  readonly bitwidth: number;
}

export interface ActionInfo {
  readonly id: number;
  readonly name: string;
  readonly params: readonly ParamInfo[];
}

export interface TableInfo {
  readonly id: number;
  readonly name: string;
  readonly fields: readonly MatchFieldInfo[];
  readonly actions: ReadonlyMap<string, ActionInfo>;
  /** Ternary, range or optional fields: entries carry a priority (larger wins). */
  readonly needsPriority: boolean;
}

export interface CounterInfo {
  readonly id: number;
  readonly name: string;
  readonly size: number;
  readonly direct: boolean;
}

export interface DigestInfo {
  readonly id: number;
  /** The digested struct's type name, as a packet test names a digest. */
  readonly typeName: string;
  readonly fields: readonly string[];
}

const KINDS: Partial<Record<MatchField_MatchType, MatchKind>> = {
  [MatchField_MatchType.EXACT]: 'exact',
  [MatchField_MatchType.LPM]: 'lpm',
  [MatchField_MatchType.TERNARY]: 'ternary',
  [MatchField_MatchType.RANGE]: 'range',
  [MatchField_MatchType.OPTIONAL]: 'optional',
};

/** `name` itself, else the one name that ends with `.name`; a typo gets "did you mean". */
export function lookupName<T>(kind: string, map: ReadonlyMap<string, T>, name: string): T {
  const exact = map.get(name);
  if (exact !== undefined) return exact;
  const bySuffix = [...map.keys()].filter((full) => full.endsWith(`.${name}`));
  if (bySuffix.length === 1) return map.get(bySuffix[0]!)!;
  if (bySuffix.length > 1) {
    throw new Bmv2Error('BMV2_P4RUNTIME', `${kind} '${name}' is ambiguous: ${bySuffix.join(', ')}`, { hint: 'use the full control-plane name' });
  }
  const candidates = [...map.keys()].flatMap((full) => [full, full.slice(full.lastIndexOf('.') + 1)]);
  throw new Bmv2Error('BMV2_P4RUNTIME', `no ${kind} '${name}' in the P4Info`, {
    hint: didYouMean(name, candidates) ?? `the P4Info has: ${[...map.keys()].join(', ') || 'none'}`,
  });
}

export class P4InfoIndex {
  readonly tables = new Map<string, TableInfo>();
  readonly actions = new Map<string, ActionInfo>();
  readonly counters = new Map<string, CounterInfo>();
  readonly digests = new Map<number, DigestInfo>();

  constructor(readonly p4info: P4Info) {
    const actionsById = new Map<number, ActionInfo>();
    for (const a of p4info.actions) {
      const info: ActionInfo = {
        id: a.preamble!.id,
        name: a.preamble!.name,
        params: a.params.map((p) => ({ id: p.id, name: p.name, bitwidth: p.bitwidth })),
      };
      actionsById.set(info.id, info);
      this.actions.set(info.name, info);
    }
    for (const t of p4info.tables) {
      const fields = t.matchFields.map((f): MatchFieldInfo => {
        const kind = f.match.case === 'matchType' ? KINDS[f.match.value] : undefined;
        if (kind === undefined) {
          throw new Bmv2Error('BMV2_UNSUPPORTED', `${t.preamble!.name}: key '${f.name}' has a match kind the BMv2 runner does not encode`);
        }
        return { id: f.id, name: f.name, bitwidth: f.bitwidth, kind };
      });
      const actions = new Map<string, ActionInfo>();
      for (const ref of t.actionRefs) {
        const a = actionsById.get(ref.id);
        if (a !== undefined) actions.set(a.name, a);
      }
      this.tables.set(t.preamble!.name, {
        id: t.preamble!.id,
        name: t.preamble!.name,
        fields,
        actions,
        needsPriority: fields.some((f) => f.kind === 'ternary' || f.kind === 'range' || f.kind === 'optional'),
      });
    }
    for (const c of p4info.counters) {
      this.counters.set(c.preamble!.name, { id: c.preamble!.id, name: c.preamble!.name, size: Number(c.size), direct: false });
    }
    for (const c of p4info.directCounters) {
      this.counters.set(c.preamble!.name, { id: c.preamble!.id, name: c.preamble!.name, size: 0, direct: true });
    }
    for (const d of p4info.digests) {
      const spec = d.typeSpec?.typeSpec;
      const typeName = spec?.case === 'struct' ? spec.value.name : d.preamble!.name;
      const members = p4info.typeInfo?.structs[typeName]?.members ?? [];
      this.digests.set(d.preamble!.id, { id: d.preamble!.id, typeName, fields: members.map((m) => m.name) });
    }
  }

  table(name: string): TableInfo {
    return lookupName('table', this.tables, name);
  }

  action(table: TableInfo, name: string): ActionInfo {
    return lookupName(`action of ${table.name}`, table.actions, name);
  }

  counter(name: string): CounterInfo {
    return lookupName('counter', this.counters, name);
  }
}

type FieldMatchInit = MessageInitShape<typeof FieldMatchSchema>;
export type TableEntryInit = MessageInitShape<typeof TableEntrySchema>;

/** One field's P4Runtime match; undefined when the match is a don't care (P4Runtime §9.1.1). */
export function encodeFieldMatch(field: MatchFieldInfo, m: KeyMatch): FieldMatchInit | undefined {
  const w = field.bitwidth;
  const full = (1n << BigInt(w)) - 1n;
  switch (m.kind) {
    case 'exact':
      return { fieldId: field.id, fieldMatchType: { case: 'exact', value: { value: encodeP4Value(m.value, w) } } };
    case 'optional':
      return { fieldId: field.id, fieldMatchType: { case: 'optional', value: { value: encodeP4Value(m.value, w) } } };
    case 'lpm':
      if (m.prefixLength === 0) return undefined;
      return { fieldId: field.id, fieldMatchType: { case: 'lpm', value: encodeLpm(m.value, m.prefixLength, w) } };
    case 'ternary':
      if (m.mask === 0n) return undefined;
      return { fieldId: field.id, fieldMatchType: { case: 'ternary', value: encodeTernary(m.value & m.mask, m.mask, w) } };
    case 'range':
      if (m.low === 0n && m.high === full) return undefined;
      return {
        fieldId: field.id,
        fieldMatchType: { case: 'range', value: { low: encodeP4Value(m.low, w), high: encodeP4Value(m.high, w) } },
      };
  }
}

export interface ActionCall {
  readonly action: ActionInfo;
  /** Values in the order of `action.params`. */
  readonly args: readonly bigint[];
}

export function encodeAction(call: ActionCall): NonNullable<TableEntryInit['action']> {
  return {
    type: {
      case: 'action',
      value: {
        actionId: call.action.id,
        params: call.action.params.map((p, i) => ({ paramId: p.id, value: encodeP4Value(call.args[i]!, p.bitwidth) })),
      },
    },
  };
}

/**
 * A table entry: `matches` in the order of `table.fields` (undefined = don't care). Priority only
 * for tables that need one, where 0 is not allowed: P4Runtime's larger-wins, as STF's.
 */
export function encodeTableEntry(table: TableInfo, matches: readonly (KeyMatch | undefined)[], call: ActionCall | undefined, priority: number | undefined): TableEntryInit {
  const match = table.fields.flatMap((f, i) => {
    const m = matches[i];
    const encoded = m === undefined ? undefined : encodeFieldMatch(f, m);
    return encoded === undefined ? [] : [encoded];
  });
  return {
    tableId: table.id,
    match,
    ...(call === undefined ? {} : { action: encodeAction(call) }),
    ...(table.needsPriority ? { priority: priority ?? 1 } : {}),
  };
}

/** A digest's data (one P4Data struct of bitstrings) as named values. */
export function decodeDigestData(info: DigestInfo, data: P4Data): Record<string, bigint> {
  const members = data.data.case === 'struct' ? data.data.value.members : [data];
  const out: Record<string, bigint> = {};
  members.forEach((m, i) => {
    const name = info.fields[i] ?? `field${i}`;
    if (m.data.case === 'bitstring') out[name] = m.data.value.reduce((n, b) => (n << 8n) | BigInt(b), 0n);
    else if (m.data.case === 'bool') out[name] = m.data.value ? 1n : 0n;
  });
  return out;
}
