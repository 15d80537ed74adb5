import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INITIAL_HEALTH, recordProbe, replayProbes, type HealthState } from './health-state.ts';
import { JITTER_FRACTION, initialDelay, jitteredInterval, seededRandom } from './jitter.ts';

const ok = true;
const fail = false;

describe('rise/fall state machine', () => {
  it('stays unknown until rise successes or fall failures in a row', () => {
    const t = { rise: 3, fall: 2 };
    expect(replayProbes([ok, ok], t).state).toBe('unknown');
    expect(replayProbes([ok, ok, ok], t).state).toBe('healthy');
    expect(replayProbes([fail], t).state).toBe('unknown');
    expect(replayProbes([fail, fail], t).state).toBe('unhealthy');
    expect(replayProbes([ok, ok, fail, ok, ok], t).state).toBe('unknown');
  });

  it('needs fall failures to leave healthy and rise successes to leave unhealthy', () => {
    const t = { rise: 2, fall: 3 };
    const healthy = replayProbes([ok, ok], t);
    expect(recordProbe(recordProbe(healthy, fail, t), fail, t).state).toBe('healthy');
    expect(replayProbes([ok, ok, fail, fail, fail], t).state).toBe('unhealthy');
    expect(replayProbes([ok, ok, fail, fail, fail, ok], t).state).toBe('unhealthy');
    expect(replayProbes([ok, ok, fail, fail, fail, ok, ok], t).state).toBe('healthy');
  });

  it('keeps its state while a target flaps (the runs never reach rise or fall)', () => {
    const t = { rise: 2, fall: 2 };
    const flapping = Array.from({ length: 50 }, (_, i) => i % 2 === 0);
    expect(replayProbes([ok, ok, ...flapping], t).state).toBe('healthy');
    expect(replayProbes([fail, fail, ...flapping], t).state).toBe('unhealthy');
    expect(replayProbes(flapping, t).state).toBe('unknown');
  });

  it('rise = fall = 1 follows every result', () => {
    expect(recordProbe(INITIAL_HEALTH, true, { rise: 1, fall: 1 }).state).toBe('healthy');
    expect(recordProbe(INITIAL_HEALTH, false, { rise: 1, fall: 1 }).state).toBe('unhealthy');
  });

  it('agrees with the definition: the state is set by the last complete run of rise successes or fall failures', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 60 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), (results, rise, fall) => {
        let expected: HealthState = 'unknown';
        for (let i = 0; i < results.length; i++) {
          const runOf = (value: boolean, n: number) => i + 1 >= n && results.slice(i + 1 - n, i + 1).every((r) => r === value);
          if (runOf(true, rise)) expected = 'healthy';
          else if (runOf(false, fall)) expected = 'unhealthy';
        }
        expect(replayProbes(results, { rise, fall }).state).toBe(expected);
      }),
    );
  });
});

describe('seeded jitter', () => {
  it('keeps every delay within 10% below the interval, never above it, and the first within 10% of it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 3_600_000 }), fc.string(), (interval, seed) => {
        const random = seededRandom(seed);
        for (let i = 0; i < 20; i++) {
          const d = jitteredInterval(interval, random());
          expect(d).toBeGreaterThanOrEqual(Math.floor(interval * (1 - JITTER_FRACTION)));
          expect(d).toBeLessThanOrEqual(interval);
        }
        const first = initialDelay(interval, random());
        expect(first).toBeGreaterThanOrEqual(0);
        expect(first).toBeLessThanOrEqual(interval * JITTER_FRACTION);
      }),
      { numRuns: 200 },
    );
  });

  it('repeats for a seed, differs between seeds, and spreads over the whole range', () => {
    const take = (seed: string) => Array.from({ length: 8 }, seededRandom(seed));
    expect(take('gw-0/web/vm-a1')).toEqual(take('gw-0/web/vm-a1'));
    expect(take('gw-0/web/vm-a1')).not.toEqual(take('gw-1/web/vm-a1'));
    const r = seededRandom(42);
    const delays = Array.from({ length: 2000 }, () => jitteredInterval(1000, r()));
    expect(Math.min(...delays)).toBeLessThan(910);
    expect(Math.max(...delays)).toBe(1000);
  });
});
