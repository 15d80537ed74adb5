/**
 * Maglev lookup table (Eisenbud et al., NSDI 2016, §3.4) with integer weights.
 *
 * Per backend (canonical order = sorted by name), d = SHA-256(UTF-8 name):
 *   offset = uint32_be(d[0..4]) mod M
 *   skip   = 2 * (uint32_be(d[4..8]) mod (M/2)) + 1   (odd, so it generates Z_M for M a power of two; 1 when M = 1)
 *   preference j = (offset + j * skip) mod M
 * Quotas: q_i = floor(M w_i / W), and the M - sum(q) leftover slots go one each to the largest
 * remainders (M w_i mod W), ties to the lower canonical index. Population: rounds; in each round
 * every backend whose count is below its quota, in canonical order, takes its next preferred
 * free slot. Equal weights thus give every backend floor(M/N) or ceil(M/N) slots.
 */
import {
  canonicalBackends,
  checkSlots,
  nameDigest,
  type SlotTable,
  type WeightedBackend,
} from './slot-table.ts';

export interface MaglevPermutation {
  readonly offset: number;
  readonly skip: number;
}

/** Offset and skip of one backend's preference list for a table of `slots` entries. */
export function maglevPermutation(name: string, slots: number): MaglevPermutation {
  const d = nameDigest(name);
  const half = Math.max(1, slots / 2);
  return { offset: d.readUInt32BE(0) % slots, skip: 2 * (d.readUInt32BE(4) % half) + 1 };
}

/** Largest-remainder apportionment of `slots` by weight; exact integers (M w < 2^53). */
export function apportionSlots(weights: Uint32Array, totalWeight: number, slots: number): Uint32Array {
  const n = weights.length;
  const quota = new Uint32Array(n);
  const remainder = new Float64Array(n);
  let assigned = 0;
  for (let i = 0; i < n; i++) {
    const p = slots * weights[i]!;
    quota[i] = Math.floor(p / totalWeight);
    remainder[i] = p - quota[i]! * totalWeight;
    assigned += quota[i]!;
  }
  const leftover = slots - assigned; // < n
  if (leftover > 0) {
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => remainder[b]! - remainder[a]! || a - b);
    for (let k = 0; k < leftover; k++) quota[order[k]!]!++;
  }
  return quota;
}

const EMPTY = 0xffffffff;

export function buildMaglevTable(backends: readonly WeightedBackend[], slots: number): SlotTable {
  checkSlots(slots);
  const { names, weights, totalWeight } = canonicalBackends(backends);
  const n = names.length;
  const mask = slots - 1;
  const pos = new Uint32Array(n);
  const skip = new Uint32Array(n);
  names.forEach((name, i) => {
    const p = maglevPermutation(name, slots);
    pos[i] = p.offset;
    skip[i] = p.skip;
  });
  const quota = apportionSlots(weights, totalWeight, slots);
  const count = new Uint32Array(n);
  const owner = new Uint32Array(slots).fill(EMPTY);

  // Backends still below quota, in canonical order; compacted as they fill up.
  let active = new Uint32Array(n);
  let activeLen = 0;
  for (let i = 0; i < n; i++) if (quota[i]! > 0) active[activeLen++] = i;
  let next = new Uint32Array(n);
  let filled = 0;
  while (filled < slots) {
    let nextLen = 0;
    for (let k = 0; k < activeLen; k++) {
      const i = active[k]!;
      let c = pos[i]!;
      while (owner[c] !== EMPTY) c = (c + skip[i]!) & mask;
      owner[c] = i;
      pos[i] = (c + skip[i]!) & mask;
      filled++;
      if (++count[i]! < quota[i]!) next[nextLen++] = i;
    }
    [active, next] = [next, active];
    activeLen = nextLen;
  }
  return { slots, backends: names, owner };
}
