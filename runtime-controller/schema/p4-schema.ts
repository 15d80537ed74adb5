/**
 * A typed, read-only view of a P4Info: every control-plane object found by fully qualified name,
 * alias or numeric id, with a "did you mean" hint for a typo. Built once per pipeline; the
 * encoders (codec.ts) take it to turn names into ids and check widths.
 */
import type { P4Info, Preamble } from '../../core/p4runtime/gen/p4/config/v1/p4info_pb.ts';
import { ActionRef_Scope, CounterSpec_Unit } from '../../core/p4runtime/gen/p4/config/v1/p4info_pb.ts';
import type { P4DataTypeSpec } from '../../core/p4runtime/gen/p4/config/v1/p4types_pb.ts';
import { p4InfoFromText } from '../../core/p4runtime/text-format.ts';
import { SchemaError, unknownName } from './errors.ts';
import { matchKindOf } from '../../core/p4runtime/match-kinds.ts';

export interface SchemaObject {
  readonly id: number;
  /** Fully qualified name (`MyIngress.fwd`). */
  readonly name: string;
  /** Shortest unique name p4c gives (`fwd`). */
  readonly alias: string;
}

export type MatchKind = 'exact' | 'lpm' | 'ternary' | 'range' | 'optional' | 'other';

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

export interface ActionInfo extends SchemaObject {
  readonly params: readonly ParamInfo[];
  /** A parameter by name or id. */
  param(nameOrId: string | number): ParamInfo;
}

export type ActionScope = 'table-and-default' | 'table-only' | 'default-only';

export interface ActionRefInfo {
  readonly action: ActionInfo;
  readonly scope: ActionScope;
}

export type CounterUnit = 'bytes' | 'packets' | 'both' | 'unspecified';

export interface TableInfo extends SchemaObject {
  readonly matchFields: readonly MatchFieldInfo[];
  readonly actions: readonly ActionRefInfo[];
  readonly size: bigint;
  readonly isConst: boolean;
  /** Action id of a `const default_action`, 0 when the default may be changed. */
  readonly constDefaultActionId: number;
  /** Entries carry a priority exactly when some field is ternary, range or optional. */
  readonly needsPriority: boolean;
  readonly directCounter: DirectCounterInfo | undefined;
  matchField(nameOrId: string | number): MatchFieldInfo;
  /** The table's reference to an action (name, alias or id); throws when the table cannot use it. */
  actionRef(nameOrId: string | number): ActionRefInfo;
}

export interface CounterInfo extends SchemaObject {
  readonly size: number;
  readonly unit: CounterUnit;
}

export interface DirectCounterInfo extends SchemaObject {
  readonly unit: CounterUnit;
  readonly tableId: number;
}

export interface RegisterInfo extends SchemaObject {
  readonly size: number;
  readonly bitwidth: number;
}

export interface DigestMemberInfo {
  readonly name: string;
  readonly bitwidth: number;
}

export interface DigestInfo extends SchemaObject {
  /** Members of the digest struct in order; a bit<W> digest has one member named 'value'. */
  readonly members: readonly DigestMemberInfo[];
  /** True when the digest carries a struct (the usual case), false for a bare bit<W>. */
  readonly isStruct: boolean;
}

export interface PacketMetadataFieldInfo {
  readonly id: number;
  readonly name: string;
  readonly bitwidth: number;
}

export interface ControllerHeaderInfo extends SchemaObject {
  readonly metadata: readonly PacketMetadataFieldInfo[];
  field(nameOrId: string | number): PacketMetadataFieldInfo;
}

/** Objects of one kind, indexed three ways. */
export class SchemaRegistry<T extends SchemaObject> implements Iterable<T> {
  private readonly byId = new Map<number, T>();
  private readonly byName = new Map<string, T>();
  private readonly byAlias = new Map<string, T>();

  constructor(
    readonly kind: string,
    items: readonly T[],
  ) {
    const aliasCount = new Map<string, number>();
    for (const item of items) aliasCount.set(item.alias, (aliasCount.get(item.alias) ?? 0) + 1);
    for (const item of items) {
      this.byId.set(item.id, item);
      this.byName.set(item.name, item);
      // An alias two objects share names neither (P4Info should not have one, but be safe).
      if (item.alias !== '' && aliasCount.get(item.alias) === 1) this.byAlias.set(item.alias, item);
    }
  }

  /** By fully qualified name, then alias, or by id. Throws SCHEMA_UNKNOWN_NAME. */
  get(key: string | number): T {
    const found = this.find(key);
    if (found === undefined) throw unknownName(this.kind, key, this.names());
    return found;
  }

  find(key: string | number): T | undefined {
    if (typeof key === 'number') return this.byId.get(key);
    return this.byName.get(key) ?? this.byAlias.get(key);
  }

  has(key: string | number): boolean {
    return this.find(key) !== undefined;
  }

  /** Every name and alias, for hints. */
  names(): string[] {
    return [...this.byName.keys(), ...this.byAlias.keys()];
  }

  get size(): number {
    return this.byId.size;
  }

  [Symbol.iterator](): Iterator<T> {
    return this.byId.values();
  }
}

function objectOf(preamble: Preamble | undefined, kind: string): SchemaObject {
  if (preamble === undefined) throw new SchemaError('SCHEMA_BAD_P4INFO', `a ${kind} in the P4Info has no preamble`);
  return { id: preamble.id, name: preamble.name, alias: preamble.alias === '' ? preamble.name : preamble.alias };
}


const SCOPES: Record<ActionRef_Scope, ActionScope> = {
  [ActionRef_Scope.TABLE_AND_DEFAULT]: 'table-and-default',
  [ActionRef_Scope.TABLE_ONLY]: 'table-only',
  [ActionRef_Scope.DEFAULT_ONLY]: 'default-only',
  // Group actions belong to action selectors, which this controller does not drive.
  [ActionRef_Scope.GROUP_ACTION]: 'table-only',
};

const UNITS: Record<CounterSpec_Unit, CounterUnit> = {
  [CounterSpec_Unit.UNSPECIFIED]: 'unspecified',
  [CounterSpec_Unit.BYTES]: 'bytes',
  [CounterSpec_Unit.PACKETS]: 'packets',
  [CounterSpec_Unit.BOTH]: 'both',
};

/** Finds a member of a small list by name or id, with a hint on a miss. */
function memberLookup<M extends { id: number; name: string }>(kind: string, owner: string, list: readonly M[]) {
  return (key: string | number): M => {
    const found = list.find((m) => (typeof key === 'number' ? m.id === key : m.name === key));
    if (found === undefined) throw unknownName(`${kind} of ${owner}`, key, list.map((m) => m.name), `${owner}.${key}`);
    return found;
  };
}

export class P4Schema {
  readonly tables: SchemaRegistry<TableInfo>;
  readonly actions: SchemaRegistry<ActionInfo>;
  readonly counters: SchemaRegistry<CounterInfo>;
  readonly directCounters: SchemaRegistry<DirectCounterInfo>;
  readonly registers: SchemaRegistry<RegisterInfo>;
  readonly digests: SchemaRegistry<DigestInfo>;
  readonly controllerHeaders: SchemaRegistry<ControllerHeaderInfo>;

  private constructor(readonly p4info: P4Info) {
    this.actions = new SchemaRegistry(
      'action',
      p4info.actions.map((a) => {
        const base = objectOf(a.preamble, 'action');
        const params = a.params.map((p) => ({ id: p.id, name: p.name, bitwidth: p.bitwidth }));
        return { ...base, params, param: memberLookup('parameter', base.name, params) };
      }),
    );
    this.directCounters = new SchemaRegistry(
      'direct counter',
      p4info.directCounters.map((c) => ({
        ...objectOf(c.preamble, 'direct counter'),
        unit: UNITS[c.spec?.unit ?? CounterSpec_Unit.UNSPECIFIED],
        tableId: c.directTableId,
      })),
    );
    this.tables = new SchemaRegistry(
      'table',
      p4info.tables.map((t) => this.tableInfo(t)),
    );
    this.counters = new SchemaRegistry(
      'counter',
      p4info.counters.map((c) => ({
        ...objectOf(c.preamble, 'counter'),
        size: Number(c.size),
        unit: UNITS[c.spec?.unit ?? CounterSpec_Unit.UNSPECIFIED],
      })),
    );
    this.registers = new SchemaRegistry(
      'register',
      p4info.registers.map((r) => {
        const base = objectOf(r.preamble, 'register');
        return { ...base, size: r.size, bitwidth: this.bitwidthOf(r.typeSpec, base.name) };
      }),
    );
    this.digests = new SchemaRegistry(
      'digest',
      p4info.digests.map((d) => {
        const base = objectOf(d.preamble, 'digest');
        return { ...base, members: this.digestMembers(d.typeSpec, base.name), isStruct: d.typeSpec?.typeSpec.case === 'struct' };
      }),
    );
    this.controllerHeaders = new SchemaRegistry(
      'controller packet metadata',
      p4info.controllerPacketMetadata.map((c) => {
        const base = objectOf(c.preamble, 'controller header');
        const metadata = c.metadata.map((m) => ({ id: m.id, name: m.name, bitwidth: m.bitwidth }));
        return { ...base, metadata, field: memberLookup('metadata field', base.name, metadata) };
      }),
    );
  }

  static fromP4Info(p4info: P4Info): P4Schema {
    return new P4Schema(p4info);
  }

  /** From P4Info text format (what `p4lb generate` and p4c write as `.p4info.txtpb`). */
  static fromText(text: string): P4Schema {
    return new P4Schema(p4InfoFromText(text));
  }

  table(key: string | number): TableInfo {
    return this.tables.get(key);
  }

  action(key: string | number): ActionInfo {
    return this.actions.get(key);
  }

  counter(key: string | number): CounterInfo {
    return this.counters.get(key);
  }

  directCounter(key: string | number): DirectCounterInfo {
    return this.directCounters.get(key);
  }

  register(key: string | number): RegisterInfo {
    return this.registers.get(key);
  }

  digest(key: string | number): DigestInfo {
    return this.digests.get(key);
  }

  /** `packet_in` or `packet_out` (the `@controller_header` names). */
  controllerHeader(key: string | number): ControllerHeaderInfo {
    return this.controllerHeaders.get(key);
  }

  private tableInfo(t: P4Info['tables'][number]): TableInfo {
    const base = objectOf(t.preamble, 'table');
    const matchFields: MatchFieldInfo[] = t.matchFields.map((f) => ({
      id: f.id,
      name: f.name,
      bitwidth: f.bitwidth,
      kind: f.match.case === 'matchType' ? (matchKindOf(f.match.value) ?? 'other') : 'other',
    }));
    const actions: ActionRefInfo[] = t.actionRefs.map((r) => ({ action: this.actions.get(r.id), scope: SCOPES[r.scope] ?? 'table-and-default' }));
    const directCounter = [...this.directCounters].find((c) => c.tableId === base.id);
    const actionNames = actions.flatMap((r) => [r.action.name, r.action.alias]);
    return {
      ...base,
      matchFields,
      actions,
      size: t.size,
      isConst: t.isConstTable,
      constDefaultActionId: t.constDefaultActionId,
      needsPriority: matchFields.some((f) => f.kind === 'ternary' || f.kind === 'range' || f.kind === 'optional'),
      directCounter,
      matchField: memberLookup('match field', base.name, matchFields),
      actionRef: (key) => {
        const ref = actions.find((r) =>
          typeof key === 'number' ? r.action.id === key : r.action.name === key || r.action.alias === key,
        );
        if (ref === undefined) throw unknownName(`action of table ${base.name}`, key, actionNames, base.name);
        return ref;
      },
    };
  }

  private bitwidthOf(spec: P4DataTypeSpec | undefined, owner: string): number {
    const t = spec?.typeSpec;
    if (t?.case === 'bitstring') {
      const b = t.value.typeSpec;
      if (b.case === 'bit' || b.case === 'int') return b.value.bitwidth;
    }
    if (t?.case === 'bool') return 1;
    throw new SchemaError('SCHEMA_BAD_P4INFO', `${owner}: only bit<W>, int<W> and bool values are supported, got ${t?.case ?? 'nothing'}`);
  }

  private digestMembers(spec: P4DataTypeSpec | undefined, owner: string): DigestMemberInfo[] {
    const t = spec?.typeSpec;
    if (t?.case === 'struct') {
      const struct = this.p4info.typeInfo?.structs[t.value.name];
      if (struct === undefined) throw new SchemaError('SCHEMA_BAD_P4INFO', `${owner}: struct ${t.value.name} is not in type_info`);
      return struct.members.map((m) => ({ name: m.name, bitwidth: this.bitwidthOf(m.typeSpec, `${owner}.${m.name}`) }));
    }
    return [{ name: 'value', bitwidth: this.bitwidthOf(spec, owner) }];
  }
}
