/**
 * The VMs' services: in each VM namespace a plain-node HTTP server (vm-http-server.js) that
 * answers with the VM's name on every address and port a client or health check of its VIPs
 * reaches — the VIP (on the VM's loopback) for tunnel mode, the private address for NAT mode and
 * for every health check.
 */
import { fileURLToPath } from 'node:url';
import type { LbSpec, Vm } from '../../core/spec/schema.ts';
import { byCodeUnit } from '../../core/order.ts';
import { vmByName } from '../../core/spec/lookup.ts';
import { E2eError } from './errors.ts';
import type { SpawnedProcess } from './spawned-process.ts';
import type { Topology } from './topology.ts';

export const VM_SERVER_SCRIPT = fileURLToPath(new URL('./vm-http-server.js', import.meta.url));
/** Node starts in well under a second; the bound covers a loaded CI machine. */
export const DEFAULT_READY_TIMEOUT_MS = 10_000;

export interface ListenAddress {
  readonly address: string;
  readonly port: number;
}

/**
 * Where a VM must listen for its VIPs, sorted and without duplicates: tunnel mode keeps the VIP
 * as destination, so VIP:port; NAT mode rewrites to the private address and targetPort (else the
 * VIP port); health checks of either mode probe private:health port.
 */
export function vmListenAddresses(spec: LbSpec, vm: Vm | string): ListenAddress[] {
  const v = typeof vm === 'string' ? vmByName(spec, vm) : vm;
  const found = new Map<string, ListenAddress>();
  const add = (address: string, port: number): void => void found.set(`${address}:${port}`, { address, port });
  for (const vip of spec.vips) {
    if (!vip.backends.includes(v.name) || vip.protocol !== 'tcp') continue;
    if (vip.mode === 'tunnel') {
      for (const port of vip.ports) add(vip.address, port);
    } else {
      for (const port of vip.ports) add(v.privateIpv4, vip.targetPort ?? port);
    }
    add(v.privateIpv4, vip.healthCheck.port);
  }
  return [...found.values()].sort((a, b) => byCodeUnit(a.address, b.address) || a.port - b.port);
}

export interface VmServer {
  readonly vm: string;
  readonly listen: readonly ListenAddress[];
  readonly process: SpawnedProcess;
}

export interface VmServers {
  readonly servers: ReadonlyMap<string, VmServer>;
  /** Stops them all (destroying the topology does too). */
  stop(): Promise<void>;
}

export interface VmServerOptions {
  readonly readyTimeoutMs?: number;
  /** The servers end by themselves after this long (default: the script's 10 minutes). */
  readonly lifetimeMs?: number;
  /** How long a server keeps an idle keep-alive connection (default: the script's 1 s). */
  readonly keepAliveMs?: number;
}

/** Starts one VM's server (undefined when the VM serves nothing: UDP only); resolves when it is ready. */
export async function startVmServer(topology: Topology, spec: LbSpec, vm: Vm | string, options: VmServerOptions = {}): Promise<VmServer | undefined> {
  const v = typeof vm === 'string' ? vmByName(spec, vm) : vm;
  const listen = vmListenAddresses(spec, v);
  if (listen.length === 0) return undefined;
  const args = [VM_SERVER_SCRIPT, '--name', v.name, ...listen.flatMap((l) => ['--listen', `${l.address}:${l.port}`])];
  if (options.lifetimeMs !== undefined) args.push('--lifetime-ms', String(options.lifetimeMs));
  if (options.keepAliveMs !== undefined) args.push('--keep-alive-ms', String(options.keepAliveMs));
  const child = topology.spawn(topology.vm(v.name).netns, process.execPath, args);
  try {
    await child.waitForOutput(/^ready /m, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
  } catch (cause) {
    await child.stop();
    throw new E2eError('E2E_SERVER_FAILED', `${v.name}'s server did not start: ${(cause as Error).message}`, { cause });
  }
  return { vm: v.name, listen, process: child };
}

/** Starts one server per VM that listens somewhere (UDP-only VMs get none); resolves when all are ready. */
export async function startVmServers(topology: Topology, spec: LbSpec, options: VmServerOptions = {}): Promise<VmServers> {
  const servers = new Map<string, VmServer>();
  const stop = async (): Promise<void> => {
    await Promise.all([...servers.values()].map((s) => s.process.stop()));
  };
  const started = await Promise.allSettled(spec.vms.map((vm) => startVmServer(topology, spec, vm, options)));
  for (const result of started) if (result.status === 'fulfilled' && result.value !== undefined) servers.set(result.value.vm, result.value);
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) {
    await stop();
    throw failed.reason;
  }
  return { servers, stop };
}
