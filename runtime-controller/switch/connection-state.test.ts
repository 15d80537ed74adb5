import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { backoffDelay } from './backoff.ts';
import { INITIAL_STATE, transition, type ConnectionEvent, type ConnectionState } from './connection-state.ts';

/** Runs events from the initial state; returns every step. */
function run(events: ConnectionEvent[], from: ConnectionState = INITIAL_STATE) {
  const steps = [];
  let s = from;
  for (const e of events) {
    const t = transition(s, e);
    steps.push(t);
    s = t.state;
  }
  return steps;
}

const arb = (primary: boolean, id: bigint | undefined = 10n): ConnectionEvent => ({ type: 'arbitration-result', primary, primaryElectionId: id });

describe('connection state machine', () => {
  it('goes disconnected → connecting → arbitrating → primary → pipeline-ready, with the effects to run', () => {
    const steps = run([{ type: 'start' }, { type: 'connected' }, arb(true), { type: 'pipeline-pushed', pushed: true }]);
    expect(steps.map((t) => t.state.phase)).toEqual(['connecting', 'arbitrating', 'primary', 'pipeline-ready']);
    expect(steps.map((t) => t.effects.map((e) => e.kind))).toEqual([['connect'], ['open-stream'], ['ensure-pipeline'], []]);
    expect(steps[3]!.notices).toEqual([{ type: 'pipeline-ready', pushed: true }]);
  });

  it('waits as backup, takes over when told it is primary, and steps down when outbid', () => {
    const steps = run([{ type: 'start' }, { type: 'connected' }, arb(false, 20n), arb(true, 5n), { type: 'pipeline-pushed', pushed: false }, arb(false, 30n)]);
    expect(steps.map((t) => t.state.phase)).toEqual(['connecting', 'arbitrating', 'backup', 'primary', 'pipeline-ready', 'backup']);
    expect(steps[2]!.state.primaryElectionId).toBe(20n);
    expect(steps[3]!.notices).toEqual([{ type: 'regained-primary' }]);
    expect(steps[3]!.effects).toEqual([{ kind: 'ensure-pipeline' }]);
    expect(steps[5]!.notices).toEqual([{ type: 'lost-primary', primaryElectionId: 30n }]);
  });

  it('on a stream error closes, counts the failure and schedules a reconnect; success resets the count', () => {
    const steps = run([
      { type: 'start' },
      { type: 'stream-error', error: 'refused' },
      { type: 'reconnect-due' },
      { type: 'stream-error', error: 'refused' },
      { type: 'reconnect-due' },
      { type: 'connected' },
      arb(true),
    ]);
    expect(steps.map((t) => [t.state.phase, t.state.failures])).toEqual([
      ['connecting', 0],
      ['disconnected', 1],
      ['connecting', 1],
      ['disconnected', 2],
      ['connecting', 2],
      ['arbitrating', 2],
      ['primary', 0],
    ]);
    expect(steps[3]!.effects).toEqual([{ kind: 'close' }, { kind: 'schedule-reconnect', attempt: 2 }]);
  });

  it('tells listeners the primary role is lost when the stream of a primary fails', () => {
    const steps = run([{ type: 'start' }, { type: 'connected' }, arb(true), { type: 'pipeline-pushed', pushed: true }, { type: 'stream-error', error: 'gone' }]);
    expect(steps[4]!.notices).toEqual([{ type: 'lost-primary', primaryElectionId: undefined }]);
  });

  it('ignores late answers that do not fit the state, and everything but start once stopped', () => {
    const s = run([{ type: 'start' }, { type: 'connected' }, arb(false)]).at(-1)!.state;
    expect(transition(s, { type: 'pipeline-pushed', pushed: true })).toEqual({ state: s, effects: [], notices: [] });
    expect(transition(s, { type: 'reconnect-due' }).state).toBe(s);
    const stopped = transition(s, { type: 'stop' });
    expect(stopped.state).toMatchObject({ phase: 'disconnected', stopped: true });
    expect(stopped.effects).toEqual([{ kind: 'cancel-reconnect' }, { kind: 'cancel-pipeline-retry' }, { kind: 'close' }]);
    for (const e of [{ type: 'connected' }, { type: 'reconnect-due' }, { type: 'stream-error', error: 1 }, arb(true)] as ConnectionEvent[]) {
      expect(transition(stopped.state, e).state).toBe(stopped.state);
    }
    expect(transition(stopped.state, { type: 'start' }).state.phase).toBe('connecting');
  });

  it('retries a refused pipeline with backoff as primary, counting the refusals until one succeeds', () => {
    const steps = run([
      { type: 'start' }, { type: 'connected' }, arb(true),
      { type: 'pipeline-failed', error: 'refused' },
      { type: 'pipeline-retry-due' },
      { type: 'pipeline-failed', error: 'refused again' },
      { type: 'pipeline-retry-due' },
      { type: 'pipeline-pushed', pushed: true },
    ]);
    expect(steps.slice(3).map((t) => [t.state.phase, t.state.pipelineFailures])).toEqual([
      ['primary', 1], ['primary', 1], ['primary', 2], ['primary', 2], ['pipeline-ready', 0],
    ]);
    expect(steps.slice(3).map((t) => t.effects)).toEqual([
      [{ kind: 'schedule-pipeline-retry', attempt: 1 }],
      [{ kind: 'ensure-pipeline' }],
      [{ kind: 'schedule-pipeline-retry', attempt: 2 }],
      [{ kind: 'ensure-pipeline' }],
      [],
    ]);
    // Each refusal is reported.
    expect(steps[5]!.notices).toEqual([{ type: 'error', error: 'refused again' }]);
  });

  it('cancels a pending pipeline retry when the role is lost, the stream fails or the owner stops', () => {
    const failed = run([{ type: 'start' }, { type: 'connected' }, arb(true), { type: 'pipeline-failed', error: 'refused' }]).at(-1)!.state;
    const outbid = transition(failed, arb(false, 30n));
    expect(outbid.state.phase).toBe('backup');
    expect(outbid.effects).toEqual([{ kind: 'cancel-pipeline-retry' }]);
    // A timer that fired anyway does nothing as backup.
    expect(transition(outbid.state, { type: 'pipeline-retry-due' }).effects).toEqual([]);
    expect(transition(failed, { type: 'stream-error', error: 'gone' }).effects).toEqual([{ kind: 'cancel-pipeline-retry' }, { kind: 'close' }, { kind: 'schedule-reconnect', attempt: 1 }]);
    expect(transition(failed, { type: 'stop' }).effects).toContainEqual({ kind: 'cancel-pipeline-retry' });
    // Only a primary retries: a late refusal as backup schedules nothing.
    expect(transition(outbid.state, { type: 'pipeline-failed', error: 'late' })).toEqual({ state: outbid.state, effects: [], notices: [] });
  });

  it('never leaves a legal phase and only reaches pipeline-ready through primary (random event sequences)', () => {
    const event = fc.oneof(
      fc.constant<ConnectionEvent>({ type: 'start' }),
      fc.constant<ConnectionEvent>({ type: 'connected' }),
      fc.boolean().map((p) => arb(p)),
      fc.constant<ConnectionEvent>({ type: 'pipeline-pushed', pushed: true }),
      fc.constant<ConnectionEvent>({ type: 'pipeline-failed', error: 'x' }),
      fc.constant<ConnectionEvent>({ type: 'pipeline-retry-due' }),
      fc.constant<ConnectionEvent>({ type: 'stream-error', error: 'x' }),
      fc.constant<ConnectionEvent>({ type: 'reconnect-due' }),
      fc.constant<ConnectionEvent>({ type: 'stop' }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), (events) => {
        let s = INITIAL_STATE;
        // A pipeline retry timer as the driver would hold it: set by schedule, ended by cancel or by firing.
        let retryPending = false;
        for (const e of events) {
          if (e.type === 'pipeline-retry-due') {
            if (!retryPending) continue;
            retryPending = false;
          }
          const t = transition(s, e);
          for (const effect of t.effects) {
            if (effect.kind === 'schedule-pipeline-retry') retryPending = true;
            if (effect.kind === 'cancel-pipeline-retry') retryPending = false;
          }
          // A retry is only ever pending for a primary without its pipeline.
          if (retryPending) expect(t.state.phase).toBe('primary');
          if (t.state.phase === 'pipeline-ready' && s.phase !== 'pipeline-ready') expect(s.phase).toBe('primary');
          if (t.state.phase === 'primary' && s.phase !== 'primary') expect(['arbitrating', 'backup']).toContain(s.phase);
          if (t.state.stopped) expect(t.state.phase).toBe('disconnected');
          s = t.state;
        }
      }),
    );
  });
});

describe('backoff', () => {
  const opts = { baseMs: 100, capMs: 2000, jitter: 0.5 };

  it('doubles from the base up to the cap', () => {
    const noJitter = { ...opts, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6, 50].map((a) => backoffDelay(a, noJitter, 0.7))).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
  });

  it('keeps the jittered delay within [d·(1−jitter), d]', () => {
    expect(backoffDelay(3, opts, 0)).toBe(200);
    expect(backoffDelay(3, opts, 0.999999)).toBe(400);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
        const d = Math.min(opts.capMs, opts.baseMs * 2 ** Math.min(attempt - 1, 30));
        const got = backoffDelay(attempt, opts, r);
        expect(got).toBeGreaterThanOrEqual(Math.floor(d * (1 - opts.jitter)));
        expect(got).toBeLessThanOrEqual(d);
      }),
    );
  });
});
