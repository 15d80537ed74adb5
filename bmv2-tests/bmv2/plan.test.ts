import { describe, expect, it } from 'vitest';
import { planTargets } from '../dsl/runner.ts';

describe('target plan with BMv2', () => {
  it('plans the embedded and the bmv2 target, BMv2 without clock control or full register reads', () => {
    const plan = planTargets({ SIMPLE_SWITCH_GRPC: '/x/simple_switch_grpc', P4C: '/x/p4c' }, () => true);
    expect(plan.targets.map((t) => [t.name, t.capabilities])).toEqual([
      ['embedded', { clock: true, registers: true }],
      ['bmv2', { clock: false, registers: false }],
    ]);
    expect(plan.summary).toBe('BMv2 found (/x/simple_switch_grpc, /x/p4c): embedded and bmv2 targets');
  });

  it('says why BMv2 is skipped when a tool is missing', () => {
    const plan = planTargets({ SIMPLE_SWITCH_GRPC: '/x/simple_switch_grpc', PATH: '/nowhere' }, (p) => p === '/x/simple_switch_grpc');
    expect(plan.targets.map((t) => t.name)).toEqual(['embedded']);
    expect(plan.summary).toBe('BMv2 not found (set SIMPLE_SWITCH_GRPC and P4C): embedded target only');
  });
});
