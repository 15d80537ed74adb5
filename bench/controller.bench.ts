/**
 * The runtime controller at the example's full slot-table size (M = 65,536) over real gRPC:
 * entries per second of a full slot-table install (one VIP, one gateway), the time from a
 * one-backend change to the last acknowledged write (a drain, a health transition decided by a
 * probe, a backend removed from the spec while running), and the controller's retained heap after
 * the install. Against in-process embedded targets, and, when p4c and a simple_switch_grpc built
 * with Thrift are found, against simple_switch_grpc processes in the same run, so the two compare
 * side by side (ratios per group).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { parse, stringify } from 'yaml';
import { parseSpec } from '../core/spec/load.ts';
import type { LbSpec } from '../core/spec/schema.ts';
import { startTestTarget, type TestTarget } from '../target/server/test-harness.ts';
import { Bmv2Fleet, bmv2Availability } from '../runtime-controller/controller/bmv2-fleet.ts';
import { Controller, type ControllerOptions } from '../runtime-controller/controller/controller.ts';
import { toDesiredState } from '../runtime-controller/controller/desired.ts';
import { buildPipelines, type RolePipelines } from '../runtime-controller/controller/pipelines.ts';
import { exampleSpecText, startDeploymentOn } from '../runtime-controller/controller/test-setup.ts';
import type { ProbeResult } from '../runtime-controller/health/index.ts';
import { GATEWAY_TABLE_ORDER } from '../runtime-controller/lb/index.ts';
import { reconcile } from '../runtime-controller/switch/reconcile.ts';
import { SwitchConnection } from '../runtime-controller/switch/switch-connection.ts';
import type { BenchCase, BenchSuite } from './harness.ts';

/** The example's slot-table size. */
const SLOTS = 65_536;
const GATEWAY = 'gw-east';
/** No geo preference and four backends (weights 1, 1, 1, 2): one backend owns about a fifth of the slots. */
const VIP = 'api';
const CHANGED_VM = 'vm-a1';
const INSTALLS = 4;
/** BMv2 installs take seconds each: fewer of them. */
const BMV2_INSTALLS = 3;
const silent = pino({ level: 'silent' });

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

function benchSpec(addresses: Readonly<Record<string, string>>): LbSpec {
  const doc = parse(exampleSpecText(addresses, { slots: SLOTS })) as {
    gateways: { name: string }[];
    vips: { name: string; healthCheck: Record<string, unknown> }[];
  };
  doc.gateways = doc.gateways.filter((g) => g.name === GATEWAY);
  doc.vips = doc.vips.filter((v) => v.name === VIP);
  // Probes answer at once (a fake prober): one interval of 20 ms is the detection delay.
  for (const v of doc.vips) v.healthCheck = { ...v.healthCheck, intervalMs: 20, timeoutMs: 10, rise: 1, fall: 1 };
  return parseSpec(stringify(doc), 'bench.yaml');
}


type Kind = 'embedded' | 'bmv2';

/** Switches a bench system runs on: an address per name, and fresh gateways for the timed installs. */
interface Switches {
  readonly addresses: ReadonlyMap<string, string>;
  readonly fresh: readonly string[];
  readonly controllerOptions: Partial<ControllerOptions>;
  close(): Promise<void>;
}

async function embeddedSwitches(names: readonly string[], deviceIdOf: (name: string) => bigint, freshCount: number): Promise<Switches> {
  const targets: TestTarget[] = [];
  const addresses = new Map<string, string>();
  const fresh: string[] = [];
  const close = async (): Promise<void> => {
    for (const t of targets.splice(0)) await t.close();
  };
  try {
    for (const name of names) {
      const t = await startTestTarget({ ports: [1, 2], deviceId: deviceIdOf(name) });
      targets.push(t);
      addresses.set(name, t.address);
    }
    for (let i = 0; i < freshCount; i++) {
      const t = await startTestTarget({ ports: [1, 2], deviceId: deviceIdOf(GATEWAY) });
      targets.push(t);
      fresh.push(t.address);
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { addresses, fresh, controllerOptions: {}, close };
}

async function bmv2Switches(tools: Parameters<typeof Bmv2Fleet.start>[0], names: readonly string[], deviceIdOf: (name: string) => bigint, freshCount: number): Promise<Switches> {
  const freshNames = Array.from({ length: freshCount }, (_, i) => `fresh-${i}`);
  const fleet = await Bmv2Fleet.start(tools, [
    ...names.map((name) => ({ name, deviceId: Number(deviceIdOf(name)) })),
    ...freshNames.map((name) => ({ name, deviceId: Number(deviceIdOf(GATEWAY)) })),
  ]);
  return {
    addresses: new Map(names.map((n) => [n, fleet.get(n).address])),
    fresh: freshNames.map((n) => fleet.get(n).address),
    // BMv2 serves the flow registers only over Thrift.
    controllerOptions: { registerAccess: (name) => ({ thrift: fleet.get(name).thrift }) },
    close: () => fleet.close(),
  };
}

interface TargetBench {
  readonly cases: readonly BenchCase[];
  teardown(): Promise<void>;
}

/** Switches, a controller that installed the gateway, fresh gateways for timed installs: the cases of one target. */
async function benchTarget(kind: Kind, tools: Parameters<typeof Bmv2Fleet.start>[0] | undefined): Promise<TargetBench> {
  const label = `[${kind}]`;
  const installs = kind === 'bmv2' ? BMV2_INSTALLS : INSTALLS;
  const heapBefore = heapMb();
  const base = benchSpec({});
  const switchNames = [...base.gateways, ...base.hosts].map((s) => s.name);
  const deviceIdOf = (name: string): bigint => BigInt([...base.gateways, ...base.hosts].find((s) => s.name === name)!.p4runtime.deviceId);
  console.log(`  ${label} starting ${switchNames.length + installs + 1} switches…`);
  const switches = kind === 'bmv2' ? await bmv2Switches(tools!, switchNames, deviceIdOf, installs + 1) : await embeddedSwitches(switchNames, deviceIdOf, installs + 1);
  const spec = benchSpec(Object.fromEntries(switches.addresses));
  const pipelines: RolePipelines = await buildPipelines(spec, kind);
  const down = new Set<string>();
  const vmByPort = new Map(spec.vms.map((vm, i) => [10_000 + i, vm.name]));

  const startController = (): Controller =>
    new Controller({
      spec,
      dataDir: ':memory:',
      logger: silent,
      pipelines,
      backoff: { baseMs: 50, capMs: 400, jitter: 0 },
      resolveEndpoint: (_vip, vm) => ({ host: '127.0.0.1', port: 10_000 + spec.vms.findIndex((v) => v.name === vm.name) }),
      prober: async (endpoint): Promise<ProbeResult> => (down.has(vmByPort.get(endpoint.port)!) ? { ok: false, latencyMs: 0, error: 'down' } : { ok: true, latencyMs: 0 }),
      ...switches.controllerOptions,
    });

  const installed = async (controller: Controller): Promise<void> => {
    await controller.waitUntilReconciled(300_000);
    // Health decides after the first reconcile: wait until the slot table is in.
    for (;;) {
      await controller.settled();
      const slots = controller.installedEntries(GATEWAY)?.entries.filter((e) => e.table === 'GatewayIngress.slot_table').length ?? 0;
      if (slots === SLOTS) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  // The controller's retained heap: with it installed, then with it stopped and dropped (embedded
  // targets, in this process too, keep their tables either way; BMv2 holds its own).
  const first = startController();
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 10);
  const firstStarted = performance.now();
  await first.start();
  await installed(first);
  const firstInstallMs = performance.now() - firstStarted;
  clearInterval(sampler);
  const heapInstalled = heapMb();
  const refs = [new WeakRef(first), new WeakRef(first.installedEntries(GATEWAY)!)];
  await first.stop();
  // Let closing channels and timers let go of the stopped controller.
  await new Promise((r) => setTimeout(r, 500));
  const heapStopped = heapMb();
  const collected = refs.every((r) => r.deref() === undefined);
  console.log(
    `  ${label} first install of ${GATEWAY} (${SLOTS} slots, from start): ${firstInstallMs.toFixed(0)} ms; heap before ${heapBefore.toFixed(0)} MB, peak ${(peak / 2 ** 20).toFixed(0)} MB, ` +
      `installed ${heapInstalled.toFixed(0)} MB, controller stopped ${heapStopped.toFixed(0)} MB → controller retains ${(heapInstalled - heapStopped).toFixed(0)} MB` +
      (collected ? '' : ' (not yet collected when measured: a lower bound)'),
  );

  // The controller of the timed changes, on the installed switches (its start reconciles: nothing to write).
  const controller = startController();
  const restartStarted = performance.now();
  await controller.start();
  await installed(controller);
  console.log(`  ${label} controller restart on the installed gateway (read back, diff, nothing to write): ${(performance.now() - restartStarted).toFixed(0)} ms`);
  let drained = false;
  const convergence: number[] = [];

  // Fresh gateways with the pipeline pushed, one per timed install (a P4 compile is no part of it).
  const state = toDesiredState(controller.installedEntries(GATEWAY)!, GATEWAY_TABLE_ORDER);
  const entryCount = Object.values(state.tables).reduce((n, t) => n + t.length, 0);
  const gwSpec = spec.gateways[0]!;
  const fresh: SwitchConnection[] = [];
  for (const address of switches.fresh) {
    const connection = new SwitchConnection({ address, deviceId: BigInt(gwSpec.p4runtime.deviceId), electionId: 10n, pipeline: pipelines.gateway });
    fresh.push(connection);
    connection.start();
    await connection.waitFor('pipeline-ready');
  }
  let nextFresh = 0;

  const cases: BenchCase[] = [
    {
      name: `${label} full install: reconcile of an empty gateway (${entryCount} entries: read, diff, write)`,
      group: 'install',
      opsPerCall: entryCount,
      warmup: 1,
      iterations: installs,
      fn: async () => {
        const connection = fresh[nextFresh++]!;
        const report = await reconcile(connection.client!, state, { pipelinePushed: false });
        if (report.inserted !== entryCount) throw new Error(`installed ${report.inserted} of ${entryCount}`);
      },
    },
    {
      name: `${label} one-backend drain/undrain of ${CHANGED_VM} → acknowledged write`,
      group: 'change',
      warmup: 2,
      iterations: 10,
      fn: async () => {
        drained = !drained;
        await (drained ? controller.drain(CHANGED_VM) : controller.undrain(CHANGED_VM));
      },
    },
    {
      name: `${label} one-backend health change of ${CHANGED_VM} (probe every 20 ms) → acknowledged write`,
      group: 'change',
      warmup: 2,
      iterations: 10,
      fn: async () => {
        const written = new Promise<void>((resolve) => {
          const off = controller.events.on('tables-updated', (u) => {
            if (u.switch !== GATEWAY || !u.causes.some((c) => c.kind === 'health')) return;
            if (u.convergenceMs !== undefined) convergence.push(u.convergenceMs);
            off();
            resolve();
          });
        });
        if (down.has(CHANGED_VM)) down.delete(CHANGED_VM);
        else down.add(CHANGED_VM);
        await written;
      },
    },
    {
      // A removal is written in full when applySpec resolves. An addition writes the backend
      // entry then, and the slots once the VM's first probe passes (rise 1, every 20 ms): timed
      // to that write, so both directions move the same ~13,100 slots.
      name: `${label} spec change: ${CHANGED_VM} removed from / added back to ${VIP} (applySpec → slots written)`,
      group: 'change',
      warmup: 2,
      iterations: 10,
      fn: async () => {
        const current = controller.spec;
        const listed = current.vips.find((v) => v.name === VIP)!.backends.includes(CHANGED_VM);
        const slotsWritten = listed
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              const off = controller.events.on('tables-updated', (u) => {
                if (u.switch !== GATEWAY || !u.causes.some((c) => c.kind === 'health' && c.transition.target.vm === CHANGED_VM)) return;
                off();
                resolve();
              });
            });
        await controller.applySpec({
          ...current,
          vips: current.vips.map((v) => (v.name !== VIP ? v : { ...v, backends: listed ? v.backends.filter((b) => b !== CHANGED_VM) : [...v.backends, CHANGED_VM] })),
        });
        await slotsWritten;
      },
    },
  ];

  return {
    cases,
    async teardown() {
      if (convergence.length > 0) {
        const sorted = [...convergence].sort((a, b) => a - b);
        console.log(`  ${label} health transition → acknowledged write (controller's convergenceMs): median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted.at(-1)} ms over ${sorted.length}`);
      }
      await controller.stop();
      for (const connection of fresh) connection.stop();
      await switches.close();
    },
  };
}

/**
 * The whole example at full size (2 gateways, 2 VIPs × 65,536 slots, geo preference on web) on
 * in-process embedded targets: a one-VM drain rewrites the slots of both VIPs on both gateways,
 * as a VM failure does in the demo (one VIP alone hid a slow diff of several VIPs' slot tables).
 */
async function fullExampleBench(): Promise<TargetBench> {
  const d = await startDeploymentOn({ kind: 'embedded' }, { prober: async () => ({ ok: true, latencyMs: 0 }), logger: silent }, { slots: SLOTS });
  try {
    await d.controller.waitUntilReconciled(300_000);
    for (;;) {
      await d.controller.settled();
      const ready = d.controller.vipStatus().every((v) => Object.values(v.tableStatus).every((s) => s === 'ok') && v.backends.every((b) => Object.values(b.gateways).every((g) => g.health === 'healthy')));
      if (ready) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (error) {
    await d.close();
    throw error;
  }
  let drained = false;
  return {
    cases: [
      {
        name: '[embedded] full example: one-VM drain/undrain of vm-b1 (2 gateways × 2 VIPs × 65,536 slots) → acknowledged writes',
        group: 'change',
        warmup: 2,
        iterations: 10,
        fn: async () => {
          drained = !drained;
          await (drained ? d.controller.drain('vm-b1') : d.controller.undrain('vm-b1'));
        },
      },
    ],
    teardown: () => d.close(),
  };
}

const skipped: string[] = [];
const benches: TargetBench[] = [];
const bmv2 = bmv2Availability();
if (!bmv2.available) skipped.push(`the BMv2 cases: ${bmv2.reason}`);
try {
  benches.push(await benchTarget('embedded', undefined));
  benches.push(await fullExampleBench());
  if (bmv2.available) benches.push(await benchTarget('bmv2', bmv2.tools));
} catch (error) {
  for (const b of benches) await b.teardown();
  throw error;
}

// Grouped (installs, then changes), embedded then BMv2 within a group, so ratios compare the targets.
const groups = ['install', 'change'];
const suite: BenchSuite = {
  name: 'controller',
  description: `runtime controller, M = ${SLOTS} slots, one VIP (${VIP}), one gateway; embedded targets in-process${bmv2.available ? ' and simple_switch_grpc processes' : ''}, over gRPC`,
  cases: groups.flatMap((g) => benches.flatMap((b) => b.cases.filter((c) => c.group === g))),
  skipped,
  async teardown() {
    for (const b of benches) await b.teardown();
  },
};

export default suite;
