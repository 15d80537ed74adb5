/**
 * One P4Runtime Update applied to the running pipeline: table entries (including the default
 * entry), counter and direct-counter cells, register cells and digest configuration. Throws the
 * error to report for that update; the caller collects them (CONTINUE_ON_ERROR).
 */
import { Update_Type, type Entity, type Update } from '../../core/p4runtime/gen/p4/v1/p4runtime_pb.ts';
import { decodeActionCall, decodeBitstring, decodeIndex, decodeMatches, decodeTableEntry, tableBinding } from './entities.ts';
import type { DigestEngine } from './digests.ts';
import { invalidArgument, notFound, unimplemented } from './errors.ts';
import type { Pipeline } from './pipeline.ts';

export interface WriteContext {
  readonly pipeline: Pipeline;
  readonly digests: DigestEngine;
}

const TYPE_NAMES: Record<Update_Type, string> = {
  [Update_Type.UNSPECIFIED]: 'UNSPECIFIED',
  [Update_Type.INSERT]: 'INSERT',
  [Update_Type.MODIFY]: 'MODIFY',
  [Update_Type.DELETE]: 'DELETE',
};

export function applyUpdate(ctx: WriteContext, update: Update): void {
  if (update.type === Update_Type.UNSPECIFIED || TYPE_NAMES[update.type] === undefined) {
    throw invalidArgument('the update type is unspecified');
  }
  const entity = update.entity?.entity;
  if (entity === undefined || entity.case === undefined) throw invalidArgument('the update has no entity');
  switch (entity.case) {
    case 'tableEntry':
      return writeTableEntry(ctx, update.type, entity.value);
    case 'counterEntry':
      return writeCounterEntry(ctx, update.type, entity.value);
    case 'directCounterEntry':
      return writeDirectCounterEntry(ctx, update.type, entity.value);
    case 'registerEntry':
      return writeRegisterEntry(ctx, update.type, entity.value);
    case 'digestEntry':
      return writeDigestEntry(ctx, update.type, entity.value);
    default:
      throw unimplemented(`writing ${entity.case} is not supported by the embedded target`);
  }
}

type EntityValue<C extends string> = Extract<Entity['entity'], { case: C }>['value'];

function writeTableEntry(ctx: WriteContext, type: Update_Type, entry: EntityValue<'tableEntry'>): void {
  if (entry.isDefaultAction) {
    // P4Runtime §9.1.4: the default entry exists always; it can only be modified (or reset by a
    // MODIFY without an action).
    const binding = tableBinding(ctx.pipeline, entry.tableId);
    if (type !== Update_Type.MODIFY) throw invalidArgument(`${binding.name}: the default entry can only be modified, not ${TYPE_NAMES[type]}d`);
    if (entry.match.length > 0 || entry.priority !== 0) throw invalidArgument(`${binding.name}: the default entry has no match fields or priority`);
    const call = decodeActionCall(ctx.pipeline, binding, entry);
    if (call === undefined) {
      binding.table.resetDefault();
      return;
    }
    binding.table.setDefault(call);
    return;
  }
  if (entry.idleTimeoutNs !== 0n) {
    throw invalidArgument(`table 0x${entry.tableId.toString(16)}: the embedded target's tables do not support idle timeouts`);
  }
  const decoded = decodeTableEntry(ctx.pipeline, entry);
  const { binding, matches, priority, action } = decoded;
  switch (type) {
    case Update_Type.INSERT:
    case Update_Type.MODIFY: {
      if (action === undefined) throw invalidArgument(`${binding.name}: the entry has no action`);
      const data = { matches, priority, action };
      if (type === Update_Type.INSERT) binding.table.insert(data);
      else binding.table.modify(data);
      // Direct counter cells may be set along with the entry (P4Runtime §9.4 "Direct resources").
      if (entry.counterData !== undefined && binding.table.hasDirectCounter) {
        const stored = binding.table.find(data);
        if (stored !== undefined) {
          stored.packets = entry.counterData.packetCount;
          stored.bytes = entry.counterData.byteCount;
        }
      }
      return;
    }
    case Update_Type.DELETE:
      binding.table.delete({ matches, priority });
      return;
  }
}

function onlyModify(type: Update_Type, what: string): void {
  if (type !== Update_Type.MODIFY) throw invalidArgument(`${what} cells always exist: use MODIFY, not ${TYPE_NAMES[type]}`);
}

function checkCount(v: bigint, what: string): bigint {
  if (v < 0n) throw invalidArgument(`${what}: a count cannot be negative`);
  return v;
}

function writeCounterEntry(ctx: WriteContext, type: Update_Type, entry: EntityValue<'counterEntry'>): void {
  const c = ctx.pipeline.counters.get(entry.counterId);
  if (c === undefined) throw notFound(`no counter with id 0x${entry.counterId.toString(16)}`);
  onlyModify(type, `counter ${c.name}`);
  const index = decodeIndex(entry.index, c.counter.size, `counter ${c.name}`);
  const packets = checkCount(entry.data?.packetCount ?? 0n, c.name);
  const bytes = checkCount(entry.data?.byteCount ?? 0n, c.name);
  const cells = index === undefined ? c.counter.packets.map((_, i) => i) : [index];
  for (const i of cells) {
    c.counter.packets[i] = packets;
    c.counter.bytes[i] = bytes;
  }
}

function writeDirectCounterEntry(ctx: WriteContext, type: Update_Type, entry: EntityValue<'directCounterEntry'>): void {
  onlyModify(type, 'direct counter');
  const te = entry.tableEntry;
  if (te === undefined) throw invalidArgument('a DirectCounterEntry needs its table_entry');
  const binding = tableBinding(ctx.pipeline, te.tableId);
  if (!binding.table.hasDirectCounter) throw invalidArgument(`${binding.name} has no direct counter`);
  const stored = binding.table.find({ matches: decodeMatches(binding, te.match), priority: te.priority });
  if (stored === undefined) throw notFound(`${binding.name}: no such entry`);
  stored.packets = checkCount(entry.data?.packetCount ?? 0n, binding.name);
  stored.bytes = checkCount(entry.data?.byteCount ?? 0n, binding.name);
}

function writeRegisterEntry(ctx: WriteContext, type: Update_Type, entry: EntityValue<'registerEntry'>): void {
  const r = ctx.pipeline.registers.get(entry.registerId);
  if (r === undefined) throw notFound(`no register with id 0x${entry.registerId.toString(16)}`);
  onlyModify(type, `register ${r.name}`);
  const index = decodeIndex(entry.index, r.register.size, `register ${r.name}`);
  const value = decodeBitstring(entry.data, r.register.width, r.name);
  if (index === undefined) r.register.values.fill(value);
  else r.register.values[index] = value;
}

function writeDigestEntry(ctx: WriteContext, type: Update_Type, entry: EntityValue<'digestEntry'>): void {
  const d = ctx.pipeline.digests.get(entry.digestId);
  if (d === undefined) throw notFound(`no digest with id 0x${entry.digestId.toString(16)}`);
  if (type === Update_Type.DELETE) {
    ctx.digests.delete(d.id);
    return;
  }
  const c = entry.config;
  if (c === undefined) throw invalidArgument(`digest ${d.name}: INSERT and MODIFY need a config`);
  if (c.maxTimeoutNs < 0n || c.ackTimeoutNs < 0n || c.maxListSize < 0) {
    throw invalidArgument(`digest ${d.name}: timeouts and list size cannot be negative`);
  }
  const config = { maxTimeoutNs: c.maxTimeoutNs, maxListSize: c.maxListSize, ackTimeoutNs: c.ackTimeoutNs };
  if (type === Update_Type.INSERT) ctx.digests.insert(d.id, config);
  else ctx.digests.modify(d.id, config);
}
