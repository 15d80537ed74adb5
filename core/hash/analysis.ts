/**
 * Quality of a slot table for a backend set: balance, disruption when one backend leaves or
 * joins, and agreement between two gateways whose health views differ. Pure: the clock used for
 * the build time is injected.
 */
import { byCodeUnit } from '../order.ts';
import { HashError } from './errors.ts';
import { buildSlotTable, type SlotTableAlgorithm } from './index.ts';
import { countDifferences, countsPerBackend, type SlotTable, type WeightedBackend } from './slot-table.ts';

export interface DisruptionResult {
  /** Slots whose owner changed. */
  readonly moved: number;
  /** The fewest slots any table could move: the slots of the removed backend, or those the added one gets. */
  readonly minimal: number;
  /** moved / minimal (1 is optimal); null when minimal is 0. */
  readonly ratio: number | null;
}

export interface TableAnalysis {
  readonly algorithm: SlotTableAlgorithm;
  readonly backends: number;
  readonly slots: number;
  /** Slots per backend over its fair share M * w / W (the mean, for equal weights). */
  readonly balance: { readonly maxOverMean: number; readonly minOverMean: number };
  readonly disruption: { readonly removeOne: DisruptionResult; readonly addOne: DisruptionResult };
  readonly agreement: {
    /** A: backends one gateway sees as down and the other as up. */
    readonly differing: number;
    /** B: backends healthy in the fuller view. */
    readonly healthy: number;
    /** Fraction of slots on which both gateways agree. */
    readonly fraction: number;
    /** 1 - A/B: what minimal disruption gives with perfectly even shares. */
    readonly bound: number;
  };
  readonly buildMs: number;
}

export interface AnalyzeOptions {
  readonly algorithm: SlotTableAlgorithm;
  readonly backends: readonly WeightedBackend[];
  readonly slots: number;
  /** A, the number of backends the two gateways disagree about (default 1, 0 when there is one backend). */
  readonly differing?: number;
  /** Milliseconds clock for buildMs (default performance.now). */
  readonly now?: () => number;
  /** Builds timed for buildMs; the median is reported (default 3). */
  readonly timingRuns?: number;
}

/** Names `count` synthetic backends `be-0001`…, weight 1 (zero-padded so they sort numerically). */
export function syntheticBackends(count: number): WeightedBackend[] {
  if (!Number.isInteger(count) || count < 1) {
    throw new HashError('HASH_BAD_ARGUMENT', `backend count ${count} is not a positive integer`);
  }
  const digits = Math.max(4, String(count).length);
  return Array.from({ length: count }, (_, i) => ({ name: `be-${String(i + 1).padStart(digits, '0')}`, weight: 1 }));
}

function ratio(moved: number, minimal: number): number | null {
  return minimal === 0 ? null : moved / minimal;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Which A of B canonical indexes the second gateway sees as down: spread evenly, deterministic. */
export function differingIndexes(a: number, b: number): number[] {
  return Array.from({ length: a }, (_, i) => Math.floor((i * b) / a));
}

function sortedByName(backends: readonly WeightedBackend[]): WeightedBackend[] {
  return [...backends].sort((x, y) => byCodeUnit(x.name, y.name));
}

export function analyzeTable(options: AnalyzeOptions): TableAnalysis {
  const { algorithm, slots } = options;
  const now = options.now ?? (() => performance.now());
  const set = sortedByName(options.backends);
  const n = set.length;
  const differing = options.differing ?? (n > 1 ? 1 : 0);
  if (!Number.isInteger(differing) || differing < 0 || differing >= Math.max(n, 1) || (n === 1 && differing !== 0)) {
    throw new HashError('HASH_BAD_ARGUMENT', `differing ${differing} must be an integer in 0..${n - 1}`, {
      hint: 'at least one backend must stay healthy in both views',
    });
  }

  const runs = Math.max(1, options.timingRuns ?? 3);
  const times: number[] = [];
  let table: SlotTable | undefined;
  for (let r = 0; r < runs; r++) {
    const t0 = now();
    table = buildSlotTable(algorithm, set, slots);
    times.push(now() - t0);
  }
  const full = table!;
  const counts = countsPerBackend(full);
  const totalWeight = set.reduce((sum, b) => sum + b.weight, 0);

  let maxOverMean = 0;
  let minOverMean = Infinity;
  full.backends.forEach((_, i) => {
    const share = (slots * set[i]!.weight) / totalWeight;
    const r = counts[i]! / share;
    maxOverMean = Math.max(maxOverMean, r);
    minOverMean = Math.min(minOverMean, r);
  });

  // Remove the first backend in canonical order; with one backend every slot loses its owner.
  let removeOne: DisruptionResult;
  if (n === 1) {
    removeOne = { moved: slots, minimal: slots, ratio: 1 };
  } else {
    const without = buildSlotTable(algorithm, set.slice(1), slots);
    const moved = countDifferences(full, without);
    removeOne = { moved, minimal: counts[0]!, ratio: ratio(moved, counts[0]!) };
  }

  // Add a backend with the mean weight under a name not already used.
  const taken = new Set(set.map((b) => b.name));
  let addedName = 'added-backend';
  for (let k = 2; taken.has(addedName); k++) addedName = `added-backend-${k}`;
  const addedWeight = Math.max(1, Math.round(totalWeight / n));
  const withAdded = buildSlotTable(algorithm, [...set, { name: addedName, weight: addedWeight }], slots);
  const addedIndex = withAdded.backends.indexOf(addedName);
  const gained = countsPerBackend(withAdded)[addedIndex]!;
  const addMoved = countDifferences(full, withAdded);
  const addOne: DisruptionResult = { moved: addMoved, minimal: gained, ratio: ratio(addMoved, gained) };

  let agreeFraction = 1;
  if (differing > 0) {
    const down = new Set(differingIndexes(differing, n));
    const partial = buildSlotTable(algorithm, set.filter((_, i) => !down.has(i)), slots);
    agreeFraction = 1 - countDifferences(full, partial) / slots;
  }

  return {
    algorithm,
    backends: n,
    slots,
    balance: { maxOverMean, minOverMean },
    disruption: { removeOne, addOne },
    agreement: { differing, healthy: n, fraction: agreeFraction, bound: 1 - differing / n },
    buildMs: median(times),
  };
}
