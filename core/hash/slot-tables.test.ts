import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildSlotTable, SLOT_TABLE_ALGORITHMS, type SlotTableAlgorithm } from './index.ts';
import { HashError } from './errors.ts';
import { maglevPermutation } from './maglev.ts';
import { fmix32, rendezvousSeed } from './rendezvous.ts';
import {
  backendOfSlot,
  countDifferences,
  countsByName,
  countsPerBackend,
  diffTables,
  type SlotTable,
  type WeightedBackend,
} from './slot-table.ts';

const names = (t: SlotTable): string => Array.from(t.owner, (i) => t.backends[i]!.slice(-1)).join('');
const abc = (wb = 1): WeightedBackend[] => [
  { name: 'vm-a', weight: 1 },
  { name: 'vm-b', weight: wb },
  { name: 'vm-c', weight: 1 },
];

/** Distinct names with weights; small sizes keep the properties fast. */
const backendSet = (maxN: number, maxW = 1): fc.Arbitrary<WeightedBackend[]> =>
  fc
    .uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: maxN })
    .chain((ns) =>
      fc.tuple(...ns.map(() => fc.integer({ min: 1, max: maxW }))).map((ws) => ns.map((name, i) => ({ name, weight: ws[i]! }))),
    );
const slotsArb = fc.integer({ min: 0, max: 12 }).map((k) => 2 ** k);
const algoArb = fc.constantFrom<SlotTableAlgorithm>(...SLOT_TABLE_ALGORITHMS);

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = fmix32(s + 1);
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('known-answer vectors (also in docs/consistent-hashing.md)', () => {
  it('Maglev offsets and skips', () => {
    expect(maglevPermutation('vm-a', 16)).toEqual({ offset: 7, skip: 11 });
    expect(maglevPermutation('vm-b', 16)).toEqual({ offset: 12, skip: 3 });
    expect(maglevPermutation('vm-c', 16)).toEqual({ offset: 11, skip: 7 });
  });
  it('Maglev M=16, vm-a/vm-b/vm-c weight 1', () => {
    expect(names(buildSlotTable('maglev', abc(), 16))).toBe('cbacabaaacccbabb');
  });
  it('Maglev M=32, vm-b weight 2', () => {
    expect(names(buildSlotTable('maglev', abc(2), 32))).toBe('bccbbbbaacabbbbccbaaabbcbbccbaab');
  });
  it('rendezvous seeds, fmix32 and tables', () => {
    expect(['vm-a', 'vm-b', 'vm-c'].map(rendezvousSeed)).toEqual([0x509f6562, 0x217b410d, 0x211bdbb1]);
    expect([0, 1, 2, 3].map(fmix32)).toEqual([0, 0x514e28b7, 0x30f4c306, 0x85f0b427]);
    expect(names(buildSlotTable('rendezvous', abc(), 16))).toBe('bbcbbaababaccbba');
    expect(names(buildSlotTable('rendezvous', abc(2), 32))).toBe('bbcbbaababaccbbacbbbbbabbccbbccb');
  });
});

describe('both algorithms', () => {
  it('are deterministic and independent of input order; every slot maps into the set', () => {
    fc.assert(
      fc.property(algoArb, backendSet(20, 4), slotsArb, fc.nat(), (algo, set, m, seed) => {
        const a = buildSlotTable(algo, set, m);
        const b = buildSlotTable(algo, shuffled(set, seed), m);
        expect(b.backends).toEqual(a.backends);
        expect(b.owner).toEqual(a.owner);
        expect([...a.backends].sort()).toEqual(set.map((x) => x.name).sort());
        expect(a.owner).toHaveLength(m);
        for (const o of a.owner) expect(o).toBeLessThan(set.length);
      }),
      { numRuns: 60 },
    );
  });
  it('reject duplicates, bad weights, bad slot counts and empty sets', () => {
    for (const algo of SLOT_TABLE_ALGORITHMS) {
      const dup = () => buildSlotTable(algo, [{ name: 'x', weight: 1 }, { name: 'x', weight: 2 }], 16);
      expect(dup).toThrow(HashError);
      expect(dup).toThrow(/listed twice/);
      expect(() => buildSlotTable(algo, [{ name: 'x', weight: 0 }], 16)).toThrow(/weight/);
      expect(() => buildSlotTable(algo, [{ name: 'x', weight: 1.5 }], 16)).toThrow(/weight/);
      expect(() => buildSlotTable(algo, [{ name: 'x', weight: 1 }], 1000)).toThrow(/power of two/);
      expect(() => buildSlotTable(algo, [], 16)).toThrow(/at least one/);
    }
  });
});

describe('Maglev', () => {
  it('gives every backend floor(M/N) or ceil(M/N) slots with equal weights', () => {
    fc.assert(
      fc.property(backendSet(40), slotsArb, (set, m) => {
        const counts = countsPerBackend(buildSlotTable('maglev', set, m));
        expect(Math.max(...counts)).toBeLessThanOrEqual(Math.ceil(m / set.length));
        expect(Math.min(...counts)).toBeGreaterThanOrEqual(Math.floor(m / set.length));
      }),
      { numRuns: 80 },
    );
  });
  it('honours weights within 1% at M/N >= 100', () => {
    fc.assert(
      fc.property(backendSet(20, 10), (set) => {
        const m = 4096;
        fc.pre(m / set.length >= 100);
        const table = buildSlotTable('maglev', set, m);
        const total = set.reduce((s, b) => s + b.weight, 0);
        const byName = countsByName(table);
        for (const b of set) {
          const share = (m * b.weight) / total;
          expect(Math.abs(byName.get(b.name)! - share)).toBeLessThanOrEqual(Math.max(1, 0.01 * share));
        }
      }),
      { numRuns: 60 },
    );
  });
  it('builds M=65536, N=1000 (a smoke test; timing lives in the benchmarks)', () => {
    const set = Array.from({ length: 1000 }, (_, i) => ({ name: `be-${i}`, weight: 1 }));
    const counts = countsPerBackend(buildSlotTable('maglev', set, 65536));
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });
});

describe('rendezvous', () => {
  it('removing one backend moves exactly that backend’s slots', () => {
    fc.assert(
      fc.property(backendSet(12, 3), fc.integer({ min: 0, max: 10 }).map((k) => 2 ** k), fc.nat(), (set, m, pick) => {
        fc.pre(set.length >= 2);
        const gone = set[pick % set.length]!.name;
        const full = buildSlotTable('rendezvous', set, m);
        const less = buildSlotTable('rendezvous', set.filter((b) => b.name !== gone), m);
        for (const c of diffTables(full, less)) expect(c.from).toBe(gone);
        expect(countDifferences(full, less)).toBe(countsByName(full).get(gone));
      }),
      { numRuns: 80 },
    );
  });
  it('adding one backend moves only slots to the new backend', () => {
    fc.assert(
      fc.property(backendSet(12, 3), fc.integer({ min: 1, max: 3 }), (set, w) => {
        const added = { name: 'zz-new-backend-that-no-arbitrary-makes', weight: w };
        const before = buildSlotTable('rendezvous', set, 512);
        const after = buildSlotTable('rendezvous', [...set, added], 512);
        for (const c of diffTables(before, after)) expect(c.to).toBe(added.name);
      }),
      { numRuns: 60 },
    );
  });
  it('two gateways differing on A of B backends agree on every slot not owned by those A', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 40 }), fc.nat(), (b, a0) => {
        const a = a0 % b;
        const set = Array.from({ length: b }, (_, i) => ({ name: `be-${i}`, weight: 1 }));
        const down = new Set(set.slice(0, a).map((x) => x.name));
        const full = buildSlotTable('rendezvous', set, 4096);
        const partial = buildSlotTable('rendezvous', set.filter((x) => !down.has(x.name)), 4096);
        const ownedByDown = [...down].reduce((s, n) => s + countsByName(full).get(n)!, 0);
        const agree = 1 - countDifferences(full, partial) / 4096;
        // Exactly minimal disruption; against 1 - A/B only the luck of the A shares remains.
        expect(agree).toBe(1 - ownedByDown / 4096);
        expect(agree).toBeGreaterThanOrEqual(1 - a / b - 0.03);
      }),
      { numRuns: 40 },
    );
  });
  it('honours weights within a few percent (it is random, not apportioned)', () => {
    const set = [
      { name: 'a', weight: 1 },
      { name: 'b', weight: 2 },
      { name: 'c', weight: 5 },
    ];
    const counts = countsByName(buildSlotTable('rendezvous', set, 65536));
    expect(counts.get('a')! / 8192).toBeCloseTo(1, 1);
    expect(counts.get('b')! / 16384).toBeCloseTo(1, 1);
    expect(counts.get('c')! / 40960).toBeCloseTo(1, 1);
  });
});

describe('table helpers', () => {
  const t = buildSlotTable('maglev', abc(), 16);
  it('backendOfSlot names the owner and rejects out-of-range slots', () => {
    expect(backendOfSlot(t, 0)).toBe('vm-c');
    expect(() => backendOfSlot(t, 16)).toThrow(HashError);
  });
  it('diffTables lists changed slots with both names', () => {
    const u = buildSlotTable('maglev', abc().slice(0, 2), 16);
    const changes = diffTables(t, u);
    expect(changes.length).toBe(countDifferences(t, u));
    for (const c of changes) {
      expect(c.from).toBe(backendOfSlot(t, c.slot));
      expect(c.to).toBe(backendOfSlot(u, c.slot));
      expect(c.from).not.toBe(c.to);
    }
    expect(diffTables(t, t)).toEqual([]);
    expect(() => diffTables(t, buildSlotTable('maglev', abc(), 32))).toThrow(/cannot diff/);
  });
});
