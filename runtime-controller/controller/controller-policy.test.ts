/**
 * An operator changes the traffic policy of a running controller: the same-VIP default off and on,
 * an explicit rule for one pair added and removed. Each call resolves once the hosts hold the
 * vm-to-vm tokens (host token_table) and peer entries (host peer_table, /32 per peer) of exactly
 * the pairs the policy allows; a rule naming an unknown VM is refused with the field at fault and
 * changes nothing; the policy outlives a controller restart on the same data folder.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIpv4 } from '../../core/hash/flow-key.ts';
import { namesById } from '../../core/spec/ids.ts';
import type { Prober } from '../health/index.ts';
import { toJson } from '../api/server.ts';
import { entryKey, HOST_P4, type TableEntry } from '../lb/index.ts';
import { Controller, type PolicyChanged, type TablesUpdated } from './controller.ts';
import { controllerTestTargets, eventually, exampleSpecAt, startDeploymentOn, startHealthyDeploymentOn, suiteName, type SwitchDeployment as Deployment } from './test-setup.ts';

const alwaysUp: Prober = async () => ({ ok: true, latencyMs: 0 });
/** Whether a policy change changed anything (false: it was that way already). */
const changed = async (change: Promise<PolicyChanged>): Promise<boolean> => (await change).changed;
const anyEndpoint = () => ({ host: '127.0.0.1', port: 9 });

const EXAMPLE = exampleSpecAt({});
const HOSTS = ['host-a', 'host-b'] as const;
/** The example spec: every VM serves both VIPs, so by default every ordered pair of the four VMs may talk. */
const VMS = ['vm-a1', 'vm-a2', 'vm-b1', 'vm-b2'] as const;
const ALL_PAIRS: readonly string[] = VMS.flatMap((a) => VMS.filter((b) => b !== a).map((b) => `${a}>${b}`));

/** What one host holds for VM↔VM traffic, as `from>to`: the tokens it accepts and the peers it sends to. */
interface VmToVm {
  readonly accepts: readonly string[];
  readonly peers: readonly string[];
}

const sorted = (items: Iterable<string>): string[] => [...new Set(items)].sort();

/**
 * Reads a host's token_table and peer_table back. A vm-to-vm token is accepted from a host's
 * address and a VM's port (request tokens come from a gateway's address and tunnel port); a VM
 * reaches a peer through a /32 entry (its reply path is the /0 one). Generations are folded.
 */
async function vmToVmOn(d: Deployment, c: Controller, host: string): Promise<VmToVm> {
  const spec = c.spec;
  const senderAt = new Map(spec.vms.map((v) => [`${spec.hosts.find((h) => h.name === v.host)!.underlay.ipv4}:${v.udpPort}`, v.name]));
  const local = new Map(spec.vms.filter((v) => v.host === host).map((v) => [v.udpPort, v.name]));
  const byAddress = new Map(spec.vms.map((v) => [v.privateIpv4, v.name]));
  const byId = namesById(c.dataPlaneIds.backend);
  const tokens = await d.readEntries(host, HOST_P4.tokenTable);
  const peers = await d.readEntries(host, HOST_P4.peerTable);
  const accepts = tokens.flatMap((e) => {
    const from = senderAt.get(`${formatIpv4(Number(e.keys['src_addr']))}:${Number(e.keys['src_port'])}`);
    return from === undefined ? [] : [`${from}>${local.get(Number(e.keys['vm_udp_port']))}`];
  });
  const sends = peers.flatMap((e) => {
    const dst = e.keys['dst_addr'] as { value: bigint; prefixLength: number };
    return dst.prefixLength === 32 ? [`${byId.get(Number(e.keys['vm_id']))}>${byAddress.get(formatIpv4(Number(dst.value)))}`] : [];
  });
  return { accepts: sorted(accepts), peers: sorted(sends) };
}

/** What each host should hold for `pairs` (`from>to`): B's host accepts A→B, A's host sends it. */
function expected(pairs: readonly string[]): Record<string, VmToVm> {
  const hostOf = (vm: string): string => EXAMPLE.vms.find((v) => v.name === vm)!.host;
  return Object.fromEntries(HOSTS.map((h) => [h, {
    accepts: sorted(pairs.filter((p) => hostOf(p.split('>')[1]!) === h)),
    peers: sorted(pairs.filter((p) => hostOf(p.split('>')[0]!) === h)),
  }]));
}

async function onHosts(d: Deployment, c: Controller): Promise<Record<string, VmToVm>> {
  return Object.fromEntries(await Promise.all(HOSTS.map(async (h) => [h, await vmToVmOn(d, c, h)] as const)));
}

/** Entries a host holds besides vm-to-vm ones: request tokens from the gateways and each VM's reply path. */
async function otherEntries(d: Deployment, host: string): Promise<{ requests: string[]; replyPaths: string[] }> {
  const gateways = new Set(d.spec.gateways.map((g) => g.underlay.ipv4));
  const texts = (entries: readonly TableEntry[]): string[] => entries.map((e) => `${entryKey(e)} ${toJson(e.params)}`).sort();
  return {
    requests: texts((await d.readEntries(host, HOST_P4.tokenTable)).filter((e) => gateways.has(formatIpv4(Number(e.keys['src_addr']))))),
    replyPaths: texts((await d.readEntries(host, HOST_P4.peerTable)).filter((e) => (e.keys['dst_addr'] as { prefixLength: number }).prefixLength === 0)),
  };
}

for (const t of controllerTestTargets()) describe.skipIf(t.skip !== undefined)(suiteName('controller: the traffic policy changes while it runs', t), () => {
  let d: Deployment;
  const cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    // Health settles first, so that no health update joins (and writes with) the policy's.
    d = await startHealthyDeploymentOn(t.target, { prober: alwaysUp, resolveEndpoint: anyEndpoint });
  }, 120_000);

  afterAll(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
    await d?.close();
  }, 60_000);

  it('starts with the same-VIP default: every pair of VMs has its tokens and peers on the hosts', async () => {
    const policy = d.controller.policy();
    expect(policy).toMatchObject({ sameVip: true, rules: [] });
    expect(policy.vmPairs.map((p) => `${p.from}>${p.to}`)).toEqual(ALL_PAIRS);
    // The first VIP by name: both serve api and web.
    expect(policy.vmPairs[0]).toEqual({ from: 'vm-a1', to: 'vm-a2', reason: 'same-vip', vip: 'api' });
    expect(policy.internetEgress.map((e) => [e.vm, e.reason])).toEqual(VMS.map((vm) => [vm, 'serves-vip']));
    expect(await onHosts(d, d.controller)).toEqual(expected(ALL_PAIRS));
  });

  it('turning the same-VIP default off removes every vm-to-vm token and peer, and nothing else', async () => {
    const before = await Promise.all(HOSTS.map((h) => otherEntries(d, h)));
    const updates: TablesUpdated[] = [];
    const off = d.controller.events.on('tables-updated', (u) => updates.push(u));
    try {
      expect(await changed(d.controller.changePolicy({ kind: 'same-vip', allowed: false }))).toBe(true);
    } finally {
      off();
    }
    // Resolved after the writes: the hosts no longer hold any, read straight away.
    expect(await onHosts(d, d.controller)).toEqual(expected([]));
    expect(await Promise.all(HOSTS.map((h) => otherEntries(d, h)))).toEqual(before);
    expect(d.controller.policy()).toMatchObject({ sameVip: false, rules: [], vmPairs: [] });
    for (const h of HOSTS) expect(updates.find((u) => u.switch === h)).toMatchObject({ causes: [{ kind: 'policy' }], inserted: 0 });
    // The gateways' tables do not depend on VM↔VM traffic.
    for (const u of updates.filter((x) => x.role === 'gateway')) expect(u).toMatchObject({ causes: [{ kind: 'policy' }], inserted: 0, modified: 0, deleted: 0 });
    expect(await changed(d.controller.changePolicy({ kind: 'same-vip', allowed: false }))).toBe(false);
  });

  it('a rule for one pair brings back exactly that pair\'s entries on both hosts; the same rule reversed changes nothing', async () => {
    expect(await changed(d.controller.changePolicy({ kind: 'allow', rule: { from: 'vm-a1', to: 'vm-b1' } }))).toBe(true);
    expect(await onHosts(d, d.controller)).toEqual({
      'host-a': { accepts: ['vm-b1>vm-a1'], peers: ['vm-a1>vm-b1'] },
      'host-b': { accepts: ['vm-a1>vm-b1'], peers: ['vm-b1>vm-a1'] },
    });
    expect(d.controller.policy()).toMatchObject({
      rules: [{ from: 'vm-a1', to: 'vm-b1' }],
      vmPairs: [{ from: 'vm-a1', to: 'vm-b1', reason: 'rule', rule: 0 }, { from: 'vm-b1', to: 'vm-a1', reason: 'rule', rule: 0 }],
    });
    expect(await changed(d.controller.changePolicy({ kind: 'allow', rule: { from: 'vm-b1', to: 'vm-a1' } }))).toBe(false);
    expect(d.controller.policy().rules).toEqual([{ from: 'vm-a1', to: 'vm-b1' }]);
  });

  it('refuses a rule naming an unknown VM (or one VM twice), naming the field, and changes nothing', async () => {
    const snapshot = async () => (await Promise.all(HOSTS.map((h) => d.readEntries(h)))).map((es) => es.map((e) => `${entryKey(e)} ${toJson(e.params)}`).sort());
    const before = await snapshot();
    const policy = d.controller.policy();
    await expect(changed(d.controller.changePolicy({ kind: 'allow', rule: { from: 'vm-a1', to: 'vm-b9' } }))).rejects.toMatchObject({
      code: 'REGISTRY_BAD_POLICY_RULE', location: { path: 'rule.to' }, hint: expect.stringMatching(/did you mean 'vm-b\d'/) as unknown,
    });
    await expect(changed(d.controller.changePolicy({ kind: 'allow', rule: { from: 'vm-x1', to: 'vm-b1' } }))).rejects.toMatchObject({ code: 'REGISTRY_BAD_POLICY_RULE', location: { path: 'rule.from' } });
    await expect(changed(d.controller.changePolicy({ kind: 'allow', rule: { from: 'vm-a1', to: 'vm-a1' } }))).rejects.toMatchObject({ location: { path: 'rule.to' } });
    await expect(changed(d.controller.changePolicy({ kind: 'remove', rule: { from: 'vm-a1', to: '@internt' } }))).rejects.toMatchObject({ location: { path: 'rule.to' }, hint: "did you mean '@internet'?" });
    await expect(changed(d.controller.changePolicy({ kind: 'same-vip', allowed: 'no' as unknown as boolean }))).rejects.toMatchObject({ code: 'REGISTRY_BAD_INPUT', location: { path: 'policy.sameVip' } });
    expect(d.controller.policy()).toEqual(policy);
    expect(await snapshot()).toEqual(before);
  });

  it('removing the rule (named either way round) takes the pair\'s entries away again', async () => {
    expect(await changed(d.controller.changePolicy({ kind: 'remove', rule: { from: 'vm-b1', to: 'vm-a1' } }))).toBe(true);
    expect(await onHosts(d, d.controller)).toEqual(expected([]));
    expect(d.controller.policy()).toMatchObject({ rules: [], vmPairs: [] });
    expect(await changed(d.controller.changePolicy({ kind: 'remove', rule: { from: 'vm-a1', to: 'vm-b1' } }))).toBe(false);
  });

  it('keeps the policy across a controller restart on the same data folder, and restores the default', async () => {
    expect(await changed(d.controller.changePolicy({ kind: 'allow', rule: { from: 'vm-a2', to: 'vm-b2' } }))).toBe(true);
    const policy = d.controller.policy();
    await d.controller.stop();
    const restarted = new Controller({
      spec: d.controller.spec, dataDir: d.dataDir, logger: pino({ level: 'silent' }), pipelines: d.pipelines,
      backoff: { baseMs: 50, capMs: 400, jitter: 0 }, prober: alwaysUp, resolveEndpoint: anyEndpoint, ...d.controllerOptions,
    });
    cleanup.push(() => restarted.stop());
    await restarted.start();
    expect(restarted.policy()).toEqual(policy);
    await restarted.waitUntilReconciled(60_000);
    await restarted.settled();
    expect(await onHosts(d, restarted)).toEqual(expected(['vm-a2>vm-b2', 'vm-b2>vm-a2']));

    expect(await changed(restarted.changePolicy({ kind: 'same-vip', allowed: true }))).toBe(true);
    expect(await changed(restarted.changePolicy({ kind: 'remove', rule: { from: 'vm-a2', to: 'vm-b2' } }))).toBe(true);
    expect(await onHosts(d, restarted)).toEqual(expected(ALL_PAIRS));
  }, 90_000);
});

for (const t of controllerTestTargets()) describe.skipIf(t.skip !== undefined)(suiteName('controller: a standby takes over with the policy the primary left', t), () => {
  let d: Deployment;
  const cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    d = await startDeploymentOn(t.target, { prober: alwaysUp, resolveEndpoint: anyEndpoint, electionId: 10n });
    await d.controller.waitUntilReconciled(60_000);
    await d.controller.settled();
  }, 120_000);

  afterAll(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
    await d?.close();
  }, 60_000);

  it('installs the registry\'s policy at takeover, not the one it planned with while backup', async () => {
    const standby = new Controller({
      spec: d.spec, dataDir: d.dataDir, logger: pino({ level: 'silent' }), pipelines: d.pipelines,
      backoff: { baseMs: 50, capMs: 400, jitter: 0 }, prober: alwaysUp, resolveEndpoint: anyEndpoint, ...d.controllerOptions, electionId: 5n,
    });
    cleanup.push(() => standby.stop());
    await standby.start();
    await eventually(() => standby.switchStatus().every((s) => s.phase === 'backup'), 15_000, 'standby is backup on every switch');

    expect(await changed(d.controller.changePolicy({ kind: 'same-vip', allowed: false }))).toBe(true);
    expect(await changed(d.controller.changePolicy({ kind: 'allow', rule: { from: 'vm-a2', to: 'vm-b1' } }))).toBe(true);
    const want = expected(['vm-a2>vm-b1', 'vm-b1>vm-a2']);
    expect(await onHosts(d, d.controller)).toEqual(want);

    await d.controller.stop();
    await standby.waitUntilReconciled(30_000);
    await standby.settled();
    expect(standby.policy()).toMatchObject({ sameVip: false, rules: [{ from: 'vm-a2', to: 'vm-b1' }] });
    expect(await onHosts(d, standby)).toEqual(want);
  }, 60_000);
});
