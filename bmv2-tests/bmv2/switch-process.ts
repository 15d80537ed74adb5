/**
 * simple_switch_grpc as a child process: its command line (pure, tested), free loopback ports
 * for gRPC and Thrift, and a stop that always ends it (SIGTERM, then SIGKILL after a timeout).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { findTool } from '../../generator/tools.ts';
import { Bmv2Error } from './errors.ts';

export interface SwitchCommandOptions {
  readonly deviceId: number;
  /** Switch port number → interface name of the switch's end. */
  readonly interfaces: ReadonlyMap<number, string>;
  readonly grpcPort: number;
  /** BMv2's Thrift runtime server (registers); only for a switch built with Thrift. */
  readonly thriftPort?: number;
  /** Enables PacketIn/PacketOut on this port; none when undefined. */
  readonly cpuPort?: number;
}

/** Arguments for `simple_switch_grpc`: BMv2's options, then `--`, then the gRPC target's. */
export function simpleSwitchArgs(o: SwitchCommandOptions): string[] {
  const args = ['--device-id', String(o.deviceId), '--no-p4'];
  if (o.thriftPort !== undefined) args.push('--thrift-port', String(o.thriftPort));
  for (const [port, ifname] of [...o.interfaces].sort((x, y) => x[0] - y[0])) args.push('-i', `${port}@${ifname}`);
  args.push('--', '--grpc-server-addr', `127.0.0.1:${o.grpcPort}`);
  if (o.cpuPort !== undefined) args.push('--cpu-port', String(o.cpuPort));
  return args;
}

const thriftSupport = new Map<string, boolean>();

/** Whether this simple_switch_grpc was built with Thrift (its --help lists --thrift-port). */
export function hasThrift(executable: string): boolean {
  let known = thriftSupport.get(executable);
  if (known === undefined) {
    let help: string;
    try {
      help = execFileSync(executable, ['--help'], { encoding: 'utf8', timeout: 10000, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      // Some BMv2 versions exit non-zero after printing the help.
      help = String((err as { stdout?: unknown }).stdout ?? '');
    }
    known = help.includes('--thrift-port');
    thriftSupport.set(executable, known);
  }
  return known;
}

/** A TCP port free on 127.0.0.1 right now (the kernel's choice). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** util-linux `setpriv` on PATH, which can make the switch die with the test process. */
export function findSetpriv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return findTool({ command: 'setpriv' }, env);
}

/**
 * The command that runs `executable` so that the kernel kills it when the test process dies
 * (a worker killed by a timeout runs no exit hook): `setpriv --pdeathsig KILL` execs it in place.
 */
export function dieWithParent(executable: string, args: readonly string[], setpriv: string | undefined): { command: string; args: string[] } {
  return setpriv === undefined ? { command: executable, args: [...args] } : { command: setpriv, args: ['--pdeathsig', 'KILL', '--', executable, ...args] };
}

/** How much of the switch's output to keep for error messages. */
const OUTPUT_TAIL_BYTES = 16 * 1024;

export class SwitchProcess {
  private output = '';
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    readonly child: ChildProcess,
    readonly command: string,
  ) {
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve();
      });
      child.once('error', (err) => {
        this.output += `\n${err.message}`;
        this.exit ??= { code: null, signal: null };
        resolve();
      });
    });
  }

  static start(executable: string, args: readonly string[]): SwitchProcess {
    const run = dieWithParent(executable, args, findSetpriv());
    const child = spawn(run.command, run.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    return new SwitchProcess(child, `${executable} ${args.join(' ')}`);
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The last lines the switch printed, and how it ended if it did. */
  describe(): string {
    const how = this.exit === undefined ? 'running' : `exited (code ${this.exit.code}, signal ${this.exit.signal})`;
    return `${this.command}\n${how}${this.output.trim() === '' ? '' : `; it printed:\n${this.output.trim()}`}`;
  }

  /** Resolves when the process is gone; rejects never. */
  async stop(graceMs = 2000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (this.running) this.child.kill('SIGKILL');
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** For process-exit hooks, where nothing asynchronous runs any more. */
  killNow(): void {
    if (this.running) this.child.kill('SIGKILL');
  }

  failure(message: string, cause?: unknown): Bmv2Error {
    return new Bmv2Error('BMV2_START_FAILED', `${message}\n${this.describe()}`, { cause });
  }
}
