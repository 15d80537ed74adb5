import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffEntries, GATEWAY_P4, type TableEntry } from '../lb/index.ts';
import { countingClock } from '../health/clock.ts';
import type { Controller } from './controller.ts';
import { eventually, startSettledDeployment, type Deployment } from './test-setup.ts';

/** Why gw-west's register access fails in this deployment (BMv2 without a Thrift address, say). */
const NO_THRIFT = 'gw-west: no Thrift address for its register service';

function status(c: Controller, name: string) {
  return c.switchStatus().find((s) => s.name === name)!;
}

/** The switch holds exactly what the controller believes it installed. */
async function holdsInstalled(d: Deployment, name: string): Promise<boolean> {
  const installed = d.controller.installedEntries(name);
  if (installed === undefined) return false;
  return diffEntries(await d.readEntries(name), installed.entries).length === 0;
}

function slotOwners(entries: readonly TableEntry[]): Set<number> {
  return new Set(entries.filter((e) => e.table === GATEWAY_P4.slotTable).map((e) => Number(e.params['backend_id'])));
}

describe('Controller retries and write outcomes (embedded target)', () => {
  let d: Deployment;
  const clock = countingClock();

  beforeAll(async () => {
    d = await startSettledDeployment({
      clock,
      registerAccess: (name) => {
        if (name === 'gw-west') throw new Error(NO_THRIFT);
        return {};
      },
    });
  }, 120_000);

  afterAll(async () => {
    await d?.close();
  });

  it('gives a gateway its tables when register access fails after the push, and shows why in its status', async () => {
    // Every target started empty, so each gateway had its pipeline pushed and wanted register access.
    for (const gw of ['gw-east', 'gw-west']) expect(await holdsInstalled(d, gw)).toBe(true);
    expect((await d.readEntries('gw-west', GATEWAY_P4.slotTable)).length).toBeGreaterThan(0);
    expect(status(d.controller, 'gw-west')).toMatchObject({ phase: 'pipeline-ready', lastError: expect.stringContaining(NO_THRIFT) as unknown });
    expect(status(d.controller, 'gw-east').lastError).toBeUndefined();
  });

  it('pushes a refused pipeline again until the switch takes it, then reconciles, with no other event', async () => {
    const reconciled: boolean[] = [];
    const off = d.controller.events.on('reconciled', (r) => {
      if (r.switch === 'gw-east') reconciled.push(r.pipelinePushed);
    });
    try {
      await d.restartTarget('gw-east');
      // Armed before the controller reaches the new address: its reconnect waits for a backoff timer.
      d.targets.get('gw-east')!.faults.refuse('setForwardingPipelineConfig', 3);
      await eventually(() => reconciled.length > 0, 15_000, 'gw-east reconciled after the refusals');
      expect(d.targets.get('gw-east')!.faults.refused.setForwardingPipelineConfig).toBe(3);
      expect(reconciled).toEqual([true]);
      expect(status(d.controller, 'gw-east')).toMatchObject({ phase: 'pipeline-ready', lastError: undefined });
      expect(await holdsInstalled(d, 'gw-east')).toBe(true);
    } finally {
      off();
    }
  });

  it('reconciles again with backoff when the reconcile write fails, with no other event', async () => {
    const errors: string[] = [];
    const off = d.controller.events.on('error', (e) => {
      if (e.switch === 'gw-east') errors.push(e.error instanceof Error ? e.error.message : String(e.error));
    });
    try {
      await d.restartTarget('gw-east');
      d.targets.get('gw-east')!.faults.refuse('write', 1);
      await eventually(() => d.targets.get('gw-east')!.faults.refused.write === 1, 15_000, 'the reconcile write refused');
      await eventually(() => holdsInstalled(d, 'gw-east'), 15_000, 'gw-east reconciled by the retry');
      expect(errors.some((m) => m.includes('refused by the test'))).toBe(true);
      expect(status(d.controller, 'gw-east')).toMatchObject({ phase: 'pipeline-ready', lastError: undefined });
    } finally {
      off();
    }
  });

  it('drains with a gateway down: resolves naming it pending, and the gateway gets the drain when it is back', async () => {
    await d.controller.settled();
    await d.targets.get('gw-west')!.close();
    await eventually(() => status(d.controller, 'gw-west').phase !== 'pipeline-ready', 5_000, 'gw-west seen down');
    const vm = 'vm-b2';
    const id = d.controller.dataPlaneIds.backend.get(vm)!;
    const outcome = await d.controller.drain(vm);
    expect(outcome).toEqual({ written: ['gw-east'], pending: [{ switch: 'gw-west', reason: 'not connected' }] });
    expect(slotOwners(await d.readEntries('gw-east')).has(id)).toBe(false);
    // Draining again writes nothing.
    expect(await d.controller.drain(vm)).toEqual({ written: [], pending: [] });
    await d.restartTarget('gw-west');
    await eventually(() => holdsInstalled(d, 'gw-west'), 15_000, 'gw-west reconciled after its restart');
    const west = await d.readEntries('gw-west');
    expect(slotOwners(west).has(id)).toBe(false);
    expect(slotOwners(west).size).toBeGreaterThan(0);
    const back = await d.controller.undrain(vm);
    expect(back).toEqual({ written: ['gw-east', 'gw-west'], pending: [] });
    expect(slotOwners(await d.readEntries('gw-west')).has(id)).toBe(true);
  });

  it('leaves no retry timer behind when stopped while a reconcile keeps failing', async () => {
    await d.controller.settled();
    const retries: number[] = [];
    d.controller.events.on('error', (e) => {
      if (e.switch === 'gw-east') retries.push(Date.now());
    });
    await d.restartTarget('gw-east');
    d.targets.get('gw-east')!.faults.refuse('write', 1_000);
    // Two failures: the first reconcile and at least one retry of it.
    await eventually(() => d.targets.get('gw-east')!.faults.refused.write >= 2, 15_000, 'the reconcile retried');
    expect(d.controller.installedEntries('gw-east')).toBeUndefined();
    await d.controller.stop();
    expect(clock.live).toBe(0);
    const refused = d.targets.get('gw-east')!.faults.refused.write;
    await new Promise((r) => setTimeout(r, 500));
    expect(d.targets.get('gw-east')!.faults.refused.write).toBe(refused);
    expect(retries.length).toBeGreaterThanOrEqual(2);
  });
});
