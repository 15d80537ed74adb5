/**
 * Probes one target on its check's interval (seeded jitter, up to 10% sooner, never later), feeds each result to the
 * rise/fall state machine and reports state transitions. Time comes from a Clock and probes
 * from a Prober, both parameters, so this runs unchanged on a fake clock with a fake prober.
 */
import type { Logger } from 'pino';
import type { HealthCheck } from '../../core/spec/schema.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { HealthError } from './errors.ts';
import { INITIAL_HEALTH, recordProbe, type HealthRecord, type HealthState, type ProbeResult } from './health-state.ts';
import { initialDelay, jitteredInterval, seededRandom } from './jitter.ts';
import type { ProbeEndpoint, Prober } from './probe.ts';

/** A VM as a backend of a VIP, probed at `endpoint`. */
export interface HealthTarget {
  readonly vip: string;
  readonly vm: string;
  readonly endpoint: ProbeEndpoint;
}

export interface HealthTransition {
  readonly target: HealthTarget;
  readonly from: HealthState;
  readonly to: HealthState;
  /** Clock time (ms since the epoch) when the deciding probe finished. */
  readonly at: number;
  /** The probe that completed the run: its latency, error text or HTTP status. */
  readonly result: ProbeResult;
}

export type TransitionListener = (transition: HealthTransition) => void;

export interface HealthCheckerOptions {
  readonly target: HealthTarget;
  readonly check: HealthCheck;
  readonly prober: Prober;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Seed of the jitter sequence; the same seed gives the same probe times. */
  readonly seed: number | string;
}

export class HealthChecker {
  readonly target: HealthTarget;
  readonly check: HealthCheck;
  private readonly prober: Prober;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly listeners = new Set<TransitionListener>();
  private record: HealthRecord = INITIAL_HEALTH;
  private last: ProbeResult | undefined;
  private changedAt: number | undefined;
  private timer: TimerHandle | undefined;
  private inFlight: { readonly abort: AbortController; readonly done: Promise<void> } | undefined;
  private running = false;
  private stopped = false;

  constructor(options: HealthCheckerOptions) {
    const { check } = options;
    if (check.timeoutMs > check.intervalMs) {
      throw new HealthError('HEALTH_BAD_OPTIONS', `probe timeout ${check.timeoutMs} ms exceeds the interval ${check.intervalMs} ms`, {
        location: { path: `vips.${options.target.vip}.healthCheck.timeoutMs` },
        hint: 'a probe must finish before the next one is due',
      });
    }
    this.target = options.target;
    this.check = check;
    this.prober = options.prober;
    this.clock = options.clock;
    this.logger = options.logger.child({ vip: options.target.vip, vm: options.target.vm });
    this.random = seededRandom(options.seed);
  }

  get state(): HealthState {
    return this.record.state;
  }

  /** Clock time (ms since the epoch) of the last state change; undefined while still in the initial state. */
  get since(): number | undefined {
    return this.changedAt;
  }

  /** The latest probe result, undefined before the first probe finished. */
  get lastResult(): ProbeResult | undefined {
    return this.last;
  }

  /** Calls `listener` on every state change; returns the function that unsubscribes it. */
  onTransition(listener: TransitionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Schedules the first probe within the first 10% of an interval. A stopped checker cannot restart. */
  start(): void {
    if (this.stopped) throw new HealthError('HEALTH_STOPPED', `health checker of ${this.target.vip}/${this.target.vm} was stopped`);
    if (this.running) return;
    this.running = true;
    this.schedule(initialDelay(this.check.intervalMs, this.random()));
  }

  /** Cancels the next probe, aborts one in flight and resolves once it has settled: nothing is left running. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    const flight = this.inFlight;
    if (flight !== undefined) {
      flight.abort.abort();
      await flight.done;
    }
  }

  private schedule(delayMs: number): void {
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      this.probeOnce();
    }, delayMs);
  }

  private probeOnce(): void {
    const abort = new AbortController();
    const startedAt = this.clock.now();
    // Wrapped so a prober that throws synchronously is a failed probe too, not an uncaught error in a timer.
    const done = new Promise<ProbeResult>((resolve) => resolve(this.prober(this.target.endpoint, this.check, abort.signal)))
      .catch((err: unknown): ProbeResult => ({ ok: false, latencyMs: this.clock.now() - startedAt, error: `prober failed: ${String(err)}` }))
      .then((result) => {
        this.inFlight = undefined;
        if (!this.running) return;
        this.apply(result);
        // The next probe is due one jittered interval after this one started; probes never overlap.
        const elapsed = this.clock.now() - startedAt;
        this.schedule(Math.max(0, jitteredInterval(this.check.intervalMs, this.random()) - elapsed));
      });
    this.inFlight = { abort, done };
  }

  private apply(result: ProbeResult): void {
    this.last = result;
    const before = this.record.state;
    this.record = recordProbe(this.record, result.ok, this.check);
    if (!result.ok) this.logger.debug({ error: result.error, status: result.status, latencyMs: result.latencyMs }, 'probe failed');
    if (this.record.state === before) return;
    const transition: HealthTransition = { target: this.target, from: before, to: this.record.state, at: this.clock.now(), result };
    this.changedAt = transition.at;
    const level = transition.to === 'unhealthy' ? 'warn' : 'info';
    this.logger[level]({ from: before, to: transition.to, result }, `backend ${transition.to}`);
    for (const listener of this.listeners) listener(transition);
  }
}
