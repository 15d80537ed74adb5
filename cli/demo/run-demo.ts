/**
 * The end-to-end demo: the spec's deployment in network namespaces (bmv2-tests/e2e/system.ts),
 * real client traffic, a VM failure and recovery and a gateway loss, measured from both sides
 * (the controller's API and metrics, the clients' answers), then the report (cli/report/).
 * Every phase's outcome becomes a check; the topology is removed whatever happens.
 */
import { readFile } from 'node:fs/promises';
import { cpus, totalmem, type as osType, release } from 'node:os';
import { byCodeUnit } from '../../core/order.ts';
import { parseSpec } from '../../core/spec/load.ts';
import type { LbSpec } from '../../core/spec/schema.ts';
import { startSystem, type RunningSystem, type SystemTarget, type Bmv2Tools } from '../../bmv2-tests/e2e/system.ts';
import { runBurst, startHold, type BurstResult, type HoldSession } from '../../bmv2-tests/e2e/traffic.ts';
import { metricSum } from '../../bmv2-tests/e2e/metrics-text.ts';
import { buildVipDistribution, TimelineBuilder, validateReport, type Check, type DemoReport, type GatewayConvergence, type Phase, type VipDistribution, type VmChangeResult } from '../report/report-model.ts';

export interface DemoRunOptions {
  readonly specFile: string;
  readonly target: SystemTarget;
  readonly bmv2?: Bmv2Tools;
  /** One line of progress at a time. */
  readonly progress: (line: string) => void;
  readonly version: string;
  /** New connections per VIP for the distribution (default 2000). */
  readonly connections?: number;
  /** Long-lived connections held through the failures (default 100). */
  readonly heldConnections?: number;
}

const SAMPLE_MS = 250;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** New connections in a loop (batches of 40) so the timeline shows where new flows go; per-batch results kept. */
class ConnectionLoop {
  readonly batches: { start: number; end: number; result: BurstResult }[] = [];
  ok = 0;
  failed = 0;
  readonly perVm: Record<string, number> = {};
  private running = true;
  private readonly done: Promise<void>;

  constructor(system: RunningSystem, client: string, target: string, private readonly clock: () => number) {
    this.done = (async () => {
      while (this.running) {
        const start = this.clock();
        const result = await runBurst(system.topology, client, { target, count: 40, concurrency: 4, timeoutMs: 3000 });
        this.batches.push({ start, end: this.clock(), result });
        this.ok += result.ok;
        this.failed += result.failed;
        for (const [vm, n] of Object.entries(result.byVm)) this.perVm[vm] = (this.perVm[vm] ?? 0) + n;
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

function machine(): DemoReport['run']['machine'] {
  const list = cpus();
  return { os: `${osType()} ${release()}`, cpus: Math.max(1, list.length), ...(list[0] === undefined ? {} : { cpuModel: list[0].model }), memoryMiB: Math.round(totalmem() / 2 ** 20), node: process.version };
}

/** Each VM's expected share of a VIP's new connections: its slots per gateway, the router's ECMP splitting evenly. */
async function expectedSlots(system: RunningSystem, vip: string): Promise<Record<string, number>> {
  const reply = await system.api.vips();
  const status = reply.vips.find((v) => v.name === vip)!;
  const out: Record<string, number> = {};
  for (const b of status.backends) for (const g of Object.values(b.gateways)) out[b.vm] = (out[b.vm] ?? 0) + g.slots;
  return out;
}

/**
 * Waits until every gateway shows `vm` in `state` for `vip` with its slots to match. Returns per
 * gateway the ms from `sinceEpoch` (the change, ms since the epoch) to the controller's decision:
 * the controller's own time stamp of the health change, so this polling adds nothing to it (it
 * shares this machine's clock); the time this loop saw it when the controller has no stamp.
 */
async function watchChange(system: RunningSystem, spec: LbSpec, vip: string, vm: string, state: 'unhealthy' | 'healthy', sinceEpoch: number, timeoutMs: number): Promise<Record<string, number>> {
  const detection: Record<string, number> = {};
  const done = new Set<string>();
  const gateways = spec.gateways.map((g) => g.name);
  await system.until(async () => {
    for (const gw of gateways) {
      const view = await system.backendView(gw, vip, vm);
      if (detection[gw] === undefined && view.health === state) detection[gw] = (view.healthSince ?? Date.now()) - sinceEpoch;
      if (view.health === state && (state === 'unhealthy' ? view.slots === 0 : view.slots > 0)) done.add(gw);
    }
    return gateways.every((gw) => done.has(gw));
  }, timeoutMs, `${vm} ${state} on every gateway`);
  return detection;
}

/**
 * Mean of the controller's convergence observations per gateway since `before` (histogram sum
 * and count). The API shows new slots once computed, the histogram only once the write is
 * acknowledged: wait (bounded) for an observation on every gateway.
 */
async function convergenceSince(system: RunningSystem, gateways: readonly string[], before: Map<string, [number, number]>): Promise<Record<string, number | null>> {
  const out: Record<string, number | null> = {};
  for (let attempt = 0; attempt < 50; attempt++) {
    const samples = await system.metrics();
    for (const gw of gateways) {
      const sum = metricSum(samples, 'p4lb_convergence_seconds_sum', { gateway: gw }) - (before.get(gw)?.[0] ?? 0);
      const count = metricSum(samples, 'p4lb_convergence_seconds_count', { gateway: gw }) - (before.get(gw)?.[1] ?? 0);
      out[gw] = count > 0 ? Math.round((sum / count) * 1000) : null;
    }
    if (gateways.every((gw) => out[gw] !== null)) break;
    await sleep(100);
  }
  return out;
}

async function convergenceMark(system: RunningSystem, gateways: readonly string[]): Promise<Map<string, [number, number]>> {
  const samples = await system.metrics();
  return new Map(gateways.map((gw) => [gw, [metricSum(samples, 'p4lb_convergence_seconds_sum', { gateway: gw }), metricSum(samples, 'p4lb_convergence_seconds_count', { gateway: gw })]]));
}

/**
 * Who fails in the demo: the last gateway by name is lost (the first keeps its location's VMs in
 * reach), and the VIP's first backend at the lost gateway's location fails (for the example,
 * gw-west and vm-b1), else its last backend.
 */
export function demoCast(spec: LbSpec, vipName: string): { failingVm: string; lostGateway: string | undefined } {
  const vip = spec.vips.find((v) => v.name === vipName)!;
  const gateways = spec.gateways.map((g) => g.name).sort(byCodeUnit);
  const lostGateway = gateways.length > 1 ? gateways.at(-1) : undefined;
  const location = spec.gateways.find((g) => g.name === lostGateway)?.location;
  const locationOf = (vm: string): string | undefined => {
    const v = spec.vms.find((x) => x.name === vm)!;
    return v.location ?? spec.hosts.find((h) => h.name === v.host)?.location;
  };
  const failingVm = vip.backends.find((vm) => location !== undefined && locationOf(vm) === location) ?? vip.backends.at(-1)!;
  return { failingVm, lostGateway };
}

export async function runDemo(options: DemoRunOptions): Promise<DemoReport> {
  const started = Date.now();
  const clock = (): number => Date.now() - started;
  const date = new Date(started).toISOString();
  const specText = await readFile(options.specFile, 'utf8');
  const spec = parseSpec(specText, options.specFile);
  const phases: Phase[] = [];
  const checks: Check[] = [];
  const say = (line: string): void => options.progress(`[${(clock() / 1000).toFixed(1).padStart(5)} s] ${line}`);
  const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const startMs = clock();
    say(`${name}…`);
    try {
      const result = await work();
      phases.push({ name, startMs, endMs: clock(), ok: true });
      return result;
    } catch (error) {
      phases.push({ name, startMs, endMs: clock(), ok: false, notes: (error as Error).message.slice(0, 300) });
      throw error;
    }
  };

  const system = await phase('start the system', () =>
    startSystem({ specText, target: options.target, ...(options.bmv2 === undefined ? {} : { bmv2: options.bmv2 }), clients: 2, progress: (l) => say(`  ${l}`), readyTimeoutMs: 300_000 }),
  );
  const vms = spec.vms.map((v) => v.name);
  const gateways = spec.gateways.map((g) => g.name);
  const timeline = new TimelineBuilder(vms, SAMPLE_MS);
  const distribution: VipDistribution[] = [];
  let vmFailure: VmChangeResult | null = null;
  let vmRecovery: VmChangeResult | null = null;
  let gatewayLoss: DemoReport['results']['gatewayLoss'] = null;
  try {
    const count = options.connections ?? 2000;
    await phase(`distribution: ${count} new connections per VIP`, async () => {
      for (const vip of spec.vips.filter((v) => v.protocol === 'tcp')) {
        const target = `${vip.address}:${vip.ports[0]}`;
        // A connect that needs a SYN retransmission (1 s, then 3 s) on a busy machine still succeeds, as for any TCP client.
        const result = await runBurst(system.topology, 'client0', { target, count, concurrency: 16, timeoutMs: 8000, maxMs: 600_000 });
        const expected = await expectedSlots(system, vip.name);
        const d = buildVipDistribution({ vip: vip.name, address: target, expectedFrom: 'slots', connections: vip.backends.map((vm) => ({ vm, count: result.byVm[vm] ?? 0 })), expected });
        distribution.push(d);
        const worst = Math.max(...d.vms.map((v) => Math.abs(v.deviationPercent ?? 0)));
        checks.push({ name: `${vip.name}: every VM within ±15% of its share`, passed: result.failed === 0 && worst <= 15, detail: `${result.ok} of ${result.count} answered${result.failed === 0 ? '' : ` (failed: ${Object.entries(result.errors).map(([e, n]) => `${n} ${e}`).join(', ')})`}, ${result.connectionsPerSecond.toFixed(0)} connections/s, largest deviation ${worst.toFixed(1)}%` });
        say(`  ${vip.name}: ${d.vms.map((v) => `${v.vm} ${v.connections}`).join(', ')} (${result.connectionsPerSecond.toFixed(0)} connections/s)`);
      }
    });

    // Steady traffic for the rest: long-lived connections (client1) and new connections in a loop (client0), both to the NAT VIP, which has no geo preference.
    const natVip = spec.vips.find((v) => v.mode === 'nat' && v.protocol === 'tcp') ?? spec.vips[0]!;
    const natTarget = `${natVip.address}:${natVip.ports[0]}`;
    const { failingVm, lostGateway } = demoCast(spec, natVip.name);
    const held = options.heldConnections ?? 100;
    const hold: HoldSession = startHold(system.topology, 'client1', { target: natTarget, connections: held, intervalMs: 250, durationMs: 300_000, progressMs: SAMPLE_MS, requestTimeoutMs: 3000 });
    const ready = await hold.ready();
    timeline.event({ t: clock(), kind: 'traffic-start', label: `${held} connections held, new ones in a loop` });
    const loop = new ConnectionLoop(system, 'client0', natTarget, clock);
    const sampler = setInterval(() => {
      const p = hold.latest();
      const perVm: Record<string, number> = { ...loop.perVm };
      for (const [vm, n] of Object.entries(p?.requestsByVm ?? {})) perVm[vm] = (perVm[vm] ?? 0) + n;
      timeline.record({
        t: clock(),
        okTotal: loop.ok + (p === undefined ? 0 : p.requests - p.failedRequests),
        failedTotal: loop.failed + (p?.failedRequests ?? 0),
        perVmTotal: perVm,
        openConnections: p?.open ?? ready.open,
        brokenConnections: p?.broken ?? 0,
      });
    }, SAMPLE_MS);
    try {
      await sleep(4000);
      // The NAT VIP's own health check decides its tables (another VIP's checker of the same VM runs on its own timer).
      const check = natVip.healthCheck;
      const budgetMs = check.intervalMs * check.fall + 1000;
      await phase(`VM failure: ${failingVm}'s server stops`, async () => {
        const mark = await convergenceMark(system, gateways);
        const tables = (await system.slotTablesOf(failingVm)).filter((t) => t.vip === natVip.name);
        const at = clock();
        await system.stopVm(failingVm);
        timeline.event({ t: at, kind: 'vm-down', label: `${failingVm} down` });
        const detection = await watchChange(system, spec, natVip.name, failingVm, 'unhealthy', started + at, 30_000);
        // Removed means written: the controller observes its convergence once every gateway acknowledged the write.
        const controller = await convergenceSince(system, gateways, mark);
        const removedAt = await system.removalWrittenMs(tables, started + at, 30_000);
        timeline.event({ t: at + removedAt, kind: 'vm-removed', label: `${failingVm} removed` });
        await sleep(3000);
        // The data plane: from the stop to the first batch of new connections that began after it and reached the VM no more.
        const clean = loop.batches.find((b) => b.start >= at && (b.result.byVm[failingVm] ?? 0) === 0 && b.result.failed === 0);
        const dataPlane = clean === undefined ? null : clean.start - at;
        const late = loop.batches.filter((b) => b.start >= at + removedAt).reduce((n, b) => n + (b.result.byVm[failingVm] ?? 0), 0);
        vmFailure = {
          vm: failingVm,
          atMs: at,
          failedRequests: loop.batches.filter((b) => b.end >= at).reduce((n, b) => n + b.result.failed, 0),
          gateways: gateways.map((gw): GatewayConvergence => ({ gateway: gw, detectionMs: detection[gw] ?? null, controllerConvergenceMs: controller[gw] ?? null, dataPlaneConvergenceMs: dataPlane })),
        };
        checks.push({ name: `${failingVm} removed from ${natVip.name}'s slot table on every gateway within interval × fall + 1 s`, passed: removedAt <= budgetMs, detail: `${removedAt} ms to the acknowledged writes (budget ${budgetMs} ms)` });
        checks.push({ name: `no new connection reached ${failingVm} once removed`, passed: late === 0, detail: `${late} did` });
        say(`  written to every gateway ${removedAt} ms after the stop; from the deciding probe to the acknowledged write: ${gateways.map((gw) => `${gw} ${controller[gw] ?? '—'} ms`).join(', ')}`);
      });
      await phase(`VM recovery: ${failingVm}'s server starts again`, async () => {
        const mark = await convergenceMark(system, gateways);
        const at = clock();
        await system.startVm(failingVm);
        timeline.event({ t: at, kind: 'vm-up', label: `${failingVm} up` });
        const detection = await watchChange(system, spec, natVip.name, failingVm, 'healthy', started + at, 30_000);
        const controller = await convergenceSince(system, gateways, mark);
        const restoredAt = await system.slotsWrittenSince([natVip.name], started + at);
        timeline.event({ t: at + restoredAt, kind: 'vm-restored', label: `${failingVm} back` });
        await sleep(3000);
        const first = loop.batches.find((b) => b.start >= at && (b.result.byVm[failingVm] ?? 0) > 0);
        vmRecovery = {
          vm: failingVm,
          atMs: at,
          failedRequests: loop.batches.filter((b) => b.end >= at).reduce((n, b) => n + b.result.failed, 0),
          gateways: gateways.map((gw): GatewayConvergence => ({ gateway: gw, detectionMs: detection[gw] ?? null, controllerConvergenceMs: controller[gw] ?? null, dataPlaneConvergenceMs: first === undefined ? null : first.start - at })),
        };
        checks.push({ name: `new connections reach ${failingVm} again`, passed: first !== undefined, detail: first === undefined ? 'none did' : `from ${first.start - at} ms after its start` });
      });
      const brokenByFailure = hold.latest()?.broken ?? 0;
      checks.push({ name: `held connections broke only on ${failingVm}`, passed: brokenByFailure <= (ready.byVm[failingVm] ?? 0), detail: `${brokenByFailure} broke; ${ready.byVm[failingVm] ?? 0} were on ${failingVm}` });

      if (lostGateway === undefined) phases.push({ name: 'gateway loss', startMs: clock(), endMs: clock(), ok: true, notes: 'skipped: the spec has one gateway' });
      else await phase(`gateway loss: ${lostGateway}'s link is cut and its switch stops`, async () => {
        const before = hold.latest();
        const openBefore = before?.open ?? 0;
        const brokenBefore = before?.broken ?? 0;
        const at = clock();
        await system.loseGateway(lostGateway);
        timeline.event({ t: at, kind: 'gateway-down', label: `${lostGateway} down` });
        await sleep(6000);
        const after = hold.latest();
        const broken = (after?.broken ?? 0) - brokenBefore;
        gatewayLoss = { gateway: lostGateway, connectionsBefore: openBefore, survived: openBefore - broken, broken };
        checks.push({ name: `every held connection survived the loss of ${lostGateway}`, passed: broken === 0, detail: `${openBefore - broken} of ${openBefore}` });
        say(`  ${openBefore - broken} of ${openBefore} held connections survived`);
      });
    } finally {
      clearInterval(sampler);
      await loop.stop();
      const result = await hold.finish();
      timeline.event({ t: clock(), kind: 'traffic-stop', label: 'traffic stops' });
      checks.push({ name: 'held connections never changed VM', passed: result.vmChanges === 0, detail: `${result.vmChanges} changes in ${result.requests} requests` });
    }
  } finally {
    say('removing the topology');
    await system.destroy();
  }
  return validateReport({
    schemaVersion: 1,
    run: { date, deployment: spec.deployment, specFile: options.specFile, target: options.target, version: options.version, machine: machine() },
    phases,
    distribution,
    timeline: timeline.build(),
    results: { gatewayLoss, vmFailure, vmRecovery },
    checks,
  });
}
