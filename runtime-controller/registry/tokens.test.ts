import fc from 'fast-check';
import { positionalIds } from '../../core/spec/ids.ts';
import { describe, expect, it } from 'vitest';
import { replyTokenFields, requestTokenFields } from '../../bmv2-tests/dsl/entries.ts';
import { backendId, gatewayByName, hostOfVm, vipByName, vipId, vmByName } from '../../core/spec/lookup.ts';
import type { LbSpec } from '../../core/spec/schema.ts';
import { computeToken, verifyToken, type TokenFields } from '../../core/token/token.ts';
import { INTERNET, compilePolicy, type PolicyInput, type TrafficPolicy } from './policy.ts';
import { FIXED_KEYS, TEST_SPEC, fixedKey, errorOf } from './test-fixtures.ts';
import {
  TOKEN_TABLES,
  entriesBySwitch,
  planTokens,
  replyGatewayOf,
  replyFields,
  requestFields,
  tokenSchedule,
  type PlannedTokenEntry,
  type TokenKeyRing,
  type TokenPlan,
} from './tokens.ts';

/** 2026-01-01T00:00:00Z, the expiry of docs/packet-formats.md's worked example. */
const NEW_YEAR = 1767225600;

function plan(now: number, options: { spec?: LbSpec; keys?: TokenKeyRing; policy?: PolicyInput; ttl?: number; skew?: number } = {}): TokenPlan {
  const spec = options.spec ?? TEST_SPEC;
  return planTokens({
    spec, ids: positionalIds(spec),
    keys: options.keys ?? FIXED_KEYS,
    policy: compilePolicy(spec, options.policy),
    now,
    ...(options.ttl === undefined ? {} : { ttlSeconds: options.ttl }),
    ...(options.skew === undefined ? {} : { skewSeconds: options.skew }),
  });
}


function sendEntry(p: TokenPlan, sw: string, table: string, match: Record<string, unknown>): PlannedTokenEntry {
  const found = p.entries.filter((e) => e.switch === sw && e.table === table && e.use === 'send' && Object.entries(match).every(([k, v]) => JSON.stringify(e.match[k]) === JSON.stringify(v)));
  expect(found, `${sw} ${table} ${JSON.stringify(match)}`).toHaveLength(1);
  return found[0]!;
}

function accepts(p: TokenPlan, sw: string, table: string, token: bigint, expiry: number): boolean {
  return p.entries.some((e) => e.switch === sw && e.table === table && e.use === 'accept' && e.match.token === token && e.match.expiry === expiry);
}

describe('token values', () => {
  const now = NEW_YEAR - 1000;
  const p = plan(now);

  it('reproduces the worked example of docs/packet-formats.md §3', () => {
    const keys: TokenKeyRing = { ...FIXED_KEYS, host: () => Uint8Array.from({ length: 32 }, (_, i) => i) };
    const example = plan(now, { keys }).entries.find(
      (e) => e.switch === 'host-a' && e.use === 'accept' && e.token.expiry === NEW_YEAR && e.token.fields.innerDstIp === '203.0.113.10' && e.token.fields.senderIp === '10.0.0.1',
    );
    expect(example?.token.value).toBe(0xe61c65e47b072cd7n);
  });

  it('signs a request (gateway → VM) with the host key over the documented fields', () => {
    const e = sendEntry(p, 'gw-west', TOKEN_TABLES.gatewayBackend, { vip_id: vipId(TEST_SPEC, 'web'), backend_id: backendId(TEST_SPEC, 'vm-a2') });
    const fields: TokenFields = {
      senderIp: '10.0.0.2', senderPort: 6636, receiverIp: '10.0.1.1', receiverPort: 7002,
      innerSrcIp: 0, innerDstIp: '203.0.113.10', expiry: e.token.expiry,
    };
    expect(e.params.token).toBe(computeToken(fixedKey('host/host-a'), fields));
    expect(e.params.expiry).toBe(e.token.expiry);
  });

  it('uses the VM address as inner destination in NAT mode', () => {
    const e = sendEntry(p, 'gw-east', TOKEN_TABLES.gatewayBackend, { vip_id: vipId(TEST_SPEC, 'api'), backend_id: backendId(TEST_SPEC, 'vm-b1') });
    const fields: TokenFields = {
      senderIp: '10.0.0.1', senderPort: 6635, receiverIp: '10.0.1.2', receiverPort: 7003,
      innerSrcIp: 0, innerDstIp: '192.168.2.11', expiry: e.token.expiry,
    };
    expect(e.params.token).toBe(computeToken(fixedKey('host/host-b'), fields));
  });

  it('signs a reply (VM → gateway) with the gateway key; the host sends it to its local gateway', () => {
    const e = sendEntry(p, 'host-b', TOKEN_TABLES.hostPeer, { vm_id: backendId(TEST_SPEC, 'vm-b1'), dst_addr: { value: '0.0.0.0', prefixLength: 0 } });
    const fields: TokenFields = {
      senderIp: '10.0.1.2', senderPort: 7003, receiverIp: '10.0.0.2', receiverPort: 6636,
      innerSrcIp: '192.168.2.11', innerDstIp: 0, expiry: e.token.expiry,
    };
    expect(e.params).toEqual({ peer_addr: '10.0.0.2', peer_port: 6636, token: computeToken(fixedKey('gateway/gw-west'), fields), expiry: e.token.expiry });
  });

  it('signs a VM → VM token with the receiving host key over both VM addresses', () => {
    const e = sendEntry(p, 'host-b', TOKEN_TABLES.hostPeer, { vm_id: backendId(TEST_SPEC, 'vm-b1'), dst_addr: { value: '192.168.1.11', prefixLength: 32 } });
    const fields: TokenFields = {
      senderIp: '10.0.1.2', senderPort: 7003, receiverIp: '10.0.1.1', receiverPort: 7001,
      innerSrcIp: '192.168.2.11', innerDstIp: '192.168.1.11', expiry: e.token.expiry,
    };
    expect(e.params).toEqual({ peer_addr: '10.0.1.1', peer_port: 7001, token: computeToken(fixedKey('host/host-a'), fields), expiry: e.token.expiry });
    expect(accepts(p, 'host-a', TOKEN_TABLES.hostToken, e.token.value, e.token.expiry)).toBe(true);
  });

  it('gives every entry the MAC of its own fields under its signer key', () => {
    for (const e of p.entries) {
      const key = e.token.signer.kind === 'gateway' ? FIXED_KEYS.gateway(e.token.signer.name) : FIXED_KEYS.host(e.token.signer.name);
      expect(e.token.value).toBe(computeToken(key, e.token.fields));
      expect(e.token.fields.expiry).toBe(e.token.expiry);
    }
  });

  it('agrees with the packet tests on the token fields (bmv2-tests/dsl/entries.ts)', () => {
    for (const gw of TEST_SPEC.gateways) {
      for (const vip of TEST_SPEC.vips) {
        for (const name of vip.backends) {
          const vm = vmByName(TEST_SPEC, name);
          const ours = requestFields(TEST_SPEC, gw, vip, vm, NEW_YEAR);
          const theirs = requestTokenFields(TEST_SPEC, gw, vip, vm, NEW_YEAR);
          expect(computeToken(fixedKey('k'), ours)).toBe(computeToken(fixedKey('k'), theirs));
          expect(computeToken(fixedKey('k'), replyFields(TEST_SPEC, gw, vm, NEW_YEAR))).toBe(computeToken(fixedKey('k'), replyTokenFields(TEST_SPEC, gw, vm, NEW_YEAR)));
        }
      }
    }
  });

  it('accepts one token for two NAT VIPs on one VM, sent from both backend entries', () => {
    const spec = specWithSecondNatVip();
    const q = plan(now, { spec });
    const a = sendEntry(q, 'gw-east', TOKEN_TABLES.gatewayBackend, { vip_id: vipId(spec, 'api'), backend_id: backendId(spec, 'vm-b1') });
    const b = sendEntry(q, 'gw-east', TOKEN_TABLES.gatewayBackend, { vip_id: vipId(spec, 'api2'), backend_id: backendId(spec, 'vm-b1') });
    expect(a.params.token).toBe(b.params.token);
    const accepting = q.entries.filter((e) => e.use === 'accept' && e.match.token === a.params.token);
    expect(accepting).toHaveLength(1);
  });
});

function specWithSecondNatVip(): LbSpec {
  const api = vipByName(TEST_SPEC, 'api');
  return { ...TEST_SPEC, vips: [...TEST_SPEC.vips, { ...api, name: 'api2', address: '203.0.113.21' }] };
}

describe('schedule', () => {
  it('overlaps a third of the TTL and puts expiries on a grid of TTL − overlap', () => {
    expect(tokenSchedule(3600, 30)).toEqual({ ttlSeconds: 3600, skewSeconds: 30, overlapSeconds: 1200, periodSeconds: 2400, handoverSeconds: 600 });
    expect(tokenSchedule(2, 0)).toEqual({ ttlSeconds: 2, skewSeconds: 0, overlapSeconds: 1, periodSeconds: 1, handoverSeconds: 0 });
  });

  it('keeps the same tokens within a period and changes them exactly at nextChangeAt', () => {
    let now = NEW_YEAR;
    for (let step = 0; step < 6; step++) {
      const p = plan(now);
      expect(p.nextChangeAt).toBeGreaterThan(now);
      expect(plan(p.nextChangeAt - 1).entries).toEqual(p.entries);
      expect(plan(p.nextChangeAt).entries).not.toEqual(p.entries);
      now = p.nextChangeAt;
    }
  });

  it('groups entries by switch and table', () => {
    const grouped = entriesBySwitch(plan(NEW_YEAR));
    expect([...grouped.keys()]).toEqual(['gw-east', 'gw-west', 'host-a', 'host-b']);
    expect([...grouped.get('gw-east')!.keys()]).toEqual([TOKEN_TABLES.gatewayBackend, TOKEN_TABLES.gatewayToken]);
  });
});

/** Who must be able to send to whom, derived from the spec and policy without the planner. */
interface Flow {
  readonly name: string;
  readonly sender: { switch: string; table: string; match: Record<string, unknown> };
  readonly receiver: { switch: string; table: string };
  readonly key: Uint8Array;
  readonly fields: (expiry: number) => TokenFields;
}

function requiredFlows(spec: LbSpec, policy: TrafficPolicy): Flow[] {
  const flows: Flow[] = [];
  for (const gw of spec.gateways) {
    for (const vip of spec.vips) {
      for (const name of vip.backends) {
        const vm = vmByName(spec, name);
        const host = hostOfVm(spec, vm);
        flows.push({
          name: `${gw.name} → ${vm.name} for ${vip.name}`,
          sender: { switch: gw.name, table: TOKEN_TABLES.gatewayBackend, match: { vip_id: vipId(spec, vip.name), backend_id: backendId(spec, vm.name) } },
          receiver: { switch: host.name, table: TOKEN_TABLES.hostToken },
          key: FIXED_KEYS.host(host.name),
          fields: (expiry) => requestTokenFields(spec, gw, vip, vm, expiry),
        });
      }
    }
  }
  for (const vm of spec.vms) {
    if (!policy.mayReachInternet(vm.name)) continue;
    const host = hostOfVm(spec, vm);
    const gw = replyGatewayOf(spec, host);
    flows.push({
      name: `${vm.name} → Internet via ${gw.name}`,
      sender: { switch: host.name, table: TOKEN_TABLES.hostPeer, match: { vm_id: backendId(spec, vm.name), dst_addr: { value: '0.0.0.0', prefixLength: 0 } } },
      receiver: { switch: gw.name, table: TOKEN_TABLES.gatewayToken },
      key: FIXED_KEYS.gateway(gw.name),
      fields: (expiry) => replyTokenFields(spec, gatewayByName(spec, gw.name), vm, expiry),
    });
  }
  for (const [a, b] of policy.vmPairs()) {
    const from = vmByName(spec, a);
    const to = vmByName(spec, b);
    flows.push({
      name: `${a} → ${b}`,
      sender: { switch: from.host, table: TOKEN_TABLES.hostPeer, match: { vm_id: backendId(spec, a), dst_addr: { value: to.privateIpv4, prefixLength: 32 } } },
      receiver: { switch: to.host, table: TOKEN_TABLES.hostToken },
      key: FIXED_KEYS.host(to.host),
      fields: (expiry) => ({
        senderIp: hostOfVm(spec, from).underlay.ipv4, senderPort: from.udpPort,
        receiverIp: hostOfVm(spec, to).underlay.ipv4, receiverPort: to.udpPort,
        innerSrcIp: from.privateIpv4, innerDstIp: to.privateIpv4, expiry,
      }),
    });
  }
  return flows;
}

describe('renewal and expiry over time', () => {
  const arbSchedule = fc.record({
    ttl: fc.oneof(fc.integer({ min: 2, max: 30 }), fc.integer({ min: 31, max: 7200 })),
    skew: fc.integer({ min: 0, max: 120 }),
    start: fc.integer({ min: 1_700_000_000, max: 2_000_000_000 }),
  });
  const arbPolicy = fc.record({
    sameVip: fc.boolean(),
    rules: fc.subarray([{ from: 'vm-lone', to: 'vm-a2' }, { from: 'vm-lone', to: INTERNET }, { from: 'vm-a2', to: 'vm-b1' }]),
  });

  it('always gives every flow a valid token the receiver holds, and holds nothing past expiry + skew', () => {
    fc.assert(
      fc.property(arbSchedule, arbPolicy, fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 4 }), ({ ttl, skew, start }, policyInput, offsets) => {
        const policy = compilePolicy(TEST_SPEC, policyInput);
        const flows = requiredFlows(TEST_SPEC, policy);
        for (const offset of offsets) {
          const t = start + offset;
          const p = plan(t, { ttl, skew, policy: policyInput });
          for (const e of p.entries) {
            // Installed only from issue to expiry + skew, and never living longer than the TTL.
            expect(e.token.validFrom).toBeLessThanOrEqual(t);
            expect(t).toBeLessThanOrEqual(e.token.removeAfter);
            expect(e.token.removeAfter).toBe(e.token.expiry + skew);
            expect(e.token.expiry - e.token.validFrom).toBeLessThanOrEqual(ttl);
          }
          for (const flow of flows) {
            const send = sendEntry(p, flow.sender.switch, flow.sender.table, flow.sender.match);
            const { token, expiry } = send.params as { token: bigint; expiry: number };
            expect(t, flow.name).toBeLessThanOrEqual(expiry);
            expect(accepts(p, flow.receiver.switch, flow.receiver.table, token, expiry), flow.name).toBe(true);
            expect(verifyToken(flow.key, flow.fields(expiry), token, t, 0), flow.name).toEqual({ ok: true });
          }
          // Nothing the policy forbids: every VM → VM send entry is a required flow.
          const peers = p.entries.filter((e) => e.use === 'send' && e.table === TOKEN_TABLES.hostPeer);
          expect(peers).toHaveLength(flows.filter((f) => f.sender.table === TOKEN_TABLES.hostPeer).length);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('issues the successor once less than a third of the TTL remains and keeps both until the old one expires', () => {
    fc.assert(
      fc.property(arbSchedule, fc.integer({ min: 0, max: 20_000 }), ({ ttl, skew, start }, offset) => {
        const t = start + offset;
        const p = plan(t, { ttl, skew });
        const byLineage = new Map<string, number[]>();
        for (const e of p.entries.filter((x) => x.use === 'accept')) {
          byLineage.set(e.token.lineage, [...(byLineage.get(e.token.lineage) ?? []), e.token.expiry]);
        }
        for (const expiries of byLineage.values()) {
          const valid = expiries.filter((x) => t <= x);
          expect(valid.length).toBeGreaterThanOrEqual(1);
          // At most a token and its successor are valid at once, not counting one in its last
          // second (with a TTL of 2 or 4 the successor's successor is issued at that instant).
          expect(expiries.filter((x) => t < x).length).toBeLessThanOrEqual(2);
          for (const x of valid) {
            if (3 * (x - t) < ttl) expect(expiries.some((y) => y > x)).toBe(true);
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('removes a token in the second after expiry + skew, not before', () => {
    const skew = 30;
    const expiry = NEW_YEAR;
    const has = (t: number) => plan(t, { skew }).entries.some((e) => e.token.expiry === expiry);
    expect(has(expiry)).toBe(true);
    expect(has(expiry + skew)).toBe(true);
    expect(has(expiry + skew + 1)).toBe(false);
  });
});

describe('determinism', () => {
  it('gives identical plans to two planners with the same keys and clock', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1_700_000_000, max: 2_000_000_000 }), fc.integer({ min: 0, max: 999 }), (t, ms) => {
        // Separate key-ring objects holding equal bytes, and clocks that differ below a second.
        const copy: TokenKeyRing = { gateway: (n) => Uint8Array.from(FIXED_KEYS.gateway(n)), host: (n) => Uint8Array.from(FIXED_KEYS.host(n)) };
        expect(plan(t + ms / 1000, { keys: copy })).toEqual(plan(t));
      }),
      { numRuns: 20 },
    );
  });

  it('gives different tokens under different keys', () => {
    const other: TokenKeyRing = { gateway: (n) => fixedKey(`other/${n}`), host: (n) => fixedKey(`other/${n}`) };
    const a = plan(NEW_YEAR).entries.map((e) => e.token.value);
    const b = plan(NEW_YEAR, { keys: other }).entries.map((e) => e.token.value);
    expect(a.some((v, i) => v === b[i])).toBe(false);
  });
});

describe('policy in the plan', () => {
  it('issues no VM → VM or egress tokens that the policy does not allow', () => {
    const p = plan(NEW_YEAR, { policy: { sameVip: false, rules: [] } });
    expect(p.entries.filter((e) => e.token.kind === 'vm-to-vm')).toEqual([]);
    expect(p.entries.some((e) => e.token.fields.senderPort === 7009)).toBe(false);
  });

  it('gives a VM serving no VIP egress tokens once a rule allows it', () => {
    const p = plan(NEW_YEAR, { policy: { sameVip: true, rules: [{ from: 'vm-lone', to: INTERNET }] } });
    const replies = p.entries.filter((e) => e.token.kind === 'reply' && e.token.fields.senderPort === 7009);
    // Accepted by both gateways; sent toward the gateway of host-b's location.
    expect(replies.filter((e) => e.use === 'accept').map((e) => e.switch)).toEqual(expect.arrayContaining(['gw-east', 'gw-west']));
    expect(new Set(replies.filter((e) => e.use === 'send').map((e) => e.params.peer_addr))).toEqual(new Set(['10.0.0.2']));
  });
});

describe('bad planner input', () => {
  it('names tokens.ttlSeconds for a TTL too short to renew', () => {
    const err = errorOf(() => plan(NEW_YEAR, { ttl: 1 }));
    expect(err.code).toBe('REGISTRY_BAD_INPUT');
    expect(err.location?.path).toBe('tokens.ttlSeconds');
    expect(errorOf(() => tokenSchedule(90.5, 0)).location?.path).toBe('tokens.ttlSeconds');
  });

  it('names tokens.clockSkewSeconds for a negative skew', () => {
    expect(errorOf(() => plan(NEW_YEAR, { skew: -1 })).location?.path).toBe('tokens.clockSkewSeconds');
  });

  it('names now for a clock reading that is not a time or overflows the 32-bit expiry', () => {
    expect(errorOf(() => plan(Number.NaN)).location?.path).toBe('now');
    expect(errorOf(() => plan(-5)).location?.path).toBe('now');
    expect(errorOf(() => plan(2 ** 32)).message).toMatch(/2\^32 − 1/);
  });
});
