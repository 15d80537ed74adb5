/**
 * Which spec changes a running controller can apply, and what a change does. VMs and VIPs may
 * come and go (ids are kept by the registry, core/spec/ids.ts), a VIP's backends, weights,
 * health checks, algorithm, tokens and geo preference may change; the switches may not (a
 * switch added or moved is a new deployment for the controller). Pure: whether the running
 * programs can hold the new spec is program-change.ts's question.
 */
import type { LbSpec } from '../../core/spec/schema.ts';

export interface SpecChangeProblem {
  /** The spec field at fault. */
  readonly path: string;
  readonly message: string;
}

/** What applying a spec changed, for logs and the caller. */
export interface SpecApplied {
  readonly vmsAdded: readonly string[];
  readonly vmsRemoved: readonly string[];
  readonly vipsAdded: readonly string[];
  readonly vipsRemoved: readonly string[];
  /** Per VIP present in both specs, the backends added and removed. */
  readonly backends: readonly { readonly vip: string; readonly added: readonly string[]; readonly removed: readonly string[] }[];
  /** Which switches took the change and which will get it later; absent when nothing was written (nothing applied). */
  readonly switches?: WriteOutcome;
}

/**
 * Which switches hold a change the controller recorded. A pending switch (down, not primary, or
 * its write failed) gets the change when it is pipeline-ready again, or at the retry of its
 * reconcile: the change is stored either way.
 */
export interface WriteOutcome {
  /** Switches that acknowledged the change (or held it already), in the spec's order. */
  readonly written: readonly string[];
  /** Switches that do not hold it yet, and why (`not connected`, `write failed: …`). */
  readonly pending: readonly { readonly switch: string; readonly reason: string }[];
}

/** A WriteOutcome from each switch's answer: undefined when written, else why not. */
export function writeOutcome(results: readonly (readonly [switchName: string, notWritten: string | undefined])[]): WriteOutcome {
  return {
    written: results.flatMap(([name, why]) => (why === undefined ? [name] : [])),
    pending: results.flatMap(([name, why]) => (why === undefined ? [] : [{ switch: name, reason: why }])),
  };
}

const json = (v: unknown): string => JSON.stringify(v);

/** Why `next` cannot replace `current` in a running controller; empty when it can. */
export function specChangeProblems(current: LbSpec, next: LbSpec): SpecChangeProblem[] {
  const problems: SpecChangeProblem[] = [];
  if (current.deployment !== next.deployment) problems.push({ path: 'deployment', message: `the deployment changes from '${current.deployment}' to '${next.deployment}'` });
  if (json(current.gateways) !== json(next.gateways)) problems.push({ path: 'gateways', message: 'the gateways (their switches, ports or addresses) change' });
  if (json(current.hosts) !== json(next.hosts)) problems.push({ path: 'hosts', message: 'the hosts (their switches, ports or addresses) change' });
  if (json(current.locations) !== json(next.locations)) problems.push({ path: 'locations', message: 'the locations change' });
  if (json(current.flowState) !== json(next.flowState)) problems.push({ path: 'flowState', message: 'the flow-state size changes (a new program)' });
  return problems;
}

function added(before: readonly string[], after: readonly string[]): string[] {
  const had = new Set(before);
  return after.filter((n) => !had.has(n));
}

/** The VMs, VIPs and backends that `next` adds and removes. */
export function describeSpecChange(current: LbSpec, next: LbSpec): SpecApplied {
  const vmsBefore = current.vms.map((v) => v.name);
  const vmsAfter = next.vms.map((v) => v.name);
  const vipsBefore = current.vips.map((v) => v.name);
  const vipsAfter = next.vips.map((v) => v.name);
  const backends = next.vips.flatMap((vip) => {
    const before = current.vips.find((v) => v.name === vip.name)?.backends;
    if (before === undefined) return [];
    const plus = added(before, vip.backends);
    const minus = added(vip.backends, before);
    return plus.length + minus.length === 0 ? [] : [{ vip: vip.name, added: plus, removed: minus }];
  });
  return {
    vmsAdded: added(vmsBefore, vmsAfter),
    vmsRemoved: added(vmsAfter, vmsBefore),
    vipsAdded: added(vipsBefore, vipsAfter),
    vipsRemoved: added(vipsAfter, vipsBefore),
    backends,
  };
}
