import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frame, innerPacket } from '../../bmv2-tests/dsl/scenario.ts';
import { parseSpec } from '../../core/spec/load.ts';
import { ControllerError } from '../controller/errors.ts';
import { SpecFile, SpecFileError } from '../controller/spec-file.ts';
import { eventually, exampleSpecText, startDeployment, TEST_SLOTS, type Deployment } from '../controller/test-setup.ts';
import { ControllerMetrics } from '../metrics/metrics.ts';
import { AdminClient } from './client.ts';
import { handleApiRequest, parseListenAddress, startAdminApi, type AdminSpecFile, type RunningAdminApi } from './server.ts';

const TOKEN = 'f'.repeat(64);

describe('admin API over HTTP against a running controller', () => {
  let d: Deployment;
  let api: RunningAdminApi;
  let base: string;
  /** `token` null: no Authorization header at all. */
  const get = (path: string, token: string | null = TOKEN, method = 'GET') =>
    fetch(`${base}${path}`, { method, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  const body = async (r: Response) => (await r.json()) as Record<string, unknown> & { error?: { code: string; field?: string; hint?: string; message: string; diagnostics?: string[] } };

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
    for (const [path, method] of [['/v1/vips', 'GET'], ['/v1/gateways', 'GET'], ['/v1/tokens', 'GET'], ['/v1/flows?gateway=gw-east', 'GET'], ['/v1/backends/vm-a1/drain', 'POST'], ['/v1/spec/reload', 'POST'], ['/v1/vips/web/backends/vm-a1', 'PUT'], ['/v1/vips/web/backends/vm-a1', 'DELETE'], ['/v1/policy', 'GET'], ['/v1/policy/rules/vm-a1/vm-b1', 'PUT'], ['/v1/policy/rules/vm-a1/vm-b1', 'DELETE'], ['/v1/policy/same-vip', 'PUT'], ['/v1/policy/same-vip', 'DELETE']] as const) {
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
    expect(d.controller.spec.vips.map((v) => v.backends.length)).toEqual([4, 4]);
    expect(d.controller.policy()).toMatchObject({ sameVip: true, rules: [] });
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
    expect(await body(r)).toEqual({ vm: 'vm-b1', drained: true, drainedVms: ['vm-b1'], switches: { written: ['gw-east', 'gw-west'], pending: [] } });
    const client = new AdminClient({ api: api.address, token: TOKEN });
    const vips = await client.vips();
    for (const vip of vips.vips) {
      const b1 = vip.backends.find((b) => b.vm === 'vm-b1')!;
      expect(b1.drained).toBe(true);
      expect(Object.values(b1.gateways).map((g) => g.slots)).toEqual([0, 0]);
    }
    expect(await client.undrain('vm-b1')).toEqual({ vm: 'vm-b1', drained: false, drainedVms: [], switches: { written: ['gw-east', 'gw-west'], pending: [] } });

    const unknown = await get('/v1/backends/vm-b9/drain', TOKEN, 'POST');
    expect(unknown.status).toBe(404);
    expect((await body(unknown)).error).toMatchObject({ code: 'CONTROLLER_UNKNOWN_VM', field: 'vm', hint: expect.stringContaining('vm-b') as unknown });
    const wrongMethod = await get('/v1/backends/vm-b1/drain');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    await expect(client.drain('nope')).rejects.toMatchObject({ code: 'CONTROLLER_UNKNOWN_VM', status: 404 });
    const malformed = await get('/v1/backends/vm-%E0%A4/drain', TOKEN, 'POST');
    expect(malformed.status).toBe(400);
    expect((await body(malformed)).error).toMatchObject({ code: 'API_BAD_REQUEST', field: 'vm' });
  });

  it('answers 200 to a drain while a gateway is down, naming it pending; it gets the drain when it is back', async () => {
    await d.targets.get('gw-west')!.close();
    await eventually(() => d.controller.switchStatus().find((s) => s.name === 'gw-west')!.phase !== 'pipeline-ready', 5_000, 'gw-west seen down');
    const r = await get('/v1/backends/vm-a1/drain', TOKEN, 'POST');
    expect(r.status).toBe(200);
    expect(await body(r)).toEqual({ vm: 'vm-a1', drained: true, drainedVms: ['vm-a1'], switches: { written: ['gw-east'], pending: [{ switch: 'gw-west', reason: 'not connected' }] } });
    await d.restartTarget('gw-west');
    await d.controller.waitUntilReconciled(30_000);
    const client = new AdminClient({ api: api.address, token: TOKEN });
    const web = (await client.vips()).vips.find((v) => v.name === 'web')!;
    expect(web.backends.find((b) => b.vm === 'vm-a1')!.gateways['gw-west']!.slots).toBe(0);
    expect((await client.undrain('vm-a1')).switches).toEqual({ written: ['gw-east', 'gw-west'], pending: [] });
  });

  it('shows the traffic policy and changes it: the same-VIP default, rules added and removed; bad names and methods are 4xx naming the field', async () => {
    const client = new AdminClient({ api: api.address, token: TOKEN });
    type Policy = { sameVip: boolean; rules: { from: string; to: string }[]; vmPairs: { from: string; to: string; reason: string }[]; internetEgress: { vm: string; reason: string }[] };
    const shown = (await body(await get('/v1/policy'))) as unknown as Policy;
    expect(shown).toMatchObject({ sameVip: true, rules: [] });
    expect(shown.vmPairs).toHaveLength(12);
    expect(shown.vmPairs.every((p) => p.reason === 'same-vip')).toBe(true);
    expect(shown.internetEgress.map((e) => e.vm)).toEqual(['vm-a1', 'vm-a2', 'vm-b1', 'vm-b2']);

    const off = await get('/v1/policy/same-vip', TOKEN, 'DELETE');
    expect(off.status).toBe(200);
    expect(await body(off)).toMatchObject({ sameVip: false, changed: true, policy: { sameVip: false, vmPairs: [] } });
    expect((await client.setSameVipDefault(false)).changed).toBe(false);

    const added = await get('/v1/policy/rules/vm-a1/vm-b2', TOKEN, 'PUT');
    expect(added.status).toBe(200);
    expect(await body(added)).toMatchObject({
      rule: { from: 'vm-a1', to: 'vm-b2' }, present: true, changed: true,
      policy: { rules: [{ from: 'vm-a1', to: 'vm-b2' }], vmPairs: [{ from: 'vm-a1', to: 'vm-b2', reason: 'rule', rule: 0 }, { from: 'vm-b2', to: 'vm-a1', reason: 'rule', rule: 0 }] },
    });
    // Symmetric: the same pair named the other way round is the same rule.
    expect(await client.allowTraffic('vm-b2', 'vm-a1')).toMatchObject({ present: true, changed: false, policy: { rules: [{ from: 'vm-a1', to: 'vm-b2' }] } });
    expect(await client.allowTraffic('vm-a2', '@internet')).toMatchObject({ rule: { from: 'vm-a2', to: '@internet' }, changed: true });
    expect(d.controller.policy().rules).toEqual([{ from: 'vm-a1', to: 'vm-b2' }, { from: 'vm-a2', to: '@internet' }]);

    const unknown = await get('/v1/policy/rules/vm-a1/vm-b9', TOKEN, 'PUT');
    expect(unknown.status).toBe(400);
    expect((await body(unknown)).error).toMatchObject({ code: 'REGISTRY_BAD_POLICY_RULE', field: 'rule.to', hint: expect.stringMatching(/did you mean 'vm-b\d'/) as unknown });
    await expect(client.allowTraffic('vn-a1', 'vm-b1')).rejects.toMatchObject({ code: 'REGISTRY_BAD_POLICY_RULE', status: 400, location: { path: 'rule.from' } });
    const malformed = await get('/v1/policy/rules/vm-%E0%A4/vm-b1', TOKEN, 'PUT');
    expect(malformed.status).toBe(400);
    expect((await body(malformed)).error).toMatchObject({ code: 'API_BAD_REQUEST', field: 'rule.from' });
    const missing = await get('/v1/policy/rules/vm-a2/vm-b1', TOKEN, 'DELETE');
    expect(missing.status).toBe(404);
    expect((await body(missing)).error).toMatchObject({ code: 'API_NO_SUCH_RULE', field: 'rule', hint: 'its rules: vm-a1 ↔ vm-b2; vm-a2 → @internet' });
    await expect(client.removeTrafficRule('vm-a2', 'vm-b1')).rejects.toMatchObject({ code: 'API_NO_SUCH_RULE', status: 404 });
    for (const [path, method, allow] of [['/v1/policy', 'POST', 'GET'], ['/v1/policy/same-vip', 'GET', 'PUT, DELETE'], ['/v1/policy/rules/vm-a1/vm-b2', 'POST', 'PUT, DELETE']] as const) {
      const r = await get(path, TOKEN, method);
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.headers.get('allow')).toBe(allow);
    }
    expect((await body(await get('/v1/policy?vm=vm-a1'))).error).toMatchObject({ code: 'API_BAD_REQUEST', field: 'vm' });
    expect(d.controller.policy().rules).toHaveLength(2);

    expect(await client.removeTrafficRule('vm-b2', 'vm-a1')).toMatchObject({ rule: { from: 'vm-b2', to: 'vm-a1' }, present: false, changed: true, policy: { vmPairs: [] } });
    expect((await client.removeTrafficRule('vm-a2', '@internet')).policy.rules).toEqual([]);
    const on = await client.setSameVipDefault(true);
    expect(on).toMatchObject({ sameVip: true, changed: true });
    expect(on.policy.vmPairs).toHaveLength(12);
    expect(await client.policy()).toEqual(shown);
  });

  it('lists pinned flows of a gateway, filtered by backend; missing or unknown parameters are 4xx naming the field', async () => {
    const wire = d.targets.get('gw-west')!.wires.get(1)!;
    for (const srcPort of [41001, 41002]) wire.send(frame('02:00:00:00:00:02', '02:00:00:00:00:fe', innerPacket({ src: '198.51.100.9', srcPort, dst: '203.0.113.20', dstPort: 8080 })));
    const client = new AdminClient({ api: api.address, token: TOKEN });
    await eventually(async () => (await client.flows({ gateway: 'gw-west' })).count === 2, 5_000, 'two flows');
    const flows = await client.flows({ gateway: 'gw-west' });
    // The embedded target reads every 64-bit cell over P4Runtime.
    expect(flows.unreadable).toBe(0);
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

  it('answers 501 to spec changes when the controller runs without a spec file', async () => {
    for (const [path, method] of [['/v1/spec/reload', 'POST'], ['/v1/vips/web/backends/vm-b2', 'PUT'], ['/v1/vips/web/backends/vm-b2', 'DELETE']] as const) {
      const r = await get(path, TOKEN, method);
      expect(r.status).toBe(501);
      expect((await body(r)).error).toMatchObject({ code: 'API_NO_SPEC_FILE', message: expect.stringContaining('without a spec file') as unknown });
    }
    const wrong = await get('/v1/vips/web/backends/vm-b2', TOKEN, 'POST');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('PUT, DELETE');
    const reloadGet = await get('/v1/spec/reload');
    expect(reloadGet.status).toBe(405);
    expect(reloadGet.headers.get('allow')).toBe('POST');
  });

  it('maps spec-file errors to statuses, with the field and an invalid spec\'s diagnostics', async () => {
    let invalid: unknown;
    try {
      parseSpec(readFileSync(new URL('../../examples/example.yaml', import.meta.url), 'utf8').replace('backends: [vm-a1, vm-a2, vm-b1, vm-b2]', 'backends: [vm-a1, vm-a7]'), 'lb.yaml');
    } catch (err) {
      invalid = err;
    }
    const failing = (err: unknown): AdminSpecFile => ({ reload: () => Promise.reject(err), setBackend: () => Promise.reject(err) });
    const answer = async (err: unknown, method = 'DELETE') => {
      const r = await handleApiRequest({ controller: d.controller, token: TOKEN, specFile: failing(err) }, method, method === 'POST' ? '/v1/spec/reload' : '/v1/vips/web/backends/vm-b2', `Bearer ${TOKEN}`);
      return { status: r.status, error: (r.body as { error: Record<string, unknown> }).error };
    };
    expect(await answer(invalid, 'POST')).toEqual({
      status: 400,
      error: { code: 'SPEC_INVALID', message: 'lb.yaml: 1 problem in the spec', field: 'vips[0].backends[1]', diagnostics: [expect.stringMatching(/^lb\.yaml:\d+:\d+: vips\[0\]\.backends\[1\]: unknown VM 'vm-a7' \(did you mean 'vm-a\d'\?\)$/)] },
    });
    expect(await answer(new ControllerError('CONTROLLER_SPEC_CHANGE', 'the running controller cannot apply this spec', { location: { path: 'flowState' }, hint: 'restart' }))).toMatchObject({ status: 409, error: { code: 'CONTROLLER_SPEC_CHANGE', field: 'flowState', hint: 'restart' } });
    expect(await answer(new SpecFileError('SPEC_FILE_CHANGED', 'edited and not reloaded', { location: { path: 'vips' } }))).toMatchObject({ status: 409, error: { field: 'vips' } });
    expect(await answer(new SpecFileError('SPEC_FILE_UNKNOWN_VIP', 'no VIP', { location: { path: 'vip' } }), 'PUT')).toMatchObject({ status: 404 });
    expect(await answer(new SpecFileError('SPEC_FILE_WRITE', 'disk full'))).toMatchObject({ status: 500, error: { code: 'SPEC_FILE_WRITE' } });
  });

  it('adds and removes a VIP\'s backends and reloads the spec through its spec file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'p4lb-api-spec-'));
    const path = join(dir, 'lb.yaml');
    // The addresses of the controller's spec: a target restarted by an earlier test listens elsewhere now.
    const original = `# the lab's spec\n${exampleSpecText(Object.fromEntries([...d.spec.gateways, ...d.spec.hosts].map((s) => [s.name, s.p4runtime.address])))}`;
    writeFileSync(path, original);
    const edits = await startAdminApi({ controller: d.controller, token: TOKEN, specFile: new SpecFile({ path, controller: d.controller }), listen: '127.0.0.1:0' });
    const client = new AdminClient({ api: edits.address, token: TOKEN });
    const call = (path: string, method: string) => fetch(`http://${edits.address}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
    try {
      const removed = await call('/v1/vips/web/backends/vm-b2', 'DELETE');
      expect(removed.status).toBe(200);
      expect(await body(removed)).toEqual({
        vip: 'web', vm: 'vm-b2', present: false, changed: true, backends: ['vm-a1', 'vm-a2', 'vm-b1'],
        applied: { vmsAdded: [], vmsRemoved: [], vipsAdded: [], vipsRemoved: [], backends: [{ vip: 'web', added: [], removed: ['vm-b2'] }], switches: { written: ['gw-east', 'gw-west', 'host-a', 'host-b'], pending: [] } },
      });
      expect((await client.vips()).vips.find((v) => v.name === 'web')!.backends.map((b) => b.vm)).toEqual(['vm-a1', 'vm-a2', 'vm-b1']);
      expect(readFileSync(path, 'utf8')).toBe(original.replace('      - vm-b2\n', ''));
      expect(await client.removeBackend('web', 'vm-b2')).toMatchObject({ changed: false, present: false });

      const unknownVip = await call('/v1/vips/wbe/backends/vm-b2', 'PUT');
      expect(unknownVip.status).toBe(404);
      expect((await body(unknownVip)).error).toMatchObject({ code: 'SPEC_FILE_UNKNOWN_VIP', field: 'vip', hint: "did you mean 'web'?" });
      await expect(client.addBackend('web', 'vm-c3')).rejects.toMatchObject({ code: 'SPEC_FILE_UNKNOWN_VM', status: 404, location: { path: 'vm' } });

      expect(await client.addBackend('web', 'vm-b2')).toMatchObject({ changed: true, present: true, backends: ['vm-a1', 'vm-a2', 'vm-b1', 'vm-b2'] });
      expect(readFileSync(path, 'utf8')).toBe(original);

      // Reload: a refused change is a 409 naming the field; an invalid file a 400 with each problem.
      writeFileSync(path, original.replace('deployment: example', 'deployment: other'));
      const refused = await call('/v1/spec/reload', 'POST');
      expect(refused.status).toBe(409);
      expect((await body(refused)).error).toMatchObject({ code: 'CONTROLLER_SPEC_CHANGE', field: 'deployment' });
      writeFileSync(path, original.replace('      - vm-b2\n', '      - vm-b7\n'));
      const invalid = await client.reload().catch((e: unknown) => e);
      expect(invalid).toMatchObject({ code: 'SPEC_INVALID', status: 400, location: { path: 'vips[0].backends[3]' }, diagnostics: [expect.stringContaining("unknown VM 'vm-b7'") as unknown] });
      expect((invalid as Error & { describe(): string }).describe()).toMatch(/problem in the spec\n {2}.*lb\.yaml:\d+:\d+: vips\[0\]\.backends\[3\]: unknown VM 'vm-b7'/);
      writeFileSync(path, original);
      expect(await client.reload()).toEqual({ applied: { vmsAdded: [], vmsRemoved: [], vipsAdded: [], vipsRemoved: [], backends: [], switches: { written: ['gw-east', 'gw-west', 'host-a', 'host-b'], pending: [] } } });
    } finally {
      await edits.close();
      rmSync(dir, { recursive: true, force: true });
    }
    await eventually(() => d.controller.vipStatus().every((v) => v.backends.every((b) => Object.values(b.gateways).every((g) => g.health === 'healthy'))), 10_000, 'vm-b2 healthy again');
  });
});
