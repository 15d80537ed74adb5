/**
 * One veth pair per switch port: simple_switch_grpc binds the `a` end (`-i N@a`), the test sends
 * and listens on the `b` end. Names carry the test process's pid so that parallel test files do
 * not collide and pairs left by a killed process can be recognised and removed.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { MAX_IFNAME_BYTES } from '../../target/ports/port-binding.ts';
import { Bmv2Error } from './errors.ts';

const run = promisify(execFile);

export interface VethPair {
  readonly port: number;
  /** The switch's end. */
  readonly a: string;
  /** The test's end. */
  readonly b: string;
}

const NAME = /^pb([0-9a-z]+)-([0-9a-z]+)-(\d+)([ab])$/;

/** `pb<pid>-<instance>-<port>a|b`, pid and instance in base 36 so that it fits IFNAMSIZ. */
export function vethPairNames(pid: number, instance: number, port: number): VethPair {
  const stem = `pb${pid.toString(36)}-${instance.toString(36)}-${port}`;
  if (stem.length + 1 > MAX_IFNAME_BYTES) {
    throw new Bmv2Error('BMV2_VETH_FAILED', `interface name ${stem}a is longer than ${MAX_IFNAME_BYTES} bytes`);
  }
  return { port, a: `${stem}a`, b: `${stem}b` };
}

/** The pid that made an interface by our naming, or undefined for any other interface. */
export function ownerPid(ifname: string): number | undefined {
  const m = NAME.exec(ifname);
  return m === null ? undefined : parseInt(m[1]!, 36);
}

async function ip(args: readonly string[]): Promise<void> {
  try {
    await run('ip', args);
  } catch (cause) {
    const stderr = (cause as { stderr?: string }).stderr?.trim() ?? '';
    throw new Bmv2Error('BMV2_VETH_FAILED', `ip ${args.join(' ')} failed${stderr === '' ? '' : `: ${stderr}`}`, {
      hint: 'creating veth pairs needs CAP_NET_ADMIN (run as root)',
      cause,
    });
  }
}

/** IPv6 off, so the kernel sends no neighbour discovery into the switch. Absent IPv6 is fine. */
function disableIpv6(ifname: string): void {
  const file = `/proc/sys/net/ipv6/conf/${ifname}/disable_ipv6`;
  if (existsSync(file)) writeFileSync(file, '1');
}

function operstate(ifname: string): string {
  try {
    return readFileSync(`/sys/class/net/${ifname}/operstate`, 'utf8').trim();
  } catch {
    return 'missing';
  }
}

async function waitUp(pair: VethPair, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (operstate(pair.a) !== 'up' || operstate(pair.b) !== 'up') {
    if (Date.now() > deadline) {
      throw new Bmv2Error('BMV2_VETH_FAILED', `veth ${pair.a}/${pair.b} not up after ${timeoutMs} ms (${operstate(pair.a)}/${operstate(pair.b)})`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function createVethPair(pair: VethPair, timeoutMs = 3000): Promise<void> {
  await ip(['link', 'add', pair.a, 'type', 'veth', 'peer', 'name', pair.b]);
  try {
    disableIpv6(pair.a);
    disableIpv6(pair.b);
    await ip(['link', 'set', pair.a, 'up']);
    await ip(['link', 'set', pair.b, 'up']);
    await waitUp(pair, timeoutMs);
  } catch (err) {
    await removeVethPair(pair);
    throw err;
  }
}

/** Deleting one end deletes both; a pair already gone is not an error. */
export async function removeVethPair(pair: VethPair): Promise<void> {
  if (operstate(pair.a) === 'missing') return;
  await run('ip', ['link', 'del', pair.a]).catch(() => undefined);
}

function alive(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

/** Removes pairs made by test processes that no longer run (a worker killed before its cleanup). */
export async function removeStaleVethPairs(): Promise<string[]> {
  let names: string[];
  try {
    names = readdirSync('/sys/class/net');
  } catch {
    return [];
  }
  const stale = names.filter((n) => n.endsWith('a') && ownerPid(n) !== undefined && !alive(ownerPid(n)!));
  for (const a of stale) await run('ip', ['link', 'del', a]).catch(() => undefined);
  return stale;
}
