import { describe, expect, it } from 'vitest';
import { INTERNET, checkPolicyRule, compilePolicy } from './policy.ts';
import { TEST_SPEC, errorOf } from './test-fixtures.ts';


describe('default policy: VMs of the same VIP may talk', () => {
  const policy = compilePolicy(TEST_SPEC);

  it('allows VMs sharing a VIP, naming the VIP (first by name)', () => {
    expect(policy.decide('vm-a1', 'vm-a2')).toEqual({ allowed: true, reason: 'same-vip', vip: 'web' });
    expect(policy.decide('vm-b1', 'vm-a1')).toEqual({ allowed: true, reason: 'same-vip', vip: 'api' });
  });

  it('denies VMs with no VIP in common', () => {
    expect(policy.decide('vm-a2', 'vm-b1')).toEqual({ allowed: false, reason: 'not-allowed' });
    expect(policy.mayTalk('vm-lone', 'vm-a1')).toBe(false);
  });

  it('allows Internet egress to VMs serving a VIP, and only them', () => {
    expect(policy.decide('vm-b1', INTERNET)).toEqual({ allowed: true, reason: 'serves-vip', vip: 'api' });
    expect(policy.mayReachInternet('vm-lone')).toBe(false);
  });

  it('lists the allowed ordered pairs, both directions, sorted', () => {
    expect(policy.vmPairs()).toEqual([
      ['vm-a1', 'vm-a2'],
      ['vm-a1', 'vm-b1'],
      ['vm-a2', 'vm-a1'],
      ['vm-b1', 'vm-a1'],
    ]);
  });

  it('treats a VM and itself as local traffic, not a pair', () => {
    expect(policy.decide('vm-a1', 'vm-a1')).toEqual({ allowed: true, reason: 'same-vm' });
    expect(policy.mayTalk('vm-a1', 'vm-a1')).toBe(false);
  });
});

describe('explicit rules', () => {
  it('allow both directions and report the rule', () => {
    const policy = compilePolicy(TEST_SPEC, { sameVip: true, rules: [{ from: 'vm-lone', to: 'vm-a2' }] });
    expect(policy.decide('vm-lone', 'vm-a2')).toEqual({ allowed: true, reason: 'rule', rule: 0 });
    expect(policy.decide('vm-a2', 'vm-lone')).toEqual({ allowed: true, reason: 'rule', rule: 0 });
    expect(policy.vmPairs()).toContainEqual(['vm-a2', 'vm-lone']);
  });

  it('grant Internet egress to a VM that serves no VIP', () => {
    const policy = compilePolicy(TEST_SPEC, { sameVip: true, rules: [{ from: 'vm-lone', to: INTERNET }] });
    expect(policy.decide('vm-lone', INTERNET)).toEqual({ allowed: true, reason: 'rule', rule: 0 });
    expect(policy.vmPairs()).not.toContainEqual(['vm-lone', INTERNET]);
  });

  it('are all that is left when the same-VIP default is off', () => {
    const policy = compilePolicy(TEST_SPEC, { sameVip: false, rules: [{ from: 'vm-a1', to: 'vm-b1' }] });
    expect(policy.mayTalk('vm-a1', 'vm-a2')).toBe(false);
    expect(policy.vmPairs()).toEqual([
      ['vm-a1', 'vm-b1'],
      ['vm-b1', 'vm-a1'],
    ]);
    // Egress for VIP backends does not depend on the default.
    expect(policy.mayReachInternet('vm-a2')).toBe(true);
  });
});

describe('bad policy input', () => {
  it('names the rule field holding an unknown VM, with a suggestion', () => {
    const unknown = errorOf(() => compilePolicy(TEST_SPEC, { sameVip: true, rules: [{ from: 'vm-a1', to: 'vm-b1' }, { from: 'vm-a1', to: 'vm-lnoe' }] }));
    expect(unknown.code).toBe('REGISTRY_BAD_POLICY_RULE');
    expect(unknown.location?.path).toBe('policy.rules[1].to');
    expect(unknown.message).toBe(`unknown VM "vm-lnoe" in a policy rule (a VM name, or '${INTERNET}' for Internet egress)`);
    expect(unknown.hint).toBe("did you mean 'vm-lone'?");
    expect(errorOf(() => checkPolicyRule(TEST_SPEC, { from: 'vn-a1', to: 'vm-a2' })).location?.path).toBe('rule.from');
  });

  it('rejects a rule from a VM to itself', () => {
    const err = errorOf(() => compilePolicy(TEST_SPEC, { sameVip: true, rules: [{ from: 'vm-a1', to: 'vm-a1' }] }));
    expect(err.location?.path).toBe('policy.rules[0].to');
    expect(err.message).toBe("a policy rule from VM 'vm-a1' to itself allows nothing");
  });

  it('rejects a rule that is not an object and a non-boolean default', () => {
    expect(errorOf(() => checkPolicyRule(TEST_SPEC, 'vm-a1 -> vm-a2', 'rules[3]')).location?.path).toBe('rules[3]');
    const err = errorOf(() => compilePolicy(TEST_SPEC, { sameVip: 'yes' as unknown as boolean, rules: [] }));
    expect(err.location?.path).toBe('policy.sameVip');
  });

  it('names the argument when a decision asks about an unknown VM', () => {
    const policy = compilePolicy(TEST_SPEC);
    const err = errorOf(() => policy.decide('vm-a1', 'vm-zz'));
    expect(err.location?.path).toBe('to');
    expect(errorOf(() => policy.mayReachInternet('nobody')).location?.path).toBe('from');
  });
});
