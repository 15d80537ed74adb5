/**
 * The runtime controller at the example's full slot-table size (M = 65,536) against in-process
 * embedded targets over real gRPC: entries per second of a full slot-table install (one VIP, one
 * gateway), the time from a one-backend change to the last acknowledged write (a drain, a
 * health transition decided by a probe, a backend removed from the spec while running), and the
 * controller's retained heap after the install.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { parse, stringify } from 'yaml';
import { parseSpec } from '../core/spec/load.ts';
import type { LbSpec } from '../core/spec/schema.ts';
import { startTestTarget, type TestTarget } from '../target/server/test-harness.ts';
import { Controller } from '../runtime-controller/controller/controller.ts';
import { toDesiredState } from '../runtime-controller/controller/desired.ts';
import { buildPipelines } from '../runtime-controller/controller/pipelines.ts';
import { exampleSpecText } from '../runtime-controller/controller/test-setup.ts';
import type { ProbeResult } from '../runtime-controller/health/index.ts';
import { GATEWAY_TABLE_ORDER } from '../runtime-controller/lb/index.ts';
import { reconcile } from '../runtime-controller/switch/reconcile.ts';
import { SwitchConnection } from '../runtime-controller/switch/switch-connection.ts';
import type { BenchSuite } from './harness.ts';

/** The example's slot-table size. */
const SLOTS = 65_536;
const GATEWAY = 'gw-east';
/** No geo preference and four backends (weights 1, 1, 1, 2): one backend owns about a fifth of the slots. */
const VIP = 'api';
const CHANGED_VM = 'vm-a1';
const INSTALLS = 4;
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

const heapBefore = heapMb();
const base = benchSpec({});
const switchNames = [...base.gateways, ...base.hosts].map((s) => s.name);
const targets = new Map<string, TestTarget>();
for (const name of switchNames) {
  const sw = [...base.gateways, ...base.hosts].find((s) => s.name === name)!;
  targets.set(name, await startTestTarget({ ports: [1, 2], deviceId: BigInt(sw.p4runtime.deviceId) }));
}
const spec = benchSpec(Object.fromEntries([...targets].map(([n, t]) => [n, t.address])));
const pipelines = await buildPipelines(spec, 'embedded');
const down = new Set<string>();
const vmByPort = new Map(spec.vms.map((vm, i) => [10_000 + i, vm.name]));

function startController(): Controller {
  return new Controller({
    spec,
    dataDir: ':memory:',
    logger: silent,
    pipelines,
    backoff: { baseMs: 50, capMs: 400, jitter: 0 },
    resolveEndpoint: (_vip, vm) => ({ host: '127.0.0.1', port: 10_000 + spec.vms.findIndex((v) => v.name === vm.name) }),
    prober: async (endpoint): Promise<ProbeResult> => (down.has(vmByPort.get(endpoint.port)!) ? { ok: false, latencyMs: 0, error: 'down' } : { ok: true, latencyMs: 0 }),
  });
}

async function installed(controller: Controller): Promise<void> {
  await controller.waitUntilReconciled(120_000);
  // Health decides after the first reconcile: wait until the slot table is in.
  for (;;) {
    await controller.settled();
    const slots = controller.installedEntries(GATEWAY)?.entries.filter((e) => e.table === 'GatewayIngress.slot_table').length ?? 0;
    if (slots === SLOTS) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

// The controller's retained heap: with it installed, then with it stopped and dropped (the
// targets, in this process too, keep their tables either way).
async function firstInstall(): Promise<{ readonly ms: number; readonly heapMb: number; readonly peakMb: number; readonly refs: readonly WeakRef<object>[] }> {
  const first = startController();
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 10);
  const started = performance.now();
  await first.start();
  await installed(first);
  const ms = performance.now() - started;
  clearInterval(sampler);
  const heap = heapMb();
  const refs = [new WeakRef(first), new WeakRef(first.installedEntries(GATEWAY)!)];
  await first.stop();
  return { ms, heapMb: heap, peakMb: peak / 2 ** 20, refs };
}
const install = await firstInstall();
const firstInstallMs = install.ms;
const heapInstalled = install.heapMb;
// Let closing channels and timers let go of the stopped controller.
await new Promise((r) => setTimeout(r, 500));
const heapTargetsOnly = heapMb();
const collected = install.refs.every((r) => r.deref() === undefined);
console.log(
  `  first install of ${GATEWAY} (${SLOTS} slots, from start): ${firstInstallMs.toFixed(0)} ms; heap before ${heapBefore.toFixed(0)} MB, peak ${install.peakMb.toFixed(0)} MB, ` +
    `installed ${heapInstalled.toFixed(0)} MB, controller stopped ${heapTargetsOnly.toFixed(0)} MB → controller retains ${(heapInstalled - heapTargetsOnly).toFixed(0)} MB` +
    (collected ? '' : ' (not yet collected when measured: a lower bound)'),
);

// The controller of the timed changes, on the installed targets (its start reconciles: nothing to write).
const controller = startController();
const restartStarted = performance.now();
await controller.start();
await installed(controller);
console.log(`  controller restart on the installed gateway (read back, diff, nothing to write): ${(performance.now() - restartStarted).toFixed(0)} ms`);
let drained = false;
const convergence: number[] = [];

// Fresh gateways with the pipeline pushed, one per timed install (a P4 compile is no part of it).
const state = toDesiredState(controller.installedEntries(GATEWAY)!, GATEWAY_TABLE_ORDER);
const entryCount = Object.values(state.tables).reduce((n, t) => n + t.length, 0);
const gwSpec = spec.gateways[0]!;
const fresh: { target: TestTarget; connection: SwitchConnection }[] = [];
for (let i = 0; i < INSTALLS + 1; i++) {
  const target = await startTestTarget({ ports: [1, 2], deviceId: BigInt(gwSpec.p4runtime.deviceId) });
  const connection = new SwitchConnection({ address: () => target.address, deviceId: BigInt(gwSpec.p4runtime.deviceId), electionId: 10n, pipeline: pipelines.gateway });
  connection.start();
  await connection.waitFor('pipeline-ready');
  fresh.push({ target, connection });
}
let nextFresh = 0;

const suite: BenchSuite = {
  name: 'controller',
  description: `runtime controller, M = ${SLOTS} slots, one VIP (${VIP}), one gateway, embedded targets in-process over gRPC`,
  cases: [
    {
      name: `full install: reconcile of an empty gateway (${entryCount} entries: read, diff, write)`,
      group: 'install',
      opsPerCall: entryCount,
      warmup: 1,
      iterations: INSTALLS,
      fn: async () => {
        const { connection } = fresh[nextFresh++]!;
        const report = await reconcile(connection.client!, state, { pipelinePushed: false });
        if (report.inserted !== entryCount) throw new Error(`installed ${report.inserted} of ${entryCount}`);
      },
    },
    {
      name: `one-backend drain/undrain of ${CHANGED_VM} → acknowledged write`,
      group: 'change',
      warmup: 2,
      iterations: 10,
      fn: async () => {
        drained = !drained;
        await (drained ? controller.drain(CHANGED_VM) : controller.undrain(CHANGED_VM));
      },
    },
    {
      name: `one-backend health change of ${CHANGED_VM} (probe every 20 ms) → acknowledged write`,
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
      name: `spec change: ${CHANGED_VM} removed from / added back to ${VIP} (applySpec → slots written)`,
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
  ],
  async teardown() {
    if (convergence.length > 0) {
      const sorted = [...convergence].sort((a, b) => a - b);
      console.log(`  health transition → acknowledged write (controller's convergenceMs): median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted.at(-1)} ms over ${sorted.length}`);
    }
    await controller.stop();
    for (const { connection, target } of fresh) {
      connection.stop();
      await target.close();
    }
    for (const t of targets.values()) await t.close();
  },
};

export default suite;
