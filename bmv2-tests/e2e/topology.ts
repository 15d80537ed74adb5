/**
 * Builds the network-namespace topology of a spec (plan.ts) and owns it until `destroy()`: the
 * namespaces, links and bridges, and every process started in them. Whatever happens — a failed
 * step, an exception, SIGINT/SIGTERM, a test that forgets to destroy — everything named with the
 * run's tag is removed. Traffic stays inside the run's namespaces: no address is configured in
 * the root namespace and `exec`/`spawn` accept only the run's namespaces (or the root namespace
 * for switches placed there).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { didYouMean } from '../../core/errors.ts';
import type { Gateway, LbSpec } from '../../core/spec/schema.ts';
import { E2eError } from './errors.ts';
import { cleanupOnExit } from './exit-cleanup.ts';
import { findLeaks, hasLeaks, describeLeaks, removeTag, removeTagSync } from './leaks.ts';
import {
  checkTag,
  commandsOf,
  describeStep,
  NAMESPACE_PREFIX,
  namespaceName,
  planHostStandIn,
  planTopology,
  type BuildStep,
  type CommandOptions,
  type HostStandInLayout,
  type SwitchPlacement,
  type SwitchPorts,
  type TopologyLayout,
  type VmLayout,
} from './plan.ts';
import { hasEthtool, inNamespace, run, type RunOptions, type RunResult } from './run.ts';
import { SpawnedProcess, type SpawnOptions } from './spawned-process.ts';

export interface BuildOptions {
  /** Names every namespace and interface of the run; random by default. */
  readonly tag?: string;
  /** Client namespaces (default 2). */
  readonly clients?: number;
  /** Switch-side veth ends in a "switches" namespace (default) or in the root namespace. */
  readonly switchPlacement?: SwitchPlacement;
  /** The router's next-hop MAC per gateway; default the gateway's underlay MAC. */
  readonly gatewayPublicMac?: (gateway: Gateway) => string;
  /** 'disable' (default): offloads off with ethtool when it is installed; 'keep': leave them. */
  readonly offloads?: 'disable' | 'keep';
  /** Called before each step; a throw fails the build there (tests inject failures with it). */
  readonly onStep?: (step: BuildStep, index: number) => void | Promise<void>;
  readonly commandTimeoutMs?: number;
}

export const DEFAULT_CLIENTS = 2;
const TAG_ATTEMPTS = 5;

/** `e` (end-to-end) and five base-36 characters from the OS's random source. */
export function randomTag(): string {
  const n = randomBytes(4).readUInt32BE(0) % 36 ** 5;
  return `e${n.toString(36).padStart(5, '0')}`;
}

async function freshTag(): Promise<string> {
  for (let i = 0; i < TAG_ATTEMPTS; i++) {
    const tag = randomTag();
    if (!hasLeaks(await findLeaks(tag))) return tag;
  }
  throw new E2eError('E2E_TAG_IN_USE', `no unused tag after ${TAG_ATTEMPTS} random tries`, { hint: 'remove old p4lb-* namespaces' });
}

/** A host switch replaced by a bridge and a probe namespace that owns the host's MAC (tests). */
export interface HostStandIn extends HostStandInLayout {
  remove(): Promise<void>;
}

export class Topology {
  readonly tag: string;
  readonly spec: LbSpec;
  readonly layout: TopologyLayout;
  /** Whether tx checksum/segmentation offloads were turned off on every veth (needs ethtool). */
  readonly offloadsDisabled: boolean;
  /** Conditions a caller should report (ethtool missing). */
  readonly warnings: readonly string[];
  private readonly commandOptions: CommandOptions;
  private readonly commandTimeoutMs: number | undefined;
  private readonly processes = new Set<SpawnedProcess>();
  private readonly forget: () => void;
  private destroying: Promise<void> | undefined;

  constructor(spec: LbSpec, layout: TopologyLayout, settings: { commandOptions: CommandOptions; warnings: string[]; commandTimeoutMs?: number }) {
    this.tag = layout.tag;
    this.spec = spec;
    this.layout = layout;
    this.commandOptions = settings.commandOptions;
    this.offloadsDisabled = settings.commandOptions.disableOffloads;
    this.warnings = settings.warnings;
    this.commandTimeoutMs = settings.commandTimeoutMs;
    // Registered before the first step, so an interrupted build is cleaned too.
    this.forget = cleanupOnExit(this);
  }

  get namespaces(): TopologyLayout['namespaces'] {
    return this.layout.namespaces;
  }

  get destroyed(): boolean {
    return this.destroying !== undefined;
  }

  /** A switch's port bindings (`-i N@ifname`) by gateway or host name. */
  switchPorts(name: string): SwitchPorts {
    const found = this.layout.switches[name];
    if (found === undefined) throw unknown('switch', name, Object.keys(this.layout.switches));
    return found;
  }

  vm(name: string): VmLayout {
    const found = this.layout.vms[name];
    if (found === undefined) throw unknown('VM', name, Object.keys(this.layout.vms));
    return found;
  }

  /** Runs a command to completion in one of the run's namespaces (undefined: the root namespace). */
  exec(netns: string | undefined, cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    this.checkUsable(netns);
    const command = inNamespace(netns, cmd, args);
    return run(command.cmd, command.args, { timeoutMs: options.timeoutMs ?? this.commandTimeoutMs });
  }

  /** Starts a long-running process in one of the run's namespaces; `destroy()` stops it. */
  spawn(netns: string | undefined, cmd: string, args: readonly string[], options: SpawnOptions = {}): SpawnedProcess {
    this.checkUsable(netns);
    const child = new SpawnedProcess(netns, cmd, args, options);
    this.processes.add(child);
    void child.exited.then(() => this.processes.delete(child));
    return child;
  }

  /**
   * Joins a host switch's VM ports with a bridge and attaches a probe namespace that has the
   * host's underlay MAC, routes and neighbour entries for the VMs: the VMs become reachable
   * without a switch. For tests; `remove()` (or destroy) takes it away before a switch binds the ports.
   */
  async standInHostSwitch(hostName: string): Promise<HostStandIn> {
    this.checkUsable(undefined);
    if (this.layout.switches[hostName]?.kind !== 'host') {
      throw unknown('host', hostName, Object.values(this.layout.switches).filter((s) => s.kind === 'host').map((s) => s.name));
    }
    const plan = planHostStandIn(this.spec, this.layout, hostName);
    const sw = this.layout.switches[hostName];
    try {
      await this.apply(plan.steps);
    } catch (error) {
      await this.removeStandIn(plan.layout, sw.netns);
      throw error;
    }
    return { ...plan.layout, remove: () => this.removeStandIn(plan.layout, sw.netns) };
  }

  private async removeStandIn(stand: HostStandInLayout, switchNetns: string | undefined): Promise<void> {
    const quiet = (p: Promise<unknown>): Promise<unknown> => p.catch(() => undefined);
    await quiet(this.exec(switchNetns, 'ip', ['link', 'del', stand.bridge]));
    // Deleting the namespace deletes the probe's veth pair with it.
    await quiet(run('ip', ['netns', 'del', stand.netns]));
  }

  /** Runs build steps in order; a failure names the step. */
  async apply(steps: readonly BuildStep[], onStep?: BuildOptions['onStep']): Promise<void> {
    for (const [index, step] of steps.entries()) {
      if (this.destroyed) throw new E2eError('E2E_DESTROYED', `topology ${this.tag} was destroyed while building`);
      try {
        await onStep?.(step, index);
        for (const command of commandsOf(step, this.commandOptions)) {
          await run(command.cmd, command.args, { timeoutMs: this.commandTimeoutMs });
        }
      } catch (cause) {
        const message = cause instanceof Error ? cause.message : String(cause);
        throw new E2eError('E2E_BUILD_FAILED', `topology ${this.tag}: step ${index + 1} (${describeStep(step)}) failed: ${message}`, { cause });
      }
    }
  }

  /**
   * Stops the spawned processes (SIGTERM, then SIGKILL; bounded), then removes every namespace and
   * interface of the run. Idempotent: later calls return the first call's promise.
   */
  destroy(): Promise<void> {
    this.destroying ??= this.teardown();
    return this.destroying;
  }

  private async teardown(): Promise<void> {
    await Promise.all([...this.processes].map((p) => p.stop()));
    await removeTag(this.tag);
    // Only after a complete removal: otherwise the exit handler tries once more.
    this.forget();
  }

  /** For signal and exit handlers: kill, remove, no waiting on promises. */
  cleanupSync(): void {
    for (const p of this.processes) p.killNow();
    removeTagSync(this.tag);
  }

  private checkUsable(netns: string | undefined): void {
    if (this.destroyed) throw new E2eError('E2E_DESTROYED', `topology ${this.tag} has been destroyed`);
    if (netns !== undefined && !netns.startsWith(`${NAMESPACE_PREFIX}${this.tag}-`)) {
      throw new E2eError('E2E_UNKNOWN_NAME', `namespace '${netns}' is not part of topology ${this.tag}`, {
        hint: 'commands run only in the namespaces the builder made',
      });
    }
  }
}

function unknown(kind: string, name: string, known: readonly string[]): E2eError {
  return new E2eError('E2E_UNKNOWN_NAME', `unknown ${kind} '${name}'`, { hint: didYouMean(name, known) });
}

export type TopologySupport = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Whether this process can build topologies: root, iproute2 installed, and `ip netns add` allowed
 * (a container without CAP_SYS_ADMIN refuses it). Tries one tagged namespace and removes it.
 */
export async function topologySupport(): Promise<TopologySupport> {
  if (process.platform !== 'linux') return { ok: false, reason: 'network namespaces are Linux only' };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'needs root for ip netns and veth' };
  const trial = namespaceName(randomTag(), 'trial');
  try {
    await run('ip', ['netns', 'add', trial]);
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  await run('ip', ['netns', 'del', trial]).catch(() => undefined);
  return { ok: true };
}

/**
 * Creates the topology of `spec` (see plan.ts for its shape and addresses). On any failure
 * everything built so far is removed and E2E_BUILD_FAILED is thrown. Needs root.
 */
export async function buildTopology(spec: LbSpec, options: BuildOptions = {}): Promise<Topology> {
  let tag: string;
  if (options.tag === undefined) tag = await freshTag();
  else {
    tag = options.tag;
    checkTag(tag);
    const existing = await findLeaks(tag);
    if (hasLeaks(existing)) {
      throw new E2eError('E2E_TAG_IN_USE', `tag ${tag} is in use: ${describeLeaks(existing)}`, { hint: 'another run owns it, or an earlier run was killed; removeTag() clears it' });
    }
  }
  const plan = planTopology(spec, {
    tag,
    clients: options.clients ?? DEFAULT_CLIENTS,
    switchPlacement: options.switchPlacement ?? 'namespace',
    ...(options.gatewayPublicMac === undefined ? {} : { gatewayPublicMac: options.gatewayPublicMac }),
  });
  const warnings: string[] = [];
  let disableOffloads = false;
  if (options.offloads !== 'keep') {
    disableOffloads = await hasEthtool();
    if (!disableOffloads) {
      warnings.push(
        'ethtool is not installed: veth checksum and segmentation offloads stay on, so frames that local TCP/UDP ' +
          'sockets send reach a software switch with unfinished checksums (install ethtool for end-to-end traffic)',
      );
    }
  }
  const topology = new Topology(spec, plan.layout, {
    commandOptions: { disableOffloads, ipv6: existsSync('/proc/sys/net/ipv6'), multipathHashFields: existsSync('/proc/sys/net/ipv4/fib_multipath_hash_fields') },
    warnings,
    ...(options.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: options.commandTimeoutMs }),
  });
  try {
    await topology.apply(plan.steps, options.onStep);
  } catch (error) {
    try {
      await topology.destroy();
    } catch (cleanupError) {
      throw new E2eError('E2E_CLEANUP_INCOMPLETE', `${(error as Error).message}; cleaning up also failed: ${(cleanupError as Error).message}`, {
        cause: error,
      });
    }
    throw error;
  }
  return topology;
}
