/**
 * The slot table every gateway computes from the healthy backend set: slot -> backend. Shared
 * types, input validation (canonical order, duplicates, weights) and helpers for both algorithms.
 */
import { createHash } from 'node:crypto';
import { byCodeUnit } from '../order.ts';
import { HashError } from './errors.ts';

export interface WeightedBackend {
  readonly name: string;
  /** Positive integer; a backend with weight 2 gets twice the slots of one with weight 1. */
  readonly weight: number;
}

export interface SlotTable {
  readonly slots: number;
  /** Backend names in canonical order (sorted by name). */
  readonly backends: readonly string[];
  /** slot -> index into `backends`. */
  readonly owner: Uint32Array;
}

/** Largest table we build: P4 slot indexes stay well inside one 32-bit hash. */
export const MAX_SLOTS = 2 ** 24;
/** Bound on the sum of weights so slots * weight products stay exact in a double. */
export const MAX_TOTAL_WEIGHT = 2 ** 28;

export interface CanonicalBackends {
  readonly names: readonly string[];
  readonly weights: Uint32Array;
  readonly totalWeight: number;
}

export function checkSlots(slots: number): void {
  if (!Number.isInteger(slots) || slots < 1 || slots > MAX_SLOTS || (slots & (slots - 1)) !== 0) {
    throw new HashError('HASH_BAD_SLOTS', `slot count ${slots} is not a power of two in 1..2^24`, {
      hint: 'use e.g. 1024, 65536',
    });
  }
}

/** Sorts by name (JavaScript string order, i.e. UTF-16 code units) and validates. */
export function canonicalBackends(backends: readonly WeightedBackend[]): CanonicalBackends {
  if (backends.length === 0) throw new HashError('HASH_NO_BACKENDS', 'a slot table needs at least one backend');
  const sorted = [...backends].sort((a, b) => byCodeUnit(a.name, b.name));
  const weights = new Uint32Array(sorted.length);
  let total = 0;
  sorted.forEach((b, i) => {
    if (i > 0 && sorted[i - 1]!.name === b.name) {
      throw new HashError('HASH_DUPLICATE_BACKEND', `backend '${b.name}' is listed twice`);
    }
    if (!Number.isInteger(b.weight) || b.weight < 1) {
      throw new HashError('HASH_BAD_WEIGHT', `backend '${b.name}' has weight ${b.weight}; expected a positive integer`);
    }
    weights[i] = b.weight;
    total += b.weight;
  });
  if (total > MAX_TOTAL_WEIGHT) {
    throw new HashError('HASH_BAD_WEIGHT', `total weight ${total} exceeds ${MAX_TOTAL_WEIGHT}`);
  }
  return { names: sorted.map((b) => b.name), weights, totalWeight: total };
}

/** SHA-256 of the UTF-8 name: the one source of per-backend pseudo-randomness. */
export function nameDigest(name: string): Buffer {
  return createHash('sha256').update(name, 'utf8').digest();
}

export function backendOfSlot(table: SlotTable, slot: number): string {
  const idx = table.owner[slot];
  if (idx === undefined) {
    throw new HashError('HASH_BAD_ARGUMENT', `slot ${slot} is outside a table of ${table.slots} slots`);
  }
  return table.backends[idx]!;
}

/** Slots owned by each backend, indexed like `table.backends`. */
export function countsPerBackend(table: SlotTable): Uint32Array {
  const counts = new Uint32Array(table.backends.length);
  for (let s = 0; s < table.owner.length; s++) counts[table.owner[s]!]!++;
  return counts;
}

/** The same counts keyed by name. */
export function countsByName(table: SlotTable): Map<string, number> {
  const counts = countsPerBackend(table);
  return new Map(table.backends.map((name, i) => [name, counts[i]!]));
}

export interface SlotChange {
  readonly slot: number;
  readonly from: string;
  readonly to: string;
}

/** Slots whose owner (by name) differs between two tables of the same size, in slot order. */
export function diffTables(a: SlotTable, b: SlotTable): SlotChange[] {
  if (a.slots !== b.slots) {
    throw new HashError('HASH_TABLE_MISMATCH', `cannot diff tables of ${a.slots} and ${b.slots} slots`);
  }
  // Map b's indexes into a's name space once, so the loop compares integers.
  const aIndex = new Map(a.backends.map((n, i) => [n, i]));
  const bToA = Int32Array.from(b.backends, (n) => aIndex.get(n) ?? -1);
  const changes: SlotChange[] = [];
  for (let s = 0; s < a.slots; s++) {
    const ai = a.owner[s]!;
    const bi = b.owner[s]!;
    if (bToA[bi] !== ai) changes.push({ slot: s, from: a.backends[ai]!, to: b.backends[bi]! });
  }
  return changes;
}

/** Number of slots whose owner differs (no allocation), for analysis at scale. */
export function countDifferences(a: SlotTable, b: SlotTable): number {
  if (a.slots !== b.slots) {
    throw new HashError('HASH_TABLE_MISMATCH', `cannot diff tables of ${a.slots} and ${b.slots} slots`);
  }
  const aIndex = new Map(a.backends.map((n, i) => [n, i]));
  const bToA = Int32Array.from(b.backends, (n) => aIndex.get(n) ?? -1);
  let moved = 0;
  for (let s = 0; s < a.slots; s++) if (bToA[b.owner[s]!] !== a.owner[s]) moved++;
  return moved;
}
