/**
 * Read of one requested entity, with P4Runtime's wildcards: id 0 = every object of that kind,
 * no match = every entry of a table, index unset = every cell. Yields entities in batches so the
 * server can stream large reads in several ReadResponse messages.
 */
import { create } from '@bufbuild/protobuf';
import {
  CounterEntrySchema,
  DigestEntrySchema,
  DirectCounterEntrySchema,
  RegisterEntrySchema,
  type Entity,
} from '../../core/p4runtime/gen/p4/v1/p4runtime_pb.ts';
import type { DigestEngine } from './digests.ts';
import {
  decodeIndex,
  decodeMatches,
  encodeBitstring,
  encodeCounterData,
  encodeDefaultEntry,
  encodeTableEntry,
  sameMatches,
  tableBinding,
} from './entities.ts';
import { invalidArgument, notFound, unimplemented } from './errors.ts';
import type { Pipeline, TableBinding } from './pipeline.ts';

export interface ReadContext {
  readonly pipeline: Pipeline;
  readonly digests: DigestEngine;
}

/** Entities per ReadResponse. */
export const READ_BATCH = 1000;

type EntityValue<C extends string> = Extract<Entity['entity'], { case: C }>['value'];

function entity(e: Entity['entity']): Entity {
  // A literal: a read-back of a slot table makes 65,536 of these.
  return { $typeName: 'p4.v1.Entity', entity: e };
}

function* batches(items: Iterable<Entity>): Generator<Entity[]> {
  let batch: Entity[] = [];
  for (const item of items) {
    batch.push(item);
    if (batch.length >= READ_BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Validates the request entity eagerly (so errors come before any response) and returns its results. */
export function readEntity(ctx: ReadContext, requested: Entity): Generator<Entity[]> {
  const e = requested.entity;
  switch (e.case) {
    case 'tableEntry':
      return batches(readTableEntries(ctx, e.value));
    case 'counterEntry':
      return batches([...readCounters(ctx, e.value)]);
    case 'directCounterEntry':
      return batches(readDirectCounters(ctx, e.value));
    case 'registerEntry':
      return batches([...readRegisters(ctx, e.value)]);
    case 'digestEntry':
      return batches(readDigests(ctx, e.value));
    case undefined:
      return batches([]);
    default:
      throw unimplemented(`reading ${e.case} is not supported by the embedded target`);
  }
}

function readTableEntries(ctx: ReadContext, req: EntityValue<'tableEntry'>): Entity[] {
  const bindings = req.tableId === 0 ? [...ctx.pipeline.tables.values()] : [tableBinding(ctx.pipeline, req.tableId)];
  const withCounter = req.counterData !== undefined;
  if (req.tableId === 0 && req.match.length > 0) throw invalidArgument('a read of every table (table_id 0) cannot filter by match');
  if (req.isDefaultAction) {
    return bindings.map((b) => entity({ case: 'tableEntry', value: encodeDefaultEntry(ctx.pipeline, b) }));
  }
  // Filters of P4Runtime §9.1.3 "Wildcard Reads": an exact match key, a priority, an action id.
  const filter = req.tableId !== 0 && req.match.length > 0 ? decodeMatches(bindings[0]!, req.match) : undefined;
  const t = req.action?.type;
  const actionFilter = t?.case === 'action' ? ctx.pipeline.actions.get(t.value.actionId) : undefined;
  if (t?.case === 'action' && actionFilter === undefined) throw notFound(`no action with id 0x${t.value.actionId.toString(16)}`);
  const out: Entity[] = [];
  for (const b of bindings) {
    const isConst = isConstTable(ctx, b);
    for (const stored of b.table.entries()) {
      if (filter !== undefined && !sameMatches(filter, stored.matches)) continue;
      if (req.priority !== 0 && req.priority !== stored.priority) continue;
      if (actionFilter !== undefined && actionFilter.action !== stored.action.action) continue;
      out.push(entity({ case: 'tableEntry', value: encodeTableEntry(ctx.pipeline, b, stored, { withCounter, isConst }) }));
    }
  }
  return out;
}

function isConstTable(ctx: ReadContext, b: TableBinding): boolean {
  return ctx.pipeline.p4info.tables.find((t) => t.preamble?.id === b.id)?.isConstTable ?? false;
}

function* readCounters(ctx: ReadContext, req: EntityValue<'counterEntry'>): Generator<Entity> {
  const bindings = req.counterId === 0 ? [...ctx.pipeline.counters.values()] : [ctx.pipeline.counters.get(req.counterId)];
  const first = bindings[0];
  if (req.counterId !== 0 && first === undefined) throw notFound(`no counter with id 0x${req.counterId.toString(16)}`);
  const only = req.counterId !== 0 && first !== undefined ? decodeIndex(req.index, first.counter.size, `counter ${first.name}`) : undefined;
  for (const c of bindings) {
    if (c === undefined) continue;
    const cells = only !== undefined ? [only] : c.counter.packets.map((_, i) => i);
    for (const i of cells) {
      yield entity({
        case: 'counterEntry',
        value: create(CounterEntrySchema, {
          counterId: c.id,
          index: { index: BigInt(i) },
          data: encodeCounterData(c.counter.packets[i]!, c.counter.bytes[i]!),
        }),
      });
    }
  }
}

function readDirectCounters(ctx: ReadContext, req: EntityValue<'directCounterEntry'>): Entity[] {
  const te = req.tableEntry;
  const tableId = te?.tableId ?? 0;
  const bindings = tableId === 0
    ? [...ctx.pipeline.tables.values()].filter((b) => b.directCounterId !== undefined)
    : [tableBinding(ctx.pipeline, tableId)];
  const filter = tableId !== 0 && te !== undefined && te.match.length > 0 ? decodeMatches(bindings[0]!, te.match) : undefined;
  const out: Entity[] = [];
  for (const b of bindings) {
    if (!b.table.hasDirectCounter) throw notFound(`${b.name} has no direct counter`);
    for (const stored of b.table.entries()) {
      if (filter !== undefined && !sameMatches(filter, stored.matches)) continue;
      if (filter !== undefined && te !== undefined && te.priority !== 0 && te.priority !== stored.priority) continue;
      const tableEntry = encodeTableEntry(ctx.pipeline, b, stored, { withCounter: false, isConst: false });
      tableEntry.action = undefined;
      out.push(entity({
        case: 'directCounterEntry',
        value: create(DirectCounterEntrySchema, { tableEntry, data: encodeCounterData(stored.packets, stored.bytes) }),
      }));
    }
  }
  return out;
}

function* readRegisters(ctx: ReadContext, req: EntityValue<'registerEntry'>): Generator<Entity> {
  const bindings = req.registerId === 0 ? [...ctx.pipeline.registers.values()] : [ctx.pipeline.registers.get(req.registerId)];
  const first = bindings[0];
  if (req.registerId !== 0 && first === undefined) throw notFound(`no register with id 0x${req.registerId.toString(16)}`);
  const only = req.registerId !== 0 && first !== undefined ? decodeIndex(req.index, first.register.size, `register ${first.name}`) : undefined;
  for (const r of bindings) {
    if (r === undefined) continue;
    const cells = only !== undefined ? [only] : r.register.values.map((_, i) => i);
    for (const i of cells) {
      yield entity({
        case: 'registerEntry',
        value: create(RegisterEntrySchema, {
          registerId: r.id,
          index: { index: BigInt(i) },
          data: encodeBitstring(r.register.values[i]!, r.register.width),
        }),
      });
    }
  }
}

function readDigests(ctx: ReadContext, req: EntityValue<'digestEntry'>): Entity[] {
  if (req.digestId !== 0 && !ctx.pipeline.digests.has(req.digestId)) throw notFound(`no digest with id 0x${req.digestId.toString(16)}`);
  const ids = req.digestId === 0 ? ctx.digests.configuredIds() : [req.digestId];
  return ids.flatMap((id) => {
    const c = ctx.digests.config(id);
    if (c === undefined) return [];
    return [entity({ case: 'digestEntry', value: create(DigestEntrySchema, { digestId: id, config: c }) })];
  });
}
