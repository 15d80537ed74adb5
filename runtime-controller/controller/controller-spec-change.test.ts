/**
 * A running controller takes a changed spec in place: backends of a VIP, and whole VMs and VIPs,
 * added and removed. VIPs and VMs that stay keep their data-plane ids (pinned flows keep their
 * VM), new ones take free ids that outlive a restart, counters of a reused id start from zero,
 * nothing is pushed (flow state stays), and a change the running programs cannot hold is refused
 * with the field at fault, changing nothing. A reused id's zeroing that a switch missed is kept in
 * the registry and done by the next controller that reaches the switch.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frame, innerPacket } from '../../bmv2-tests/dsl/scenario.ts';
import { backendIdIn, vipIdIn } from '../../core/spec/ids.ts';
import type { LbSpec, Vm } from '../../core/spec/schema.ts';
import { SwitchClient } from '../client/switch-client.ts';
import type { SwitchStream } from '../client/switch-stream.ts';
import { countingClock } from '../health/clock.ts';
import type { Prober } from '../health/index.ts';
import { diffEntries, entryKey, GATEWAY_P4, HOST_P4, type TableEntry } from '../lb/index.ts';
import { openRegistry } from '../registry/store.ts';
import { P4Schema } from '../schema/p4-schema.ts';
import { Controller } from './controller.ts';
import { describeSpecChange, specChangeProblems } from './spec-change.ts';
import { allBackendsHealthy as allHealthy, controllerTestTargets, eventually, exampleSpecAt, startHealthyDeploymentOn, suiteName, type SwitchDeployment as Deployment } from './test-setup.ts';

const alwaysUp: Prober = async () => ({ ok: true, latencyMs: 0 });
/** Probes never reach an address (alwaysUp answers), but VMs added by a test have no server of the deployment. */
const anyEndpoint = () => ({ host: '127.0.0.1', port: 9 });

const withoutBackend = (spec: LbSpec, vip: string, vm: string): LbSpec => ({
  ...spec,
  vips: spec.vips.map((v) => (v.name === vip ? { ...v, backends: v.backends.filter((b) => b !== vm) } : v)),
});

/** `spec` with `vm` added as a backend of `vips`. */
function withVm(spec: LbSpec, vm: Vm, vips: readonly string[]): LbSpec {
  return { ...spec, vms: [...spec.vms, vm], vips: spec.vips.map((v) => (vips.includes(v.name) ? { ...v, backends: [...v.backends, vm.name] } : v)) };
}

/** `spec` without the VM, in any VIP. */
function withoutVm(spec: LbSpec, name: string): LbSpec {
  return { ...spec, vms: spec.vms.filter((v) => v.name !== name), vips: spec.vips.map((v) => ({ ...v, backends: v.backends.filter((b) => b !== name) })) };
}

/**
 * A tunnel-mode VIP like `api` on another address and port, over `backends` (tunnel mode: a NAT
 * VIP could not share a VM's port with `api`, replies are translated back by VM and port).
 */
function withVip(spec: LbSpec, name: string, backends: readonly string[]): LbSpec {
  const { targetPort: _nat, ...api } = spec.vips.find((v) => v.name === 'api')!;
  return { ...spec, vips: [...spec.vips, { ...api, name, mode: 'tunnel', address: '203.0.113.30', ports: [9090], backends: [...backends] }] };
}

// Ports are unique per host: host-b's vm-b1 has 7003, so host-a can give it to a new VM, and the
// running host program already parses it.
const vmA3: Vm = { name: 'vm-a3', host: 'host-a', privateIpv4: '192.168.1.13', udpPort: 7003, nicPort: 4, weight: 1 };
/** Takes vm-a2's place on host-a (port 7002, which the running host program parses). */
const vmA4: Vm = { name: 'vm-a4', host: 'host-a', privateIpv4: '192.168.1.14', udpPort: 7002, nicPort: 3, weight: 1 };

const SWITCHES = ['gw-east', 'gw-west', 'host-a', 'host-b'] as const;

const backendPackets = async (c: Controller, gateway: string, vm: string): Promise<bigint> =>
  (await c.stats(gateway)).backends.find((b) => b.vm === vm)?.packets ?? 0n;

/** Sends api traffic into gw-east, a new flow per packet, until `vm` has counted some there. */
async function countOnGwEast(d: Deployment, vm: string): Promise<void> {
  const gw = d.switches.get('gw-east')!;
  for (let port = 40_000; port < 40_060 && (await backendPackets(d.controller, 'gw-east', vm)) === 0n; port++) {
    gw.send(1, frame('02:00:00:00:00:01', '02:00:00:00:00:fe', innerPacket({ src: '198.51.100.7', srcPort: port, dst: '203.0.113.20', dstPort: 8080 })));
    await new Promise((r) => setTimeout(r, 5));
  }
  await eventually(async () => (await backendPackets(d.controller, 'gw-east', vm)) > 0n, 5_000, `${vm} counted packets`);
}

/** The counter resets the registry in `dataDir` holds, per switch (a second handle: SQLite WAL lets it read beside the controller's). */
function pendingResets(dataDir: string): Record<string, string[]> {
  const registry = openRegistry({ dataDir });
  try {
    return Object.fromEntries(SWITCHES.map((s) => [s, registry.pendingCounterResets(s).map((c) => `${c.counter}[${c.index}]`)]));
  } finally {
    registry.close();
  }
}

describe('specChangeProblems', () => {
  const spec = exampleSpecAt({});

  it('accepts VMs, VIPs and backends coming and going, and reports them', () => {
    const next = withVip(withVm(withoutBackend(spec, 'api', 'vm-b2'), vmA3, ['web']), 'extra', ['vm-a1']);
    expect(specChangeProblems(spec, next)).toEqual([]);
    expect(describeSpecChange(spec, next)).toEqual({
      vmsAdded: ['vm-a3'], vmsRemoved: [], vipsAdded: ['extra'], vipsRemoved: [],
      backends: [{ vip: 'web', added: ['vm-a3'], removed: [] }, { vip: 'api', added: [], removed: ['vm-b2'] }],
    });
    expect(describeSpecChange(next, spec)).toMatchObject({ vmsRemoved: ['vm-a3'], vipsRemoved: ['extra'] });
  });

  it('refuses what touches the switches, naming the field', () => {
    const movedGateway = { ...spec, gateways: spec.gateways.map((g, i) => (i === 0 ? { ...g, p4runtime: { ...g.p4runtime, address: '127.0.0.1:1' } } : g)) };
    expect(specChangeProblems(spec, movedGateway)).toEqual([{ path: 'gateways', message: expect.stringContaining('gateways') as unknown }]);
    expect(specChangeProblems(spec, { ...spec, flowState: { slotsPerGateway: 512 } }).map((p) => p.path)).toEqual(['flowState']);
  });
});

for (const t of controllerTestTargets()) describe.skipIf(t.skip !== undefined)(suiteName('controller: VMs, VIPs and backends change while it runs', t), () => {
  let d: Deployment;
  let pushes = 0;
  const clock = countingClock();
  const slotOwners = async (gateway: string, vip: number): Promise<Set<number>> => {
    const slots = await d.readEntries(gateway, GATEWAY_P4.slotTable);
    return new Set(slots.filter((e) => Number(e.keys['vip_id']) === vip).map((e) => Number(e.params['backend_id'])));
  };
  const backendEntries = async (gateway: string): Promise<TableEntry[]> => d.readEntries(gateway, GATEWAY_P4.backendTable);
  const localVms = async (host: string): Promise<Map<number, number>> =>
    new Map((await d.readEntries(host, HOST_P4.localVm)).map((e) => [Number(e.keys['vm_udp_port']), Number(e.params['vm_id'])]));

  beforeAll(async () => {
    d = await startHealthyDeploymentOn(t.target, { prober: alwaysUp, resolveEndpoint: anyEndpoint, clock });
    d.controller.events.on('reconciled', (e) => {
      if (e.pipelinePushed) pushes++;
    });
  }, 120_000);

  afterAll(async () => {
    await d?.close();
  }, 60_000);

  it('removes a backend from one VIP (its slots and its backend entries for that VIP) and adds it back, leaving the other VIP alone', async () => {
    const spec = d.controller.spec;
    const ids = d.controller.dataPlaneIds;
    const b2 = backendIdIn(ids, 'vm-b2');
    const [api, web] = [vipIdIn(ids, 'api'), vipIdIn(ids, 'web')];
    const webBefore = (await backendEntries('gw-west')).filter((e) => Number(e.keys['vip_id']) === web);
    expect((await slotOwners('gw-east', api)).has(b2)).toBe(true);

    const result = await d.controller.applySpec(withoutBackend(spec, 'api', 'vm-b2'));
    expect(result.backends).toEqual([{ vip: 'api', added: [], removed: ['vm-b2'] }]);
    for (const gw of ['gw-east', 'gw-west']) {
      expect((await slotOwners(gw, api)).has(b2)).toBe(false);
      const entries = await backendEntries(gw);
      expect(entries.some((e) => Number(e.keys['vip_id']) === api && Number(e.keys['backend_id']) === b2)).toBe(false);
    }
    // The other VIP is untouched, and its health checks kept their state (nothing went back to unknown).
    expect((await backendEntries('gw-west')).filter((e) => Number(e.keys['vip_id']) === web)).toEqual(webBefore);
    expect(d.controller.vipStatus().find((v) => v.name === 'web')!.backends.every((b) => Object.values(b.gateways).every((g) => g.health === 'healthy'))).toBe(true);
    expect(d.controller.vipStatus().find((v) => v.name === 'api')!.backends.map((b) => b.vm)).toEqual(['vm-a1', 'vm-a2', 'vm-b1']);

    await d.controller.applySpec(spec);
    // Added back: unknown until its check passes `rise` times, then it owns slots again.
    await eventually(async () => (await slotOwners('gw-east', api)).has(b2), 10_000, 'vm-b2 back in api');
  }, 60_000);

  it('adds a VM and a VIP with new ids, keeping every other id, without a pipeline push', async () => {
    const before = d.controller.dataPlaneIds;
    const next = withVip(withVm(d.controller.spec, vmA3, ['api']), 'extra', ['vm-a1', 'vm-a3']);
    const change = await d.controller.applySpec(next);
    expect(change).toMatchObject({ vmsAdded: ['vm-a3'], vipsAdded: ['extra'] });
    const ids = d.controller.dataPlaneIds;
    // By position vm-a3 would be 3 and shift vm-b1 and vm-b2, whose pinned flows would change VM.
    expect(backendIdIn(ids, 'vm-a3')).toBe(5);
    expect(vipIdIn(ids, 'extra')).toBe(3);
    for (const [name, id] of before.backend) expect(backendIdIn(ids, name)).toBe(id);
    for (const [name, id] of before.vip) expect(vipIdIn(ids, name)).toBe(id);

    for (const gw of ['gw-east', 'gw-west']) {
      await eventually(async () => (await slotOwners(gw, vipIdIn(ids, 'api'))).has(5), 10_000, `${gw}: vm-a3 owns api slots`);
      await eventually(async () => (await slotOwners(gw, 3)).size === 2, 10_000, `${gw}: extra has its two backends`);
      expect(await slotOwners(gw, 3)).toEqual(new Set([1, 5]));
      const vipEntries = await d.readEntries(gw, GATEWAY_P4.vipTable);
      expect(vipEntries.some((e) => Number(e.params['vip_id']) === 3 && Number(e.keys['dst_port']) === 9090)).toBe(true);
    }
    // One port, two hosts, two VMs: host-a delivers 7003 to vm-a3, host-b still to vm-b1.
    expect((await localVms('host-a')).get(7003)).toBe(5);
    expect((await localVms('host-b')).get(7003)).toBe(backendIdIn(ids, 'vm-b1'));
    expect(pushes).toBe(0);
  }, 60_000);

  it('gives a removed VM\'s id to the next new VM, with its counters from zero', async () => {
    await countOnGwEast(d, 'vm-a2');

    await d.controller.applySpec(withoutVm(d.controller.spec, 'vm-a2'));
    expect(d.controller.dataPlaneIds.backend.has('vm-a2')).toBe(false);
    for (const gw of ['gw-east', 'gw-west']) expect((await backendEntries(gw)).some((e) => Number(e.keys['backend_id']) === 2)).toBe(false);
    expect((await localVms('host-a')).has(7002)).toBe(false);

    await d.controller.applySpec(withVm(d.controller.spec, vmA4, ['web']));
    expect(backendIdIn(d.controller.dataPlaneIds, 'vm-a4')).toBe(2);
    expect((await localVms('host-a')).get(7002)).toBe(2);
    // The cell was vm-a2's; vm-a4 starts from zero, and every switch got its zeroing.
    expect(await backendPackets(d.controller, 'gw-east', 'vm-a4')).toBe(0n);
    expect(pendingResets(d.dataDir)).toEqual(Object.fromEntries(SWITCHES.map((s) => [s, []])));
    expect(pushes).toBe(0);
  }, 60_000);

  it('refuses a change the running programs cannot hold, changing nothing', async () => {
    const spec = d.controller.spec;
    const ids = d.controller.dataPlaneIds;
    const before = await d.readEntries('gw-east');
    const unparsed: Vm = { name: 'vm-a5', host: 'host-a', privateIpv4: '192.168.1.15', udpPort: 7999, nicPort: 5, weight: 1 };
    const refused = d.controller.applySpec(withVm(spec, unparsed, ['web']));
    await expect(refused).rejects.toMatchObject({ code: 'CONTROLLER_SPEC_CHANGE', location: { path: `vms[${spec.vms.length}].udpPort` } });
    await expect(refused).rejects.toThrow(/port 7999 of VM 'vm-a5' is not a tunnel port of the running host program/);
    const moved = { ...spec, hosts: spec.hosts.map((h, i) => (i === 0 ? { ...h, underlay: { ...h.underlay, ipv4: '10.0.1.9' } } : h)) };
    await expect(d.controller.applySpec(moved)).rejects.toMatchObject({ code: 'CONTROLLER_SPEC_CHANGE', location: { path: 'hosts' } });
    expect(d.controller.spec).toBe(spec);
    expect(d.controller.dataPlaneIds).toBe(ids);
    expect(await d.readEntries('gw-east')).toEqual(before);
  });

  it('keeps the ids across a controller restart: the new controller finds nothing to change', async () => {
    const spec = d.controller.spec;
    const ids = d.controller.dataPlaneIds;
    await eventually(() => allHealthy(d.controller), 10_000, 'every backend healthy before the restart');
    await d.controller.settled();
    const tables = await Promise.all(['gw-east', 'host-a'].map((s) => d.readEntries(s)));
    await d.controller.stop();
    // Every spec applied replanned the tokens: a stopped controller leaves no timer of any of them (or of a health check).
    expect(clock.live).toBe(0);
    const restarted = new Controller({
      spec, dataDir: d.dataDir, logger: pino({ level: 'silent' }), pipelines: d.pipelines,
      backoff: { baseMs: 50, capMs: 400, jitter: 0 }, prober: alwaysUp, resolveEndpoint: anyEndpoint, ...d.controllerOptions,
    });
    try {
      let restartPushes = 0;
      restarted.events.on('reconciled', (e) => {
        if (e.pipelinePushed) restartPushes++;
      });
      await restarted.start();
      expect(restarted.dataPlaneIds).toEqual(ids);
      await restarted.waitUntilReconciled(60_000);
      // The programs in force hold the changed spec: the restarted controller keeps them (no push, flow state kept).
      expect(restartPushes).toBe(0);
      // Its health checks start from unknown: once every backend is healthy again, the tables are as before.
      await eventually(() => allHealthy(restarted), 10_000, 'every backend healthy after the restart');
      let differences: string[] = [];
      await eventually(async () => {
        await restarted.settled();
        const now = await Promise.all(['gw-east', 'host-a'].map((s) => d.readEntries(s)));
        differences = now.flatMap((entries, i) => diffEntries(tables[i]!, entries).map((u) => `${u.type} ${entryKey(u.entry)}`));
        return differences.length === 0;
      }, 15_000, 'the restarted controller\'s tables equal the first one\'s').catch((error: unknown) => {
        throw new Error(`${String(error)}: ${differences.slice(0, 5).join('; ')}`);
      });
    } finally {
      await restarted.stop();
    }
  }, 60_000);
});

for (const t of controllerTestTargets()) describe.skipIf(t.skip !== undefined)(suiteName('controller: a reused id\'s zeroing outlives a restart', t), () => {
  let d: Deployment;
  const cleanup: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    d = await startHealthyDeploymentOn(t.target, { prober: alwaysUp, resolveEndpoint: anyEndpoint });
  }, 120_000);

  afterAll(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
    await d?.close();
  }, 60_000);

  /** A client of gw-east's own with a higher election id: while it is there, the controller is backup and cannot write. */
  async function takeOverGwEast(): Promise<{ readonly client: SwitchClient; readonly stream: SwitchStream }> {
    const deviceId = BigInt(d.spec.gateways.find((g) => g.name === 'gw-east')!.p4runtime.deviceId);
    const client = new SwitchClient({ address: d.switches.get('gw-east')!.address, deviceId, electionId: 100n, schema: P4Schema.fromP4Info(d.pipelines.gateway.p4info) });
    const stream = client.openStream();
    cleanup.push(() => {
      stream.close();
      client.close();
    });
    await new Promise<void>((resolve) => {
      const off = stream.on('arbitration', (a) => {
        if (!a.primary) return;
        off();
        resolve();
      });
    });
    await eventually(() => d.controller.switchStatus().find((s) => s.name === 'gw-east')!.phase === 'backup', 10_000, 'the controller is backup on gw-east');
    return { client, stream };
  }

  it('zeroes the cell on a switch the controller could not write, once a restarted controller reaches it', async () => {
    await countOnGwEast(d, 'vm-a2');
    const reused = backendIdIn(d.controller.dataPlaneIds, 'vm-a2');
    const api = vipIdIn(d.controller.dataPlaneIds, 'api');
    const intruder = await takeOverGwEast();
    const cell = async (counter: string, index: number): Promise<bigint> => {
      const reader = d.openClient('gw-east');
      try {
        return (await reader.readCounters(counter, index))[0]?.packets ?? 0n;
      } finally {
        reader.close();
      }
    };
    const counted = await cell(GATEWAY_P4.backendStats, reused);
    expect(counted).toBeGreaterThan(0n);

    await d.controller.applySpec(withoutVm(d.controller.spec, 'vm-a2'));
    await d.controller.applySpec(withVm(d.controller.spec, vmA4, ['web']));
    expect(backendIdIn(d.controller.dataPlaneIds, 'vm-a4')).toBe(reused);
    // Every other switch was written and zeroed; gw-east's zeroing waits in the registry, its cell still holds vm-a2's count.
    expect(pendingResets(d.dataDir)).toEqual({ 'gw-east': [`${GATEWAY_P4.backendStats}[${reused}]`], 'gw-west': [], 'host-a': [], 'host-b': [] });
    expect(await cell(GATEWAY_P4.backendStats, reused)).toBe(counted);

    const spec = d.controller.spec;
    await d.controller.stop();
    intruder.stream.close();
    intruder.client.close();
    const restarted = new Controller({
      spec, dataDir: d.dataDir, logger: pino({ level: 'silent' }), pipelines: d.pipelines,
      backoff: { baseMs: 50, capMs: 400, jitter: 0 }, prober: alwaysUp, resolveEndpoint: anyEndpoint, ...d.controllerOptions,
    });
    cleanup.push(() => restarted.stop());
    let pushes = 0;
    restarted.events.on('reconciled', (e) => {
      if (e.pipelinePushed) pushes++;
    });
    await restarted.start();
    await restarted.waitUntilReconciled(60_000);
    await restarted.settled();
    await eventually(async () => (await cell(GATEWAY_P4.backendStats, reused)) === 0n, 10_000, 'the reused cell reads zero on gw-east');
    // Zeroed by the pending reset, not by a pipeline push: gw-east's other counters kept their counts.
    expect(pushes).toBe(0);
    expect(await cell(GATEWAY_P4.vipStats, api)).toBeGreaterThan(0n);
    expect(await backendPackets(restarted, 'gw-east', 'vm-a4')).toBe(0n);
    await restarted.stop();
    expect(pendingResets(d.dataDir)).toEqual(Object.fromEntries(SWITCHES.map((s) => [s, []])));
  }, 120_000);

  it('drops the pending zeroing of a switch that gets a pipeline push, whose counters all start at zero', async () => {
    // Stopped above. gw-east's pending cell has an index its counter lacks (as after a smaller program): a write would fail every time.
    const registry = openRegistry({ dataDir: d.dataDir });
    try {
      registry.queueCounterResets([{ switch: 'gw-east', counter: GATEWAY_P4.backendStats, index: 100_000 }]);
    } finally {
      registry.close();
    }
    await d.restartTarget('gw-east');
    const next = new Controller({
      spec: d.controller.spec, dataDir: d.dataDir, logger: pino({ level: 'silent' }), pipelines: d.pipelines,
      backoff: { baseMs: 50, capMs: 400, jitter: 0 }, prober: alwaysUp, resolveEndpoint: anyEndpoint, ...d.controllerOptions,
      addresses: { 'gw-east': d.switches.get('gw-east')!.address },
    });
    cleanup.push(() => next.stop());
    const pushed: string[] = [];
    next.events.on('reconciled', (e) => {
      if (e.pipelinePushed) pushed.push(e.switch);
    });
    await next.start();
    await next.waitUntilReconciled(60_000);
    await next.settled();
    expect(pushed).toEqual(['gw-east']);
    expect(next.switchStatus().find((s) => s.name === 'gw-east')!.lastError).toBeUndefined();
    await next.stop();
    expect(pendingResets(d.dataDir)).toEqual(Object.fromEntries(SWITCHES.map((s) => [s, []])));
  }, 120_000);
});
