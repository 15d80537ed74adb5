/**
 * The bridge between a P4Info (ids, as the client knows them) and a V1ModelSwitch (objects by
 * control-plane name). Building it checks the P4Info against the program: every table, action,
 * counter, direct counter and register the P4Info names must exist in the program with the same
 * widths, sizes and match kinds. Ids always come from the P4Info, so a client may send p4c's.
 * Pure: no I/O.
 */
import type { P4Info } from '../../core/p4runtime/gen/p4/config/v1/p4info_pb.ts';
import type { P4DataTypeSpec } from '../../core/p4runtime/gen/p4/config/v1/p4types_pb.ts';
import type { CounterArray, RegisterArray } from '../interpreter/externs.ts';
import type { V1ModelSwitch, DirectCounterBinding } from '../interpreter/switch.ts';
import type { ActionInfo, MatchKind, Table } from '../interpreter/tables.ts';
import { invalidArgument } from './errors.ts';
import { matchKindOf } from '../../core/p4runtime/match-kinds.ts';

export interface FieldBinding {
  readonly id: number;
  readonly name: string;
  readonly bitwidth: number;
  readonly matchKind: MatchKind;
  /** Position of the key in the interpreter's table. */
  readonly keyIndex: number;
}

export interface ParamBinding {
  readonly id: number;
  readonly name: string;
  readonly bitwidth: number;
  /** Position of the parameter in the interpreter's action. */
  readonly index: number;
}

export interface ActionBinding {
  readonly id: number;
  readonly name: string;
  readonly action: ActionInfo;
  readonly paramsById: ReadonlyMap<number, ParamBinding>;
  /** By interpreter position. */
  readonly params: readonly ParamBinding[];
}

export interface TableBinding {
  readonly id: number;
  readonly name: string;
  readonly table: Table;
  readonly fieldsById: ReadonlyMap<number, FieldBinding>;
  /** By interpreter key position. */
  readonly fields: readonly FieldBinding[];
  /** Action ids the P4Info lists for the table. */
  readonly actionIds: ReadonlySet<number>;
  readonly directCounterId: number | undefined;
}

export interface CounterBinding {
  readonly id: number;
  readonly name: string;
  readonly counter: CounterArray;
}

export interface DirectCounterBindingInfo {
  readonly id: number;
  readonly name: string;
  readonly binding: DirectCounterBinding;
  readonly tableId: number;
}

export interface RegisterBinding {
  readonly id: number;
  readonly name: string;
  readonly register: RegisterArray;
}

export interface DigestBinding {
  readonly id: number;
  /** The digest's struct type name (p4c names digests after it). */
  readonly name: string;
}

export interface PacketMetadataField {
  readonly id: number;
  readonly name: string;
  readonly bitwidth: number;
}

/** The `packet_in` / `packet_out` controller header, fields in header order. */
export interface ControllerHeader {
  readonly fields: readonly PacketMetadataField[];
  /** Bytes the header occupies in front of the payload (its bits rounded up). */
  readonly byteLength: number;
}

export interface Pipeline {
  readonly p4info: P4Info;
  readonly tables: ReadonlyMap<number, TableBinding>;
  readonly tablesByName: ReadonlyMap<string, TableBinding>;
  readonly actions: ReadonlyMap<number, ActionBinding>;
  readonly actionsByName: ReadonlyMap<string, ActionBinding>;
  readonly counters: ReadonlyMap<number, CounterBinding>;
  readonly directCounters: ReadonlyMap<number, DirectCounterBindingInfo>;
  readonly registers: ReadonlyMap<number, RegisterBinding>;
  readonly digests: ReadonlyMap<number, DigestBinding>;
  readonly digestsByName: ReadonlyMap<string, DigestBinding>;
  readonly packetIn: ControllerHeader | undefined;
  readonly packetOut: ControllerHeader | undefined;
}


function unique<T extends { id: number }>(map: Map<number, T>, item: T, what: string): void {
  if (item.id === 0) throw invalidArgument(`P4Info: ${what} has id 0`);
  if (map.has(item.id)) throw invalidArgument(`P4Info: ${what} reuses id 0x${item.id.toString(16)}`);
  map.set(item.id, item);
}

/** The bit width of a register's or digest member's type spec, or undefined for other types. */
export function bitstringWidth(spec: P4DataTypeSpec | undefined): number | undefined {
  const t = spec?.typeSpec;
  if (t?.case === 'bool') return 1;
  if (t?.case !== 'bitstring') return undefined;
  const b = t.value.typeSpec;
  return b.case === 'bit' || b.case === 'int' ? b.value.bitwidth : undefined;
}

/** Builds the id ↔ object mapping, refusing a P4Info that does not describe `sw`'s program. */
export function bindPipeline(p4info: P4Info, sw: V1ModelSwitch): Pipeline {
  const tableActionIds = new Set(p4info.tables.flatMap((t) => t.actionRefs.map((r) => r.id)));
  const actions = new Map<number, ActionBinding>();
  for (const a of p4info.actions) {
    const name = a.preamble?.name ?? '';
    const action = sw.actions.get(name);
    if (action === undefined) throw invalidArgument(`P4Info action '${name}' is not an action of the program`);
    const params = a.params.map((p) => {
      const index = action.params.findIndex((q) => q.name === p.name);
      if (index < 0) throw invalidArgument(`P4Info action '${name}': parameter '${p.name}' is not in the program`);
      const width = action.params[index]!.width;
      if (width !== p.bitwidth) {
        throw invalidArgument(`P4Info action '${name}': parameter '${p.name}' is bit<${p.bitwidth}>, the program says bit<${width}>`);
      }
      return { id: p.id, name: p.name, bitwidth: p.bitwidth, index };
    });
    // p4c gives an action no table lists no parameters (they become locals): only a table's
    // actions must match the program's parameter list.
    if (params.length !== action.params.length && tableActionIds.has(a.preamble?.id ?? 0)) {
      throw invalidArgument(`P4Info action '${name}' has ${params.length} parameters, the program's has ${action.params.length}`);
    }
    const paramsById = new Map<number, ParamBinding>();
    for (const p of params) {
      if (paramsById.has(p.id)) throw invalidArgument(`P4Info action '${name}': parameter id ${p.id} is used twice`);
      paramsById.set(p.id, p);
    }
    unique(actions, { id: a.preamble?.id ?? 0, name, action, paramsById, params: [...params].sort((x, y) => x.index - y.index) }, `action '${name}'`);
  }

  const tables = new Map<number, TableBinding>();
  for (const t of p4info.tables) {
    const name = t.preamble?.name ?? '';
    const table = sw.tables.get(name);
    if (table === undefined) throw invalidArgument(`P4Info table '${name}' is not a table of the program`);
    if (t.matchFields.length !== table.keys.length) {
      throw invalidArgument(`P4Info table '${name}' has ${t.matchFields.length} match fields, the program's has ${table.keys.length}`);
    }
    const fields = t.matchFields.map((f, position) => {
      // By name first; p4c may spell a key expression differently, so fall back to position.
      let keyIndex = table.keys.findIndex((k) => k.name === f.name);
      if (keyIndex < 0) keyIndex = position;
      const key = table.keys[keyIndex]!;
      const kind = f.match.case === 'matchType' ? matchKindOf(f.match.value) : undefined;
      if (kind === undefined) throw invalidArgument(`P4Info table '${name}': match field '${f.name}' has an unsupported match type`);
      if (kind !== key.matchKind || f.bitwidth !== key.width) {
        throw invalidArgument(
          `P4Info table '${name}': match field '${f.name}' is ${kind} bit<${f.bitwidth}>, the program's key '${key.name}' is ${key.matchKind} bit<${key.width}>`,
        );
      }
      return { id: f.id, name: f.name, bitwidth: f.bitwidth, matchKind: kind, keyIndex };
    });
    const fieldsById = new Map<number, FieldBinding>();
    for (const f of fields) {
      if (fieldsById.has(f.id)) throw invalidArgument(`P4Info table '${name}': match field id ${f.id} is used twice`);
      fieldsById.set(f.id, f);
    }
    if (new Set(fields.map((f) => f.keyIndex)).size !== fields.length) {
      throw invalidArgument(`P4Info table '${name}': two match fields name the same key`);
    }
    const actionIds = new Set<number>();
    for (const ref of t.actionRefs) {
      const a = actions.get(ref.id);
      if (a === undefined) throw invalidArgument(`P4Info table '${name}' refers to unknown action id 0x${ref.id.toString(16)}`);
      if (!table.actions.some((r) => r.action === a.action)) {
        throw invalidArgument(`P4Info table '${name}' lists action '${a.name}', which the program's table does not`);
      }
      actionIds.add(ref.id);
    }
    unique(
      tables,
      {
        id: t.preamble?.id ?? 0,
        name,
        table,
        fieldsById,
        fields: [...fields].sort((x, y) => x.keyIndex - y.keyIndex),
        actionIds,
        directCounterId: undefined,
      },
      `table '${name}'`,
    );
  }

  const counters = new Map<number, CounterBinding>();
  for (const c of p4info.counters) {
    const name = c.preamble?.name ?? '';
    const counter = sw.counters.get(name);
    if (counter === undefined) throw invalidArgument(`P4Info counter '${name}' is not a counter of the program`);
    if (BigInt(counter.size) !== c.size) {
      throw invalidArgument(`P4Info counter '${name}' has size ${c.size}, the program's has ${counter.size}`);
    }
    unique(counters, { id: c.preamble?.id ?? 0, name, counter }, `counter '${name}'`);
  }

  const directCounters = new Map<number, DirectCounterBindingInfo>();
  for (const c of p4info.directCounters) {
    const name = c.preamble?.name ?? '';
    const binding = sw.directCounters.get(name);
    if (binding === undefined) throw invalidArgument(`P4Info direct counter '${name}' is not a direct counter of the program`);
    const table = tables.get(c.directTableId);
    if (table === undefined || table.table !== binding.table) {
      throw invalidArgument(`P4Info direct counter '${name}' is attached to table id 0x${c.directTableId.toString(16)}, the program attaches it to '${binding.table.name}'`);
    }
    unique(directCounters, { id: c.preamble?.id ?? 0, name, binding, tableId: c.directTableId }, `direct counter '${name}'`);
    tables.set(table.id, { ...table, directCounterId: c.preamble?.id ?? 0 });
  }
  const registers = new Map<number, RegisterBinding>();
  for (const r of p4info.registers) {
    const name = r.preamble?.name ?? '';
    const register = sw.registers.get(name);
    if (register === undefined) throw invalidArgument(`P4Info register '${name}' is not a register of the program`);
    const width = bitstringWidth(r.typeSpec);
    if (register.size !== r.size || width !== register.width) {
      throw invalidArgument(
        `P4Info register '${name}' is ${r.size} × bit<${width ?? '?'}>, the program's is ${register.size} × bit<${register.width}>`,
      );
    }
    unique(registers, { id: r.preamble?.id ?? 0, name, register }, `register '${name}'`);
  }

  const digests = new Map<number, DigestBinding>();
  for (const d of p4info.digests) {
    const name = d.preamble?.name ?? '';
    unique(digests, { id: d.preamble?.id ?? 0, name }, `digest '${name}'`);
  }

  const header = (which: string): ControllerHeader | undefined => {
    const h = p4info.controllerPacketMetadata.find((m) => m.preamble?.name === which);
    if (h === undefined) return undefined;
    const fields = h.metadata.map((m) => ({ id: m.id, name: m.name, bitwidth: m.bitwidth }));
    const bits = fields.reduce((n, f) => n + f.bitwidth, 0);
    return { fields, byteLength: Math.ceil(bits / 8) };
  };

  return {
    p4info,
    tables,
    tablesByName: new Map([...tables.values()].map((t) => [t.name, t])),
    actions,
    actionsByName: new Map([...actions.values()].map((a) => [a.name, a])),
    counters,
    directCounters,
    registers,
    digests,
    digestsByName: new Map([...digests.values()].map((d) => [d.name, d])),
    packetIn: header('packet_in'),
    packetOut: header('packet_out'),
  };
}

