import { isDeepStrictEqual } from 'node:util';
import { positionalIds } from '../../core/spec/ids.ts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backendId } from '../../core/spec/lookup.ts';
import type { LbSpec } from '../../core/spec/schema.ts';
import { ALL_HEALTHY, gatewayView, type GatewayView } from './backends.ts';
import { entryKey, type TableEntry } from './entry.ts';
import { ANY_IPV4, computeGatewayTables, type GatewayTables } from './gateway-tables.ts';
import { GATEWAY_P4 } from './p4-names.ts';
import { FIXTURE_EXPIRY, FIXTURE_KEYS, FIXTURE_LOCATIONS, FIXTURE_ROUTER_MAC, fixtureSpec, type FixtureLocation } from './test-fixtures.ts';

function tables(spec: LbSpec, gateway: string, view: GatewayView, previous?: GatewayTables): GatewayTables {
  return computeGatewayTables({
    spec, ids: positionalIds(spec), gateway, view, keys: FIXTURE_KEYS, expiry: FIXTURE_EXPIRY, publicNextHopMac: FIXTURE_ROUTER_MAC,
    ...(previous === undefined ? {} : { previous }),
  });
}

const ofTable = (t: GatewayTables, table: string) => t.entries.filter((e) => e.table === table);
const slotOwners = (t: GatewayTables) => new Set(ofTable(t, GATEWAY_P4.slotTable).map((e) => e.params.backend_id));
const backendIds = (t: GatewayTables) => ofTable(t, GATEWAY_P4.backendTable).map((e) => e.keys.backend_id);
const down = (...vms: string[]) => gatewayView({ isHealthy: (_vip, vm) => !vms.includes(vm) });

const spec = fixtureSpec({ vms: [{ location: 'east' }, { location: 'east' }, { location: 'west', weight: 2 }], gateways: ['east', 'west'], mode: 'nat' });
const id = (vm: string) => backendId(spec, vm);

describe('computeGatewayTables', () => {
  it('gives slots and backend entries to the healthy backends only; an unhealthy one keeps none', () => {
    const t = tables(spec, 'gw-0', down('vm-1'));
    expect(t.alarms).toEqual([]);
    expect(ofTable(t, GATEWAY_P4.slotTable)).toHaveLength(1024);
    expect(slotOwners(t)).toEqual(new Set([id('vm-0'), id('vm-2')]));
    expect(backendIds(t)).toEqual([id('vm-0'), id('vm-2')]);
    // Replies are reversed and accepted for every VM whatever its health.
    expect(ofTable(t, GATEWAY_P4.natReverse)).toHaveLength(3);
    expect(ofTable(t, GATEWAY_P4.tokenTable)).toHaveLength(3);
  });

  it('keeps a drained backend in backend_table (pinned flows stay) but gives it no slot', () => {
    const t = tables(spec, 'gw-0', gatewayView(ALL_HEALTHY, ['vm-0']));
    expect(slotOwners(t)).toEqual(new Set([id('vm-1'), id('vm-2')]));
    expect(backendIds(t)).toEqual([id('vm-0'), id('vm-1'), id('vm-2')]);
    expect(t.vips[0]!.status).toBe('ok');
  });

  it('keeps the last table and raises an alarm when every backend is down, instead of emptying the VIP', () => {
    const before = tables(spec, 'gw-0', ALL_HEALTHY);
    const after = tables(spec, 'gw-0', down('vm-0', 'vm-1', 'vm-2'), before);
    expect(after.alarms).toEqual([
      expect.objectContaining({ code: 'LB_NO_BACKEND', gateway: 'gw-0', vip: 'svc', reason: 'no-healthy-backend', keptLastTable: true }),
    ]);
    expect(after.vips[0]!.status).toBe('kept-last');
    expect(ofTable(after, GATEWAY_P4.slotTable)).toEqual(ofTable(before, GATEWAY_P4.slotTable));
    expect(ofTable(after, GATEWAY_P4.backendTable)).toEqual(ofTable(before, GATEWAY_P4.backendTable));
    // And when the backends come back, the table is computed again.
    const back = tables(spec, 'gw-0', down('vm-2'), after);
    expect(back.alarms).toEqual([]);
    expect(slotOwners(back)).toEqual(new Set([id('vm-0'), id('vm-1')]));
  });

  it('without a previous table, an all-down VIP has no slots and the alarm says so', () => {
    const t = tables(spec, 'gw-0', gatewayView({ isHealthy: () => false }));
    expect(t.alarms).toMatchObject([{ vip: 'svc', keptLastTable: false }]);
    expect(t.vips[0]!.status).toBe('empty');
    expect(ofTable(t, GATEWAY_P4.slotTable)).toEqual([]);
    expect(ofTable(t, GATEWAY_P4.vipTable)).toHaveLength(1);
  });

  it("sends public-side traffic to the gateway's publicNextHopMac from the spec; an option overrides it", () => {
    const routed = { ...spec, gateways: spec.gateways.map((g, i) => ({ ...g, publicNextHopMac: `02:72:74:00:00:0${i + 1}` })) };
    const defaultRoute = (t: GatewayTables) => ofTable(t, GATEWAY_P4.routes).filter((e) => isDeepStrictEqual(e.keys, { dst_addr: ANY_IPV4 }));
    const of = (s: LbSpec, gateway: string, publicNextHopMac?: string) =>
      defaultRoute(computeGatewayTables({ spec: s, ids: positionalIds(s), gateway, view: ALL_HEALTHY, keys: FIXTURE_KEYS, expiry: FIXTURE_EXPIRY, ...(publicNextHopMac === undefined ? {} : { publicNextHopMac }) }));
    expect(of(routed, 'gw-0').map((e) => e.params)).toEqual([{ port: 1, src_mac: '02:00:00:00:00:01', dst_mac: '02:72:74:00:00:01' }]);
    expect(of(routed, 'gw-1').map((e) => e.params)).toEqual([{ port: 1, src_mac: '02:00:00:00:00:02', dst_mac: '02:72:74:00:00:02' }]);
    // A spec that names none: the schema's default.
    expect(of(spec, 'gw-0').map((e) => e.params['dst_mac'])).toEqual(['02:00:00:00:00:fe']);
    expect(of(routed, 'gw-0', FIXTURE_ROUTER_MAC).map((e) => e.params['dst_mac'])).toEqual([FIXTURE_ROUTER_MAC]);
  });

  it('reuses the previous slot table when its inputs are unchanged', () => {
    const a = tables(spec, 'gw-0', down('vm-1'));
    const b = tables(spec, 'gw-0', down('vm-1'), a);
    expect(b.vips[0]!.slotTable).toBe(a.vips[0]!.slotTable);
    const c = tables(spec, 'gw-0', ALL_HEALTHY, b);
    expect(c.vips[0]!.slotTable).not.toBe(a.vips[0]!.slotTable);
  });
});

const locationArb = fc.constantFrom(...FIXTURE_LOCATIONS.map((l) => l.name)) as fc.Arbitrary<FixtureLocation>;
const caseArb = fc.record({
  vms: fc.array(fc.record({ location: locationArb, weight: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 6 }),
  gatewayLocation: locationArb,
  otherLocation: locationArb,
  algorithm: fc.constantFrom('maglev' as const, 'rendezvous' as const),
  geoPreference: fc.boolean(),
  mode: fc.constantFrom('tunnel' as const, 'nat' as const),
  healthy: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
  drained: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
  seed: fc.nat(),
});

function shuffled<T>(list: readonly T[], seed: number): T[] {
  const out = [...list];
  let s = seed | 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The part of a gateway's tables that must not depend on which gateway computed it. */
function sharedPart(t: GatewayTables): string[] {
  const shared = (e: TableEntry) => e.table === GATEWAY_P4.slotTable || e.table === GATEWAY_P4.vipTable;
  return [
    ...t.entries.filter(shared).map((e) => `${entryKey(e)} -> ${String(e.params.backend_id ?? e.params.vip_id)}`),
    ...t.entries.filter((e) => e.table === GATEWAY_P4.backendTable).map(entryKey),
  ].sort();
}

describe('gateways compute independently', () => {
  it('two gateways with the same view (at one location when geoPreference is on) compute identical slot, VIP and backend tables', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const spec = fixtureSpec({
          vms: c.vms,
          // Without geoPreference a gateway's location does not matter, so the second one may be anywhere.
          gateways: [c.gatewayLocation, c.geoPreference ? c.gatewayLocation : c.otherLocation], algorithm: c.algorithm, geoPreference: c.geoPreference, mode: c.mode,
        });
        const view = gatewayView(
          { isHealthy: (_vip, vm) => c.healthy[Number(vm.slice(3))]! },
          spec.vms.filter((_, i) => c.drained[i]).map((vm) => vm.name),
        );
        // The second gateway reads a spec whose lists come in another order: ids and tables must not care.
        const reordered: LbSpec = { ...spec, vms: shuffled(spec.vms, c.seed), vips: spec.vips.map((v) => ({ ...v, backends: shuffled(v.backends, c.seed + 1) })) };
        const a = tables(spec, 'gw-0', view);
        const b = tables(reordered, 'gw-1', view);
        expect(sharedPart(b)).toEqual(sharedPart(a));
        expect(b.alarms.map((x) => x.reason)).toEqual(a.alarms.map((x) => x.reason));
      }),
      { numRuns: 40 },
    );
  });

  it('two gateways with one view share their slot entry objects, also after a change built on each one\'s previous tables', () => {
    const one = fixtureSpec({ vms: [{ location: 'east' }, { location: 'east' }, { location: 'east', weight: 2 }], gateways: ['east', 'east'], slots: 512 });
    const slots = (t: GatewayTables) => ofTable(t, GATEWAY_P4.slotTable);
    const a = tables(one, 'gw-0', ALL_HEALTHY);
    const b = tables(one, 'gw-1', ALL_HEALTHY);
    expect(slots(b).every((e, i) => e === slots(a)[i])).toBe(true);
    const drained = gatewayView(ALL_HEALTHY, ['vm-1']);
    const a2 = tables(one, 'gw-0', drained, a);
    const b2 = tables(one, 'gw-1', drained, b);
    expect(slots(b2).every((e, i) => e === slots(a2)[i])).toBe(true);
    // Slots that kept their backend keep their entry object from the round before.
    const stayed = slots(a2).filter((e, i) => e.params.backend_id === slots(a)[i]!.params.backend_id);
    expect(stayed.length).toBeGreaterThan(0);
    expect(slots(a2).filter((e, i) => e === slots(a)[i])).toHaveLength(stayed.length);
    // A gateway whose view differs computes its own entries.
    const c = tables(one, 'gw-1', down('vm-0'), b2);
    expect(new Set(slots(c).map((e) => e.params.backend_id))).toEqual(new Set([backendId(one, 'vm-1'), backendId(one, 'vm-2')]));
  });
});
