/**
 * The whole system in a namespace topology: the example deployment's four switches (our embedded
 * target, or BMv2's simple_switch_grpc), the VMs' servers, and one `p4lb run` controller, all as
 * real processes. The switches and the controller run in the topology's switches namespace: the
 * switches' P4Runtime (and BMv2's Thrift) ports are that namespace's loopback, the controller
 * probes the VMs over the management bridge, and its admin API is a Unix socket that this process
 * (in any namespace) reaches. Everything is removed by `destroy()`, also after a failed start.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { parseSpec } from '../../core/spec/load.ts';
import type { LbSpec } from '../../core/spec/schema.ts';
import { AdminClient, type VipsReply } from '../../runtime-controller/api/client.ts';
import { gatewayView, healthyBackends } from '../../runtime-controller/lb/backends.ts';
import { E2eError } from './errors.ts';
import { metricSum, parseMetrics, type Sample } from './metrics-text.ts';
import type { SpawnedProcess } from './spawned-process.ts';
import { buildTopology, type Topology } from './topology.ts';
import { startVmServer, startVmServers, type VmServer } from './vm-servers.ts';

export type SystemTarget = 'embedded' | 'bmv2';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const P4LB = join(REPO, 'bin', 'p4lb.js');
/** As bin/p4lb.js's own command line asks (a spawn through process.execPath skips the shebang). */
const NODE_FLAGS = ['--max-semi-space-size=64'];
export const EXAMPLE_SPEC_FILE = join(REPO, 'examples', 'example.yaml');

/**
 * Health checks quick enough for tests, slow enough not to flap on a loaded 2-core machine: a VM
 * whose probes time out is removed with its backend entries, and its pinned connections are
 * rehashed (that is the design), so a flap during a scenario breaks connections that should live.
 */
export const E2E_HEALTH = { intervalMs: 400, timeoutMs: 350, rise: 2, fall: 3 } as const;

/** A VIP's slot table on one gateway, and when the gateway last acknowledged a change of it (ms since the epoch). */
export interface SlotTableMark {
  readonly vip: string;
  readonly gateway: string;
  readonly writtenAt: number | undefined;
}

export interface E2eSpecOptions {
  /** Slot-table size of every VIP (default: the spec's). */
  readonly slots?: number;
  /** Overrides of every VIP's health-check timing (default E2E_HEALTH; null keeps the spec's). */
  readonly health?: { readonly intervalMs: number; readonly timeoutMs: number; readonly rise: number; readonly fall: number } | null;
  /** Token lifetime (default: the spec's); short to see tokens expire within a test. */
  readonly tokens?: { readonly ttlSeconds: number; readonly clockSkewSeconds: number };
}

/** A spec file's text with test timings; the switches stay at their loopback P4Runtime addresses. */
export function e2eSpecText(specText: string, options: E2eSpecOptions = {}): string {
  const doc = parse(specText) as { vips: { slots?: number; healthCheck: Record<string, unknown> }[]; tokens?: unknown };
  if (options.tokens !== undefined) doc.tokens = options.tokens;
  const health = options.health === undefined ? E2E_HEALTH : options.health;
  for (const vip of doc.vips) {
    if (options.slots !== undefined) vip.slots = options.slots;
    if (health !== null) vip.healthCheck = { ...vip.healthCheck, ...health };
  }
  return stringify(doc);
}

export interface Bmv2Tools {
  readonly simpleSwitchGrpc: string;
  readonly p4c: string;
}

export interface SystemOptions {
  /** The spec's YAML text (switch addresses on 127.0.0.1: they are the switches namespace's). */
  readonly specText: string;
  readonly target: SystemTarget;
  /** Needed for target 'bmv2'. */
  readonly bmv2?: Bmv2Tools;
  readonly clients?: number;
  readonly tag?: string;
  /** Progress lines ("starting switches", …) for a display. */
  readonly progress?: (line: string) => void;
  readonly readyTimeoutMs?: number;
  /** How often the controller reads the switches' counters (default 500 ms). */
  readonly metricsPollMs?: number;
}

/**
 * Idle keep-alive connections stay open 15 s, as a web server's would (Node's default is 5 s): a
 * client whose timer runs late on a loaded machine must not find its connection closed.
 */
const VM_SERVER_OPTIONS = { keepAliveMs: 15_000 } as const;

/** BMv2's Thrift runtime port of the k-th switch (each BMv2 needs its own in the shared namespace). */
export const BMV2_THRIFT_BASE_PORT = 9090;

export class RunningSystem {
  readonly api: AdminClient;
  readonly switches = new Map<string, SpawnedProcess>();
  readonly vmServers = new Map<string, VmServer>();
  controller: SpawnedProcess | undefined;

  constructor(
    readonly topology: Topology,
    readonly spec: LbSpec,
    readonly target: SystemTarget,
    readonly dataDir: string,
    readonly specFile: string,
    readonly apiToken: string,
  ) {
    this.api = new AdminClient({ api: `unix:${join(dataDir, 'api.sock')}`, token: apiToken, timeoutMs: 10_000 });
  }

  get controlNamespace(): string {
    return this.topology.layout.management!.netns;
  }

  async metrics(): Promise<Sample[]> {
    return parseMetrics(await this.api.metrics());
  }

  async metric(name: string, labels: Readonly<Record<string, string>> = {}): Promise<number> {
    return metricSum(await this.metrics(), name, labels);
  }

  /** One gateway's view of a VM's health for a VIP, and the slots the VM owns there. */
  /** A backend as one gateway sees it; `healthSince` is when it entered that health state (the controller's clock, ms since the epoch). */
  async backendView(gateway: string, vip: string, vm: string): Promise<{ health: string; healthSince: number | undefined; slots: number; drained: boolean }> {
    const reply = await this.api.vips();
    const backend = reply.vips.find((v) => v.name === vip)?.backends.find((b) => b.vm === vm);
    const view = backend?.gateways[gateway];
    if (backend === undefined || view === undefined) throw new E2eError('E2E_UNKNOWN_NAME', `no backend ${vm} of VIP ${vip} on gateway ${gateway}`);
    return { health: view.health, healthSince: view.healthSince, slots: view.slots, drained: backend.drained };
  }

  /**
   * Ms from `sinceEpoch` to the last acknowledged change of these VIPs' slot tables on any
   * gateway, from the controller's own time stamps (this machine's clock): what a poll adds is
   * not in it. Call once the change is known to be written; gateways that needed no write since
   * then count 0.
   */
  /**
   * The slot tables (VIP, gateway) in which `vm` owns slots now, with the stamp of their last
   * acknowledged write: the tables its removal must rewrite (see removalWrittenMs).
   */
  async slotTablesOf(vm: string): Promise<SlotTableMark[]> {
    const reply = await this.api.vips();
    return reply.vips.flatMap((v) =>
      Object.entries(v.backends.find((b) => b.vm === vm)?.gateways ?? {})
        .filter(([, g]) => g.slots > 0)
        .map(([gateway]) => ({ vip: v.name, gateway, writtenAt: v.slotsWrittenAt[gateway] })),
    );
  }

  /**
   * Waits until every table of `marks` has been written again (a newer stamp), then gives the ms
   * from `sinceEpoch` to the last of those writes, by the controller's own time stamps (this
   * machine's clock): what this polling adds is not in it.
   */
  async removalWrittenMs(marks: readonly SlotTableMark[], sinceEpoch: number, timeoutMs: number): Promise<number> {
    let latest = sinceEpoch;
    await this.until(async () => {
      const reply = await this.api.vips();
      latest = sinceEpoch;
      for (const m of marks) {
        const at = reply.vips.find((v) => v.name === m.vip)?.slotsWrittenAt[m.gateway];
        if (at === undefined || (m.writtenAt !== undefined && at <= m.writtenAt)) return false;
        latest = Math.max(latest, at);
      }
      return true;
    }, timeoutMs, `slot tables rewritten: ${marks.map((m) => `${m.vip} on ${m.gateway}`).join(', ')}`);
    return latest - sinceEpoch;
  }

  async slotsWrittenSince(vips: readonly string[], sinceEpoch: number): Promise<number> {
    const reply = await this.api.vips();
    const unknown = vips.filter((name) => !reply.vips.some((v) => v.name === name));
    if (unknown.length > 0) throw new E2eError('E2E_UNKNOWN_NAME', `no VIP named ${unknown.join(', ')}`);
    const stamps = reply.vips.filter((v) => vips.includes(v.name)).flatMap((v) => Object.values(v.slotsWrittenAt));
    return Math.max(0, ...stamps.map((t) => t - sinceEpoch));
  }

  /** Stops a VM's server (its connections are closed by the server). */
  async stopVm(vm: string): Promise<void> {
    const server = this.vmServers.get(vm);
    if (server === undefined) throw new E2eError('E2E_UNKNOWN_NAME', `VM ${vm} has no running server`);
    this.vmServers.delete(vm);
    await server.process.stop();
  }

  async startVm(vm: string): Promise<void> {
    if (this.vmServers.has(vm)) throw new E2eError('E2E_SERVER_FAILED', `VM ${vm}'s server already runs`);
    const server = await startVmServer(this.topology, this.spec, vm, VM_SERVER_OPTIONS);
    if (server !== undefined) this.vmServers.set(vm, server);
  }

  /** A gateway's loss: the router's link to it goes down (ECMP drops that next hop), then its switch stops. */
  async loseGateway(gateway: string): Promise<void> {
    const link = this.topology.layout.router.gatewayLinks.find((l) => l.gateway === gateway);
    const sw = this.switches.get(gateway);
    if (link === undefined || sw === undefined) throw new E2eError('E2E_UNKNOWN_NAME', `no running gateway ${gateway}`);
    await this.topology.exec(this.topology.layout.router.netns, 'ip', ['link', 'set', link.ifname, 'down']);
    await sw.stop();
  }

  /** Polls `check` every 100 ms until it holds; the elapsed ms, or E2E_TIMEOUT naming `what`. */
  async until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<number> {
    const started = Date.now();
    this.notConverged = undefined;
    let last: unknown;
    for (;;) {
      try {
        if (await check()) return Date.now() - started;
      } catch (error) {
        last = error;
      }
      if (Date.now() - started > timeoutMs) {
        const why = last !== undefined ? ` (last error: ${(last as Error).message})` : this.notConverged !== undefined ? ` (${this.notConverged})` : '';
        throw new E2eError('E2E_TIMEOUT', `${what}: not within ${timeoutMs} ms${why}`, { hint: this.diagnostics() });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Why the system has not converged yet (for a timeout's message). */
  notConverged: string | undefined;

  /**
   * Every switch ready and primary, every backend healthy on every gateway, and every VIP's slot
   * table on every gateway owned by exactly the backends its selection rule picks (geo
   * preference leaves far backends without slots).
   */
  async converged(reply?: VipsReply): Promise<boolean> {
    const switches = await this.api.gateways();
    const waiting = [...switches.gateways, ...switches.hosts].filter((s) => s.phase !== 'pipeline-ready' || !s.primary);
    if (waiting.length > 0) {
      this.notConverged = `switches not ready: ${waiting.map((s) => `${s.name} ${s.phase}${s.primary ? '' : ' (not primary)'}${s.lastError === undefined ? '' : ` ${s.lastError}`}`).join(', ')}`;
      return false;
    }
    const vips = reply ?? (await this.api.vips());
    const pending: string[] = [];
    for (const vip of vips.vips) {
      for (const b of vip.backends) {
        for (const [gw, g] of Object.entries(b.gateways)) {
          if (g.health !== 'healthy') pending.push(`${vip.name}/${b.vm}@${gw} ${g.health}`);
        }
      }
      for (const [gw, status] of Object.entries(vip.tableStatus)) if (status !== 'ok') pending.push(`${vip.name}@${gw} table ${status}`);
      // The slot tables follow the health view: exactly the backends the selection rule picks own slots.
      const specVip = this.spec.vips.find((v) => v.name === vip.name)!;
      for (const gateway of this.spec.gateways) {
        const view = gatewayView({ isHealthy: (_v, vm) => vip.backends.find((b) => b.vm === vm)?.gateways[gateway.name]?.health === 'healthy' }, vips.drained);
        const selection = healthyBackends(this.spec, gateway, specVip, view);
        const want = selection.ok ? selection.vms.map((v) => v.name).sort() : [];
        const have = vip.backends.filter((b) => (b.gateways[gateway.name]?.slots ?? 0) > 0).map((b) => b.vm).sort();
        if (selection.ok && want.join() !== have.join()) pending.push(`${vip.name}@${gateway.name} slots for [${have.join(', ')}], expected [${want.join(', ')}]`);
      }
    }
    this.notConverged = pending.length === 0 ? undefined : `backends not in service: ${pending.join(', ')}`;
    return pending.length === 0;
  }

  /** The last lines of each process's output, for a failure message. */
  diagnostics(): string {
    const tail = (p: SpawnedProcess | undefined): string => (p === undefined ? '(not started)' : p.output().trim().split('\n').slice(-6).join('\n    '));
    const parts = [`controller:\n    ${tail(this.controller)}`];
    for (const [name, p] of this.switches) parts.push(`${name}:\n    ${tail(p)}`);
    return parts.join('\n  ');
  }

  async destroy(): Promise<void> {
    try {
      await this.topology.destroy();
    } finally {
      rmSync(this.dataDir, { recursive: true, force: true });
    }
  }
}

function deviceOf(spec: LbSpec, name: string): { address: string; deviceId: number; cpu: number | undefined } {
  const gw = spec.gateways.find((g) => g.name === name);
  if (gw !== undefined) return { address: gw.p4runtime.address, deviceId: gw.p4runtime.deviceId, cpu: gw.ports.cpu };
  const host = spec.hosts.find((h) => h.name === name)!;
  return { address: host.p4runtime.address, deviceId: host.p4runtime.deviceId, cpu: host.ports.cpu };
}

function startSwitch(system: RunningSystem, name: string, index: number, options: SystemOptions): { process: SpawnedProcess; ready: RegExp } {
  const { address, deviceId, cpu } = deviceOf(system.spec, name);
  if (!/^(127\.0\.0\.1|localhost):\d+$/.test(address)) {
    throw new E2eError('E2E_PLAN_INVALID', `switch ${name}'s P4Runtime address ${address} must be on 127.0.0.1 (the switches namespace's loopback)`);
  }
  const ports = system.topology.switchPorts(name);
  if (options.target === 'embedded') {
    const args = [...NODE_FLAGS, P4LB, 'target', '--grpc', address, '--device-id', String(deviceId), ...ports.interfaceArgs, ...(cpu === undefined ? [] : ['--cpu-port', String(cpu)])];
    return { process: system.topology.spawn(ports.netns, process.execPath, args), ready: /P4Runtime on / };
  }
  const tools = options.bmv2!;
  const args = [
    '--no-p4',
    '--device-id', String(deviceId),
    '--thrift-port', String(BMV2_THRIFT_BASE_PORT + index),
    ...ports.interfaceArgs,
    '--',
    '--grpc-server-addr', address,
    ...(cpu === undefined ? [] : ['--cpu-port', String(cpu)]),
  ];
  // BMv2 prints nothing once its gRPC server listens: take its start, the controller's reconnect backoff covers the rest.
  return { process: system.topology.spawn(ports.netns, tools.simpleSwitchGrpc, args), ready: /program-options parser/ };
}

/** Builds the topology, starts every process and waits until the controller has converged. */
export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const progress = options.progress ?? ((): void => undefined);
  if (options.target === 'bmv2' && options.bmv2 === undefined) throw new E2eError('E2E_PLAN_INVALID', 'target bmv2 needs the paths of simple_switch_grpc and p4c');
  const spec = parseSpec(options.specText, 'e2e spec');
  progress('building the namespace topology');
  const topology = await buildTopology(spec, { clients: options.clients ?? 2, ...(options.tag === undefined ? {} : { tag: options.tag }) });
  const dataDir = mkdtempSync(join(tmpdir(), `p4lb-e2e-${topology.tag}-`));
  const specFile = join(dataDir, 'spec.yaml');
  writeFileSync(specFile, options.specText);
  const token = randomBytes(32).toString('hex');
  const system = new RunningSystem(topology, spec, options.target, dataDir, specFile, token);
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  try {
    if (topology.layout.management === undefined) throw new E2eError('E2E_PLAN_INVALID', 'the system needs its switches in a namespace');
    for (const warning of topology.warnings) progress(`warning: ${warning}`);
    progress('starting the VM servers');
    const servers = await startVmServers(topology, spec, VM_SERVER_OPTIONS);
    for (const [vm, server] of servers.servers) system.vmServers.set(vm, server);

    const names = [...spec.gateways.map((g) => g.name), ...spec.hosts.map((h) => h.name)];
    progress(`starting ${names.length} ${options.target === 'embedded' ? 'embedded targets' : 'simple_switch_grpc switches'}`);
    const started = names.map((name, i) => {
      const s = startSwitch(system, name, i, options);
      system.switches.set(name, s.process);
      return s.process.waitForOutput(s.ready, 60_000);
    });
    await Promise.all(started);

    progress('starting the controller (p4lb run)');
    const env = { ...process.env, P4LB_API_TOKEN: token, ...(options.bmv2 === undefined ? {} : { P4C: options.bmv2.p4c }) };
    const args = [...NODE_FLAGS, P4LB, 'run', specFile, '--data-dir', join(dataDir, 'registry'), '--api', `unix:${join(dataDir, 'api.sock')}`, '--metrics-poll-ms', String(options.metricsPollMs ?? 500)];
    if (options.target === 'bmv2') args.push('--bmv2', ...names.flatMap((name, i) => ['--thrift', `${name}=127.0.0.1:${BMV2_THRIFT_BASE_PORT + i}`]));
    system.controller = topology.spawn(system.controlNamespace, process.execPath, args, { env });
    await system.controller.waitForOutput(/admin API listening/, 60_000);
    progress('waiting for pipelines, tables and healthy backends');
    await system.until(() => system.converged(), readyTimeoutMs, 'switches ready and every backend healthy');
    return system;
  } catch (error) {
    const diagnostics = system.diagnostics();
    await system.destroy();
    if (error instanceof E2eError && error.code === 'E2E_TIMEOUT') throw error;
    throw new E2eError('E2E_START_FAILED', `the system did not start: ${(error as Error).message}`, { hint: diagnostics, cause: error });
  }
}
