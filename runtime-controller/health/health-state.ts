/**
 * The rise/fall state machine of one probed target, as a pure reducer: no clock, no I/O, so the
 * scheduler, the tests and a replay of recorded probes all drive the same definition.
 */

/** `unknown` until the first `rise` successes or `fall` failures in a row decide. */
export type HealthState = 'unknown' | 'healthy' | 'unhealthy';

/** What one probe saw. `latencyMs` is the time to the answer, or to the failure. */
export type ProbeResult =
  | { readonly ok: true; readonly latencyMs: number; readonly status?: number }
  | { readonly ok: false; readonly latencyMs: number; readonly error: string; readonly status?: number };

export interface RiseFall {
  /** Consecutive successes that make a target healthy. */
  readonly rise: number;
  /** Consecutive failures that make a target unhealthy. */
  readonly fall: number;
}

export interface HealthRecord {
  readonly state: HealthState;
  /** Length of the current run of successes (0 after a failure). */
  readonly successes: number;
  /** Length of the current run of failures (0 after a success). */
  readonly failures: number;
}

export const INITIAL_HEALTH: HealthRecord = { state: 'unknown', successes: 0, failures: 0 };

/**
 * The record after one more probe. A success run of `rise` makes the target healthy and a
 * failure run of `fall` unhealthy, from any state; a result breaks the opposite run, so a
 * flapping target keeps its state.
 */
export function recordProbe(record: HealthRecord, ok: boolean, thresholds: RiseFall): HealthRecord {
  if (ok) {
    const successes = record.successes + 1;
    const state = successes >= thresholds.rise ? 'healthy' : record.state;
    return { state, successes, failures: 0 };
  }
  const failures = record.failures + 1;
  const state = failures >= thresholds.fall ? 'unhealthy' : record.state;
  return { state, successes: 0, failures };
}

/** The state a sequence of results leads to from `unknown` (for tests and replays). */
export function replayProbes(results: Iterable<boolean>, thresholds: RiseFall): HealthRecord {
  let record = INITIAL_HEALTH;
  for (const ok of results) record = recordProbe(record, ok, thresholds);
  return record;
}
