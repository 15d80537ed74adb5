/**
 * `p4lb run <spec>`: the runtime controller with its admin API. Connects to every gateway and
 * host of the spec, pushes the generated programs, keeps the tables in step with the health
 * checks and the token schedule, and serves the admin API (and /metrics) until SIGINT/SIGTERM.
 * The spec file stays the truth: SIGHUP and the API's spec calls go through one SpecFile, which
 * runs them one at a time. Logs are pino JSON lines on stdout.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { pino, type Logger } from 'pino';
import { P4lbError } from '../../core/errors.ts';
import { loadSpecFile } from '../../core/spec/load.ts';
import { isLocalListenAddress, MIN_TOKEN_LENGTH, parseListenAddress, startAdminApi, type RunningAdminApi } from '../../runtime-controller/api/server.ts';
import { Controller, type ControllerOptions } from '../../runtime-controller/controller/controller.ts';
import { SpecFile } from '../../runtime-controller/controller/spec-file.ts';
import { ControllerMetrics } from '../../runtime-controller/metrics/metrics.ts';
import { firstSignal } from '../signals.ts';

export const DEFAULT_API_ADDRESS = '127.0.0.1:9100';
export const DEFAULT_DATA_DIR = '.p4lb';
/** Where `run` writes the token it generates when none is given. */
export const API_TOKEN_FILE = 'api-token';
export const API_TOKEN_ENV = 'P4LB_API_TOKEN';

export interface RunConfig {
  readonly specPath: string;
  readonly dataDir: string;
  readonly api: string;
  readonly apiTokenFile: string | undefined;
  readonly bmv2: boolean;
  readonly metricsRequireToken: boolean;
  readonly metricsPollMs: number;
  /** Deadline of each P4Runtime call (`--call-timeout-ms`). */
  readonly callTimeoutMs: number;
  /** One election id on every switch instead of the spec's (a standby controller runs with a lower one). */
  readonly electionId: bigint | undefined;
  /** BMv2's Thrift register service per switch (`--thrift NAME=HOST:PORT`); others use 127.0.0.1:9090. */
  readonly thrift: Readonly<Record<string, { readonly host: string; readonly port: number }>>;
}

export interface RunIo {
  readonly logger: Logger;
  readonly env: NodeJS.ProcessEnv;
  /** Resolves when the controller should stop; default: the first SIGINT or SIGTERM. */
  readonly stopSignal?: () => Promise<string>;
  /** Called once everything runs (tests find the bound API address here). */
  readonly onStarted?: (running: RunningController) => void;
  /** Extra controller options (tests: health-check endpoint mapping). */
  readonly controllerOptions?: Partial<ControllerOptions>;
}

export interface RunningController {
  readonly controller: Controller;
  readonly api: RunningAdminApi;
  readonly metrics: ControllerMetrics;
  /** The spec file, shared by SIGHUP and the admin API. */
  readonly specFile: SpecFile;
  /** Where the API token came from: a file, the environment, or the file `run` generated. */
  readonly tokenSource: string;
  close(): Promise<void>;
}

interface RawOptions {
  dataDir: string;
  api: string;
  apiTokenFile?: string;
  bmv2?: boolean;
  metricsToken?: boolean;
  metricsPollMs: string;
  callTimeoutMs: string;
  thrift?: string[];
  electionId?: string;
}

function usage(message: string, path: string): P4lbError {
  return new P4lbError('CLI_USAGE', message, { location: { path } });
}

/** Checks the command-line options; pure. */
export function parseRunOptions(specPath: string, raw: RawOptions): RunConfig {
  try {
    parseListenAddress(raw.api, '--api');
  } catch (err) {
    throw usage((err as Error).message, '--api');
  }
  if (!/^\d+$/.test(raw.metricsPollMs) || Number(raw.metricsPollMs) < 100) throw usage(`--metrics-poll-ms '${raw.metricsPollMs}' must be a whole number of ms, at least 100`, '--metrics-poll-ms');
  if (!/^\d+$/.test(raw.callTimeoutMs) || Number(raw.callTimeoutMs) < 100) throw usage(`--call-timeout-ms '${raw.callTimeoutMs}' must be a whole number of ms, at least 100`, '--call-timeout-ms');
  if (raw.dataDir === '') throw usage('--data-dir is empty', '--data-dir');
  let electionId: bigint | undefined;
  if (raw.electionId !== undefined) {
    if (!/^[0-9]{1,39}$/.test(raw.electionId) || BigInt(raw.electionId) < 1n || BigInt(raw.electionId) >= 1n << 128n) {
      throw usage(`--election-id '${raw.electionId}' must be a whole number in 1..2^128-1`, '--election-id');
    }
    electionId = BigInt(raw.electionId);
  }
  const thrift: Record<string, { host: string; port: number }> = {};
  for (const item of raw.thrift ?? []) {
    const m = /^([a-z0-9][a-z0-9-]*)=([^:\s]+):(\d{1,5})$/.exec(item);
    if (m === null || Number(m[3]) < 1 || Number(m[3]) > 65535) throw usage(`--thrift '${item}' is not SWITCH=HOST:PORT (like gw-east=127.0.0.1:9090)`, '--thrift');
    thrift[m[1]!] = { host: m[2]!, port: Number(m[3]) };
  }
  return {
    specPath,
    dataDir: raw.dataDir,
    api: raw.api,
    apiTokenFile: raw.apiTokenFile,
    bmv2: raw.bmv2 ?? false,
    metricsRequireToken: raw.metricsToken ?? false,
    metricsPollMs: Number(raw.metricsPollMs),
    callTimeoutMs: Number(raw.callTimeoutMs),
    thrift,
    electionId,
  };
}

/** The API token: from --api-token-file, else $P4LB_API_TOKEN, else a new one written to <data-dir>/api-token (0600). */
export async function resolveApiToken(config: Pick<RunConfig, 'apiTokenFile' | 'dataDir'>, env: NodeJS.ProcessEnv): Promise<{ token: string; source: string }> {
  let token: string;
  let source: string;
  if (config.apiTokenFile !== undefined) {
    try {
      token = (await readFile(config.apiTokenFile, 'utf8')).trim();
    } catch (err) {
      throw new P4lbError('CLI_API_TOKEN', `cannot read the API token file: ${(err as Error).message}`, { location: { file: config.apiTokenFile, path: '--api-token-file' } });
    }
    source = `file ${config.apiTokenFile}`;
  } else if (env[API_TOKEN_ENV] !== undefined && env[API_TOKEN_ENV] !== '') {
    token = env[API_TOKEN_ENV].trim();
    source = `$${API_TOKEN_ENV}`;
  } else {
    await mkdir(config.dataDir, { recursive: true });
    const file = join(config.dataDir, API_TOKEN_FILE);
    token = randomBytes(32).toString('hex');
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    source = `generated into ${resolve(file)}`;
  }
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new P4lbError('CLI_API_TOKEN', `the API token from ${source} has ${token.length} characters; at least ${MIN_TOKEN_LENGTH} are needed`, { location: { path: config.apiTokenFile === undefined ? API_TOKEN_ENV : '--api-token-file' }, hint: 'generate one with: openssl rand -hex 32' });
  }
  return { token, source };
}

/**
 * Reads the spec file again and applies it to the running controller (VMs and VIPs added or
 * removed, VIPs' backends, weights, health checks); a change that needs a restart is refused and
 * logged, and the controller keeps running on the spec it had. `p4lb run` does this on SIGHUP,
 * through the SpecFile the admin API uses, so the two never interleave.
 */
export async function reloadSpec(specFile: Pick<SpecFile, 'reload' | 'path'>, logger: Logger): Promise<boolean> {
  try {
    const change = await specFile.reload();
    logger.info({ spec: specFile.path, ...change }, 'spec reloaded');
    return true;
  } catch (err) {
    logger.error({ spec: specFile.path, err: err instanceof P4lbError ? err.describe() : String(err) }, 'spec reload refused: the controller keeps its spec');
    return false;
  }
}

/** Starts the controller, its metrics and the admin API; on a failure stops what was started. */
export async function startRun(config: RunConfig, io: Pick<RunIo, 'logger' | 'env' | 'controllerOptions'>): Promise<RunningController> {
  const spec = await loadSpecFile(config.specPath);
  const { token, source } = await resolveApiToken(config, io.env);
  await mkdir(config.dataDir, { recursive: true });
  const unknown = Object.keys(config.thrift).filter((name) => ![...spec.gateways, ...spec.hosts].some((s) => s.name === name));
  if (unknown.length > 0) throw usage(`--thrift names ${unknown.join(', ')}, not a switch of ${config.specPath}`, '--thrift');
  const thrift = config.thrift;
  const controller = new Controller({
    spec,
    dataDir: config.dataDir,
    logger: io.logger,
    pipeline: config.bmv2 ? 'bmv2' : 'embedded',
    registerAccess: (name) => (thrift[name] === undefined ? {} : { thrift: thrift[name] }),
    callTimeoutMs: config.callTimeoutMs,
    ...(config.electionId === undefined ? {} : { electionId: config.electionId }),
    ...io.controllerOptions,
  });
  const metrics = new ControllerMetrics({ controller, pollIntervalMs: config.metricsPollMs, logger: io.logger });
  const specFile = new SpecFile({ path: config.specPath, controller });
  await controller.start();
  metrics.start();
  let api: RunningAdminApi;
  try {
    api = await startAdminApi({ controller, token, metrics, metricsRequireToken: config.metricsRequireToken, logger: io.logger, listen: config.api, specFile });
  } catch (err) {
    metrics.stop();
    await controller.stop();
    throw err;
  }
  if (!isLocalListenAddress(parseListenAddress(config.api))) io.logger.warn({ api: api.address }, 'the admin API listens beyond loopback: protect the token and the network');
  io.logger.info({ api: api.address, token: source, dataDir: config.dataDir }, 'admin API listening');
  // SIGHUP, as for any daemon: read the spec again and apply what can change while running.
  const onHangup = (): void => void reloadSpec(specFile, io.logger);
  process.on('SIGHUP', onHangup);
  return {
    controller,
    api,
    metrics,
    specFile,
    tokenSource: source,
    async close() {
      process.off('SIGHUP', onHangup);
      await api.close();
      // Reloads and edits already queued finish before the controller stops.
      await specFile.idle();
      metrics.stop();
      await metrics.idle();
      await controller.stop();
    },
  };
}


export function registerRun(program: Command, io: Partial<RunIo> = {}): Command {
  return program
    .command('run')
    .description('run the controller: drive the switches of a spec and serve the admin API')
    .argument('<spec>', 'spec file (YAML)')
    .option('--data-dir <dir>', 'registry folder (keys, tokens)', DEFAULT_DATA_DIR)
    .option('--api <host:port|unix:path>', 'admin API address: loopback TCP by default, or a Unix socket', DEFAULT_API_ADDRESS)
    .option('--api-token-file <file>', `bearer token of the admin API (default: $${API_TOKEN_ENV}, else generated into <data-dir>/${API_TOKEN_FILE})`)
    .option('--bmv2', 'push p4c-compiled BMv2 JSON (simple_switch_grpc) instead of P4 source (embedded target)')
    .option('--election-id <n>', 'P4Runtime election id on every switch instead of the spec\'s (run a standby controller with a lower one and the same --data-dir)')
    .option('--thrift <switch=host:port>', 'BMv2 Thrift register service of a switch (repeatable; default 127.0.0.1:9090)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--metrics-token', 'require the API token on GET /metrics too')
    .option('--metrics-poll-ms <ms>', 'how often to read the switches\' counters', '5000')
    .option('--call-timeout-ms <ms>', 'deadline of each P4Runtime call (a write batch, a pipeline push, a whole table read); raise it for a switch that reads large tables slowly', '10000')
    .action(async (specPath: string, raw: RawOptions) => {
      const config = parseRunOptions(specPath, raw);
      const logger = io.logger ?? pino({ name: 'p4lb' });
      // Listen for the stop signal before starting so an early SIGTERM is not lost.
      const stop = (io.stopSignal ?? firstSignal)();
      const running = await startRun(config, { logger, env: io.env ?? process.env, ...(io.controllerOptions === undefined ? {} : { controllerOptions: io.controllerOptions }) });
      io.onStarted?.(running);
      const signal = await stop;
      logger.info({ signal }, 'stopping');
      await running.close();
      logger.info('stopped');
      process.exitCode = 0;
    });
}
