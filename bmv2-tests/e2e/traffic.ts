/**
 * Client traffic for end-to-end scenarios: runs traffic-client.js (plain node) inside a client
 * namespace of a topology and reads its JSON lines into typed results. Bursts of new connections
 * (which VM answered each, errors, latency), held keep-alive connections (which broke, which saw
 * another VM), and a bulk download (throughput). Every run is bounded by the script's own
 * `--max-ms` and, should the script hang anyway, by a watchdog here that kills it.
 */
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { didYouMean } from '../../core/errors.ts';
import { E2eError } from './errors.ts';
import type { SpawnedProcess, SpawnOptions } from './spawned-process.ts';

export const TRAFFIC_CLIENT_SCRIPT = fileURLToPath(new URL('./traffic-client.js', import.meta.url));
/** The script's own defaults, repeated here only to size the watchdog. */
const SCRIPT_MAX_MS = 120_000;
const SCRIPT_TIMEOUT_MS = 2000;
/** Time the script may take beyond its own bounds (node start-up, a polite close) before it is killed. */
const WATCHDOG_SLACK_MS = 10_000;
/** The script's exit status for bad arguments. */
const USAGE_EXIT = 2;

/** What the traffic tools need of a topology (a `Topology` is one): client namespaces and spawning. */
export interface TrafficHost {
  readonly layout: { readonly clients: readonly { readonly name: string; readonly netns: string }[] };
  spawn(netns: string | undefined, cmd: string, args: readonly string[], options?: SpawnOptions): SpawnedProcess;
}

/** `'203.0.113.10:80'` or `{ address, port }` (a ListenAddress). */
export type TrafficTarget = string | { readonly address: string; readonly port: number };

export interface BurstOptions {
  readonly target: TrafficTarget;
  readonly count: number;
  readonly concurrency: number;
  /** Per connection, connect to last byte (script default 2000). */
  readonly timeoutMs?: number;
  /** Every connection from this one source port, one after another: the same 5-tuple each time. */
  readonly localPort?: number;
  /** Source ports cycled in order, each carrying one connection at a time. */
  readonly sourcePorts?: { readonly from: number; readonly to: number };
  readonly maxMs?: number;
}

export interface HoldOptions {
  readonly target: TrafficTarget;
  readonly connections: number;
  /** A request on each connection this often; vm-http-server.js closes connections idle for 1 s by default. */
  readonly intervalMs: number;
  readonly durationMs: number;
  /** A request unanswered this long breaks its connection (script default 2000). */
  readonly requestTimeoutMs?: number;
  /** How often a progress line comes (script default 1000 ms). */
  readonly progressMs?: number;
  readonly maxMs?: number;
}

export interface BulkOptions {
  readonly target: TrafficTarget;
  readonly bytes: number;
  /** Fails when no byte arrives for this long (script default 10000). */
  readonly timeoutMs?: number;
  readonly maxMs?: number;
}

const count = z.number().int().nonnegative();
const counts = z.record(z.string(), count);
const ms = z.number().nonnegative();

const connectionLine = z.object({
  type: z.literal('connection'),
  i: count,
  localPort: count.nullable(),
  ok: z.boolean(),
  vm: z.string().optional(),
  error: z.string().optional(),
  detail: z.string().optional(),
  latencyMs: ms,
});
const burstResultLine = z.object({
  type: z.literal('burst-result'),
  count,
  ok: count,
  failed: count,
  byVm: counts,
  errors: counts,
  elapsedMs: ms,
  connectionsPerSecond: ms,
  latencyMs: z.object({ p50: ms.nullable(), p90: ms.nullable(), p99: ms.nullable(), max: ms.nullable() }),
  stoppedBy: z.literal('max-ms').optional(),
});
const holdCounts = { t: ms, open: count, broken: count, requests: count, failedRequests: count };
const holdProgressLine = z.object({ type: z.literal('hold-progress'), ...holdCounts, requestsByVm: counts });
const holdReadyLine = z.object({ type: z.literal('hold-ready'), ...holdCounts, byVm: counts });
const holdResultLine = z.object({
  type: z.literal('hold-result'),
  endedBy: z.enum(['finish', 'stop', 'duration', 'max-ms']),
  elapsedMs: ms,
  connections: count,
  open: count,
  broken: count,
  requests: count,
  failedRequests: count,
  finished: count,
  vmChanges: count,
  byVm: counts,
  requestsByVm: counts,
  changedDetails: z.array(z.object({ connection: count, from: z.string(), to: z.string() })),
  brokenDetails: z.array(
    z.object({
      connection: count,
      localPort: count.nullable(),
      vm: z.string().nullable(),
      reason: z.string(),
      detail: z.string().optional(),
      atMs: ms,
      requests: count,
    }),
  ),
});
const bulkResultLine = z.object({
  type: z.literal('bulk-result'),
  ok: z.boolean(),
  error: z.string().optional(),
  detail: z.string().optional(),
  expectedBytes: count,
  bytes: count,
  elapsedMs: ms,
  firstByteMs: ms.nullable(),
  bytesPerSecond: ms,
  vm: z.string().nullable(),
});
const trafficLine = z.discriminatedUnion('type', [connectionLine, burstResultLine, holdProgressLine, holdReadyLine, holdResultLine, bulkResultLine]);

/** One connection of a burst: the VM that answered, or the error (timeout, reset, refused, closed, …). */
export type BurstConnection = z.infer<typeof connectionLine>;
export type BurstResult = Omit<z.infer<typeof burstResultLine>, 'type'> & { readonly connections: readonly BurstConnection[] };
export type HoldProgress = z.infer<typeof holdProgressLine>;
/** Every connection has had its first answer (or broke): `byVm` is where each landed. */
export type HoldReady = z.infer<typeof holdReadyLine>;
/** `open` counts connections never broken; `finished` those closed politely after their last answer. */
export type HoldResult = Omit<z.infer<typeof holdResultLine>, 'type'>;
export type BulkResult = Omit<z.infer<typeof bulkResultLine>, 'type'>;
export type TrafficLine = z.infer<typeof trafficLine>;

/** Parses one line of the script's output; E2E_COMMAND_FAILED naming the fault when it is not one it prints. */
export function parseTrafficLine(line: string): TrafficLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new E2eError('E2E_COMMAND_FAILED', `traffic-client printed a line that is not JSON: ${line.slice(0, 200)}`);
  }
  const parsed = trafficLine.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(line)'}: ${i.message}`).join('; ');
    throw new E2eError('E2E_COMMAND_FAILED', `traffic-client printed an unexpected line (${problems}): ${line.slice(0, 200)}`);
  }
  return parsed.data;
}

function targetArg(target: TrafficTarget): string {
  return typeof target === 'string' ? target : `${target.address}:${target.port}`;
}

function optional(flag: string, value: number | undefined): string[] {
  return value === undefined ? [] : [flag, String(value)];
}

/** The script's arguments for a burst (pure; the script validates the values). */
export function burstArgs(options: BurstOptions): string[] {
  return [
    'burst',
    '--target', targetArg(options.target),
    '--count', String(options.count),
    '--concurrency', String(options.concurrency),
    ...optional('--timeout-ms', options.timeoutMs),
    ...optional('--local-port', options.localPort),
    ...(options.sourcePorts === undefined ? [] : ['--source-ports', `${options.sourcePorts.from}-${options.sourcePorts.to}`]),
    ...optional('--max-ms', options.maxMs),
  ];
}

export function holdArgs(options: HoldOptions): string[] {
  return [
    'hold',
    '--target', targetArg(options.target),
    '--connections', String(options.connections),
    '--interval-ms', String(options.intervalMs),
    '--duration-ms', String(options.durationMs),
    ...optional('--request-timeout-ms', options.requestTimeoutMs),
    ...optional('--progress-ms', options.progressMs),
    ...optional('--max-ms', options.maxMs),
  ];
}

export function bulkArgs(options: BulkOptions): string[] {
  return ['bulk', '--target', targetArg(options.target), '--bytes', String(options.bytes), ...optional('--timeout-ms', options.timeoutMs), ...optional('--max-ms', options.maxMs)];
}

function clientNetns(host: TrafficHost, clientName: string): string {
  const client = host.layout.clients.find((c) => c.name === clientName);
  if (client === undefined) {
    const names = host.layout.clients.map((c) => c.name);
    throw new E2eError('E2E_UNKNOWN_NAME', `unknown client '${clientName}'`, { hint: didYouMean(clientName, names) });
  }
  return client.netns;
}

/**
 * One run of the script: every stdout line parsed and handed to `onLine`; `ended` resolves when
 * the process has exited cleanly and rejects (E2eError) on bad arguments, a failure exit, an
 * unparsable line, or the watchdog.
 */
class ClientRun {
  readonly process: SpawnedProcess;
  readonly ended: Promise<void>;
  private failure: E2eError | undefined;

  constructor(host: TrafficHost, clientName: string, args: string[], settings: { stdin: 'ignore' | 'pipe'; watchdogMs: number; onLine: (line: TrafficLine) => void }) {
    const netns = clientNetns(host, clientName);
    this.process = host.spawn(netns, process.execPath, [TRAFFIC_CLIENT_SCRIPT, ...args], { stdin: settings.stdin });
    const what = `traffic-client ${args[0] ?? ''} in ${clientName}`;
    this.process.onStdoutLine((text) => {
      if (this.failure !== undefined || text.trim() === '') return;
      try {
        settings.onLine(parseTrafficLine(text));
      } catch (error) {
        this.failure = error instanceof E2eError ? new E2eError(error.code, `${what}: ${error.message}`, { cause: error }) : (error as E2eError);
        void this.process.stop();
      }
    });
    const watchdog = setTimeout(() => {
      this.failure ??= new E2eError('E2E_COMMAND_FAILED', `${what} was still running after ${settings.watchdogMs} ms and was killed`);
      void this.process.stop();
    }, settings.watchdogMs);
    this.ended = this.process.exited.then((exit) => {
      clearTimeout(watchdog);
      if (this.failure !== undefined) throw this.failure;
      if (exit.code === 0) return;
      const output = this.process.output().trim().slice(-500);
      if (exit.code === USAGE_EXIT) throw new E2eError('E2E_COMMAND_FAILED', `${what}: bad arguments: ${output}`, { hint: 'see the usage at the top of traffic-client.js' });
      const how = exit.signal !== null ? `signal ${exit.signal}` : `exit status ${String(exit.code)}`;
      throw new E2eError('E2E_COMMAND_FAILED', `${what} ended with ${how}: ${output}`);
    });
  }
}

function missing(what: string, run: ClientRun): E2eError {
  return new E2eError('E2E_COMMAND_FAILED', `traffic-client printed no ${what}: ${run.process.output().trim().slice(-500)}`);
}

/** N new connections from `clientName`, one request each; resolves when all have ended. */
export async function runBurst(host: TrafficHost, clientName: string, options: BurstOptions): Promise<BurstResult> {
  const connections: BurstConnection[] = [];
  let result: z.infer<typeof burstResultLine> | undefined;
  const run = new ClientRun(host, clientName, burstArgs(options), {
    stdin: 'ignore',
    watchdogMs: (options.maxMs ?? SCRIPT_MAX_MS) + (options.timeoutMs ?? SCRIPT_TIMEOUT_MS) + WATCHDOG_SLACK_MS,
    onLine: (line) => {
      if (line.type === 'connection') connections.push(line);
      else if (line.type === 'burst-result') result = line;
      else throw new E2eError('E2E_COMMAND_FAILED', `a burst printed a ${line.type} line`);
    },
  });
  await run.ended;
  if (result === undefined) throw missing('burst-result', run);
  const { type: _type, ...rest } = result;
  return { ...rest, connections };
}

/** A download of `bytes` bytes over one connection; a failed transfer is a result with `ok: false`. */
export async function runBulk(host: TrafficHost, clientName: string, options: BulkOptions): Promise<BulkResult> {
  let result: z.infer<typeof bulkResultLine> | undefined;
  const run = new ClientRun(host, clientName, bulkArgs(options), {
    stdin: 'ignore',
    watchdogMs: (options.maxMs ?? SCRIPT_MAX_MS) + WATCHDOG_SLACK_MS,
    onLine: (line) => {
      if (line.type === 'bulk-result') result = line;
      else throw new E2eError('E2E_COMMAND_FAILED', `a bulk download printed a ${line.type} line`);
    },
  });
  await run.ended.catch((error: unknown) => {
    // The script exits 3 after printing a max-ms result: that result is the answer.
    if (result === undefined) throw error;
  });
  if (result === undefined) throw missing('bulk-result', run);
  const { type: _type, ...rest } = result;
  return rest;
}

/**
 * Held keep-alive connections from one client. Emits `progress` (every second) and `ready` (every
 * connection answered once or broke); `finish()` lets each complete its in-flight request and
 * close, `stop()` drops them at once; both resolve with the result, as does `result` when the
 * duration runs out by itself.
 */
export class HoldSession extends EventEmitter<{ progress: [HoldProgress]; ready: [HoldReady] }> {
  readonly process: SpawnedProcess;
  /** Settles when the run has ended, however it ended. */
  readonly result: Promise<HoldResult>;
  private readonly readyPromise: Promise<HoldReady>;
  private progressSeen: HoldProgress | undefined;

  constructor(host: TrafficHost, clientName: string, options: HoldOptions) {
    super();
    let holdResult: HoldResult | undefined;
    let readyLine: HoldReady | undefined;
    const bound = Math.min(options.durationMs, options.maxMs ?? SCRIPT_MAX_MS);
    const run = new ClientRun(host, clientName, holdArgs(options), {
      stdin: 'pipe',
      watchdogMs: bound + (options.requestTimeoutMs ?? SCRIPT_TIMEOUT_MS) + WATCHDOG_SLACK_MS,
      onLine: (line) => {
        if (line.type === 'hold-progress') {
          this.progressSeen = line;
          this.emit('progress', line);
        } else if (line.type === 'hold-ready') {
          readyLine = line;
          this.emit('ready', line);
        } else if (line.type === 'hold-result') {
          const { type: _type, ...rest } = line;
          holdResult = rest;
        } else throw new E2eError('E2E_COMMAND_FAILED', `a hold printed a ${line.type} line`);
      },
    });
    this.process = run.process;
    this.result = run.ended.then(() => {
      if (holdResult === undefined) throw missing('hold-result', run);
      return holdResult;
    });
    this.readyPromise = new Promise<HoldReady>((resolve, reject) => {
      this.once('ready', resolve);
      this.result.then(
        () => (readyLine === undefined ? reject(new E2eError('E2E_COMMAND_FAILED', 'the hold ended before every connection had answered once')) : resolve(readyLine)),
        reject,
      );
    });
    // Callers may await only one of these; the other must not become an unhandled rejection.
    this.result.catch(() => undefined);
    this.readyPromise.catch(() => undefined);
  }

  /** The last progress line, if one came yet. */
  latest(): HoldProgress | undefined {
    return this.progressSeen;
  }

  /** Resolves once every connection has answered its first request or broken. */
  ready(): Promise<HoldReady> {
    return this.readyPromise;
  }

  /** Each connection completes its in-flight request, then closes; resolves with the result. */
  finish(): Promise<HoldResult> {
    this.process.write('finish\n');
    return this.result;
  }

  /** Drops every connection at once (in-flight requests are not counted); resolves with the result. */
  stop(): Promise<HoldResult> {
    this.process.write('stop\n');
    return this.result;
  }
}

/** Opens the held connections from `clientName` (see HoldSession). */
export function startHold(host: TrafficHost, clientName: string, options: HoldOptions): HoldSession {
  return new HoldSession(host, clientName, options);
}
