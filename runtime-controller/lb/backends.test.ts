import { describe, expect, it } from 'vitest';
import { gatewayByName, vipByName } from '../../core/spec/lookup.ts';
import { ALL_HEALTHY, gatewayView, healthyBackends, type GatewayView } from './backends.ts';
import { fixtureSpec } from './test-fixtures.ts';

const spec = fixtureSpec({
  vms: [{ location: 'east' }, { location: 'east' }, { location: 'central' }, { location: 'west' }],
  gateways: ['east', 'west', 'central'],
  geoPreference: true,
});
const vip = vipByName(spec, 'svc');
const [east, west, central] = ['gw-0', 'gw-1', 'gw-2'].map((g) => gatewayByName(spec, g)) as [
  ReturnType<typeof gatewayByName>, ReturnType<typeof gatewayByName>, ReturnType<typeof gatewayByName>,
];
const down = (...vms: string[]): GatewayView => gatewayView({ isHealthy: (_vip, vm) => !vms.includes(vm) });
const names = (s: ReturnType<typeof healthyBackends>) => (s.ok ? s.vms.map((v) => v.name) : s.reason);

describe('healthyBackends with geoPreference', () => {
  it("uses the healthy backends of the gateway's own location", () => {
    expect(healthyBackends(spec, east, vip, ALL_HEALTHY)).toMatchObject({ ok: true, scope: 'local', location: 'east' });
    expect(names(healthyBackends(spec, east, vip, ALL_HEALTHY))).toEqual(['vm-0', 'vm-1']);
    expect(names(healthyBackends(spec, east, vip, down('vm-0')))).toEqual(['vm-1']);
  });

  it('falls back to the closest location (great circle) that has a healthy backend', () => {
    // From New York, Chicago (~1150 km) is closer than the Bay Area (~4100 km).
    const s = healthyBackends(spec, east, vip, down('vm-0', 'vm-1'));
    expect(s).toMatchObject({ ok: true, scope: 'closest', location: 'central' });
    expect(names(s)).toEqual(['vm-2']);
    expect(names(healthyBackends(spec, east, vip, down('vm-0', 'vm-1', 'vm-2')))).toEqual(['vm-3']);
    // From the Bay Area, Chicago is closer than New York.
    expect(names(healthyBackends(spec, west, vip, down('vm-3')))).toEqual(['vm-2']);
  });

  it('skips drained backends when choosing, and reports a VIP whose healthy backends are all drained', () => {
    const drainedEast = gatewayView({ isHealthy: () => true }, ['vm-0', 'vm-1']);
    expect(names(healthyBackends(spec, east, vip, drainedEast))).toEqual(['vm-2']);
    const allDrained = gatewayView({ isHealthy: (_v, vm) => vm === 'vm-3' }, ['vm-3']);
    expect(healthyBackends(spec, central, vip, allDrained)).toEqual({ ok: false, reason: 'all-drained' });
  });

  it('says so instead of returning an empty set when nothing is healthy', () => {
    expect(healthyBackends(spec, east, vip, gatewayView({ isHealthy: () => false }))).toEqual({ ok: false, reason: 'no-healthy-backend' });
  });
});

describe('healthyBackends without geoPreference', () => {
  it('uses every healthy, undrained backend wherever it is', () => {
    const flat = fixtureSpec({ vms: [{ location: 'east' }, { location: 'west' }, { location: 'west' }], gateways: ['east'] });
    const gw = gatewayByName(flat, 'gw-0');
    const s = healthyBackends(flat, gw, vipByName(flat, 'svc'), gatewayView({ isHealthy: (_v, vm) => vm !== 'vm-1' }, ['vm-2']));
    expect(s).toMatchObject({ ok: true, scope: 'all' });
    expect(names(s)).toEqual(['vm-0']);
  });
});
