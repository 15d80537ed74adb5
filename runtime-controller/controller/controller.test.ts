import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { positionalIds } from '../../core/spec/ids.ts';
import { pino } from 'pino';
import { backendId, vipByName, vipId } from '../../core/spec/lookup.ts';
import { frame, innerPacket } from '../../bmv2-tests/dsl/scenario.ts';
import { computeGatewayTables, diffEntries, entryKey, GATEWAY_P4, gatewayView, HOST_P4, slotEntries, type LbAlarm, type TableEntry } from '../lb/index.ts';
import { compilePolicy, openRegistry, planTokens } from '../registry/index.ts';
import { Controller, type TablesUpdated } from './controller.ts';
import { gatewayDesired, hostDesired, sendingExpiry } from './desired.ts';
import { buildPipelines } from './pipelines.ts';
import { THRIFT_SATURATED, ThriftRegisterAccess } from '../client/registers.ts';
import { SwitchClient } from '../client/switch-client.ts';
import { P4Schema } from '../schema/p4-schema.ts';
import { decodeFlowEntry } from '../../core/p4-contract.ts';
import { controllerTestTargets, eventually, exampleSpecAt, startDeploymentOn, suiteName, TEST_HEALTH, TEST_SLOTS, type SwitchDeployment as Deployment } from './test-setup.ts';

const ALL_HEALTHY = gatewayView({ isHealthy: () => true });

/** The scenarios run on the embedded target always, and on BMv2 when it is found (test-setup.ts). */
const TARGETS = controllerTestTargets();

/**
 * BMv2 serves registers only through Thrift, whose i64 read saturates: a flow entry whose
 * signature has its top bit set (bit 63) reads as 2^63 − 1 (see bmv2-tests/bmv2/README.md).
 */
const SATURATED = decodeFlowEntry((1n << 63n) - 1n)!;

async function allHealthy(d: Deployment): Promise<void> {
  await eventually(
    () => d.controller.vipStatus().every((v) => Object.values(v.tableStatus).every((s) => s === 'ok') && v.backends.every((b) => Object.values(b.gateways).every((g) => g.health === 'healthy'))),
    10_000,
    'every backend healthy on every gateway',
  );
  await d.controller.settled();
}

/** Backend ids that own at least one slot of the VIP on the switch. */
function slotOwners(entries: readonly TableEntry[], vip: number): Set<number> {
  const out = new Set<number>();
  for (const e of entries) if (e.table === GATEWAY_P4.slotTable && Number(e.keys['vip_id']) === vip) out.add(Number(e.params['backend_id']));
  return out;
}

function sameEntries(actual: readonly TableEntry[], expected: readonly TableEntry[]): void {
  const diff = diffEntries(actual, expected);
  expect(diff.map((u) => `${u.type} ${entryKey(u.entry)}`)).toEqual([]);
}

for (const t of TARGETS) {
  describe.skipIf(t.skip !== undefined)(suiteName('Controller driving its switches', t), () => {
    let d: Deployment;

    beforeAll(async () => {
      d = await startDeploymentOn(t.target);
      await d.controller.waitUntilReconciled(60_000);
      await allHealthy(d);
    }, 120_000);

    afterAll(async () => {
      await d?.close();
    });

    it('installs on every gateway and host exactly what lb and the token planner compute', async () => {
      const registry = openRegistry({ dataDir: d.dataDir });
      try {
        const keys = registry.keyRing();
        const plan = planTokens({ spec: d.spec, ids: positionalIds(d.spec), keys, policy: compilePolicy(d.spec, registry.policyInput()), now: Date.now() / 1000 });
        const snapshots = new Map<string, TableEntry[]>();
        for (const gw of d.spec.gateways) {
          const { desired } = gatewayDesired({ spec: d.spec, ids: positionalIds(d.spec), gateway: gw.name, view: ALL_HEALTHY, keys, plan });
          // A probe that times out on a loaded machine may flap a backend for a moment: wait it
          // out, and check the one read that matched (a second read could catch the next flap).
          let installed: TableEntry[] = [];
          await eventually(async () => {
            installed = await d.readEntries(gw.name);
            return diffEntries(installed, desired.entries).length === 0;
          }, 5_000, `${gw.name} equals the all-healthy tables`).catch(() => undefined);
          snapshots.set(gw.name, installed);
          sameEntries(installed, desired.entries);
          // The slot and VIP tables are lb's, untouched by the token merge.
          const lb = computeGatewayTables({ spec: d.spec, ids: positionalIds(d.spec), gateway: gw.name, view: ALL_HEALTHY, keys, expiry: sendingExpiry(plan) });
          const only = (es: readonly TableEntry[], t: string) => es.filter((e) => e.table === t);
          sameEntries(only(installed, GATEWAY_P4.slotTable), only(lb.entries, GATEWAY_P4.slotTable));
          sameEntries(only(installed, GATEWAY_P4.vipTable), only(lb.entries, GATEWAY_P4.vipTable));
          // Accepted reply tokens: every generation the plan holds for this gateway.
          expect(only(installed, GATEWAY_P4.tokenTable)).toHaveLength(plan.entries.filter((e) => e.switch === gw.name && e.use === 'accept').length);
        }
        for (const host of d.spec.hosts) {
          sameEntries(await d.readEntries(host.name), hostDesired({ spec: d.spec, ids: positionalIds(d.spec), host: host.name, keys, plan }).entries);
        }
        // geoPreference: each gateway balances web over its own location's VMs.
        const web = vipId(d.spec, 'web');
        expect(slotOwners(snapshots.get('gw-east')!, web)).toEqual(new Set([backendId(d.spec, 'vm-a1'), backendId(d.spec, 'vm-a2')]));
        expect(slotOwners(snapshots.get('gw-west')!, web)).toEqual(new Set([backendId(d.spec, 'vm-b1'), backendId(d.spec, 'vm-b2')]));
        expect(d.controller.tokens({ states: ['installed'] }).length).toBeGreaterThan(0);
      } finally {
        registry.close();
      }
    });

    it('removes a backend whose server stops from every gateway within interval × fall + 1 s, and restores it after rise', async () => {
      const api = vipId(d.spec, 'api');
      const a1 = backendId(d.spec, 'vm-a1');
      const updates: TablesUpdated[] = [];
      const off = d.controller.events.on('tables-updated', (u) => updates.push(u));
      const gone = async () => {
        for (const gw of d.spec.gateways) if (slotOwners(await d.readEntries(gw.name, GATEWAY_P4.slotTable), api).has(a1)) return false;
        return true;
      };
      const stoppedAt = Date.now();
      await d.backends.get('vm-a1')!.stop();
      const elapsed = await eventually(gone, 5_000, 'vm-a1 removed from every slot table');
      expect(elapsed).toBeLessThanOrEqual(TEST_HEALTH.intervalMs * TEST_HEALTH.fall + 1000);
      // The status says when each gateway decided, and when it last acknowledged a table write: after the decision.
      await d.controller.settled();
      for (const gw of d.spec.gateways) {
        const since = d.controller.vipStatus().find((v) => v.name === 'api')!.backends.find((b) => b.vm === 'vm-a1')!.gateways[gw.name]!;
        expect(since.health).toBe('unhealthy');
        expect(since.healthSince).toBeGreaterThanOrEqual(stoppedAt);
        expect(d.controller.switchStatus().find((s) => s.name === gw.name)!.writtenAt).toBeGreaterThanOrEqual(since.healthSince!);
        expect(d.controller.vipStatus().find((v) => v.name === 'api')!.slotsWrittenAt[gw.name]).toBeGreaterThanOrEqual(since.healthSince!);
      }
      // Its backend entry for the VIP is gone too (an unhealthy VM's pinned flows are rehashed). Only this VIP's:
      // the other VIP's checker of the same VM decides on its own timer.
      for (const gw of d.spec.gateways) {
        const backends = await d.readEntries(gw.name, GATEWAY_P4.backendTable);
        expect(backends.some((e) => Number(e.keys['vip_id']) === api && Number(e.keys['backend_id']) === a1)).toBe(false);
      }
      const healthUpdates = updates.filter((u) => u.role === 'gateway' && u.causes.some((c) => c.kind === 'health'));
      expect(healthUpdates.length).toBeGreaterThanOrEqual(2);
      for (const u of healthUpdates) expect(u.convergenceMs).toBeGreaterThanOrEqual(0);
      for (const gw of d.spec.gateways) expect(healthUpdates.filter((u) => u.switch === gw.name).reduce((n, u) => n + u.slotChanges, 0)).toBeGreaterThan(0);
      const transitions: { gateway: string; from: string; to: string; at: number }[] = [];
      const offHealth = d.controller.events.on('health', (t) => {
        if (t.target.vip === 'api' && t.target.vm === 'vm-a1') transitions.push({ gateway: t.gateway, from: t.from, to: t.to, at: t.at });
      });
      const restartedAt = Date.now();
      await d.backends.get('vm-a1')!.start();
      const back = await eventually(async () => {
        for (const gw of d.spec.gateways) if (!slotOwners(await d.readEntries(gw.name, GATEWAY_P4.slotTable), api).has(a1)) return false;
        return true;
      }, 5_000, 'vm-a1 back in every slot table');
      offHealth();
      // Back only after `rise` passing probes: each gateway went unhealthy → healthy once, at least
      // (rise − 1) jittered intervals (each at least 90% of one) after the server came back.
      expect(transitions.map((t) => `${t.gateway} ${t.from}→${t.to}`).sort()).toEqual(d.spec.gateways.map((g) => `${g.name} unhealthy→healthy`).sort());
      for (const t of transitions) expect(t.at - restartedAt).toBeGreaterThanOrEqual((TEST_HEALTH.rise - 1) * TEST_HEALTH.intervalMs * 0.9);
      expect(back).toBeGreaterThanOrEqual((TEST_HEALTH.rise - 1) * TEST_HEALTH.intervalMs * 0.9);
      off();
      await allHealthy(d);
    });

    it('drain moves the slots away but keeps the backend entry; undrain gives them back', async () => {
      const api = vipId(d.spec, 'api');
      const b2 = backendId(d.spec, 'vm-b2');
      const before = await d.readEntries('gw-west');
      await d.controller.drain('vm-b2');
      const drained = await d.readEntries('gw-west');
      expect(slotOwners(drained, api).has(b2)).toBe(false);
      expect(drained.some((e) => e.table === GATEWAY_P4.backendTable && Number(e.keys['backend_id']) === b2)).toBe(true);
      // Only slot entries changed.
      expect(new Set(diffEntries(before, drained).map((u) => `${u.type} ${u.entry.table}`))).toEqual(new Set([`MODIFY ${GATEWAY_P4.slotTable}`]));
      expect(d.controller.vipStatus().find((v) => v.name === 'api')!.backends.find((b) => b.vm === 'vm-b2')).toMatchObject({ drained: true, gateways: { 'gw-west': { slots: 0, backendEntry: true } } });
      await d.controller.undrain('vm-b2');
      sameEntries(await d.readEntries('gw-west'), before);
    });

    it('keeps the last table and raises an alarm when every backend of a VIP is down', async () => {
      const alarms: LbAlarm[] = [];
      const off = d.controller.events.on('alarm', (a) => alarms.push(a));
      await Promise.all([...d.backends.values()].map((b) => b.stop()));
      await eventually(() => alarms.length === 4, 5_000, 'an alarm per VIP and gateway');
      await d.controller.settled();
      expect(alarms.every((a) => a.code === 'LB_NO_BACKEND' && a.keptLastTable && a.reason === 'no-healthy-backend')).toBe(true);
      expect(d.controller.alarms().length).toBe(4);
      // Each gateway still holds the last slot table it computed, whole.
      for (const gw of d.spec.gateways) {
        const tables = d.controller.gatewayTables(gw.name)!;
        const kept = tables.vips.flatMap((v) => {
          expect(v.status).toBe('kept-last');
          return slotEntries(positionalIds(d.spec), vipByName(d.spec, v.vip), v.slotTable!);
        });
        expect(kept).toHaveLength(2 * TEST_SLOTS);
        sameEntries(await d.readEntries(gw.name, GATEWAY_P4.slotTable), kept);
      }
      for (const b of d.backends.values()) await b.start();
      off();
      await allHealthy(d);
      expect(d.controller.alarms()).toEqual([]);
    });

    it('reconciles a restarted target to identical state', async () => {
      const before = await d.readEntries('gw-west');
      const hostBefore = await d.readEntries('host-b');
      const reconciled = new Promise<{ pipelinePushed: boolean; inserted: number }>((resolve) => {
        const off = d.controller.events.on('reconciled', (r) => {
          if (r.switch !== 'gw-west') return;
          off();
          resolve(r);
        });
      });
      await d.restartTarget('gw-west');
      await expect(d.readEntries('gw-west')).rejects.toMatchObject({ code: 'P4RT_FAILED_PRECONDITION' });
      const r = await reconciled;
      expect(r.pipelinePushed).toBe(true);
      expect(r.inserted).toBe(before.length);
      sameEntries(await d.readEntries('gw-west'), before);
      // host-b replied through gw-east while gw-west was gone; it is back on gw-west once the controller settles.
      await d.controller.settled();
      sameEntries(await d.readEntries('host-b'), hostBefore);
      expect(d.controller.switchStatus().find((s) => s.name === 'gw-west')).toMatchObject({ phase: 'pipeline-ready', primary: true });
    }, 30_000);

    it('restores its tables after another controller took over, changed them and left', async () => {
      const before = await d.readEntries('gw-east');
      const lost = new Promise<void>((resolve) => {
        const off = d.controller.events.on('connection', (c) => {
          if (c.switch === 'gw-east' && c.to === 'backup') {
            off();
            resolve();
          }
        });
      });
      const intruder = new SwitchClient({ address: d.switches.get('gw-east')!.address, deviceId: BigInt(d.spec.gateways.find((g) => g.name === 'gw-east')!.p4runtime.deviceId), electionId: 100n, schema: P4Schema.fromP4Info(d.pipelines.gateway.p4info) });
      const stream = intruder.openStream();
      await new Promise<void>((resolve) => {
        const off = stream.on('arbitration', (a) => {
          if (!a.primary) return;
          off();
          resolve();
        });
      });
      await lost;
      const victims = before.filter((e) => e.table === GATEWAY_P4.slotTable).slice(0, 10);
      await intruder.write(victims.map((e) => ({ type: 'delete', entity: { kind: 'tableEntry', value: { table: e.table, match: e.keys } } })));
      expect(await d.readEntries('gw-east')).toHaveLength(before.length - 10);
      const back = new Promise<{ inserted: number; pipelinePushed: boolean }>((resolve) => {
        const off = d.controller.events.on('reconciled', (r) => {
          if (r.switch !== 'gw-east') return;
          off();
          resolve(r);
        });
      });
      stream.close();
      intruder.close();
      const r = await back;
      expect(r).toMatchObject({ inserted: 10, pipelinePushed: false });
      sameEntries(await d.readEntries('gw-east'), before);
    }, 30_000);

    it('reads the flows a gateway pinned and its per-VIP counters', async () => {
      const gw = d.switches.get('gw-east')!;
      const clients = [40001, 40002, 40003];
      for (const srcPort of clients) gw.send(1, frame('02:00:00:00:00:01', '02:00:00:00:00:fe', innerPacket({ src: '198.51.100.7', srcPort, dst: '203.0.113.10', dstPort: 80 })));
      await eventually(async () => (await d.controller.flows('gw-east')).length === clients.length, 5_000, 'three pinned flows');
      const flows = await d.controller.flows('gw-east');
      const saturated = (f: (typeof flows)[number]) => d.kind === 'bmv2' && f.signature === SATURATED.signature && f.backendId === SATURATED.backendId;
      const readable = flows.filter((f) => !saturated(f));
      if (d.kind === 'embedded') expect(readable).toHaveLength(clients.length);
      // geoPreference: web flows on gw-east go to host-a's VMs.
      for (const f of readable) expect(['vm-a1', 'vm-a2']).toContain(f.backend);
      for (const one of new Set(readable.map((f) => f.backend!))) {
        const only = await d.controller.flows('gw-east', { backend: one });
        expect(only.length).toBeGreaterThan(0);
        expect(only.every((f) => f.backend === one)).toBe(true);
      }
      const stats = await d.controller.stats('gw-east');
      expect(stats.vips.find((v) => v.vip === 'web')!.packets).toBe(3n);
      expect(stats.backends.reduce((n, b) => n + b.packets, 0n)).toBe(3n);
      expect(stats.drops.map((x) => x.reason)).toContain('bad-token');
      expect((await d.controller.stats('host-a')).drops.length).toBeGreaterThan(0);
    });

    it.runIf(t.target.kind === 'bmv2')("reads BMv2's 64-bit flow registers over Thrift: exact below 2^63, flagged saturated above", async () => {
      const sw = d.switches.get('gw-west')!;
      const deviceId = BigInt(d.spec.gateways.find((g) => g.name === 'gw-west')!.p4runtime.deviceId);
      const client = new SwitchClient({ address: sw.address, deviceId, electionId: 1n, schema: P4Schema.fromP4Info(d.pipelines.gateway.p4info) });
      const regs = await ThriftRegisterAccess.connect(client, sw.thrift!);
      try {
        const last = client.requireSchema().register(GATEWAY_P4.flowWay1).size - 1;
        await regs.write(GATEWAY_P4.flowWay1, last, THRIFT_SATURATED - 1n);
        expect(await regs.read(GATEWAY_P4.flowWay1, last)).toEqual([{ index: last, value: THRIFT_SATURATED - 1n }]);
        await regs.write(GATEWAY_P4.flowWay1, last, (1n << 63n) + 5n);
        expect(await regs.read(GATEWAY_P4.flowWay1, last)).toEqual([{ index: last, value: THRIFT_SATURATED, saturated: true }]);
        await regs.write(GATEWAY_P4.flowWay1, last, 0n);
        expect((await regs.read(GATEWAY_P4.flowWay1)).filter((c) => c.value !== 0n)).toEqual([]);
      } finally {
        regs.close();
        client.close();
      }
    });

    it('rejects bad input with the field and a suggestion', async () => {
      await expect(d.controller.drain('vm-a3')).rejects.toMatchObject({ code: 'CONTROLLER_UNKNOWN_VM', hint: expect.stringContaining('vm-a') as unknown });
      await expect(d.controller.flows('gw-eats')).rejects.toMatchObject({ code: 'CONTROLLER_UNKNOWN_GATEWAY', hint: expect.stringContaining('gw-east') as unknown });
      await expect(d.controller.flows('gw-east', { backend: 'nope' })).rejects.toMatchObject({ code: 'CONTROLLER_UNKNOWN_VM' });
      await expect(d.controller.stats('host-z')).rejects.toMatchObject({ code: 'CONTROLLER_UNKNOWN_GATEWAY' });
      expect(() => new Controller({ spec: d.spec, dataDir: ':memory:', logger: pino({ level: 'silent' }), addresses: { 'gw-esat': '127.0.0.1:1' } }))
        .toThrow(expect.objectContaining({ code: 'CONTROLLER_BAD_OPTIONS', hint: expect.stringContaining('gw-east') as unknown }) as Error);
      expect(() => new Controller({ spec: d.spec, dataDir: ':memory:', logger: pino({ level: 'silent' }), batchSize: 0 })).toThrow(/batch size/);
      // BMv2 needs p4c; with none to be found the error says how to give one.
      await expect(buildPipelines(d.spec, 'bmv2', {})).rejects.toMatchObject({ code: 'CONTROLLER_P4C', hint: expect.stringContaining('P4C') as unknown });
    });
  });

  describe.skipIf(t.skip !== undefined)(suiteName('Controller token schedule', t), () => {
    it('rotates tokens at the plan\'s nextChangeAt: new generations installed, expired ones deleted, tables equal the plan', async () => {
      // TTL 3 s, no skew: the plan changes about every second.
      const d = await startDeploymentOn(t.target, {}, { tokens: { ttlSeconds: 3, clockSkewSeconds: 0 } });
      try {
        await d.controller.waitUntilReconciled(60_000);
        const rotations: TablesUpdated[] = [];
        d.controller.events.on('tables-updated', (u) => {
          if (u.switch === 'host-a' && u.causes.some((c) => c.kind === 'tokens') && u.inserted + u.deleted > 0) rotations.push(u);
        });
        await eventually(() => rotations.length >= 2, 8_000, 'two token rotations on host-a');
        await d.controller.settled();
        const registry = openRegistry({ dataDir: d.dataDir });
        try {
          const keys = registry.keyRing();
          const policy = compilePolicy(d.spec, registry.policyInput());
          // The switch holds the plan of the current second (retry across a boundary).
          await eventually(async () => {
            const installed = await d.readEntries('host-a', HOST_P4.tokenTable);
            const plan = planTokens({ spec: d.spec, ids: positionalIds(d.spec), keys, policy, now: Date.now() / 1000 });
            const want = hostDesired({ spec: d.spec, ids: positionalIds(d.spec), host: 'host-a', keys, plan }).entries.filter((e) => e.table === HOST_P4.tokenTable);
            return diffEntries(installed, want).length === 0;
          }, 3_000, 'host-a token table equals the current plan');
        } finally {
          registry.close();
        }
        expect(d.controller.tokens({ switch: 'host-a', states: ['removed'] }).length).toBeGreaterThan(0);
      } finally {
        await d.close();
      }
    }, 60_000);
  });
}

describe('Controller lifecycle', () => {
  it('stops cleanly while its switches are unreachable: no reconnects after stop', async () => {
    // Nothing listens on port 1: the controller keeps retrying until stopped.
    const spec = exampleSpecAt({ 'gw-east': '127.0.0.1:1', 'gw-west': '127.0.0.1:1', 'host-a': '127.0.0.1:1', 'host-b': '127.0.0.1:1' });
    const controller = new Controller({
      spec,
      dataDir: ':memory:',
      logger: pino({ level: 'silent' }),
      pipelines: await buildPipelines(spec, 'embedded'),
      backoff: { baseMs: 20, capMs: 50, jitter: 0 },
      connectTimeoutMs: 200,
      resolveEndpoint: () => ({ host: '127.0.0.1', port: 1 }),
    });
    let transitions = 0;
    controller.events.on('connection', () => transitions++);
    await controller.start();
    await eventually(() => controller.switchStatus().every((s) => s.failures >= 2), 10_000, 'two failed attempts per switch');
    await expect(controller.flows('gw-east')).rejects.toMatchObject({ code: 'CONTROLLER_NOT_CONNECTED' });
    await controller.stop();
    expect(controller.isRunning).toBe(false);
    expect(controller.switchStatus().every((s) => s.phase === 'disconnected')).toBe(true);
    const after = transitions;
    await new Promise((r) => setTimeout(r, 200));
    expect(transitions).toBe(after);
    await expect(controller.drain('vm-a1')).rejects.toMatchObject({ code: 'CONTROLLER_NOT_RUNNING' });
  }, 30_000);
});
