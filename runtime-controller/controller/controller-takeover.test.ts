/**
 * A controller's state beyond one process: drains survive a restart on the same data folder, and
 * a standby controller (same spec, same registry, lower election id) stays backup without writing,
 * then takes over when the primary stops and leaves every switch exactly as the primary had it.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { frame, innerPacket } from '../../bmv2-tests/dsl/scenario.ts';
import { backendId, vipId } from '../../core/spec/lookup.ts';
import type { Prober } from '../health/index.ts';
import { diffEntries, entryKey, GATEWAY_P4, type TableEntry } from '../lb/index.ts';
import { Controller, type ControllerEvents, type ControllerOptions } from './controller.ts';
import { controllerTestTargets, eventually, startDeploymentOn, suiteName, type SwitchDeployment as Deployment } from './test-setup.ts';

const silent = pino({ level: 'silent' });
const SWITCHES = ['gw-east', 'gw-west', 'host-a', 'host-b'] as const;
/**
 * Every probe passes: these tests compare two controllers' tables, which must not depend on a
 * probe timing out on a loaded machine (health itself is tested in controller.test.ts).
 */
const alwaysUp: Prober = async () => ({ ok: true, latencyMs: 0 });

/** Another controller on the deployment's switches, backends, pipelines, data folder and target options (BMv2: Thrift register access). */
function controllerOn(d: Deployment, extra: Partial<ControllerOptions> = {}): Controller {
  return new Controller({
    spec: d.spec,
    dataDir: d.dataDir,
    logger: silent,
    pipelines: d.pipelines,
    backoff: { baseMs: 50, capMs: 400, jitter: 0 },
    resolveEndpoint: (_vip, vm) => ({ host: '127.0.0.1', port: d.backends.get(vm.name)!.port }),
    prober: alwaysUp,
    ...d.controllerOptions,
    ...extra,
  });
}

/** Every VIP computed from a full view: every backend healthy on every gateway, every table ok. */
async function allHealthy(c: Controller, what: string): Promise<void> {
  await eventually(
    () => c.vipStatus().every((v) => Object.values(v.tableStatus).every((s) => s === 'ok') && v.backends.every((b) => Object.values(b.gateways).every((g) => g.health === 'healthy'))),
    15_000,
    `${what}: every backend healthy on every gateway`,
  );
  await c.settled();
}

/** Backend ids that own at least one slot of the VIP. */
function slotOwners(entries: readonly TableEntry[], vip: number): Set<number> {
  const out = new Set<number>();
  for (const e of entries) if (e.table === GATEWAY_P4.slotTable && Number(e.keys['vip_id']) === vip) out.add(Number(e.params['backend_id']));
  return out;
}

async function snapshot(d: Deployment): Promise<Map<string, TableEntry[]>> {
  return new Map(await Promise.all(SWITCHES.map(async (s) => [s, await d.readEntries(s)] as const)));
}

for (const t of controllerTestTargets()) describe.skipIf(t.skip !== undefined)(suiteName('Controller state across processes', t), () => {
  const cleanup: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function deployment(extra: Partial<ControllerOptions> = {}): Promise<Deployment> {
    const d = await startDeploymentOn(t.target, { prober: alwaysUp, ...extra });
    cleanup.push(() => d.close());
    await d.controller.waitUntilReconciled(60_000);
    await allHealthy(d.controller, 'first controller');
    return d;
  }

  function track(c: Controller): Controller {
    cleanup.push(() => c.stop());
    return c;
  }

  it('keeps a drain when the controller restarts on the same data folder', async () => {
    const d = await deployment();
    const api = vipId(d.spec, 'api');
    const b2 = backendId(d.spec, 'vm-b2');
    await d.controller.drain('vm-b2');
    expect(slotOwners(await d.readEntries('gw-west'), api).has(b2)).toBe(false);
    await d.controller.stop();

    const restarted = track(controllerOn(d));
    // Every table this controller computes, from its very first one, leaves the drained VM out.
    const computed: string[] = [];
    restarted.events.on('reconciled', ({ switch: s }) => {
      const t = s.startsWith('gw-') ? restarted.gatewayTables(s) : undefined;
      if (t !== undefined && t.vips.some((v) => v.slotTable?.backends.includes('vm-b2') === true)) computed.push(s);
    });
    await restarted.start();
    expect(restarted.drainedVms()).toEqual(['vm-b2']);
    await restarted.waitUntilReconciled(60_000);
    await allHealthy(restarted, 'restarted controller');
    for (const gw of ['gw-east', 'gw-west']) expect(slotOwners(await d.readEntries(gw), api).has(b2), gw).toBe(false);
    expect(computed).toEqual([]);
    expect(restarted.vipStatus().find((v) => v.name === 'api')!.backends.find((b) => b.vm === 'vm-b2')!.drained).toBe(true);

    // An undrain is kept too: the next restart gives the VM its slots back.
    await restarted.undrain('vm-b2');
    await restarted.stop();
    const again = track(controllerOn(d));
    await again.start();
    expect(again.drainedVms()).toEqual([]);
    await again.waitUntilReconciled(60_000);
    await allHealthy(again, 'controller restarted again');
    expect(slotOwners(await d.readEntries('gw-west'), api).has(b2)).toBe(true);
  }, 120_000);

  it('a standby with a lower election id writes nothing, then takes over with the same tables', async () => {
    const d = await deployment({ electionId: 10n });
    const standby = track(controllerOn(d, { electionId: 5n }));
    const writes: string[] = [];
    const note = (what: string) => (e: { readonly switch: string }) => writes.push(`${what} ${e.switch}`);
    const reports: ControllerEvents['reconciled'][] = [];
    standby.events.on('reconciled', (e) => reports.push(e));
    standby.events.on('reconciled', note('reconciled'));
    standby.events.on('tables-updated', note('tables-updated'));
    await standby.start();
    await eventually(() => standby.switchStatus().every((s) => s.phase === 'backup'), 15_000, 'standby is backup on every switch');
    expect(standby.switchStatus().map((s) => [s.name, s.primary])).toEqual(SWITCHES.map((s) => [s, false]));
    expect(d.controller.switchStatus().every((s) => s.primary)).toBe(true);
    // Its health view fills while it waits, so that it takes over with full tables.
    await allHealthy(standby, 'standby');

    // A drain by the primary, in the shared registry, while the standby looks on.
    await d.controller.drain('vm-a1');
    expect(standby.drainedVms()).toEqual([]);
    await d.controller.settled();
    const before = await snapshot(d);
    for (const s of SWITCHES) {
      const known = d.controller.installedEntries(s);
      expect(known, s).toBeDefined();
      expect(diffEntries(before.get(s)!, known!.entries), s).toEqual([]);
    }
    expect(writes).toEqual([]);
    expect(standby.installedEntries('gw-east')).toBeUndefined();
    // Flows the data plane pinned under the primary (new api flows into gw-east).
    const gw = d.switches.get('gw-east')!;
    for (let port = 41_000; port < 41_012; port++) {
      gw.send(1, frame('02:00:00:00:00:01', '02:00:00:00:00:fe', innerPacket({ src: '198.51.100.9', srcPort: port, dst: '203.0.113.20', dstPort: 8080 })));
    }
    const pinned = async (c: Controller) => {
      const report = await c.flowReport('gw-east');
      return { unreadable: report.unreadable, flows: report.flows.map((f) => `${f.way}/${f.index} ${f.signature} ${f.backend}`).sort() };
    };
    await eventually(async () => {
      const r = await pinned(d.controller);
      return r.flows.length + r.unreadable === 12;
    }, 5_000, '12 pinned flows');
    const flowsBefore = await pinned(d.controller);

    await d.controller.stop();
    await standby.waitUntilReconciled(30_000);
    await standby.settled();
    expect(standby.switchStatus().map((s) => [s.name, s.phase, s.primary])).toEqual(SWITCHES.map((s) => [s, 'pipeline-ready', true]));
    expect(standby.drainedVms()).toEqual(['vm-a1']);
    const after = await snapshot(d);
    for (const s of SWITCHES) {
      const entries = after.get(s)!;
      // Nothing stale, nothing missing, nothing twice.
      expect(diffEntries(before.get(s)!, entries).map((u) => `${u.type} ${entryKey(u.entry)}`), s).toEqual([]);
      expect(entries, s).toHaveLength(before.get(s)!.length);
      expect(new Set(entries.map(entryKey)).size, s).toBe(entries.length);
    }
    // The flow state is the switch's, and the standby reads the same (on BMv2 through Thrift).
    expect(await pinned(standby)).toEqual(flowsBefore);
    // The takeover found every switch as it should be: it pushed no pipeline and changed no entry.
    expect(reports.map((r) => [r.switch, r.pipelinePushed, r.inserted + r.modified + r.deleted]).sort()).toEqual(
      SWITCHES.map((s) => [s, false, 0]),
    );
  }, 120_000);

  it('a standby that takes over after the primary applied another spec says that the ids disagree', async () => {
    // alwaysUp answers every probe; the added VM has no server of the deployment to resolve to.
    const d = await deployment({ electionId: 10n, resolveEndpoint: () => ({ host: '127.0.0.1', port: 9 }) });
    const lines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void lines.push(line) });
    const standby = track(controllerOn(d, { electionId: 5n, logger }));
    await standby.start();
    await eventually(() => standby.switchStatus().every((s) => s.phase === 'backup'), 15_000, 'standby is backup on every switch');
    // The primary drops vm-b2 and adds vm-a3 (which takes the freed id 4); the standby still runs the old spec.
    const vmA3 = { ...d.spec.vms.find((v) => v.name === 'vm-a2')!, name: 'vm-a3', privateIpv4: '192.168.1.13', udpPort: 7003, nicPort: 4 };
    const next = { ...d.spec, vms: [...d.spec.vms.filter((v) => v.name !== 'vm-b2'), vmA3], vips: d.spec.vips.map((v) => ({ ...v, backends: [...v.backends.filter((b) => b !== 'vm-b2'), 'vm-a3'] })) };
    await d.controller.applySpec(next);
    expect(d.controller.dataPlaneIds.backend.get('vm-a3')).toBe(backendId(d.spec, 'vm-b2'));
    await d.controller.stop();
    await standby.waitUntilReconciled(30_000);
    expect(lines.some((l) => l.includes('the registry holds other data-plane ids than this controller'))).toBe(true);
  }, 120_000);
});

// Option checking only: no switch is involved, so once rather than per target.
describe('Controller election id', () => {
  it('rejects an election id outside 1..2^128-1', () => {
    const base = { spec: { gateways: [], hosts: [], vms: [], vips: [] } as unknown as ControllerOptions['spec'], dataDir: ':memory:', logger: silent };
    expect(() => new Controller({ ...base, electionId: 0n })).toThrow(expect.objectContaining({ code: 'CONTROLLER_BAD_OPTIONS' }));
    expect(() => new Controller({ ...base, electionId: 1n << 128n })).toThrow(expect.objectContaining({ code: 'CONTROLLER_BAD_OPTIONS' }));
    expect(new Controller({ ...base, electionId: 7n }).isRunning).toBe(false);
  });
});
