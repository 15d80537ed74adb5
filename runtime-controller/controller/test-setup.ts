/**
 * For tests: the example deployment on real in-process embedded targets (2 gateways, 2 hosts,
 * P4Runtime over gRPC on 127.0.0.1) with a real HTTP server on 127.0.0.1 per VM as its backend,
 * and a controller driving them. Short health intervals and small tables keep runs fast.
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
import { SwitchClient } from '../client/switch-client.ts';
import type { TableEntry } from '../lb/index.ts';
import { P4Schema } from '../schema/p4-schema.ts';
import { Controller, type ControllerOptions } from './controller.ts';
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

export interface Deployment {
  readonly spec: LbSpec;
  readonly targets: Map<string, TestTarget>;
  readonly backends: ReadonlyMap<string, Backend>;
  readonly controller: Controller;
  readonly pipelines: RolePipelines;
  readonly dataDir: string;
  /** Reads a switch's entries through a client of its own (lb form: `keys`). */
  readEntries(switchName: string, table?: string): Promise<TableEntry[]>;
  /** Replaces a switch's target by a fresh one (empty, no pipeline) at a new address the controller is told. */
  restartTarget(switchName: string): Promise<void>;
  close(): Promise<void>;
}

let pipelineCache: RolePipelines | undefined;

const silent = pino({ level: 'silent' });

function deviceIdOf(spec: LbSpec, name: string): bigint {
  const sw = spec.gateways.find((g) => g.name === name) ?? spec.hosts.find((h) => h.name === name);
  return BigInt(sw!.p4runtime.deviceId);
}

export async function startDeployment(extra: Partial<ControllerOptions> = {}, tweaks: SpecTweaks = {}): Promise<Deployment> {
  const names = ['gw-east', 'gw-west', 'host-a', 'host-b'];
  const base = exampleSpecAt({});
  const targets: Deployment['targets'] = new Map();
  for (const name of names) targets.set(name, await startTestTarget({ ports: [1, 2], deviceId: deviceIdOf(base, name) }));
  const spec = exampleSpecAt(Object.fromEntries([...targets].map(([n, t]) => [n, t.address])), tweaks);
  const backends = new Map<string, Backend>();
  for (const vm of spec.vms) {
    const b = new Backend();
    await b.start();
    backends.set(vm.name, b);
  }
  pipelineCache ??= await buildPipelines(spec, 'embedded');
  const pipelines = pipelineCache;
  const dataDir = mkdtempSync(join(tmpdir(), 'p4lb-controller-'));
  const controller = new Controller({
    spec,
    dataDir,
    logger: silent,
    pipelines,
    backoff: { baseMs: 50, capMs: 400, jitter: 0 },
    resolveEndpoint: (_vip, vm) => ({ host: '127.0.0.1', port: backends.get(vm.name)!.port }),
    ...extra,
  });
  await controller.start();
  const readEntries = async (switchName: string, table?: string): Promise<TableEntry[]> => {
    const role = spec.gateways.some((g) => g.name === switchName) ? 'gateway' : 'host';
    const client = new SwitchClient({
      address: targets.get(switchName)!.address,
      deviceId: deviceIdOf(spec, switchName),
      electionId: 1n,
      schema: P4Schema.fromP4Info(pipelines[role].p4info),
    });
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
    spec,
    targets,
    backends,
    controller,
    pipelines,
    dataDir,
    readEntries,
    async restartTarget(switchName) {
      const old = targets.get(switchName)!;
      await old.close();
      const fresh = await startTestTarget({ ports: [1, 2], deviceId: deviceIdOf(spec, switchName) });
      targets.set(switchName, fresh);
      controller.setAddress(switchName, fresh.address);
    },
    async close() {
      await controller.stop();
      for (const b of backends.values()) await b.stop();
      for (const t of targets.values()) await t.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
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
