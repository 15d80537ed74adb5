/**
 * For tests: the example deployment (2 gateways, 2 hosts, P4Runtime over gRPC on 127.0.0.1) on
 * in-process embedded targets or on simple_switch_grpc processes (bmv2-fleet.ts), with a real HTTP
 * server on 127.0.0.1 per VM as its backend, and a controller driving them. Short health
 * intervals and small tables keep runs fast.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parse, stringify } from 'yaml';
import { parseSpec } from '../../core/spec/load.ts';
import type { LbSpec } from '../../core/spec/schema.ts';
import { startTestTarget, type TestTarget } from '../../target/server/test-harness.ts';
import type { Bmv2Tools } from '../../bmv2-tests/dsl/runner.ts';
import { SwitchClient } from '../client/switch-client.ts';
import type { TableEntry } from '../lb/index.ts';
import { P4Schema } from '../schema/p4-schema.ts';
import { Controller, type ControllerOptions } from './controller.ts';
import { Bmv2Fleet, bmv2Availability } from './bmv2-fleet.ts';
import { buildPipelines, type RolePipelines } from './pipelines.ts';

export const EXAMPLE_SPEC = new URL('../../examples/example.yaml', import.meta.url);
/** fall 3: a probe that times out on a loaded test machine must not flap a backend. */
export const TEST_HEALTH = { intervalMs: 100, timeoutMs: 90, rise: 2, fall: 3 } as const;
/** Small enough to write quickly, at least 100 × the 4 backends as the spec requires. */
export const TEST_SLOTS = 512;

/** The example spec with its switches at `addresses` and test-sized health checks and tables. */
export function exampleSpecAt(addresses: Readonly<Record<string, string>>, tweaks: SpecTweaks = {}): LbSpec {
  return parseSpec(exampleSpecText(addresses, tweaks), 'example.yaml');
}

export interface SpecTweaks {
  /** Token TTL and skew (spec.tokens), e.g. a few seconds to see rotations in a test. */
  readonly tokens?: { readonly ttlSeconds: number; readonly clockSkewSeconds: number };
  /** Slot-table size of every VIP (default TEST_SLOTS); the example's full size is 65,536 (benchmarks). */
  readonly slots?: number;
}

/** exampleSpecAt as YAML text (for commands that read a file). */
export function exampleSpecText(addresses: Readonly<Record<string, string>>, tweaks: SpecTweaks = {}): string {
  const doc = parse(readFileSync(EXAMPLE_SPEC, 'utf8')) as {
    gateways: { name: string; p4runtime: { address: string } }[];
    hosts: { name: string; p4runtime: { address: string } }[];
    vips: { slots?: number; healthCheck: Record<string, unknown> }[];
    flowState: { slotsPerGateway: number };
    tokens: unknown;
  };
  for (const sw of [...doc.gateways, ...doc.hosts]) sw.p4runtime.address = addresses[sw.name] ?? sw.p4runtime.address;
  for (const vip of doc.vips) {
    vip.slots = tweaks.slots ?? TEST_SLOTS;
    vip.healthCheck = { ...vip.healthCheck, ...TEST_HEALTH };
  }
  doc.flowState.slotsPerGateway = 256;
  if (tweaks.tokens !== undefined) doc.tokens = tweaks.tokens;
  return stringify(doc);
}

/** One VM's backend: an HTTP server answering 200 on every path, restartable on the same port. */
export class Backend {
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A switch of a deployment as a test sees it: where it listens, and a way to send it frames. */
export interface DeployedSwitch {
  readonly address: string;
  /** Sends a frame into the switch on `port`. */
  send(port: number, frame: Uint8Array): void;
  /** BMv2's Thrift runtime service; none on the embedded target (it serves registers over P4Runtime). */
  readonly thrift?: { readonly host: string; readonly port: number };
}

/** Which switches a deployment runs on: in-process embedded targets, or simple_switch_grpc processes. */
export type DeploymentTarget = { readonly kind: 'embedded' } | { readonly kind: 'bmv2'; readonly tools: Bmv2Tools };

/** A deployment on either target. */
export interface SwitchDeployment {
  readonly kind: DeploymentTarget['kind'];
  readonly spec: LbSpec;
  readonly switches: ReadonlyMap<string, DeployedSwitch>;
  readonly backends: ReadonlyMap<string, Backend>;
  readonly controller: Controller;
  readonly pipelines: RolePipelines;
  readonly dataDir: string;
  /** What a controller of these switches needs beyond the spec (BMv2: Thrift register access). */
  readonly controllerOptions: Partial<ControllerOptions>;
  /** Reads a switch's entries through a client of its own (lb form: `keys`). */
  readEntries(switchName: string, table?: string): Promise<TableEntry[]>;
  /** A client of the switch's own (as a second, non-primary controller); the caller closes it. */
  openClient(switchName: string): SwitchClient;
  /** Replaces a switch by a fresh one (empty, no pipeline) at a new address the controller is told. */
  restartTarget(switchName: string): Promise<void>;
  close(): Promise<void>;
}

/** A deployment on embedded targets, whose ports a test can also listen to. */
export interface Deployment extends SwitchDeployment {
  readonly kind: 'embedded';
  readonly targets: Map<string, TestTarget>;
}

/**
 * The targets controller scenarios run on: the embedded target always, and BMv2 (simple_switch_grpc,
 * p4c) when SIMPLE_SWITCH_GRPC and P4C (or PATH) give them; otherwise the BMv2 suites are skipped, saying why.
 */
export interface TestTargetChoice {
  readonly name: string;
  readonly target: DeploymentTarget;
  readonly skip?: string;
}

export function controllerTestTargets(): readonly TestTargetChoice[] {
  const bmv2 = bmv2Availability();
  return [
    { name: 'embedded', target: { kind: 'embedded' } },
    bmv2.available ? { name: 'BMv2', target: { kind: 'bmv2', tools: bmv2.tools } } : { name: 'BMv2', target: { kind: 'embedded' }, skip: bmv2.reason },
  ];
}

/** A suite's name with its target, and why it is skipped. */
export const suiteName = (what: string, t: TestTargetChoice): string => `${what} (${t.name}${t.skip === undefined ? '' : `, skipped: ${t.skip}`})`;

const pipelineCache = new Map<DeploymentTarget['kind'], Promise<RolePipelines>>();

const silent = pino({ level: 'silent' });

const SWITCH_NAMES = ['gw-east', 'gw-west', 'host-a', 'host-b'] as const;
/** Ports a test sends frames into: the gateways' first port. */
const TEST_PORTS: Readonly<Record<string, readonly number[]>> = { 'gw-east': [1], 'gw-west': [1] };

function deviceIdOf(spec: LbSpec, name: string): bigint {
  const sw = spec.gateways.find((g) => g.name === name) ?? spec.hosts.find((h) => h.name === name);
  return BigInt(sw!.p4runtime.deviceId);
}

/** The switches under a deployment, whatever runs them. */
interface Fleet {
  readonly switches: ReadonlyMap<string, DeployedSwitch>;
  restart(name: string): Promise<string>;
  close(): Promise<void>;
  /** Controller options the target needs (BMv2: its Thrift register service). */
  readonly controllerOptions: Partial<ControllerOptions>;
}

async function embeddedFleet(base: LbSpec): Promise<Fleet & { targets: Map<string, TestTarget> }> {
  const targets = new Map<string, TestTarget>();
  const start = (name: string) => startTestTarget({ ports: [1, 2], deviceId: deviceIdOf(base, name) });
  try {
    for (const name of SWITCH_NAMES) targets.set(name, await start(name));
  } catch (err) {
    for (const t of targets.values()) await t.close();
    throw err;
  }
  const view = (name: string): DeployedSwitch => ({
    get address() {
      return targets.get(name)!.address;
    },
    send: (port, frame) => targets.get(name)!.wires.get(port)!.send(frame),
  });
  return {
    targets,
    switches: new Map(SWITCH_NAMES.map((n) => [n, view(n)])),
    async restart(name) {
      await targets.get(name)!.close();
      const fresh = await start(name);
      targets.set(name, fresh);
      return fresh.address;
    },
    async close() {
      for (const t of targets.values()) await t.close();
    },
    controllerOptions: { pipeline: 'embedded' },
  };
}

async function bmv2Fleet(base: LbSpec, tools: Bmv2Tools): Promise<Fleet> {
  const fleet = await Bmv2Fleet.start(tools, SWITCH_NAMES.map((name) => ({ name, deviceId: Number(deviceIdOf(base, name)), ports: TEST_PORTS[name] ?? [] })));
  return {
    switches: fleet.switches,
    async restart(name) {
      return (await fleet.restart(name)).address;
    },
    close: () => fleet.close(),
    // Read at each (re)connection, so a restarted switch's new Thrift port is used.
    controllerOptions: { pipeline: 'bmv2', registerAccess: (name) => ({ thrift: fleet.get(name).thrift }) },
  };
}

function pipelinesFor(spec: LbSpec, target: DeploymentTarget): Promise<RolePipelines> {
  let cached = pipelineCache.get(target.kind);
  if (cached === undefined) {
    // Addresses differ between runs; the programs do not.
    cached = target.kind === 'embedded' ? buildPipelines(spec, 'embedded') : buildPipelines(spec, 'bmv2', { P4C: target.tools.p4c });
    pipelineCache.set(target.kind, cached);
    cached.catch(() => pipelineCache.delete(target.kind));
  }
  return cached;
}

/** The example deployment on embedded targets (see startDeploymentOn). */
export async function startDeployment(extra: Partial<ControllerOptions> = {}, tweaks: SpecTweaks = {}): Promise<Deployment> {
  const base = exampleSpecAt({});
  const fleet = await embeddedFleet(base);
  const d = await deploy({ kind: 'embedded' }, fleet, extra, tweaks);
  return { ...d, kind: 'embedded', targets: fleet.targets };
}

/** The example deployment on `target`: four switches, a backend server per VM, a started controller. */
export async function startDeploymentOn(target: DeploymentTarget, extra: Partial<ControllerOptions> = {}, tweaks: SpecTweaks = {}): Promise<SwitchDeployment> {
  if (target.kind === 'embedded') return startDeployment(extra, tweaks);
  const base = exampleSpecAt({});
  return deploy(target, await bmv2Fleet(base, target.tools), extra, tweaks);
}

async function deploy(target: DeploymentTarget, fleet: Fleet, extra: Partial<ControllerOptions>, tweaks: SpecTweaks): Promise<SwitchDeployment> {
  const backends = new Map<string, Backend>();
  let controller: Controller | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'p4lb-controller-'));
  const close = async () => {
    await controller?.stop();
    for (const b of backends.values()) await b.stop();
    await fleet.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const spec = exampleSpecAt(Object.fromEntries([...fleet.switches].map(([n, t]) => [n, t.address])), tweaks);
    for (const vm of spec.vms) {
      const b = new Backend();
      backends.set(vm.name, b);
      await b.start();
    }
    const pipelines = await pipelinesFor(spec, target);
    controller = new Controller({
      spec,
      dataDir,
      logger: silent,
      pipelines,
      backoff: { baseMs: 50, capMs: 400, jitter: 0 },
      resolveEndpoint: (_vip, vm) => ({ host: '127.0.0.1', port: backends.get(vm.name)!.port }),
      ...fleet.controllerOptions,
      ...extra,
    });
    await controller.start();
    const running = controller;
    const openClient = (switchName: string): SwitchClient => {
      const role = spec.gateways.some((g) => g.name === switchName) ? 'gateway' : 'host';
      return new SwitchClient({
        address: fleet.switches.get(switchName)!.address,
        deviceId: deviceIdOf(spec, switchName),
        electionId: 1n,
        schema: P4Schema.fromP4Info(pipelines[role].p4info),
      });
    };
    const readEntries = async (switchName: string, table?: string): Promise<TableEntry[]> => {
      const client = openClient(switchName);
      try {
        const entries = await client.readTableEntries(table);
        const schema = client.requireSchema();
        return entries
          .filter((e) => e.isDefaultAction !== true)
          .map((e) => {
            // A read leaves a don't-care lpm field (/0) out; lb's entries spell it.
            const keys: Record<string, TableEntry['keys'][string]> = { ...e.match };
            for (const f of schema.table(e.table).matchFields) if (f.kind === 'lpm' && keys[f.name] === undefined) keys[f.name] = { value: 0n, prefixLength: 0 };
            return { table: e.table, keys, action: e.action!, params: e.params, ...(e.priority === undefined ? {} : { priority: e.priority }) };
          });
      } finally {
        client.close();
      }
    };
    return {
      kind: target.kind,
      spec,
      switches: fleet.switches,
      backends,
      controller: running,
      pipelines,
      dataDir,
      controllerOptions: fleet.controllerOptions,
      readEntries,
      openClient,
      async restartTarget(switchName) {
        running.setAddress(switchName, await fleet.restart(switchName));
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** startDeployment, then wait until every switch is reconciled and the controller has written everything. */
export async function startSettledDeployment(extra: Partial<ControllerOptions> = {}, tweaks: SpecTweaks = {}): Promise<Deployment> {
  const d = await startDeployment(extra, tweaks);
  await d.controller.waitUntilReconciled(60_000);
  await d.controller.settled();
  return d;
}

/** Every backend healthy for every VIP on every gateway, as `c` sees it. */
export function allBackendsHealthy(c: Controller): boolean {
  return c.vipStatus().every((v) => v.backends.every((b) => Object.values(b.gateways).every((g) => g.health === 'healthy')));
}

/**
 * startDeploymentOn, then wait until every switch is reconciled, every backend is healthy and the
 * writes that followed are done: a deployment at rest, whose next write is the test's own.
 */
export async function startHealthyDeploymentOn(target: DeploymentTarget, extra: Partial<ControllerOptions> = {}, tweaks: SpecTweaks = {}): Promise<SwitchDeployment> {
  const d = await startDeploymentOn(target, extra, tweaks);
  try {
    await d.controller.waitUntilReconciled(60_000);
    await eventually(() => allBackendsHealthy(d.controller), 15_000, 'every backend healthy');
    await d.controller.settled();
  } catch (error) {
    await d.close();
    throw error;
  }
  return d;
}

/** Polls `check` every 20 ms until it holds; returns the elapsed ms, or throws after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
