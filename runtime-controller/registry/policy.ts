/**
 * The traffic policy: which VMs may talk to which through the tunnel, and which may reach the
 * Internet through a gateway. The planner issues a VM→VM token only where this says yes; without
 * a token the host program has no peer entry and drops the packet (`no-peer`).
 *
 * Pure: the rules come from the registry's SQLite store, the decisions from the spec and them.
 */
import { didYouMean } from '../../core/errors.ts';
import { byCodeUnit } from '../../core/order.ts';
import type { LbSpec } from '../../core/spec/schema.ts';
import { fieldError } from './errors.ts';

/**
 * The destination of an Internet-egress rule. '@' cannot occur in a VM name (DNS-label names),
 * so this never collides with a VM.
 */
export const INTERNET = '@internet';

/**
 * "`from` may talk to `to`". VM↔VM rules are symmetric: a conversation needs tokens both ways
 * (the reply travels back through the tunnel under its own token), so a one-way rule would only
 * allow datagrams that can never be answered. `to` = INTERNET allows egress via the gateway.
 */
export interface PolicyRule {
  readonly from: string;
  readonly to: string;
}

export interface PolicyInput {
  /** The default rule: VMs serving a common VIP may talk to each other. */
  readonly sameVip: boolean;
  readonly rules: readonly PolicyRule[];
}

export const DEFAULT_POLICY: PolicyInput = { sameVip: true, rules: [] };

export type PolicyReason =
  /** Allowed: both VMs serve this VIP (the default rule). */
  | 'same-vip'
  /** Allowed by the explicit rule at `rule` (index into the rule list). */
  | 'rule'
  /** Internet egress allowed because the VM serves a VIP: it must answer clients. */
  | 'serves-vip'
  /** A VM and itself: traffic never leaves the host, no token is involved. */
  | 'same-vm'
  | 'not-allowed';

export interface PolicyDecision {
  readonly allowed: boolean;
  readonly reason: PolicyReason;
  /** The VIP behind a 'same-vip' or 'serves-vip' decision (the first by name). */
  readonly vip?: string;
  /** Index of the rule behind a 'rule' decision. */
  readonly rule?: number;
}

export interface TrafficPolicy {
  /** Whether `from` may send to `to` (a VM name or INTERNET), and why. */
  decide(from: string, to: string): PolicyDecision;
  mayTalk(a: string, b: string): boolean;
  mayReachInternet(vm: string): boolean;
  /** Every ordered pair of distinct VMs that may talk, sorted by (from, to). */
  vmPairs(): readonly (readonly [from: string, to: string])[];
}

/** Checks one rule against the spec; errors name `path.from` / `path.to`. */
export function checkPolicyRule(spec: LbSpec, rule: unknown, path = 'rule'): PolicyRule {
  if (typeof rule !== 'object' || rule === null) {
    throw fieldError('REGISTRY_BAD_POLICY_RULE', path, 'a policy rule must be an object { from, to }');
  }
  const { from, to } = rule as Record<string, unknown>;
  const vmNames = spec.vms.map((v) => v.name);
  const known = new Set(vmNames);
  if (typeof from !== 'string' || !known.has(from)) {
    throw fieldError(
      'REGISTRY_BAD_POLICY_RULE',
      `${path}.from`,
      `unknown VM ${JSON.stringify(from)} in a policy rule`,
      typeof from === 'string' ? didYouMean(from, vmNames) : undefined,
    );
  }
  if (typeof to !== 'string' || (to !== INTERNET && !known.has(to))) {
    throw fieldError(
      'REGISTRY_BAD_POLICY_RULE',
      `${path}.to`,
      `unknown VM ${JSON.stringify(to)} in a policy rule (a VM name, or '${INTERNET}' for Internet egress)`,
      typeof to === 'string' ? didYouMean(to, [...vmNames, INTERNET]) : undefined,
    );
  }
  if (from === to) {
    throw fieldError('REGISTRY_BAD_POLICY_RULE', `${path}.to`, `a policy rule from VM '${from}' to itself allows nothing`);
  }
  return { from, to };
}

/** Validates the input against the spec and answers questions about it. */
export function compilePolicy(spec: LbSpec, input: PolicyInput = DEFAULT_POLICY, path = 'policy'): TrafficPolicy {
  if (typeof input.sameVip !== 'boolean') {
    throw fieldError('REGISTRY_BAD_POLICY_RULE', `${path}.sameVip`, `sameVip must be true or false, not ${JSON.stringify(input.sameVip)}`);
  }
  const rules = input.rules.map((r, i) => checkPolicyRule(spec, r, `${path}.rules[${i}]`));
  const vmNames = spec.vms.map((v) => v.name);
  const known = new Set(vmNames);

  // VIPs of each VM, sorted by name so the reported VIP does not depend on spec order.
  const vipsOf = new Map<string, string[]>(vmNames.map((n) => [n, []]));
  for (const vip of [...spec.vips].sort((a, b) => byCodeUnit(a.name, b.name))) {
    for (const b of vip.backends) vipsOf.get(b)?.push(vip.name);
  }
  const ruleIndex = new Map<string, number>();
  rules.forEach((r, i) => {
    // Symmetric: store under the unordered pair; the first rule wins as the reported reason.
    const key = r.to === INTERNET ? `${r.from}\n${INTERNET}` : [r.from, r.to].sort(byCodeUnit).join('\n');
    if (!ruleIndex.has(key)) ruleIndex.set(key, i);
  });

  const checkVm = (name: string, field: string): void => {
    if (!known.has(name)) {
      throw fieldError('REGISTRY_BAD_POLICY_RULE', field, `unknown VM '${name}'`, didYouMean(name, vmNames));
    }
  };

  const decide = (from: string, to: string): PolicyDecision => {
    checkVm(from, 'from');
    if (to === INTERNET) {
      const vip = vipsOf.get(from)![0];
      if (vip !== undefined) return { allowed: true, reason: 'serves-vip', vip };
      const rule = ruleIndex.get(`${from}\n${INTERNET}`);
      return rule === undefined ? { allowed: false, reason: 'not-allowed' } : { allowed: true, reason: 'rule', rule };
    }
    checkVm(to, 'to');
    if (from === to) return { allowed: true, reason: 'same-vm' };
    if (input.sameVip) {
      const theirs = new Set(vipsOf.get(to)!);
      const vip = vipsOf.get(from)!.find((v) => theirs.has(v));
      if (vip !== undefined) return { allowed: true, reason: 'same-vip', vip };
    }
    const rule = ruleIndex.get([from, to].sort(byCodeUnit).join('\n'));
    return rule === undefined ? { allowed: false, reason: 'not-allowed' } : { allowed: true, reason: 'rule', rule };
  };

  // The allowed ordered pairs, built from the VIPs and rules rather than by asking about all n²
  // pairs; '\n' sorts before every name character, so sorting the joined text sorts by (from, to).
  const pairText = new Set<string>();
  const allow = (a: string, b: string): void => {
    if (a === b) return;
    pairText.add(`${a}\n${b}`);
    pairText.add(`${b}\n${a}`);
  };
  if (input.sameVip) {
    for (const vip of spec.vips) for (const a of vip.backends) for (const b of vip.backends) allow(a, b);
  }
  for (const r of rules) if (r.to !== INTERNET) allow(r.from, r.to);
  const pairs = [...pairText].sort(byCodeUnit).map((t) => t.split('\n') as [string, string]);

  return {
    decide,
    mayTalk: (a, b) => a !== b && decide(a, b).allowed,
    mayReachInternet: (vm) => decide(vm, INTERNET).allowed,
    vmPairs: () => pairs,
  };
}
