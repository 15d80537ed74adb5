/**
 * Backends added to and removed from a VIP while the controller runs (a changed spec applied in
 * place): only that VIP's slots and backend entries change, health checks of the others keep
 * their state, and changes that would shift ids or need new programs are refused, naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendId, vipId } from '../../core/spec/lookup.ts';
import type { LbSpec } from '../../core/spec/schema.ts';
import type { Prober } from '../health/index.ts';
import { GATEWAY_P4, type TableEntry } from '../lb/index.ts';
import { backendChanges, specChangeProblems } from './spec-change.ts';
import { exampleSpecAt, startSettledDeployment, type Deployment } from './test-setup.ts';

const alwaysUp: Prober = async () => ({ ok: true, latencyMs: 0 });

const withoutBackend = (spec: LbSpec, vip: string, vm: string): LbSpec => ({
  ...spec,
  vips: spec.vips.map((v) => (v.name === vip ? { ...v, backends: v.backends.filter((b) => b !== vm) } : v)),
});

describe('specChangeProblems', () => {
  const spec = exampleSpecAt({});

  it('accepts a change of a VIP\'s backends and reports it', () => {
    const next = withoutBackend(spec, 'api', 'vm-b2');
    expect(specChangeProblems(spec, next)).toEqual([]);
    expect(backendChanges(spec, next)).toEqual([{ vip: 'api', added: [], removed: ['vm-b2'] }]);
    expect(backendChanges(next, spec)).toEqual([{ vip: 'api', added: ['vm-b2'], removed: [] }]);
  });

  it('refuses what would shift ids or touch the switches, naming the field', () => {
    const renamedVm = { ...spec, vms: spec.vms.map((v) => (v.name === 'vm-b2' ? { ...v, name: 'vm-b3' } : v)) };
    expect(specChangeProblems(spec, renamedVm).map((p) => p.path)).toEqual(['vms']);
    const fewerVips = { ...spec, vips: spec.vips.slice(1) };
    expect(specChangeProblems(spec, fewerVips).map((p) => p.path)).toEqual(['vips']);
    const movedGateway = { ...spec, gateways: spec.gateways.map((g, i) => (i === 0 ? { ...g, p4runtime: { ...g.p4runtime, address: '127.0.0.1:1' } } : g)) };
    expect(specChangeProblems(spec, movedGateway)).toEqual([{ path: 'gateways', message: expect.stringContaining('gateways') as unknown }]);
  });
});

describe('controller: a VIP\'s backends change while it runs', () => {
  let d: Deployment;
  const apiBackends = async (gateway: string): Promise<Set<number>> => {
    const api = vipId(d.spec, 'api');
    const slots = await d.readEntries(gateway, GATEWAY_P4.slotTable);
    return new Set(slots.filter((e) => Number(e.keys['vip_id']) === api).map((e) => Number(e.params['backend_id'])));
  };
  const backendEntries = async (gateway: string): Promise<TableEntry[]> => d.readEntries(gateway, GATEWAY_P4.backendTable);

  beforeAll(async () => {
    d = await startSettledDeployment({ prober: alwaysUp });
  }, 120_000);

  afterAll(async () => {
    await d?.close();
  }, 60_000);

  it('removes a backend from one VIP (its slots and its backend entries for that VIP) and adds it back, leaving the other VIP alone', async () => {
    const spec = d.controller.spec;
    const b2 = backendId(spec, 'vm-b2');
    const [api, web] = [vipId(spec, 'api'), vipId(spec, 'web')];
    const webBefore = (await backendEntries('gw-west')).filter((e) => Number(e.keys['vip_id']) === web);
    expect((await apiBackends('gw-east')).has(b2)).toBe(true);

    const result = await d.controller.applySpec(withoutBackend(spec, 'api', 'vm-b2'));
    expect(result.backends).toEqual([{ vip: 'api', added: [], removed: ['vm-b2'] }]);
    for (const gw of ['gw-east', 'gw-west']) {
      expect((await apiBackends(gw)).has(b2)).toBe(false);
      const entries = await backendEntries(gw);
      expect(entries.some((e) => Number(e.keys['vip_id']) === api && Number(e.keys['backend_id']) === b2)).toBe(false);
    }
    // The other VIP is untouched, and its health checks kept their state (nothing went back to unknown).
    expect((await backendEntries('gw-west')).filter((e) => Number(e.keys['vip_id']) === web)).toEqual(webBefore);
    expect(d.controller.vipStatus().find((v) => v.name === 'web')!.backends.every((b) => Object.values(b.gateways).every((g) => g.health === 'healthy'))).toBe(true);
    expect(d.controller.vipStatus().find((v) => v.name === 'api')!.backends.map((b) => b.vm)).toEqual(['vm-a1', 'vm-a2', 'vm-b1']);

    await d.controller.applySpec(spec);
    // Added back: unknown until its check passes `rise` times, then it owns slots again.
    const deadline = Date.now() + 10_000;
    while (!(await apiBackends('gw-east')).has(b2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await apiBackends('gw-east')).has(b2)).toBe(true);
  }, 60_000);

  it('refuses a change it cannot apply and changes nothing', async () => {
    const spec = d.controller.spec;
    const before = await d.readEntries('gw-east');
    await expect(d.controller.applySpec({ ...spec, vips: spec.vips.slice(1) })).rejects.toMatchObject({ code: 'CONTROLLER_SPEC_CHANGE', location: { path: 'vips' } });
    expect(d.controller.spec).toBe(spec);
    expect(await d.readEntries('gw-east')).toEqual(before);
  });
});
