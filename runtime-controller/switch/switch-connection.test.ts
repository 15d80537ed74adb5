import { afterEach, describe, expect, it } from 'vitest';
import { startTestTarget, type TestTarget } from '../../target/server/test-harness.ts';
import { TEST_P4INFO, TEST_PROGRAM } from '../schema/test-fixtures.ts';
import { insertEntry } from '../schema/entities.ts';
import { SwitchConnection, type SwitchConnectionOptions } from './switch-connection.ts';
import { eventually, FakeClock } from './test-support.ts';

const targets: TestTarget[] = [];
const connections: SwitchConnection[] = [];
afterEach(async () => {
  for (const c of connections.splice(0)) c.stop();
  for (const t of targets.splice(0)) await t.close();
});

const pipeline = { p4info: TEST_P4INFO, deviceConfig: new TextEncoder().encode(TEST_PROGRAM) };

function connection(options: Omit<SwitchConnectionOptions, 'pipeline'> & { pipeline?: SwitchConnectionOptions['pipeline'] }): SwitchConnection {
  const c = new SwitchConnection({ pipeline, connectTimeoutMs: 1000, ...options });
  connections.push(c);
  return c;
}

describe('SwitchConnection against the embedded target', () => {
  it('becomes primary, pushes the pipeline once, and a later controller finds it already there', async () => {
    const t = await startTestTarget();
    targets.push(t);
    const a = connection({ address: t.address, electionId: 10n });
    const phases: string[] = [];
    a.events.on('state', (s) => phases.push(s.to));
    const ready = a.events.once('pipeline-ready');
    a.start();
    expect((await ready).pushed).toBe(true);
    expect(phases).toEqual(['connecting', 'arbitrating', 'primary', 'pipeline-ready']);
    await a.client!.write([insertEntry({ table: 'fwd', match: { dst: 1 }, action: 'drop' })]);
    a.stop();
    connections.splice(connections.indexOf(a), 1);

    const b = connection({ address: t.address, electionId: 11n });
    const readyB = b.events.once('pipeline-ready');
    b.start();
    expect((await readyB).pushed).toBe(false);
    // Not pushed again, so the entry survived.
    expect((await b.client!.readTableEntries('fwd')).length).toBe(1);
  });

  it('keeps a lower election id as backup and fails over when the primary exits', async () => {
    const t = await startTestTarget();
    targets.push(t);
    const high = connection({ address: t.address, electionId: 20n });
    high.start();
    await high.waitFor('pipeline-ready');
    const low = connection({ address: t.address, electionId: 5n });
    const arbitrations: unknown[] = [];
    low.events.on('arbitration-result', (r) => arbitrations.push([r.primary, r.primaryElectionId]));
    low.start();
    await low.waitFor('backup');
    expect(low.state.primaryElectionId).toBe(20n);
    const regained = low.events.once('regained-primary');
    const ready = low.events.once('pipeline-ready');
    high.stop();
    await regained;
    expect((await ready).pushed).toBe(false);
    expect(low.state.phase).toBe('pipeline-ready');
    expect(arbitrations).toEqual([[false, 20n], [true, 5n]]);

    // A higher id arriving demotes it again.
    const lost = low.events.once('lost-primary');
    const higher = connection({ address: t.address, electionId: 30n });
    higher.start();
    expect((await lost).primaryElectionId).toBe(30n);
    expect(low.state.phase).toBe('backup');
  });

  it('reconnects with capped exponential backoff on a fake clock until the switch is back', async () => {
    const clock = new FakeClock();
    let address = '127.0.0.1:1';
    const c = connection({
      address: () => address,
      electionId: 1n,
      clock,
      random: () => 0.5,
      backoff: { baseMs: 100, capMs: 300, jitter: 0.5 },
      connectTimeoutMs: 100,
    });
    const scheduled: [number, number][] = [];
    c.events.on('reconnect-scheduled', (r) => scheduled.push([r.attempt, r.delayMs]));
    c.start();
    for (let attempt = 1; attempt <= 3; attempt++) {
      await eventually(() => clock.timers.length === 1);
      clock.fire();
    }
    // 100·2^(n−1) capped at 300, three quarters of it with jitter 0.5 at the midpoint sample.
    expect(scheduled).toEqual([[1, 75], [2, 150], [3, 225]]);
    const t = await startTestTarget();
    targets.push(t);
    address = t.address;
    await eventually(() => clock.timers.length === 1);
    expect(scheduled.at(-1)).toEqual([4, 225]);
    clock.fire();
    await c.waitFor('pipeline-ready');
    expect(c.state.failures).toBe(0);
  });
});

describe('SwitchConnection when the switch refuses the pipeline', () => {
  it('pushes again with the reconnect backoff on a fake clock until the switch takes it', async () => {
    const t = await startTestTarget();
    targets.push(t);
    t.faults.refuse('setForwardingPipelineConfig', 2);
    const clock = new FakeClock();
    const c = connection({ address: t.address, electionId: 1n, clock, random: () => 0.5, backoff: { baseMs: 100, capMs: 300, jitter: 0.5 } });
    const retries: [number, number, string][] = [];
    c.events.on('pipeline-retry-scheduled', (r) => retries.push([r.attempt, r.delayMs, r.error instanceof Error ? r.error.message : String(r.error)]));
    const errors: unknown[] = [];
    c.events.on('error', ({ error }) => errors.push(error));
    c.start();
    for (let attempt = 1; attempt <= 2; attempt++) {
      await eventually(() => clock.timers.length === 1);
      expect(c.state).toMatchObject({ phase: 'primary', pipelineFailures: attempt });
      clock.fire();
    }
    await c.waitFor('pipeline-ready');
    expect(retries.map(([attempt, delayMs]) => [attempt, delayMs])).toEqual([[1, 75], [2, 150]]);
    expect(retries[0]![2]).toMatch(/refused by the test/);
    expect(errors).toHaveLength(2);
    expect(t.faults.refused.setForwardingPipelineConfig).toBe(2);
    expect(c.state.pipelineFailures).toBe(0);
    expect(clock.timers).toEqual([]);
  });

  it('drops the pending retry when stopped', async () => {
    const t = await startTestTarget();
    targets.push(t);
    t.faults.refuse('setForwardingPipelineConfig', 1);
    const clock = new FakeClock();
    const c = connection({ address: t.address, electionId: 1n, clock, random: () => 0 });
    c.start();
    await eventually(() => clock.timers.length === 1);
    c.stop();
    expect(clock.timers).toEqual([]);
    expect(c.state.phase).toBe('disconnected');
  });
});
