/** The consistent-hash core: one entry point over both slot-table algorithms, plus re-exports. */
import { buildMaglevTable } from './maglev.ts';
import { buildRendezvousTable } from './rendezvous.ts';
import type { SlotTable, WeightedBackend } from './slot-table.ts';

export type SlotTableAlgorithm = 'maglev' | 'rendezvous';
export const SLOT_TABLE_ALGORITHMS: readonly SlotTableAlgorithm[] = ['maglev', 'rendezvous'];

/** The slot table of `slots` entries (a power of two) for this backend set; input order is irrelevant. */
export function buildSlotTable(
  algorithm: SlotTableAlgorithm,
  backends: readonly WeightedBackend[],
  slots: number,
): SlotTable {
  switch (algorithm) {
    case 'maglev':
      return buildMaglevTable(backends, slots);
    case 'rendezvous':
      return buildRendezvousTable(backends, slots);
  }
}

export * from './bmv2-hashes.ts';
export * from './errors.ts';
export * from './flow-key.ts';
export * from './slot-table.ts';
export { buildMaglevTable, maglevPermutation, apportionSlots } from './maglev.ts';
export { buildRendezvousTable, fmix32, rendezvousHash, rendezvousSeed } from './rendezvous.ts';
