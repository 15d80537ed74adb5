/**
 * Reconnect delays: capped exponential backoff with proportional jitter, so a fleet of
 * controllers that lost one switch does not come back in lockstep. Pure: the random sample is
 * an argument.
 */
export interface BackoffOptions {
  /** Delay before the first retry, ms. */
  readonly baseMs: number;
  /** Longest delay, ms. */
  readonly capMs: number;
  /** Fraction of the delay that is random, 0..1 (0 = deterministic). */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 100, capMs: 10_000, jitter: 0.2 };

/**
 * Delay before retry number `attempt` (1 = first retry): min(cap, base·2^(attempt−1)), of which the
 * `jitter` fraction is scaled by `random` ∈ [0, 1). The result lies in [d·(1−jitter), d].
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: number): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const d = Math.min(options.capMs, options.baseMs * 2 ** exponent);
  const r = Math.min(Math.max(random, 0), 1);
  return Math.round(d * (1 - options.jitter) + d * options.jitter * r);
}
