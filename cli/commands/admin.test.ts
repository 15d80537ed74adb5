import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frame, innerPacket } from '../../bmv2-tests/dsl/scenario.ts';
import { startAdminApi, type RunningAdminApi } from '../../runtime-controller/api/server.ts';
import { NOTHING_APPLIED, SpecFile } from '../../runtime-controller/controller/spec-file.ts';
import { eventually, exampleSpecText, startDeployment, type Deployment } from '../../runtime-controller/controller/test-setup.ts';
import { formatBackendEdit, formatFlows, formatPending, formatPolicy, formatSpecApplied, registerAdmin } from './admin.ts';

const TOKEN = '0123456789abcdef'.repeat(4);

describe('p4lb status | drain | undrain | flows | reload | backends | policy against a running controller', () => {
  let d: Deployment;
  let api: RunningAdminApi;
  let dir: string;
  let specPath: string;
  let specText: string;

  /** Runs one admin command in-process and returns what it printed. */
  async function p4lb(args: string[], env: NodeJS.ProcessEnv = { P4LB_API_TOKEN: TOKEN }): Promise<string> {
    let out = '';
    const program = new Command('p4lb').exitOverride();
    program.configureOutput({ writeOut: (s) => (out += s), writeErr: () => {} });
    registerAdmin(program, { env });
    await program.parseAsync([...args, '--api', api.address], { from: 'user' });
    return out;
  }

  beforeAll(async () => {
    d = await startDeployment();
    dir = mkdtempSync(join(tmpdir(), 'p4lb-admin-'));
    specPath = join(dir, 'lb.yaml');
    specText = exampleSpecText(Object.fromEntries([...d.targets].map(([n, t]) => [n, t.address])));
    writeFileSync(specPath, specText);
    api = await startAdminApi({ controller: d.controller, token: TOKEN, listen: '127.0.0.1:0', specFile: new SpecFile({ path: specPath, controller: d.controller }) });
    await d.controller.waitUntilReconciled(60_000);
    await eventually(() => d.controller.vipStatus().every((v) => Object.values(v.tableStatus).every((s) => s === 'ok') && v.backends.every((b) => Object.values(b.gateways).every((g) => g.health === 'healthy'))), 10_000, 'all healthy');
    await d.controller.settled();
  }, 120_000);

  afterAll(async () => {
    await api?.close();
    await d?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('status shows the switches, each VIP\'s backends per gateway and the alarms', async () => {
    const out = await p4lb(['status']);
    expect(out).toMatch(/^switches:\n {2}gw-east +gateway +pipeline-ready +primary +127\.0\.0\.1:\d+/);
    expect(out).toContain('VIP web  203.0.113.10 tcp/80  tunnel  tables: gw-east ok, gw-west ok');
    // geoPreference: gw-west gives host-a's VMs no web slots, but keeps their backend entries.
    expect(out).toMatch(/ {2}vm-a1 +gw-east: healthy \d+ slots +gw-west: healthy 0 slots/);
    expect(out).toContain('alarms: none');
    const parsed = JSON.parse(await p4lb(['status', '--json'])) as { gateways: unknown[]; vips: unknown[] };
    expect(parsed.gateways).toHaveLength(2);
    expect(parsed.vips).toHaveLength(2);
  });

  it('drain with a gateway down says which switch has not got it yet', async () => {
    await d.targets.get('gw-west')!.close();
    await eventually(() => d.controller.switchStatus().find((s) => s.name === 'gw-west')!.phase !== 'pipeline-ready', 5_000, 'gw-west seen down');
    expect(await p4lb(['drain', 'vm-b2'])).toBe('vm-b2: drained; drained VMs: vm-b2\nnot yet written: gw-west (not connected); stored, they get it when they are back\n');
    await d.restartTarget('gw-west');
    await d.controller.waitUntilReconciled(30_000);
    expect(await p4lb(['undrain', 'vm-b2'])).toBe('vm-b2: not drained; drained VMs: none\n');
  });

  it('drain and undrain change the controller, with the token from --token', async () => {
    expect(await p4lb(['drain', 'vm-a2', '--token', TOKEN], {})).toBe('vm-a2: drained; drained VMs: vm-a2\n');
    expect(d.controller.drainedVms()).toEqual(['vm-a2']);
    expect(await p4lb(['status'])).toMatch(/vm-a2 +gw-east: healthy 0 slots +gw-west: healthy 0 slots +drained/);
    expect(await p4lb(['undrain', 'vm-a2'])).toBe('vm-a2: not drained; drained VMs: none\n');
    expect(d.controller.drainedVms()).toEqual([]);
  });

  it('flows lists the gateway\'s pinned flows', async () => {
    const wire = d.targets.get('gw-east')!.wires.get(1)!;
    wire.send(frame('02:00:00:00:00:01', '02:00:00:00:00:fe', innerPacket({ src: '198.51.100.50', srcPort: 42000, dst: '203.0.113.10', dstPort: 80 })));
    await eventually(async () => (await d.controller.flows('gw-east')).length === 1, 5_000, 'one flow');
    const out = await p4lb(['flows', '--gateway', 'gw-east']);
    expect(out).toMatch(/^gw-east: 1 pinned flow\n {2}way +index +signature +backend +last seen \(ticks\)\n {2}[01] +\d+ +0x[0-9a-f]{8} +vm-a[12] +\d+\n$/);
    expect(formatFlows({ gateway: 'gw-west', count: 0, unreadable: 0, flows: [] })).toBe('gw-west: 0 pinned flows\n');
    expect(formatFlows({ gateway: 'gw-west', count: 0, unreadable: 3, flows: [] })).toBe(
      "gw-west: 0 pinned flows\n3 more could not be read (the switch's register service cannot return values of 2^63 and more: BMv2's Thrift)\n",
    );
  });

  it('fails with the API\'s error, or when there is no token', async () => {
    await expect(p4lb(['drain', 'vm-zz'])).rejects.toMatchObject({ code: 'CONTROLLER_UNKNOWN_VM', location: { path: 'vm' } });
    await expect(p4lb(['status'], {})).rejects.toMatchObject({ code: 'CLI_USAGE', location: { path: '--token' } });
    await expect(p4lb(['status', '--token', 'x'.repeat(40)], {})).rejects.toMatchObject({ code: 'API_FORBIDDEN' });
    const program = new Command('p4lb').exitOverride();
    registerAdmin(program, { env: { P4LB_API_TOKEN: TOKEN } });
    await expect(program.parseAsync(['status', '--api', '127.0.0.1:1'], { from: 'user' })).rejects.toMatchObject({ code: 'API_UNREACHABLE' });
  });

  it('backends add and remove change the VIP in the spec file and the controller, and say what changed', async () => {
    expect(await p4lb(['backends', 'remove', 'web', 'vm-b2'])).toBe('web: vm-b2 removed; backends now: vm-a1, vm-a2, vm-b1\n');
    expect(d.controller.spec.vips[0]!.backends).toEqual(['vm-a1', 'vm-a2', 'vm-b1']);
    expect(readFileSync(specPath, 'utf8')).toBe(specText.replace('      - vm-b2\n', ''));
    expect(await p4lb(['backends', 'remove', 'web', 'vm-b2'])).toBe('web: vm-b2 is not a backend, nothing changed; backends: vm-a1, vm-a2, vm-b1\n');
    const added = JSON.parse(await p4lb(['backends', 'add', 'web', 'vm-b2', '--json'])) as { changed: boolean; backends: string[] };
    expect(added).toMatchObject({ changed: true, backends: ['vm-a1', 'vm-a2', 'vm-b1', 'vm-b2'] });
    expect(await p4lb(['backends', 'add', 'web', 'vm-b2'])).toBe('web: vm-b2 is already a backend, nothing changed; backends: vm-a1, vm-a2, vm-b1, vm-b2\n');
    expect(readFileSync(specPath, 'utf8')).toBe(specText);
    await expect(p4lb(['backends', 'add', 'wbe', 'vm-b2'])).rejects.toMatchObject({ code: 'SPEC_FILE_UNKNOWN_VIP', hint: "did you mean 'web'?" });
  });

  it('reload applies the spec file and says what it added and removed; an invalid file lists its problems', async () => {
    expect(await p4lb(['reload'])).toBe('spec reloaded: no VM, VIP or backend added or removed\n');
    // The last `- vm-b2` is api's.
    const at = specText.lastIndexOf('      - vm-b2\n');
    writeFileSync(specPath, specText.slice(0, at) + specText.slice(at + '      - vm-b2\n'.length));
    expect(await p4lb(['reload'])).toBe('spec reloaded: api: removed vm-b2\n');
    expect(d.controller.spec.vips[1]!.backends).toEqual(['vm-a1', 'vm-a2', 'vm-b1']);
    writeFileSync(specPath, specText.replace('      - vm-a2\n', '      - vm-a9\n'));
    const invalid = await p4lb(['reload']).catch((e: unknown) => e);
    expect((invalid as Error & { describe(): string }).describe()).toMatch(/^.*lb\.yaml: 1 problem in the spec\n {2}.*lb\.yaml:\d+:\d+: vips\[0\]\.backends\[1\]: unknown VM 'vm-a9'/);
    writeFileSync(specPath, specText);
    expect(JSON.parse(await p4lb(['reload', '--json']))).toEqual({ applied: { vmsAdded: [], vmsRemoved: [], vipsAdded: [], vipsRemoved: [], backends: [{ vip: 'api', added: ['vm-b2'], removed: [] }], switches: { written: ['gw-east', 'gw-west', 'host-a', 'host-b'], pending: [] } } });
  });

  it('policy shows the default, the rules and what they allow; allow, remove and same-vip change it', async () => {
    const pairs = ['vm-a1 <-> vm-a2', 'vm-a1 <-> vm-b1', 'vm-a1 <-> vm-b2', 'vm-a2 <-> vm-b1', 'vm-a2 <-> vm-b2', 'vm-b1 <-> vm-b2'];
    const egress = ['vm-a1', 'vm-a2', 'vm-b1', 'vm-b2'].map((vm) => `  ${vm}  serves api`);
    expect(await p4lb(['policy'])).toBe([
      'same-VIP default: on (VMs serving a common VIP may talk)',
      'rules: none',
      'VM pairs that may talk:',
      ...pairs.map((p) => `  ${p}  both serve api`),
      'Internet egress:',
      ...egress,
      '',
    ].join('\n'));
    expect(JSON.parse(await p4lb(['policy', 'show', '--json']))).toMatchObject({ sameVip: true, rules: [], internetEgress: [{ vm: 'vm-a1', reason: 'serves-vip', vip: 'api' }, {}, {}, {}] });

    expect(await p4lb(['policy', 'same-vip', 'off'])).toBe('same-VIP default: off; 0 VM pairs may talk\n');
    expect(d.controller.policy().sameVip).toBe(false);
    expect(await p4lb(['policy', 'allow', 'vm-a1', 'vm-b1'])).toBe('vm-a1 <-> vm-b1 allowed; 1 VM pair may talk, 4 VMs reach the Internet\n');
    expect(await p4lb(['policy', 'allow', 'vm-b1', 'vm-a1'])).toBe('vm-b1 <-> vm-a1 is already allowed by a rule, nothing changed; 1 VM pair may talk, 4 VMs reach the Internet\n');
    expect(await p4lb(['policy'])).toBe(['same-VIP default: off', 'rules:', '  vm-a1 <-> vm-b1', 'VM pairs that may talk:', '  vm-a1 <-> vm-b1  a rule', 'Internet egress:', ...egress, ''].join('\n'));
    await expect(p4lb(['policy', 'allow', 'vm-a1', 'vm-b9'])).rejects.toMatchObject({ code: 'REGISTRY_BAD_POLICY_RULE', location: { path: 'rule.to' } });
    await expect(p4lb(['policy', 'same-vip', 'maybe'])).rejects.toMatchObject({ code: 'commander.invalidArgument' });
    expect(JSON.parse(await p4lb(['policy', 'remove', 'vm-a1', 'vm-b1', '--json']))).toMatchObject({ rule: { from: 'vm-a1', to: 'vm-b1' }, present: false, changed: true, policy: { rules: [], vmPairs: [] } });
    await expect(p4lb(['policy', 'remove', 'vm-a1', 'vm-b1'])).rejects.toMatchObject({ code: 'API_NO_SUCH_RULE', location: { path: 'rule' } });
    expect(await p4lb(['policy', 'same-vip', 'on'])).toBe('same-VIP default: on; 6 VM pairs may talk\n');
    expect(await p4lb(['policy', 'same-vip', 'on'])).toBe('same-VIP default: on (unchanged); 6 VM pairs may talk\n');
    expect(d.controller.policy()).toMatchObject({ sameVip: true, rules: [] });
  });

  it('formats a policy with Internet egress granted by a rule', () => {
    expect(formatPolicy({ sameVip: false, rules: [{ from: 'vm-lone', to: '@internet' }], vmPairs: [], internetEgress: [{ vm: 'vm-lone', reason: 'rule', rule: 0 }] }))
      .toBe('same-VIP default: off\nrules:\n  vm-lone -> @internet\nVM pairs that may talk: none\nInternet egress:\n  vm-lone  a rule\n');
  });

  it('formats a spec change on one line', () => {
    expect(formatSpecApplied({ vmsAdded: ['vm-a3'], vmsRemoved: [], vipsAdded: ['extra'], vipsRemoved: ['old'], backends: [{ vip: 'web', added: ['vm-a3'], removed: ['vm-b2', 'vm-b1'] }, { vip: 'api', added: [], removed: ['vm-a1'] }] }))
      .toBe('VMs added: vm-a3; VIPs added: extra; VIPs removed: old; web: added vm-a3, removed vm-b2, vm-b1; api: removed vm-a1');
    expect(formatBackendEdit({ vip: 'api', vm: 'vm-a3', present: true, changed: true, backends: ['vm-a1', 'vm-a3'], applied: NOTHING_APPLIED })).toBe('api: vm-a3 added; backends now: vm-a1, vm-a3\n');
  });

  it('lists the switches a change has not reached yet, and nothing when every switch took it', () => {
    const switches = { written: ['gw-east'], pending: [{ switch: 'gw-west', reason: 'not connected' }, { switch: 'host-a', reason: 'write failed: refused' }] };
    expect(formatPending(switches)).toBe('not yet written: gw-west (not connected), host-a (write failed: refused); stored, they get it when they are back\n');
    expect(formatPending({ written: ['gw-east', 'gw-west'], pending: [] })).toBe('');
    expect(formatBackendEdit({ vip: 'api', vm: 'vm-a3', present: false, changed: true, backends: ['vm-a1'], applied: { ...NOTHING_APPLIED, switches } }))
      .toBe('api: vm-a3 removed; backends now: vm-a1\nnot yet written: gw-west (not connected), host-a (write failed: refused); stored, they get it when they are back\n');
  });
});
