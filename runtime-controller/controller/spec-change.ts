/**
 * Which spec changes a running controller can apply. Backend and VIP ids are positions in the
 * name-sorted VM and VIP lists (core/spec/lookup.ts) and flow-state entries hold backend ids, so
 * the set of VM names and of VIP names must stay; the switches must stay too. Within that, a
 * VIP's backends, weights, health checks, algorithm, tokens and geo preference may change.
 * Pure: the controller checks the generated programs separately (a change of table sizes needs a
 * pipeline push, which clears flow state).
 */
import type { LbSpec } from '../../core/spec/schema.ts';

export interface SpecChangeProblem {
  /** The spec field at fault. */
  readonly path: string;
  readonly message: string;
}

const json = (v: unknown): string => JSON.stringify(v);
const names = (list: readonly { readonly name: string }[]): string => list.map((x) => x.name).sort().join(', ');

/** Why `next` cannot replace `current` in a running controller; empty when it can. */
export function specChangeProblems(current: LbSpec, next: LbSpec): SpecChangeProblem[] {
  const problems: SpecChangeProblem[] = [];
  if (current.deployment !== next.deployment) problems.push({ path: 'deployment', message: `the deployment changes from '${current.deployment}' to '${next.deployment}'` });
  if (json(current.gateways) !== json(next.gateways)) problems.push({ path: 'gateways', message: 'the gateways (their switches, ports or addresses) change' });
  if (json(current.hosts) !== json(next.hosts)) problems.push({ path: 'hosts', message: 'the hosts (their switches, ports or addresses) change' });
  if (json(current.locations) !== json(next.locations)) problems.push({ path: 'locations', message: 'the locations change' });
  if (names(current.vms) !== names(next.vms)) problems.push({ path: 'vms', message: `the VMs change (${names(current.vms)} → ${names(next.vms)}); backend ids are their sorted positions` });
  if (names(current.vips) !== names(next.vips)) problems.push({ path: 'vips', message: `the VIPs change (${names(current.vips)} → ${names(next.vips)}); VIP ids are their sorted positions` });
  if (json(current.flowState) !== json(next.flowState)) problems.push({ path: 'flowState', message: 'the flow-state size changes (a new program)' });
  return problems;
}

/** Per VIP, the backends a change adds and removes (for logs and the caller). */
export function backendChanges(current: LbSpec, next: LbSpec): { readonly vip: string; readonly added: readonly string[]; readonly removed: readonly string[] }[] {
  return next.vips.flatMap((vip) => {
    const before = new Set(current.vips.find((v) => v.name === vip.name)?.backends ?? []);
    const after = new Set(vip.backends);
    const added = [...after].filter((vm) => !before.has(vm));
    const removed = [...before].filter((vm) => !after.has(vm));
    return added.length + removed.length === 0 ? [] : [{ vip: vip.name, added, removed }];
  });
}
