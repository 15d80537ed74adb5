/**
 * Finding and removing what a run left behind, by its tag: namespaces named `p4lb-<tag>-…` and
 * root-namespace interfaces named `<tag>…`. Links inside a namespace die with it, so these two
 * lists are everything a run can leave. The sync versions serve signal and exit handlers.
 */
import { readdirSync } from 'node:fs';
import { E2eError } from './errors.ts';
import { checkTag, isRunInterface, NAMESPACE_PREFIX } from './plan.ts';
import { run, runSync } from './run.ts';

export interface Leaks {
  readonly namespaces: readonly string[];
  readonly links: readonly string[];
}

/** Bounded waits for processes to leave a namespace before it is deleted. */
const KILL_WAIT_MS = 2000;
const POLL_MS = 20;

export function hasLeaks(leaks: Leaks): boolean {
  return leaks.namespaces.length > 0 || leaks.links.length > 0;
}

export function describeLeaks(leaks: Leaks): string {
  const parts: string[] = [];
  if (leaks.namespaces.length > 0) parts.push(`namespaces ${leaks.namespaces.join(', ')}`);
  if (leaks.links.length > 0) parts.push(`links ${leaks.links.join(', ')}`);
  return parts.length === 0 ? 'nothing' : parts.join('; ');
}

/** `ip netns list` prints `name` or `name (id: N)`, one per line. */
export function parseNetnsList(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name !== '');
}

function ofTag(tag: string, namespaces: readonly string[], links: readonly string[]): Leaks {
  const prefix = `${NAMESPACE_PREFIX}${tag}-`;
  return {
    namespaces: namespaces.filter((n) => n.startsWith(prefix)).sort(),
    links: links.filter((l) => isRunInterface(tag, l)).sort(),
  };
}

function rootLinks(): string[] {
  try {
    return readdirSync('/sys/class/net');
  } catch {
    return [];
  }
}

/** What of run `tag` exists now. */
export async function findLeaks(tag: string): Promise<Leaks> {
  checkTag(tag);
  const { stdout } = await run('ip', ['netns', 'list']);
  return ofTag(tag, parseNetnsList(stdout), rootLinks());
}

export function findLeaksSync(tag: string): Leaks {
  checkTag(tag);
  return ofTag(tag, parseNetnsList(runSync('ip', ['netns', 'list'])), rootLinks());
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

function parsePids(text: string): number[] {
  return text.split(/\s+/).filter((t) => /^\d+$/.test(t)).map(Number).filter((pid) => pid !== process.pid);
}

async function pidsIn(netns: string): Promise<number[]> {
  try {
    return parsePids((await run('ip', ['netns', 'pids', netns])).stdout);
  } catch {
    return [];
  }
}

/**
 * Removes everything of run `tag`: ends the processes still inside its namespaces (a namespace
 * with a process in it outlives `ip netns del`, and so would its veth peers), deletes its root
 * interfaces, then its namespaces. Throws E2E_CLEANUP_INCOMPLETE naming what remains.
 */
export async function removeTag(tag: string): Promise<void> {
  const found = await findLeaks(tag);
  const pids = (await Promise.all(found.namespaces.map(pidsIn))).flat();
  if (pids.length > 0) {
    signalAll(pids, 'SIGKILL');
    const deadline = Date.now() + KILL_WAIT_MS;
    while (Date.now() < deadline && (await Promise.all(found.namespaces.map(pidsIn))).flat().length > 0) await sleep(POLL_MS);
  }
  const errors: unknown[] = [];
  for (const link of found.links) await run('ip', ['link', 'del', link]).catch((e: unknown) => errors.push(e));
  for (const netns of found.namespaces) await run('ip', ['netns', 'del', netns]).catch((e: unknown) => errors.push(e));
  const left = await findLeaks(tag);
  if (hasLeaks(left)) {
    throw new E2eError('E2E_CLEANUP_INCOMPLETE', `run ${tag} left ${describeLeaks(left)}`, { cause: errors[0] });
  }
}

/** The synchronous twin of removeTag for signal/exit handlers; best effort, never throws. */
export function removeTagSync(tag: string): void {
  let found: Leaks;
  try {
    found = findLeaksSync(tag);
  } catch {
    return;
  }
  for (const netns of found.namespaces) {
    try {
      signalAll(parsePids(runSync('ip', ['netns', 'pids', netns])), 'SIGKILL');
    } catch {
      // The namespace is being deleted already.
    }
  }
  for (const link of found.links) {
    try {
      runSync('ip', ['link', 'del', link]);
    } catch {
      // Gone with its peer's namespace.
    }
  }
  for (const netns of found.namespaces) {
    try {
      runSync('ip', ['netns', 'del', netns]);
    } catch {
      // Nothing more a signal handler can do.
    }
  }
}
