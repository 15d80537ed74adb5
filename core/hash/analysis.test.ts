import { describe, expect, it } from 'vitest';
import { analyzeTable, differingIndexes, syntheticBackends } from './analysis.ts';
import { HashError } from './errors.ts';

const clock = (): (() => number) => {
  let t = 0;
  return () => (t += 1);
};

describe('analyzeTable', () => {
  it('measures minimal disruption and exact agreement for rendezvous', () => {
    const r = analyzeTable({ algorithm: 'rendezvous', backends: syntheticBackends(16), slots: 2048, differing: 4, now: clock() });
    expect(r.disruption.removeOne.ratio).toBe(1);
    expect(r.disruption.addOne.ratio).toBe(1);
    expect(r.agreement).toMatchObject({ differing: 4, healthy: 16, bound: 0.75 });
    expect(r.agreement.fraction).toBeGreaterThan(0.7);
    expect(r.buildMs).toBe(1);
  });
  it('reports Maglev balance within one slot and disruption above minimal', () => {
    const r = analyzeTable({ algorithm: 'maglev', backends: syntheticBackends(10), slots: 4096 });
    expect(r.balance.maxOverMean * 409.6).toBeLessThanOrEqual(410 + 1e-9);
    expect(r.balance.minOverMean * 409.6).toBeGreaterThanOrEqual(409 - 1e-9);
    expect(r.disruption.removeOne.minimal).toBeGreaterThanOrEqual(409);
    expect(r.disruption.removeOne.moved).toBeGreaterThanOrEqual(r.disruption.removeOne.minimal);
  });
  it('measures balance against weighted shares', () => {
    const backends = [
      { name: 'a', weight: 1 },
      { name: 'b', weight: 3 },
    ];
    const r = analyzeTable({ algorithm: 'maglev', backends, slots: 1024 });
    expect(r.balance).toEqual({ maxOverMean: 1, minOverMean: 1 });
  });
  it('handles a single backend: removal orphans every slot, agreement is trivial', () => {
    const r = analyzeTable({ algorithm: 'maglev', backends: syntheticBackends(1), slots: 64 });
    expect(r.disruption.removeOne).toEqual({ moved: 64, minimal: 64, ratio: 1 });
    expect(r.agreement).toEqual({ differing: 0, healthy: 1, fraction: 1, bound: 1 });
  });
  it('rejects a differing count that leaves no healthy backend', () => {
    expect(() => analyzeTable({ algorithm: 'maglev', backends: syntheticBackends(3), slots: 64, differing: 3 })).toThrow(
      HashError,
    );
  });
});

describe('helpers', () => {
  it('names synthetic backends so they sort numerically', () => {
    expect(syntheticBackends(3).map((b) => b.name)).toEqual(['be-0001', 'be-0002', 'be-0003']);
    expect(() => syntheticBackends(0)).toThrow(HashError);
  });
  it('spreads the differing backends evenly', () => {
    expect(differingIndexes(2, 10)).toEqual([0, 5]);
    expect(differingIndexes(3, 3)).toEqual([0, 1, 2]);
  });
});
