import { describe, expect, it } from 'vitest';
import { findBmv2, planTargets } from './runner.ts';

describe('target plan', () => {
  it('runs the embedded target alone and says why when BMv2 is absent', () => {
    const plan = planTargets({ PATH: '/nowhere' }, () => false);
    expect(plan.targets.map((t) => t.name)).toEqual(['embedded']);
    expect(plan.summary).toBe('BMv2 not found (set SIMPLE_SWITCH_GRPC and P4C): embedded target only');
  });

  it('finds the tools from the variables first, then on PATH', () => {
    const present = new Set(['/opt/bmv2/simple_switch_grpc', '/usr/bin/p4c']);
    expect(findBmv2({ SIMPLE_SWITCH_GRPC: '/opt/bmv2/simple_switch_grpc', PATH: '/usr/bin' }, (p) => present.has(p))).toEqual({
      simpleSwitchGrpc: '/opt/bmv2/simple_switch_grpc',
      p4c: '/usr/bin/p4c',
    });
    expect(findBmv2({ PATH: '/usr/bin' }, (p) => present.has(p))).toBeUndefined();
  });

  it('does not fall back to PATH when a variable names a missing file', () => {
    expect(findBmv2({ SIMPLE_SWITCH_GRPC: '/missing', P4C: '/usr/bin/p4c', PATH: '/usr/bin' }, (p) => p !== '/missing')).toBeUndefined();
  });
});
