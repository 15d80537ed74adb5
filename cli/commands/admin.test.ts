import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frame, innerPacket } from '../../bmv2-tests/dsl/scenario.ts';
import { startAdminApi, type RunningAdminApi } from '../../runtime-controller/api/server.ts';
import { eventually, startDeployment, type Deployment } from '../../runtime-controller/controller/test-setup.ts';
import { formatFlows, registerAdmin } from './admin.ts';

const TOKEN = '0123456789abcdef'.repeat(4);

describe('p4lb status | drain | undrain | flows against a running controller', () => {
  let d: Deployment;
  let api: RunningAdminApi;

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
    api = await startAdminApi({ controller: d.controller, token: TOKEN, listen: '127.0.0.1:0' });
    await d.controller.waitUntilReconciled(60_000);
    await eventually(() => d.controller.vipStatus().every((v) => Object.values(v.tableStatus).every((s) => s === 'ok') && v.backends.every((b) => Object.values(b.gateways).every((g) => g.health === 'healthy'))), 10_000, 'all healthy');
    await d.controller.settled();
  }, 120_000);

  afterAll(async () => {
    await api?.close();
    await d?.close();
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
    expect(formatFlows({ gateway: 'gw-west', count: 0, flows: [] })).toBe('gw-west: 0 pinned flows\n');
  });

  it('fails with the API\'s error, or when there is no token', async () => {
    await expect(p4lb(['drain', 'vm-zz'])).rejects.toMatchObject({ code: 'CONTROLLER_UNKNOWN_VM', location: { path: 'vm' } });
    await expect(p4lb(['status'], {})).rejects.toMatchObject({ code: 'CLI_USAGE', location: { path: '--token' } });
    await expect(p4lb(['status', '--token', 'x'.repeat(40)], {})).rejects.toMatchObject({ code: 'API_FORBIDDEN' });
    const program = new Command('p4lb').exitOverride();
    registerAdmin(program, { env: { P4LB_API_TOKEN: TOKEN } });
    await expect(program.parseAsync(['status', '--api', '127.0.0.1:1'], { from: 'user' })).rejects.toMatchObject({ code: 'API_UNREACHABLE' });
  });
});
