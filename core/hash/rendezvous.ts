/**
 * Rendezvous (highest-random-weight) slot table: slot s goes to the backend with the highest
 * score. Removing a backend moves only its slots; adding one moves only slots to it.
 *
 * Per backend (canonical order = sorted by name): seed = uint32_be(SHA-256(UTF-8 name)[8..12]).
 *   t(s)    = fmix32(s)                 (MurmurHash3's 32-bit finaliser, on the slot number)
 *   h(s, b) = fmix32(t(s) XOR seed_b)   (uint32)
 * Equal weights: score = h. Unequal weights: u = (h + 0.5) / 2^32 in (0,1),
 * score = w / -ln(u) (the weighted HRW of Schindelhauer & Schomaker); exact score ties go to the
 * larger h, then to the lower canonical index.
 */
import {
  canonicalBackends,
  checkSlots,
  nameDigest,
  type SlotTable,
  type WeightedBackend,
} from './slot-table.ts';

/** MurmurHash3 fmix32: a bijective 32-bit avalanche finaliser. */
export function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function rendezvousSeed(name: string): number {
  return nameDigest(name).readUInt32BE(8);
}

/** h(s, b) for one slot and backend seed. */
export function rendezvousHash(slot: number, seed: number): number {
  return fmix32(fmix32(slot) ^ seed);
}

const TWO_POW_32 = 2 ** 32;

export function buildRendezvousTable(backends: readonly WeightedBackend[], slots: number): SlotTable {
  checkSlots(slots);
  const { names, weights } = canonicalBackends(backends);
  const n = names.length;
  const seeds = Uint32Array.from(names, rendezvousSeed);
  const owner = new Uint32Array(slots);
  const uniform = weights.every((w) => w === weights[0]);

  if (uniform) {
    for (let s = 0; s < slots; s++) {
      const t = fmix32(s);
      let best = 0;
      let bestH = -1;
      for (let i = 0; i < n; i++) {
        // Inlined fmix32: this loop runs M * N times.
        let h = (t ^ seeds[i]!) >>> 0;
        h ^= h >>> 16;
        h = Math.imul(h, 0x85ebca6b);
        h ^= h >>> 13;
        h = Math.imul(h, 0xc2b2ae35);
        h = (h ^ (h >>> 16)) >>> 0;
        if (h > bestH) {
          bestH = h;
          best = i;
        }
      }
      owner[s] = best;
    }
    return { slots, backends: names, owner };
  }

  for (let s = 0; s < slots; s++) {
    const t = fmix32(s);
    let best = 0;
    let bestScore = -1;
    let bestH = -1;
    for (let i = 0; i < n; i++) {
      const h = fmix32(t ^ seeds[i]!);
      const score = weights[i]! / -Math.log((h + 0.5) / TWO_POW_32);
      if (score > bestScore || (score === bestScore && h > bestH)) {
        bestScore = score;
        bestH = h;
        best = i;
      }
    }
    owner[s] = best;
  }
  return { slots, backends: names, owner };
}
