import { describe, expect, it } from 'vitest';
import { positionalIds } from '../../core/spec/ids.ts';
import { computeGatewayTables, entryKey, GATEWAY_P4, gatewayView, HOST_P4 } from '../lb/index.ts';
import { compilePolicy, planTokens } from '../registry/index.ts';
import { FIXED_KEYS, TEST_SPEC } from '../registry/test-fixtures.ts';
import { gatewayDesired, hostDesired, sendingExpiry, toDesiredState } from './desired.ts';

const HEALTHY = gatewayView({ isHealthy: () => true });
const policy = compilePolicy(TEST_SPEC);
// Mid-overlap: two generations accepted, the newer one sent.
const plan = (now: number) => planTokens({ spec: TEST_SPEC, ids: positionalIds(TEST_SPEC), keys: FIXED_KEYS, policy, now });

describe('token plan merged into the tables', () => {
  it('accepts every planned generation in the gateway token table and sends the planned token from backend_table', () => {
    const p = plan(1_700_000_000);
    const { tables, desired } = gatewayDesired({ spec: TEST_SPEC, ids: positionalIds(TEST_SPEC), gateway: 'gw-east', view: HEALTHY, keys: FIXED_KEYS, plan: p });
    const accepts = p.entries.filter((e) => e.switch === 'gw-east' && e.use === 'accept');
    const tokenEntries = desired.entries.filter((e) => e.table === GATEWAY_P4.tokenTable);
    expect(tokenEntries.map((e) => entryKey(e)).sort()).toEqual(accepts.map((e) => entryKey({ table: e.table, keys: e.match })).sort());
    const sends = new Map(p.entries.filter((e) => e.switch === 'gw-east' && e.use === 'send').map((e) => [entryKey({ table: e.table, keys: e.match }), e]));
    const backends = desired.entries.filter((e) => e.table === GATEWAY_P4.backendTable);
    expect(backends.length).toBeGreaterThan(0);
    for (const b of backends) {
      const s = sends.get(entryKey(b))!;
      expect(b.params['token']).toBe(s.token.value);
      expect(b.params['expiry']).toBe(s.token.expiry);
      // lb computed the same token at the sending expiry: the merge agrees with it.
      const lb = tables.entries.find((e) => entryKey(e) === entryKey(b))!;
      expect(lb.params['token']).toBe(s.token.value);
      expect(lb.params['expiry']).toBe(sendingExpiry(p));
    }
    // Everything that carries no token is lb's, unchanged.
    const other = (t: string) => ![GATEWAY_P4.tokenTable, GATEWAY_P4.backendTable].includes(t as never);
    expect(desired.entries.filter((e) => other(e.table))).toEqual(tables.entries.filter((e) => other(e.table)));
  });

  it('gives a host the planned token and peer entries, and the rest of lb\'s tables', () => {
    const p = plan(1_700_000_000);
    const desired = hostDesired({ spec: TEST_SPEC, ids: positionalIds(TEST_SPEC), host: 'host-a', keys: FIXED_KEYS, plan: p });
    const mine = p.entries.filter((e) => e.switch === 'host-a');
    for (const table of [HOST_P4.tokenTable, HOST_P4.peerTable]) {
      expect(desired.entries.filter((e) => e.table === table).map((e) => entryKey(e)).sort())
        .toEqual(mine.filter((e) => e.table === table).map((e) => entryKey({ table: e.table, keys: e.match })).sort());
    }
    expect(desired.entries.some((e) => e.table === HOST_P4.localVm)).toBe(true);
  });

  it('changes only token entries when the plan moves to the next generation', () => {
    const p1 = plan(1_700_000_000);
    const p2 = plan(p1.nextChangeAt);
    const g = (p: typeof p1) => gatewayDesired({ spec: TEST_SPEC, ids: positionalIds(TEST_SPEC), gateway: 'gw-west', view: HEALTHY, keys: FIXED_KEYS, plan: p }).desired;
    const a = new Map(g(p1).entries.map((e) => [entryKey(e), e]));
    const b = new Map(g(p2).entries.map((e) => [entryKey(e), e]));
    const changed = [...new Set([...a.keys(), ...b.keys()])].filter((k) => JSON.stringify(a.get(k), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) !== JSON.stringify(b.get(k), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).map((k) => (a.get(k) ?? b.get(k))!.table);
    expect(changed.length).toBeGreaterThan(0);
    expect(new Set(changed).size).toBeLessThanOrEqual(2);
    for (const t of changed) expect([GATEWAY_P4.tokenTable, GATEWAY_P4.backendTable]).toContain(t);
  });

  it('owns every table of the role in the reconcile input, empty ones included', () => {
    const tables = computeGatewayTables({ spec: TEST_SPEC, ids: positionalIds(TEST_SPEC), gateway: 'gw-east', view: gatewayView({ isHealthy: () => false }), keys: FIXED_KEYS, expiry: 100, publicNextHopMac: '02:00:00:00:00:fe' });
    const state = toDesiredState(tables, [GATEWAY_P4.slotTable, GATEWAY_P4.vipTable], [GATEWAY_P4.flowWay0]);
    expect(state.tables[GATEWAY_P4.slotTable]).toEqual([]);
    expect(state.tables[GATEWAY_P4.vipTable]!.length).toBeGreaterThan(0);
    expect(state.tables[GATEWAY_P4.vipTable]![0]).toHaveProperty('match');
    expect(state.defaultActions).toHaveLength(1);
    expect(state.registersToClearOnPush).toEqual([GATEWAY_P4.flowWay0]);
  });
});
