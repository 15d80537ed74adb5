/**
 * Running the system tools that build a topology (`ip`, `sysctl`, `ethtool`) through execFile,
 * never a shell: arguments are passed as they are, and a failure becomes an E2eError naming the
 * command and quoting its stderr.
 */
import { execFile, execFileSync } from 'node:child_process';
import { E2eError } from './errors.ts';

export interface Command {
  readonly cmd: string;
  readonly args: readonly string[];
}

export interface RunOptions {
  /** Kill the command after this long; every call is bounded. */
  readonly timeoutMs?: number;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Generous for `ip`/`sysctl`, which answer in milliseconds; a hung command must not hang a test. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;
const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

export function formatCommand(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

function failure(cmd: string, args: readonly string[], cause: unknown): E2eError {
  // execFile reports the exit status as `code`, execFileSync as `status`.
  const err = cause as { code?: unknown; status?: unknown; stderr?: unknown; killed?: boolean; signal?: unknown };
  const text = formatCommand(cmd, args);
  if (err.code === 'ENOENT') {
    return new E2eError('E2E_COMMAND_MISSING', `${text}: '${cmd}' is not installed`, { cause });
  }
  const stderr = typeof err.stderr === 'string' ? err.stderr.trim() : Buffer.isBuffer(err.stderr) ? err.stderr.toString('utf8').trim() : '';
  const status = typeof err.code === 'number' ? err.code : err.status;
  const why = err.killed === true || err.signal === 'SIGKILL' ? 'timed out' : stderr !== '' ? stderr : `exit status ${String(status)}`;
  return new E2eError('E2E_COMMAND_FAILED', `${text} failed: ${why}`, {
    hint: /Operation not permitted|Permission denied/.test(stderr) ? 'network namespaces need root (CAP_SYS_ADMIN, CAP_NET_ADMIN)' : undefined,
    cause,
  });
}

/** Runs `cmd args`; resolves with its output, rejects with E2E_COMMAND_FAILED / E2E_COMMAND_MISSING. */
export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      [...args],
      { timeout: options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error !== null) reject(failure(cmd, args, Object.assign(error, { stderr })));
        else resolve({ stdout, stderr });
      },
    );
  });
}

/** The synchronous twin, for cleanup from a signal handler or `exit`, where nothing async runs. */
export function runSync(cmd: string, args: readonly string[], options: RunOptions = {}): string {
  try {
    return execFileSync(cmd, [...args], {
      timeout: options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      killSignal: 'SIGKILL',
      maxBuffer: MAX_OUTPUT_BYTES,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (cause) {
    throw failure(cmd, args, cause);
  }
}

/** The command as run inside network namespace `netns` (undefined: the caller's namespace). */
export function inNamespace(netns: string | undefined, cmd: string, args: readonly string[]): Command {
  if (netns === undefined) return { cmd, args };
  // `ip -n` saves the exec for ip itself; anything else enters through `ip netns exec`, which execs
  // the command in place (same pid), so signals sent to the child reach the command.
  if (cmd === 'ip') return { cmd: 'ip', args: ['-n', netns, ...args] };
  return { cmd: 'ip', args: ['netns', 'exec', netns, cmd, ...args] };
}

let ethtoolPresent: boolean | undefined;

/** Whether `ethtool` is installed (checked once). The builder works without it, with offloads left on. */
export async function hasEthtool(): Promise<boolean> {
  if (ethtoolPresent === undefined) {
    try {
      await run('ethtool', ['--version'], { timeoutMs: 5000 });
      ethtoolPresent = true;
    } catch {
      ethtoolPresent = false;
    }
  }
  return ethtoolPresent;
}
