import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frame, innerPacket } from '../../bmv2-tests/dsl/scenario.ts';
import { eventually, startDeployment, TEST_SLOTS, type Deployment } from '../controller/test-setup.ts';
import { ControllerMetrics } from '../metrics/metrics.ts';
import { AdminClient } from './client.ts';
import { parseListenAddress, startAdminApi, type RunningAdminApi } from './server.ts';

const TOKEN = 'f'.repeat(64);

describe('admin API over HTTP against a running controller', () => {
  let d: Deployment;
  let api: RunningAdminApi;
  let base: string;
  /** `token` null: no Authorization header at all. */
  const get = (path: string, token: string | null = TOKEN, method = 'GET') =>
    fetch(`${base}${path}`, { method, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  const body = async (r: Response) => (await r.json()) as Record<string, unknown> & { error?: { code: string; field?: string; hint?: string; message: string } };

  beforeAll(async () => {
    d = await startDeployment();
    const metrics = new ControllerMetrics({ controller: d.controller, pollIntervalMs: 60_000 });
    api = await startAdminApi({ controller: d.controller, token: TOKEN, metrics, listen: '127.0.0.1:0' });
    base = `http://${api.address}`;
    await d.controller.waitUntilReconciled(60_000);
    await eventually(() => d.controller.vipStatus().every((v) => v.backends.every((b) => Object.values(b.gateways).every((g) => g.health === 'healthy'))), 10_000, 'all healthy');
    await d.controller.settled();
  }, 120_000);

  afterAll(async () => {
    await api?.close();
    await d?.close();
  });

  it('wants a bearer token on every /v1 call: 401 without one, 403 with a wrong one', async () => {
    for (const [path, method] of [['/v1/vips', 'GET'], ['/v1/gateways', 'GET'], ['/v1/tokens', 'GET'], ['/v1/flows?gateway=gw-east', 'GET'], ['/v1/backends/vm-a1/drain', 'POST']] as const) {
      const none = await get(path, null, method);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await body(none)).error!.code).toBe('API_UNAUTHORIZED');
      const wrong = await get(path, 'e'.repeat(64), method);
      expect(wrong.status).toBe(403);
      expect((await body(wrong)).error!.code).toBe('API_FORBIDDEN');
    }
    const malformed = await fetch(`${base}/v1/vips`, { headers: { authorization: `Basic ${TOKEN}` } });
    expect(malformed.status).toBe(401);
    expect(d.controller.drainedVms()).toEqual([]);
  });

  it('lists VIPs with their backends, health and slots per gateway, and the switches', async () => {
    const vips = (await body(await get('/v1/vips'))) as unknown as { vips: { name: string; backends: { vm: string; gateways: Record<string, { health: string; slots: number }> }[]; tableStatus: Record<string, string> }[]; alarms: unknown[] };
    expect(vips.vips.map((v) => v.name)).toEqual(['web', 'api']);
    for (const vip of vips.vips) {
      expect(vip.tableStatus).toEqual({ 'gw-east': 'ok', 'gw-west': 'ok' });
      for (const gw of ['gw-east', 'gw-west']) expect(vip.backends.reduce((n, b) => n + b.gateways[gw]!.slots, 0)).toBe(TEST_SLOTS);
      for (const b of vip.backends) expect(Object.values(b.gateways).map((g) => g.health)).toEqual(['healthy', 'healthy']);
    }
    expect(vips.alarms).toEqual([]);
    const switches = (await body(await get('/v1/gateways'))) as unknown as { gateways: { name: string; phase: string; primary: boolean }[]; hosts: { name: string }[] };
    expect(switches.gateways.map((g) => [g.name, g.phase, g.primary])).toEqual([['gw-east', 'pipeline-ready', true], ['gw-west', 'pipeline-ready', true]]);
    expect(switches.hosts.map((h) => h.name)).toEqual(['host-a', 'host-b']);
  });

  it('drains and undrains a VM with POST, and names the field of a bad request', async () => {
    const r = await get('/v1/backends/vm-b1/drain', TOKEN, 'POST');
    expect(r.status).toBe(200);
    expect(await body(r)).toEqual({ vm: 'vm-b1', drained: true, drainedVms: ['vm-b1'] });
    const client = new AdminClient({ api: api.address, token: TOKEN });
    const vips = await client.vips();
    for (const vip of vips.vips) {
      const b1 = vip.backends.find((b) => b.vm === 'vm-b1')!;
      expect(b1.drained).toBe(true);
      expect(Object.values(b1.gateways).map((g) => g.slots)).toEqual([0, 0]);
    }
    expect(await client.undrain('vm-b1')).toEqual({ vm: 'vm-b1', drained: false, drainedVms: [] });

    const unknown = await get('/v1/backends/vm-b9/drain', TOKEN, 'POST');
    expect(unknown.status).toBe(404);
    expect((await body(unknown)).error).toMatchObject({ code: 'CONTROLLER_UNKNOWN_VM', field: 'vm', hint: expect.stringContaining('vm-b') as unknown });
    const wrongMethod = await get('/v1/backends/vm-b1/drain');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    await expect(client.drain('nope')).rejects.toMatchObject({ code: 'CONTROLLER_UNKNOWN_VM', status: 404 });
  });

  it('lists pinned flows of a gateway, filtered by backend; missing or unknown parameters are 4xx naming the field', async () => {
    const wire = d.targets.get('gw-west')!.wires.get(1)!;
    for (const srcPort of [41001, 41002]) wire.send(frame('02:00:00:00:00:02', '02:00:00:00:00:fe', innerPacket({ src: '198.51.100.9', srcPort, dst: '203.0.113.20', dstPort: 8080 })));
    const client = new AdminClient({ api: api.address, token: TOKEN });
    await eventually(async () => (await client.flows({ gateway: 'gw-west' })).count === 2, 5_000, 'two flows');
    const flows = await client.flows({ gateway: 'gw-west' });
    const one = flows.flows[0]!.backend!;
    const filtered = await client.flows({ gateway: 'gw-west', backend: one });
    expect(filtered.flows.every((f) => f.backend === one)).toBe(true);
    expect(filtered.count).toBeGreaterThanOrEqual(1);

    const missing = await get('/v1/flows');
    expect(missing.status).toBe(400);
    expect((await body(missing)).error).toMatchObject({ code: 'API_BAD_REQUEST', field: 'gateway' });
    const extra = await get('/v1/flows?gateway=gw-west&vip=web');
    expect(extra.status).toBe(400);
    expect((await body(extra)).error).toMatchObject({ field: 'vip' });
    const twice = await get('/v1/flows?gateway=gw-west&gateway=gw-east');
    expect((await body(twice)).error).toMatchObject({ field: 'gateway' });
    const unknownGw = await get('/v1/flows?gateway=gw-wset');
    expect(unknownGw.status).toBe(404);
    expect((await body(unknownGw)).error).toMatchObject({ code: 'CONTROLLER_UNKNOWN_GATEWAY', hint: expect.stringContaining('gw-west') as unknown });
    const host = await get('/v1/flows?gateway=host-a');
    expect(host.status).toBe(404);
  });

  it('shows the token plan and the recorded tokens; a bad state is a 400', async () => {
    const tokens = (await body(await get('/v1/tokens?switch=gw-east'))) as unknown as { plan: { nextChangeAt: number; entriesBySwitch: Record<string, number> }; count: number; tokens: { switch: string; state: string }[] };
    expect(tokens.plan.nextChangeAt).toBeGreaterThan(Date.now() / 1000);
    expect(tokens.count).toBeGreaterThan(0);
    expect(tokens.tokens.every((t) => t.switch === 'gw-east' && t.state === 'installed')).toBe(true);
    const bad = await get('/v1/tokens?state=instaled');
    expect(bad.status).toBe(400);
    expect((await body(bad)).error).toMatchObject({ field: 'state' });
  });

  it('serves /metrics without a token, and 404 for unknown paths', async () => {
    const m = await fetch(`${base}/metrics`);
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toContain('text/plain');
    const text = await m.text();
    expect(text).toContain('p4lb_backend_health{gateway="gw-east",vip="web",vm="vm-a1",state="healthy"} 1');
    expect(text).toContain('p4lb_switch_ready{switch="host-b",role="host"} 1');
    expect((await get('/v2/vips')).status).toBe(404);
    expect((await get('/v1/nothing')).status).toBe(404);
  });

  it('can require the token on /metrics too, and refuses a short token or a bad address', async () => {
    const closed = await startAdminApi({ controller: d.controller, token: TOKEN, metrics: { contentType: 'text/plain', text: async () => 'x 1\n' }, metricsRequireToken: true, listen: '127.0.0.1:0' });
    try {
      expect((await fetch(`http://${closed.address}/metrics`)).status).toBe(401);
      expect(await (await fetch(`http://${closed.address}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text()).toBe('x 1\n');
    } finally {
      await closed.close();
    }
    await expect(startAdminApi({ controller: d.controller, token: 'short', listen: '127.0.0.1:0' })).rejects.toMatchObject({ code: 'API_BAD_TOKEN', location: { path: 'token' } });
    expect(() => parseListenAddress('127.0.0.1')).toThrow(expect.objectContaining({ code: 'API_BAD_ADDRESS' }) as Error);
    expect(parseListenAddress('[::1]:9100')).toEqual({ kind: 'tcp', host: '::1', port: 9100 });
    expect(parseListenAddress('unix:/run/p4lb/api.sock')).toEqual({ kind: 'unix', path: '/run/p4lb/api.sock' });
    expect(() => parseListenAddress('unix:')).toThrow(expect.objectContaining({ code: 'API_BAD_ADDRESS' }) as Error);
  });

  it('serves the same API on a Unix socket, replaces a stale socket file, refuses one in use or a regular file, and removes the socket on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'p4lb-api-'));
    const path = join(dir, 'api.sock');
    try {
      // A process that dies while listening leaves its socket file behind.
      const dead = spawnSync(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
      expect(dead.signal).toBe('SIGKILL');
      expect(existsSync(path)).toBe(true);
      const api = await startAdminApi({ controller: d.controller, token: TOKEN, metrics: { contentType: 'text/plain', text: async () => 'x 2\n' }, listen: `unix:${path}` });
      expect(api.address).toBe(`unix:${path}`);
      await expect(startAdminApi({ controller: d.controller, token: TOKEN, listen: `unix:${path}` })).rejects.toMatchObject({ code: 'API_BAD_ADDRESS', message: expect.stringContaining('in use') as unknown });
      const client = new AdminClient({ api: api.address, token: TOKEN });
      expect((await client.gateways()).gateways.map((g) => g.name)).toEqual(['gw-east', 'gw-west']);
      expect(await client.metrics()).toBe('x 2\n');
      await expect(new AdminClient({ api: api.address, token: 'e'.repeat(64) }).vips()).rejects.toMatchObject({ status: 403 });
      await api.close();
      expect(existsSync(path)).toBe(false);
      await expect(client.vips()).rejects.toMatchObject({ code: 'API_UNREACHABLE', message: expect.stringContaining(`unix:${path}`) as unknown });
      writeFileSync(path, 'not a socket');
      await expect(startAdminApi({ controller: d.controller, token: TOKEN, listen: `unix:${path}` })).rejects.toMatchObject({ code: 'API_BAD_ADDRESS' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
