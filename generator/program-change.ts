/**
 * Whether the programs generated for one spec can serve another, so that a running controller
 * can take a changed spec without pushing new pipelines (a push clears the flow-state registers
 * and with them every pinned flow). They can when everything the templates print is the same
 * except table sizes, the new spec's tables fit the running sizes, and every VM tunnel port of
 * the new spec is one the running host parser already reads. Pure.
 */
import type { SpecIds } from '../core/spec/ids.ts';
import type { LbSpec } from '../core/spec/schema.ts';
import {
  gatewayNeeds, gatewayViewModel, hostNeeds, hostViewModel,
  type GatewaySizes, type HostSizes,
} from './view-model.ts';

export interface ProgramChangeProblem {
  /** The spec field at fault. */
  readonly path: string;
  readonly message: string;
}

/** The version does not matter here: both sides are rendered by this generator. */
const VERSION = 'running';

/** Where each table's need comes from in the spec, for the error. */
const GATEWAY_SIZE_PATHS: Readonly<Record<keyof GatewaySizes, string>> = {
  vipTable: 'vips[].ports',
  slotTable: 'vips[].slots',
  backendTable: 'vips[].backends',
  tokenTable: 'vms',
  natReverse: 'vips[].backends',
  routes: 'hosts',
  vipCounter: 'vips',
  backendCounter: 'vms',
};

const HOST_SIZE_PATHS: Readonly<Record<keyof HostSizes, string>> = {
  localVm: 'vms',
  tokenTable: 'vms',
  peerTable: 'vms',
  routes: 'hosts',
  vmCounter: 'vms',
};

const json = (v: unknown): string => JSON.stringify(v);

/** Fields of two view models that differ, other than `sizes`, the digest and those in `skip`. */
function differingFields(running: object, next: object, skip: readonly string[]): string[] {
  const a = running as Record<string, unknown>;
  const b = next as Record<string, unknown>;
  const ignored = new Set(['sizes', 'specDigest', ...skip]);
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !ignored.has(k) && json(a[k]) !== json(b[k]));
}

function sizeProblems<T extends object>(program: string, needs: T, sizes: T, paths: Readonly<Record<keyof T, string>>): ProgramChangeProblem[] {
  return (Object.keys(needs) as (keyof T & string)[]).flatMap((table) => {
    const need = needs[table] as number;
    const size = sizes[table] as number;
    return need <= size ? [] : [{ path: paths[table], message: `the ${program} program's ${table} holds ${size}, the new spec needs ${need}` }];
  });
}

/**
 * Why the programs generated for `running` cannot serve `next` with the data-plane ids `nextIds`;
 * empty when they can.
 */
export function programChangeProblems(running: LbSpec, next: LbSpec, nextIds: SpecIds): ProgramChangeProblem[] {
  const problems: ProgramChangeProblem[] = [];
  const gwRunning = gatewayViewModel(running, VERSION);
  const gwNext = gatewayViewModel(next, VERSION);
  for (const field of differingFields(gwRunning, gwNext, [])) problems.push({ path: field, message: `the gateway program's ${field} changes` });
  problems.push(...sizeProblems('gateway', gatewayNeeds(next, nextIds), gwRunning.sizes, GATEWAY_SIZE_PATHS));

  const hostRunning = hostViewModel(running, VERSION);
  const hostNext = hostViewModel(next, VERSION);
  for (const field of differingFields(hostRunning, hostNext, ['tunnelPorts'])) problems.push({ path: field, message: `the host program's ${field} changes` });
  const parsed = new Set(hostRunning.tunnelPorts);
  next.vms.forEach((vm, i) => {
    if (parsed.has(vm.udpPort)) return;
    problems.push({
      path: `vms[${i}].udpPort`,
      message: `port ${vm.udpPort} of VM '${vm.name}' is not a tunnel port of the running host program (it parses ${hostRunning.tunnelPorts.join(', ')}); ` +
        'ports are unique per host only, so a port another host uses serves, or reserve ports with spareVmUdpPorts',
    });
  });
  problems.push(...sizeProblems('host', hostNeeds(next, nextIds), hostRunning.sizes, HOST_SIZE_PATHS));
  return problems;
}
