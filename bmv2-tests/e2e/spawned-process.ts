/**
 * A long-running process started inside a namespace (a switch, a VM's server): its output kept
 * (the last 64 KiB), a bounded wait for a line of it, and a stop that always ends it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { E2eError } from './errors.ts';
import { formatCommand, inNamespace } from './run.ts';

export interface SpawnOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** 'pipe' to `write()` to the process; default 'ignore' (stdin is /dev/null). */
  readonly stdin?: 'ignore' | 'pipe';
}

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const OUTPUT_LIMIT = 64 * 1024;
/** SIGTERM first; SIGKILL when the process has not ended after this long. */
export const DEFAULT_STOP_GRACE_MS = 1000;
const KILL_WAIT_MS = 2000;

export class SpawnedProcess {
  readonly netns: string | undefined;
  readonly command: string;
  readonly pid: number;
  /** Settles when the process has ended (never rejects). */
  readonly exited: Promise<ProcessExit>;
  private readonly child: ChildProcess;
  private text = '';
  private exit: ProcessExit | undefined;
  private readonly watchers = new Set<() => void>();
  private readonly lineListeners = new Set<(line: string) => void>();
  private partialLine = '';

  constructor(netns: string | undefined, cmd: string, args: readonly string[], options: SpawnOptions = {}) {
    const command = inNamespace(netns, cmd, args);
    this.netns = netns;
    this.command = formatCommand(cmd, args);
    // `ip netns exec` execs the command in place, so this pid is the command's own.
    this.child = spawn(command.cmd, [...command.args], {
      stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
    this.exited = new Promise((resolve) => {
      const done = (exit: ProcessExit): void => {
        if (this.exit !== undefined) return;
        this.exit = exit;
        this.notify();
        resolve(exit);
      };
      // 'close', not 'exit': the output is complete by then.
      this.child.once('close', (code, signal) => {
        // A last line without its newline still counts.
        if (this.partialLine !== '') this.splitLines('\n');
        done({ code, signal });
      });
      this.child.once('error', (error) => {
        this.append(`spawn failed: ${error.message}\n`);
        done({ code: null, signal: null });
      });
    });
    this.pid = this.child.pid ?? -1;
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.append(chunk);
      this.splitLines(chunk);
    });
    // A process that ends without reading its stdin must not fail the writer with EPIPE.
    this.child.stdin?.on('error', () => undefined);
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.append(chunk));
  }

  /** stdout and stderr interleaved as they came, the last 64 KiB. */
  output(): string {
    return this.text;
  }

  /**
   * Calls `listener` with each complete line of stdout (without its newline) from now on; returns
   * the unsubscribe. Subscribe right after spawning to see every line: output arrives asynchronously.
   */
  onStdoutLine(listener: (line: string) => void): () => void {
    this.lineListeners.add(listener);
    return () => void this.lineListeners.delete(listener);
  }

  /** Writes to the process's stdin (spawned with `stdin: 'pipe'`); false when it has ended or has no stdin. */
  write(text: string): boolean {
    const stdin = this.child.stdin;
    if (stdin === null || this.exit !== undefined || stdin.destroyed || stdin.writableEnded) return false;
    stdin.write(text);
    return true;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** Resolves with the first match of `pattern` in the output; rejects when the process ends first or after `timeoutMs`. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const finish = (error: E2eError | undefined, match?: RegExpMatchArray): void => {
        clearTimeout(timer);
        this.watchers.delete(check);
        if (error !== undefined) reject(error);
        else resolve(match!);
      };
      const check = (): void => {
        const match = this.text.match(pattern);
        if (match !== null) finish(undefined, match);
        else if (this.exit !== undefined) {
          finish(new E2eError('E2E_SERVER_FAILED', `${this.command} ended (${describeExit(this.exit)}) before printing ${pattern}: ${this.text.trim().slice(-500)}`));
        }
      };
      const timer = setTimeout(() => {
        finish(new E2eError('E2E_SERVER_FAILED', `${this.command} printed no ${pattern} within ${timeoutMs} ms: ${this.text.trim().slice(-500)}`));
      }, timeoutMs);
      this.watchers.add(check);
      check();
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has ended (bounded). */
  async stop(graceMs = DEFAULT_STOP_GRACE_MS): Promise<ProcessExit | undefined> {
    if (this.exit !== undefined) return this.exit;
    this.signal('SIGTERM');
    const ended = await within(this.exited, graceMs);
    if (ended !== undefined) return ended;
    this.signal('SIGKILL');
    return within(this.exited, KILL_WAIT_MS);
  }

  /** For exit handlers: no waiting. */
  killNow(): void {
    if (this.exit === undefined) this.signal('SIGKILL');
  }

  private signal(signal: NodeJS.Signals): void {
    try {
      this.child.kill(signal);
    } catch {
      // Already gone.
    }
  }

  private append(chunk: string): void {
    this.text = (this.text + chunk).slice(-OUTPUT_LIMIT);
    this.notify();
  }

  private splitLines(chunk: string): void {
    const lines = (this.partialLine + chunk).split('\n');
    this.partialLine = lines.pop() ?? '';
    for (const line of lines) for (const listener of [...this.lineListeners]) listener(line);
  }

  private notify(): void {
    for (const watcher of [...this.watchers]) watcher();
  }
}

function describeExit(exit: ProcessExit): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `exit status ${String(exit.code)}`;
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    void promise.then((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}
