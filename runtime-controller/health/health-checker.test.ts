import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { HealthCheck } from '../../core/spec/schema.ts';
import { FakeClock } from './clock.ts';
import { HealthError } from './errors.ts';
import { HealthChecker, type HealthTransition } from './health-checker.ts';
import type { ProbeResult } from './health-state.ts';
import type { Prober } from './probe.ts';

const logger = pino({ level: 'silent' });
const check: HealthCheck = { type: 'tcp', port: 80, intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 2 };
const target = { vip: 'web', vm: 'vm-a1', endpoint: { host: '192.0.2.1', port: 80 } };

/** A prober that answers from a script (then repeats its last answer) and records when it was called. */
function scripted(clock: FakeClock, script: readonly boolean[]) {
  const calls: number[] = [];
  const prober: Prober = async () => {
    const ok = script[Math.min(calls.length, script.length - 1)]!;
    calls.push(clock.now());
    return ok ? { ok: true, latencyMs: 3 } : { ok: false, latencyMs: 500, error: 'timeout after 500 ms' };
  };
  return { prober, calls };
}

function checker(clock: FakeClock, prober: Prober, seed: string | number = 'seed') {
  return new HealthChecker({ target, check, prober, clock, logger, seed });
}

describe('HealthChecker on a fake clock', () => {
  it('probes first within 10% of an interval, then every interval, up to 10% sooner', async () => {
    const clock = new FakeClock(1_000_000);
    const { prober, calls } = scripted(clock, [true]);
    const c = checker(clock, prober);
    c.start();
    await clock.advance(30_000);
    await c.stop();
    expect(calls[0]! - 1_000_000).toBeLessThanOrEqual(100);
    const gaps = calls.slice(1).map((t, i) => t - calls[i]!);
    expect(gaps.length).toBeGreaterThanOrEqual(26);
    for (const g of gaps) {
      expect(g).toBeGreaterThanOrEqual(900);
      expect(g).toBeLessThanOrEqual(1000);
    }
    expect(new Set(gaps).size).toBeGreaterThan(1);
  });

  it('gives the same probe times for the same seed and different ones for another', async () => {
    const times = async (seed: string) => {
      const clock = new FakeClock();
      const { prober, calls } = scripted(clock, [true]);
      const c = checker(clock, prober, seed);
      c.start();
      await clock.advance(10_000);
      await c.stop();
      return calls;
    };
    expect(await times('a')).toEqual(await times('a'));
    expect(await times('a')).not.toEqual(await times('b'));
  });

  it('reports each transition with the time and the probe that decided it', async () => {
    const clock = new FakeClock();
    const { prober, calls } = scripted(clock, [true, true, false, true, false, false, true, true]);
    const c = checker(clock, prober);
    const seen: HealthTransition[] = [];
    c.onTransition((t) => seen.push(t));
    expect(c.state).toBe('unknown');
    expect(c.since).toBeUndefined();
    c.start();
    await clock.advance(8_500);
    await c.stop();
    expect(calls).toHaveLength(9);
    expect(seen.map((t) => [t.from, t.to])).toEqual([
      ['unknown', 'healthy'],
      ['healthy', 'unhealthy'],
      ['unhealthy', 'healthy'],
    ]);
    expect(seen.map((t) => t.at)).toEqual([calls[1], calls[5], calls[7]]);
    expect(seen[1]!.result).toEqual({ ok: false, latencyMs: 500, error: 'timeout after 500 ms' });
    expect(seen[0]!.target).toEqual(target);
    expect(c.state).toBe('healthy');
    // Since the last transition, not the last probe.
    expect(c.since).toBe(calls[7]);
  });

  it('counts a prober that throws as a failed probe', async () => {
    const clock = new FakeClock();
    const c = checker(clock, async () => {
      throw new Error('resolver exploded');
    });
    c.start();
    await clock.advance(2_500);
    await c.stop();
    expect(c.state).toBe('unhealthy');
    expect(c.lastResult).toMatchObject({ ok: false, error: 'prober failed: Error: resolver exploded' });
  });

  it('stops cleanly: no timer left, a probe in flight aborted and awaited, no transition after stop', async () => {
    const clock = new FakeClock();
    let aborted = false;
    const hanging: Prober = (_e, _c, signal) =>
      new Promise<ProbeResult>((resolve) => {
        signal.addEventListener('abort', () => {
          aborted = true;
          resolve({ ok: true, latencyMs: 1 });
        });
      });
    const c = checker(clock, hanging);
    const seen: HealthTransition[] = [];
    c.onTransition((t) => seen.push(t));
    c.start();
    await clock.advance(200);
    expect(clock.pendingTimers()).toBe(0); // the probe is in flight, nothing scheduled
    await c.stop();
    expect(aborted).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
    expect(c.lastResult).toBeUndefined();
    expect(seen).toEqual([]);
    expect(() => c.start()).toThrow(HealthError);
  });

  it('stopping between probes clears the scheduled timer', async () => {
    const clock = new FakeClock();
    const { prober, calls } = scripted(clock, [true]);
    const c = checker(clock, prober);
    c.start();
    await clock.advance(1_500);
    expect(clock.pendingTimers()).toBe(1);
    await c.stop();
    expect(clock.pendingTimers()).toBe(0);
    const n = calls.length;
    await clock.advance(10_000);
    expect(calls).toHaveLength(n);
  });

  it('rejects a timeout longer than the interval', () => {
    const clock = new FakeClock();
    expect(() => new HealthChecker({ target, check: { ...check, timeoutMs: 2000 }, prober: scripted(clock, [true]).prober, clock, logger, seed: 1 })).toThrow(
      /exceeds the interval/,
    );
  });
});
