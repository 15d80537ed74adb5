import Database from 'better-sqlite3';
import { positionalIds } from '../../core/spec/ids.ts';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LbSpec } from '../../core/spec/schema.ts';
import { INTERNET, compilePolicy } from './policy.ts';
import { LATEST_SCHEMA_VERSION, REGISTRY_FILE, migrate, openRegistry, type Registry } from './store.ts';
import { TEST_SPEC, fixedKey, errorOf } from './test-fixtures.ts';
import { planTokens } from './tokens.ts';

const T0 = 1767225600;


let dir: string;
const open: Registry[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p4lb-registry-'));
});

afterEach(async () => {
  for (const r of open.splice(0)) r.close();
  await rm(dir, { recursive: true, force: true });
});

function openAt(dataDir: string, now = () => T0): Registry {
  const r = openRegistry({ dataDir, now });
  open.push(r);
  return r;
}

function closeAll(): void {
  for (const r of open.splice(0)) r.close();
}

describe('opening', () => {
  it('creates the data folder and a WAL-mode database at the latest schema', () => {
    const nested = join(dir, 'a', 'b');
    const r = openAt(nested);
    expect(r.file).toBe(join(nested, REGISTRY_FILE));
    expect(existsSync(r.file)).toBe(true);
    expect(r.journalMode()).toBe('wal');
    expect(r.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
  });

  it('works in memory for tests', () => {
    const r = openAt(':memory:');
    expect(r.reconcile(TEST_SPEC).keysCreated).toHaveLength(8);
    expect(r.journalMode()).toBe('memory');
  });

  it('refuses a database file that is not SQLite, naming it', async () => {
    await writeFile(join(dir, REGISTRY_FILE), 'not a database, just text that is long enough to have a header');
    const err = errorOf(() => openAt(dir));
    expect(err.code).toBe('REGISTRY_STORE');
    expect(err.location?.file).toBe(join(dir, REGISTRY_FILE));
  });

  it('refuses a data folder that is a file', async () => {
    const file = join(dir, 'plain-file');
    await writeFile(file, '');
    const err = errorOf(() => openAt(file));
    expect(err.code).toBe('REGISTRY_STORE');
    expect(err.message).toMatch(/cannot open registry/);
  });
});

describe('migrations', () => {
  it('are idempotent: running them again applies nothing and changes nothing', () => {
    const db = new Database(':memory:');
    try {
      expect(migrate(db, T0)).toEqual({ from: 0, to: LATEST_SCHEMA_VERSION });
      const tables = () => db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name").all();
      const before = tables();
      expect(migrate(db, T0 + 5)).toEqual({ from: LATEST_SCHEMA_VERSION, to: LATEST_SCHEMA_VERSION });
      expect(tables()).toEqual(before);
      expect(db.prepare('SELECT version, applied_at FROM schema_version').all()).toEqual([1, 2, 3, 4].map((version) => ({ version, applied_at: T0 })));
    } finally {
      db.close();
    }
  });

  it('bring a version-1 registry (before drains and ids) to the latest, keeping its keys', () => {
    const r = openAt(dir);
    r.reconcile(TEST_SPEC);
    const keys = r.keys();
    const file = r.file;
    closeAll();
    // What a p4lb of schema version 1 left behind: no drains, ids or counter-resets table, version 1 recorded.
    const db = new Database(file);
    db.exec('DROP TABLE drains; DROP TABLE data_plane_ids; DROP TABLE counter_resets; DELETE FROM schema_version WHERE version > 1');
    expect(migrate(db, T0 + 1)).toEqual({ from: 1, to: LATEST_SCHEMA_VERSION });
    db.close();
    const again = openAt(dir);
    expect(again.keys()).toEqual(keys);
    expect(again.drainedVms()).toEqual([]);
    expect(again.setDrained('vm-a1', true)).toBe(true);
    // A deployment from before ids were kept gets the numbers it ran with: positions.
    expect(again.ids()).toEqual({ vip: new Map(), backend: new Map() });
    again.reconcile(TEST_SPEC);
    expect(again.ids()).toEqual(positionalIds(TEST_SPEC));
  });

  it('bring a version-3 registry (before counter resets) to the latest, keeping its keys, drains and ids', () => {
    const r = openAt(dir);
    r.reconcile(TEST_SPEC);
    r.setDrained('vm-a2', true);
    const [keys, ids, assignments] = [r.keys(), r.ids(), r.assignments()];
    const file = r.file;
    closeAll();
    const db = new Database(file);
    db.exec('DROP TABLE counter_resets; DELETE FROM schema_version WHERE version > 3');
    expect(migrate(db, T0 + 1)).toEqual({ from: 3, to: LATEST_SCHEMA_VERSION });
    db.close();
    const again = openAt(dir);
    expect(again.keys()).toEqual(keys);
    expect(again.ids()).toEqual(ids);
    expect(again.assignments()).toEqual(assignments);
    expect(again.drainedVms()).toEqual(['vm-a2']);
    expect(again.pendingCounterResets('gw-east')).toEqual([]);
    again.queueCounterResets([{ switch: 'gw-east', counter: 'backend_stats', index: 2 }]);
    expect(again.pendingCounterResets('gw-east')).toEqual([{ counter: 'backend_stats', index: 2, version: 1 }]);
  });

  it('keep data when a registry is reopened', () => {
    const r = openAt(dir);
    r.reconcile(TEST_SPEC);
    closeAll();
    const again = openAt(dir);
    expect(again.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
    expect(again.assignments()).toHaveLength(TEST_SPEC.vms.length);
  });

  it('refuse a database from a newer p4lb', () => {
    const r = openAt(dir);
    const file = r.file;
    closeAll();
    const db = new Database(file);
    db.prepare("INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'future', 0)").run();
    db.close();
    const err = errorOf(() => openAt(dir));
    expect(err.code).toBe('REGISTRY_SCHEMA_TOO_NEW');
    expect(err.message).toMatch(/version 99/);
  });
});

describe('keys', () => {
  it('are generated once and identical after reopening the same data folder', () => {
    const first = openAt(dir);
    const report = first.reconcile(TEST_SPEC);
    expect(report.keysCreated).toEqual([
      'gateway/gw-east', 'gateway/gw-west', 'host/host-a', 'host/host-b', 'vm/vm-a1', 'vm/vm-a2', 'vm/vm-b1', 'vm/vm-lone',
    ]);
    const keys = first.keys();
    expect(keys.every((k) => k.key.length === 32 && k.createdAt === T0)).toBe(true);
    expect(new Set(keys.map((k) => Buffer.from(k.key).toString('hex'))).size).toBe(keys.length);
    closeAll();

    const second = openAt(dir, () => T0 + 3600);
    expect(second.reconcile(TEST_SPEC).keysCreated).toEqual([]);
    expect(second.keys()).toEqual(keys);
  });

  it('survive their owner leaving the spec, reported as unused', () => {
    const r = openAt(':memory:');
    r.reconcile(TEST_SPEC);
    const key = r.key('vm', 'vm-lone');
    const smaller: LbSpec = { ...TEST_SPEC, vms: TEST_SPEC.vms.filter((v) => v.name !== 'vm-lone') };
    expect(r.reconcile(smaller).keysUnused).toEqual(['vm/vm-lone']);
    expect(r.reconcile(TEST_SPEC).keysCreated).toEqual([]);
    expect(r.key('vm', 'vm-lone')).toEqual(key);
  });

  it('name the missing owner, with a suggestion', () => {
    const r = openAt(':memory:');
    r.reconcile(TEST_SPEC);
    const err = errorOf(() => r.key('host', 'host-c'));
    expect(err.code).toBe('REGISTRY_NO_KEY');
    expect(err.location?.path).toBe('keys.host.host-c');
    expect(err.hint).toMatch(/did you mean 'host-[ab]'\?/);
    expect(errorOf(() => r.keyRing().gateway('gw-north')).location?.path).toBe('keys.gateway.gw-north');
  });

  it('come from the injected generator and must be 32 bytes', () => {
    let n = 0;
    const r = openRegistry({ dataDir: ':memory:', now: () => T0, generateKey: () => fixedKey(`k${n++}`) });
    open.push(r);
    r.reconcile(TEST_SPEC);
    expect(r.key('gateway', 'gw-east')).toEqual(fixedKey('k0'));
    const bad = openRegistry({ dataDir: ':memory:', now: () => T0, generateKey: () => new Uint8Array(16) });
    open.push(bad);
    expect(errorOf(() => bad.reconcile(TEST_SPEC)).message).toMatch(/16 bytes, expected 32/);
    // The failed reconcile left nothing behind.
    expect(bad.keys()).toEqual([]);
  });
});

describe('data-plane ids', () => {
  it('start as positions, stay with their names across changes and reopening, and free the ids of names that leave', () => {
    const r = openAt(dir);
    const first = r.reconcile(TEST_SPEC);
    expect(r.ids()).toEqual(positionalIds(TEST_SPEC));
    expect(first.idsAssigned).toContain('backend/vm-a1=1');
    // vm-a0 sorts first: by position it would take 1 and shift every VM; kept, it takes the next free id.
    const vmA0 = { ...TEST_SPEC.vms[0]!, name: 'vm-a0', privateIpv4: '192.168.1.50', udpPort: 7050, nicPort: 9 };
    const grown = { ...TEST_SPEC, vms: [...TEST_SPEC.vms, vmA0] };
    expect(r.reconcile(grown).idsAssigned).toEqual([`backend/vm-a0=${TEST_SPEC.vms.length + 1}`]);
    closeAll();
    const again = openAt(dir);
    expect(again.ids().backend.get('vm-a0')).toBe(TEST_SPEC.vms.length + 1);
    expect(again.ids().backend.get('vm-a1')).toBe(1);
    const shrunk = { ...grown, vms: grown.vms.filter((v) => v.name !== 'vm-a1'), vips: grown.vips.map((v) => ({ ...v, backends: v.backends.filter((b) => b !== 'vm-a1') })) };
    expect(again.reconcile(shrunk).idsReleased).toEqual(['backend/vm-a1=1']);
    expect(again.ids().backend.has('vm-a1')).toBe(false);
  });

  it('remember the spec the programs were generated from', () => {
    const r = openAt(dir);
    expect(r.programSpec()).toBeUndefined();
    r.setProgramSpec(TEST_SPEC);
    closeAll();
    expect(openAt(dir).programSpec()).toEqual(JSON.parse(JSON.stringify(TEST_SPEC)));
  });
});

describe('assignments', () => {
  it('follow the spec: added, changed (even a port swap), removed', () => {
    const r = openAt(':memory:');
    expect(r.reconcile(TEST_SPEC).assignmentsAdded).toEqual(['vm-a1', 'vm-a2', 'vm-b1', 'vm-lone']);
    expect(r.assignments()[0]).toEqual({ vm: 'vm-a1', host: 'host-a', udpPort: 7001, privateIpv4: '192.168.1.11' });

    const swapped: LbSpec = {
      ...TEST_SPEC,
      vms: TEST_SPEC.vms
        .filter((v) => v.name !== 'vm-lone')
        .map((v) => (v.name === 'vm-a1' ? { ...v, udpPort: 7002 } : v.name === 'vm-a2' ? { ...v, udpPort: 7001 } : v)),
    };
    const report = r.reconcile(swapped);
    expect(report.assignmentsChanged).toEqual(['vm-a1', 'vm-a2']);
    expect(report.assignmentsRemoved).toEqual(['vm-lone']);
    expect(report.assignmentsAdded).toEqual([]);
    expect(r.assignments().map((a) => [a.vm, a.udpPort])).toEqual([['vm-a1', 7002], ['vm-a2', 7001], ['vm-b1', 7003]]);
  });

  it('report nothing when the spec did not change', () => {
    const r = openAt(':memory:');
    r.reconcile(TEST_SPEC);
    const report = r.reconcile(TEST_SPEC);
    expect(report).toEqual({ keysCreated: [], keysUnused: [], assignmentsAdded: [], assignmentsChanged: [], assignmentsRemoved: [], rulesRemoved: [], drainsRemoved: [], idsAssigned: [], idsReleased: [], counterResetsDropped: [] });
  });
});

describe('policy storage', () => {
  it('keeps rules and the default across reopening, and compiles', () => {
    const r = openAt(dir);
    r.reconcile(TEST_SPEC);
    expect(r.policyInput()).toEqual({ sameVip: true, rules: [] });
    r.addPolicyRule(TEST_SPEC, { from: 'vm-lone', to: 'vm-a2' });
    r.addPolicyRule(TEST_SPEC, { from: 'vm-lone', to: INTERNET });
    r.addPolicyRule(TEST_SPEC, { from: 'vm-lone', to: 'vm-a2' });
    r.setSameVipDefault(false);
    closeAll();
    const again = openAt(dir);
    const input = again.policyInput();
    expect(input).toEqual({ sameVip: false, rules: [{ from: 'vm-lone', to: 'vm-a2' }, { from: 'vm-lone', to: INTERNET }] });
    expect(compilePolicy(TEST_SPEC, input).mayTalk('vm-a2', 'vm-lone')).toBe(true);
    expect(again.removePolicyRule({ from: 'vm-lone', to: 'vm-a2' })).toBe(true);
    expect(again.removePolicyRule({ from: 'vm-lone', to: 'vm-a2' })).toBe(false);
  });

  it('rejects a rule naming an unknown VM, naming the field', () => {
    const r = openAt(':memory:');
    const err = errorOf(() => r.addPolicyRule(TEST_SPEC, { from: 'vm-a9', to: 'vm-a2' }));
    expect(err.code).toBe('REGISTRY_BAD_POLICY_RULE');
    expect(err.location?.path).toBe('rule.from');
    expect(r.policyRules()).toEqual([]);
    expect(errorOf(() => r.setSameVipDefault('no' as unknown as boolean)).location?.path).toBe('policy.sameVip');
  });

  it('drops rules whose VM left the spec when reconciling', () => {
    const r = openAt(':memory:');
    r.reconcile(TEST_SPEC);
    r.addPolicyRule(TEST_SPEC, { from: 'vm-lone', to: 'vm-a2' });
    r.addPolicyRule(TEST_SPEC, { from: 'vm-a1', to: 'vm-b1' });
    const smaller: LbSpec = { ...TEST_SPEC, vms: TEST_SPEC.vms.filter((v) => v.name !== 'vm-lone') };
    expect(r.reconcile(smaller).rulesRemoved).toEqual([{ from: 'vm-lone', to: 'vm-a2' }]);
    expect(r.policyRules()).toEqual([{ from: 'vm-a1', to: 'vm-b1' }]);
  });
});

describe('drain storage', () => {
  it('keeps drains across reopening; draining twice or undraining an undrained VM changes nothing', () => {
    const r = openAt(dir, () => T0 + 7);
    r.reconcile(TEST_SPEC);
    expect(r.drainedVms()).toEqual([]);
    expect(r.setDrained('vm-b1', true)).toBe(true);
    expect(r.setDrained('vm-a2', true)).toBe(true);
    expect(r.setDrained('vm-a2', true)).toBe(false);
    expect(r.setDrained('vm-a1', false)).toBe(false);
    closeAll();
    const again = openAt(dir);
    expect(again.drains()).toEqual([{ vm: 'vm-a2', drainedAt: T0 + 7 }, { vm: 'vm-b1', drainedAt: T0 + 7 }]);
    expect(again.setDrained('vm-b1', false)).toBe(true);
    closeAll();
    expect(openAt(dir).drainedVms()).toEqual(['vm-a2']);
  });

  it('drops drains whose VM left the spec when reconciling, and rejects an empty name', () => {
    const r = openAt(':memory:');
    r.reconcile(TEST_SPEC);
    r.setDrained('vm-lone', true);
    r.setDrained('vm-a1', true);
    const smaller: LbSpec = { ...TEST_SPEC, vms: TEST_SPEC.vms.filter((v) => v.name !== 'vm-lone') };
    expect(r.reconcile(smaller).drainsRemoved).toEqual(['vm-lone']);
    expect(r.drainedVms()).toEqual(['vm-a1']);
    expect(errorOf(() => r.setDrained('', true)).location?.path).toBe('vm');
  });
});

describe('counter resets', () => {
  const cell = (sw: string, counter: string, index: number) => ({ switch: sw, counter, index });

  it('are read per switch by counter then index, and cleared as written', () => {
    const r = openAt(':memory:');
    r.queueCounterResets([cell('gw-east', 'vip_stats', 3), cell('gw-east', 'backend_stats', 5), cell('host-a', 'vm_rx', 5), cell('gw-east', 'backend_stats', 2)]);
    const east = r.pendingCounterResets('gw-east');
    expect(east).toEqual([
      { counter: 'backend_stats', index: 2, version: 1 },
      { counter: 'backend_stats', index: 5, version: 1 },
      { counter: 'vip_stats', index: 3, version: 1 },
    ]);
    expect(r.pendingCounterResets('gw-west')).toEqual([]);
    // Only what is named is cleared, and only on that switch.
    expect(r.clearCounterResets('gw-east', east.slice(0, 2))).toBe(2);
    expect(r.pendingCounterResets('gw-east')).toEqual([{ counter: 'vip_stats', index: 3, version: 1 }]);
    expect(r.clearCounterResets('gw-west', east.slice(2))).toBe(0);
    expect(r.pendingCounterResets('host-a')).toEqual([{ counter: 'vm_rx', index: 5, version: 1 }]);
  });

  it('hold a cell queued twice once; a clear of what was read leaves a cell queued again since', () => {
    const r = openAt(':memory:');
    r.queueCounterResets([cell('gw-east', 'backend_stats', 2), cell('gw-east', 'backend_stats', 2)]);
    const read = r.pendingCounterResets('gw-east');
    expect(read).toHaveLength(1);
    // Queued again while the write of `read` is under way: that write may predate the new owner.
    r.queueCounterResets([cell('gw-east', 'backend_stats', 2)]);
    expect(r.clearCounterResets('gw-east', read)).toBe(0);
    const again = r.pendingCounterResets('gw-east');
    expect(again).toHaveLength(1);
    expect(again[0]!.version).toBeGreaterThan(read[0]!.version);
    expect(r.clearCounterResets('gw-east', again)).toBe(1);
    expect(r.pendingCounterResets('gw-east')).toEqual([]);
  });

  it('survive closing and reopening the registry', () => {
    const r = openAt(dir);
    r.queueCounterResets([cell('host-b', 'vm_tx', 4), cell('host-b', 'vm_rx', 4)]);
    closeAll();
    const again = openAt(dir);
    expect(again.pendingCounterResets('host-b')).toEqual([{ counter: 'vm_rx', index: 4, version: 1 }, { counter: 'vm_tx', index: 4, version: 1 }]);
    again.clearCounterResets('host-b', again.pendingCounterResets('host-b'));
    closeAll();
    expect(openAt(dir).pendingCounterResets('host-b')).toEqual([]);
  });

  it('of a switch that left the spec are dropped by reconcile; those of released ids stay', () => {
    const r = openAt(':memory:');
    r.reconcile(TEST_SPEC);
    r.queueCounterResets([cell('gw-west', 'vip_stats', 1), cell('host-b', 'vm_rx', 9), cell('gw-gone', 'backend_stats', 1)]);
    const withoutHostB: LbSpec = { ...TEST_SPEC, hosts: TEST_SPEC.hosts.filter((h) => h.name !== 'host-b') };
    expect(r.reconcile(withoutHostB).counterResetsDropped).toEqual(['gw-gone/backend_stats[1]', 'host-b/vm_rx[9]']);
    expect(r.pendingCounterResets('host-b')).toEqual([]);
    expect(r.pendingCounterResets('gw-west')).toEqual([{ counter: 'vip_stats', index: 1, version: 1 }]);
    expect(r.reconcile(withoutHostB).counterResetsDropped).toEqual([]);
  });

  it('reject a cell that is not one, naming the field and queueing nothing', () => {
    const r = openAt(':memory:');
    const err = errorOf(() => r.queueCounterResets([cell('gw-east', 'vip_stats', 1), cell('gw-east', 'vip_stats', -1)]));
    expect(err.code).toBe('REGISTRY_BAD_INPUT');
    expect(err.location?.path).toBe('resets[1].index');
    expect(errorOf(() => r.queueCounterResets([cell('', 'vip_stats', 1)])).location?.path).toBe('resets[0].switch');
    expect(errorOf(() => r.queueCounterResets([cell('gw-east', '', 1)])).location?.path).toBe('resets[0].counter');
    expect(r.pendingCounterResets('gw-east')).toEqual([]);
  });
});

describe('issued tokens', () => {
  function setup(): { r: Registry; plan: ReturnType<typeof planTokens> } {
    const r = openAt(dir);
    r.reconcile(TEST_SPEC);
    const plan = planTokens({ spec: TEST_SPEC, ids: positionalIds(TEST_SPEC), keys: r.keyRing(), policy: compilePolicy(TEST_SPEC, r.policyInput()), now: T0 });
    return { r, plan };
  }

  it('records a plan once, with its fields and value, and keeps it across reopening', () => {
    const { r, plan } = setup();
    expect(r.recordIssued(plan.entries)).toBe(plan.entries.length);
    expect(r.recordIssued(plan.entries)).toBe(0);
    closeAll();
    const again = openAt(dir);
    const stored = again.tokens({ switch: 'host-a' });
    const planned = plan.entries.filter((e) => e.switch === 'host-a');
    expect(stored).toHaveLength(planned.length);
    for (const s of stored) {
      const e = planned.find((p) => p.entryKey === s.entryKey && p.token.id === s.tokenId)!;
      expect(s.value).toBe(e.token.value);
      expect(s.fields).toEqual(e.token.fields);
      expect(s).toMatchObject({ state: 'issued', table: e.table, use: e.use, kind: e.token.kind, expiry: e.token.expiry, removeAfter: e.token.removeAfter });
    }
  });

  it('follows issued → installed → expired → removed, and rejects other steps', () => {
    const { r, plan } = setup();
    r.recordIssued(plan.entries);
    const refs = plan.entries.map((e) => ({ switch: e.switch, entryKey: e.entryKey, tokenId: e.token.id }));
    r.setTokenState(refs, 'installed');
    expect(r.tokens({ states: ['installed'] })).toHaveLength(refs.length);

    const firstExpiry = Math.min(...plan.entries.map((e) => e.token.removeAfter));
    expect(r.expireTokens(firstExpiry)).toEqual([]);
    const expired = r.expireTokens(firstExpiry + 1);
    expect(expired.length).toBeGreaterThan(0);
    expect(expired.every((t) => t.removeAfter === firstExpiry && t.state === 'expired')).toBe(true);
    expect(r.tokens({ states: ['expired'] })).toHaveLength(expired.length);

    const back = errorOf(() => r.setTokenState([refs[0]!, { switch: expired[0]!.switch, entryKey: expired[0]!.entryKey, tokenId: expired[0]!.tokenId }], 'installed'));
    expect(back.code).toBe('REGISTRY_BAD_TOKEN_STATE');
    expect(back.location?.path).toBe('refs[1]');
    expect(back.message).toMatch(/cannot go from expired to installed/);

    r.setTokenState(expired.map((t) => ({ switch: t.switch, entryKey: t.entryKey, tokenId: t.tokenId })), 'removed');
    expect(r.pruneTokens(T0 + 1)).toBe(expired.length);
    expect(r.tokens()).toHaveLength(refs.length - expired.length);
  });

  it('names an unknown token and an unknown state', () => {
    const { r } = setup();
    expect(errorOf(() => r.setTokenState([{ switch: 'gw-east', entryKey: 'x', tokenId: 'y' }], 'installed')).location?.path).toBe('refs[0]');
    const err = errorOf(() => r.setTokenState([], 'instaled' as never));
    expect(err.location?.path).toBe('state');
    expect(err.hint).toBe("did you mean 'installed'?");
  });

  it('gives a restarted controller the same plan from the stored keys', () => {
    const { plan } = setup();
    closeAll();
    const again = openAt(dir);
    again.reconcile(TEST_SPEC);
    const replanned = planTokens({ spec: TEST_SPEC, ids: positionalIds(TEST_SPEC), keys: again.keyRing(), policy: compilePolicy(TEST_SPEC, again.policyInput()), now: T0 + 1 });
    expect(replanned.entries).toEqual(plan.entries);
  });
});
