import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSpec } from '../../core/spec/load.ts';
import { vipByName, vmByName } from '../../core/spec/lookup.ts';
import type { LbSpec } from '../../core/spec/schema.ts';
import { gatewayView } from '../lb/backends.ts';
import { FakeClock } from './clock.ts';
import { HealthMonitor, specEndpoint, type GatewayTransition } from './health-monitor.ts';
import type { Prober } from './probe.ts';

const logger = pino({ level: 'silent' });
const EXAMPLE = new URL('../../examples/example.yaml', import.meta.url);
const spec = parseSpec(readFileSync(EXAMPLE, 'utf8'), EXAMPLE.pathname);

/** A prober for which `down` endpoints fail (as host:port). */
function fakeNetwork(down: Set<string>): Prober {
  return async (endpoint) =>
    down.has(`${endpoint.host}:${endpoint.port}`) ? { ok: false, latencyMs: 1, error: 'ECONNREFUSED' } : { ok: true, latencyMs: 1 };
}

describe('HealthMonitor', () => {
  it('probes the VM private address on the check port in both modes', () => {
    const api = vipByName(spec, 'api');
    const web = vipByName(spec, 'web');
    expect(api.mode).toBe('nat');
    expect(web.mode).toBe('tunnel');
    const vm = vmByName(spec, 'vm-b1');
    expect(specEndpoint(api, vm, api.healthCheck)).toEqual({ host: '192.168.2.11', port: 80 });
    expect(specEndpoint(web, vm, web.healthCheck)).toEqual({ host: '192.168.2.11', port: 80 });
    // Never the VIP address: each VM of a tunnel VIP is probed at its own address.
    const hosts = new Set(vipByName(spec, 'web').backends.map((name) => specEndpoint(web, vmByName(spec, name), web.healthCheck).host));
    expect(hosts).toEqual(new Set(['192.168.1.11', '192.168.1.12', '192.168.2.11', '192.168.2.12']));
  });

  it('checks every (VIP, VM), builds the view from the results and stops without leaving timers', async () => {
    const clock = new FakeClock();
    const monitor = new HealthMonitor({ spec, gateway: 'gw-east', logger, clock, prober: fakeNetwork(new Set(['192.168.2.12:80'])) });
    expect(monitor.view().targets).toHaveLength(8);
    expect(monitor.view().targets.every((t) => t.state === 'unknown')).toBe(true);
    const events: GatewayTransition[] = [];
    monitor.onTransition((t) => events.push(t));
    monitor.start();
    await clock.advance(2_500);
    const view = monitor.view();
    // Both VIPs probe vm-b2's private address on port 80: down for both.
    expect(view.state('api', 'vm-b2')).toBe('unhealthy');
    expect(view.state('web', 'vm-b2')).toBe('unhealthy');
    expect(view.targets.filter((t) => t.state === 'healthy')).toHaveLength(6);
    expect(view.isHealthy('api', 'vm-a1')).toBe(true);
    expect(view.state('api', 'no-such-vm')).toBe('unknown');
    expect(events).toHaveLength(8);
    expect(events.every((e) => e.gateway === 'gw-east')).toBe(true);
    expect(events.find((e) => e.target.vm === 'vm-b2' && e.target.vip === 'api')).toMatchObject({
      from: 'unknown', to: 'unhealthy', result: { ok: false, error: 'ECONNREFUSED' },
    });
    await monitor.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('follows a changed spec: kept targets keep their state, removed ones stop, added ones start from unknown', async () => {
    const clock = new FakeClock();
    const monitor = new HealthMonitor({ spec, gateway: 'gw-east', logger, clock, prober: fakeNetwork(new Set()) });
    monitor.start();
    await clock.advance(2_500);
    expect(monitor.view().targets.every((t) => t.state === 'healthy')).toBe(true);
    // api loses vm-b2; web's check changes its port (so its four targets are new).
    const changed: LbSpec = {
      ...spec,
      vips: spec.vips.map((v) =>
        v.name === 'api' ? { ...v, backends: v.backends.filter((b) => b !== 'vm-b2') } : { ...v, healthCheck: { ...v.healthCheck, port: 8081 } },
      ),
    };
    await monitor.retarget(changed);
    const view = monitor.view();
    expect(view.targets.map((t) => `${t.vip}/${t.vm}`)).toEqual(['api/vm-a1', 'api/vm-a2', 'api/vm-b1', 'web/vm-a1', 'web/vm-a2', 'web/vm-b1', 'web/vm-b2']);
    expect(view.targets.filter((t) => t.vip === 'api').every((t) => t.state === 'healthy')).toBe(true);
    expect(view.targets.filter((t) => t.vip === 'web').every((t) => t.state === 'unknown' && t.endpoint.port === 8081)).toBe(true);
    await clock.advance(2_500);
    expect(monitor.view().targets.every((t) => t.state === 'healthy')).toBe(true);
    await monitor.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('keeps one view per gateway: monitors with different reachability see different health', async () => {
    const clock = new FakeClock();
    const resolveEndpoint = (_vip: unknown, vm: { name: string }) => ({ host: vm.name, port: 80 });
    const east = new HealthMonitor({ spec, gateway: 'gw-east', logger, clock, resolveEndpoint, prober: fakeNetwork(new Set(['vm-a1:80'])) });
    const west = new HealthMonitor({ spec, gateway: 'gw-west', logger, clock, resolveEndpoint, prober: fakeNetwork(new Set()) });
    east.start();
    west.start();
    await clock.advance(3_000);
    expect(east.view().isHealthy('web', 'vm-a1')).toBe(false);
    expect(west.view().isHealthy('web', 'vm-a1')).toBe(true);
    // The view plugs straight into the table computation.
    expect(gatewayView(east.view(), ['vm-a2']).isHealthy('web', 'vm-a1')).toBe(false);
    await Promise.all([east.stop(), west.stop()]);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('HealthMonitor against a real HTTP server', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server?.listening ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it('sees a backend go healthy, then unhealthy when it answers 500', async () => {
    let status = 200;
    server = createServer((_req, res) => {
      res.statusCode = status;
      res.end();
    });
    const port = await new Promise<number>((resolve) => server!.listen(0, '127.0.0.1', () => resolve((server!.address() as AddressInfo).port)));
    // One VIP, one backend, probed fast.
    const web = vipByName(spec, 'web');
    const small: LbSpec = {
      ...spec,
      vips: [{ ...web, backends: ['vm-a1'], healthCheck: { ...web.healthCheck, intervalMs: 40, timeoutMs: 30, rise: 2, fall: 2 } }],
    };
    const monitor = new HealthMonitor({ spec: small, gateway: 'gw-east', logger, resolveEndpoint: () => ({ host: '127.0.0.1', port }) });
    const next = (to: string) =>
      new Promise<GatewayTransition>((resolve) => {
        const off = monitor.onTransition((t) => {
          if (t.to === to) {
            off();
            resolve(t);
          }
        });
      });
    const healthy = next('healthy');
    monitor.start();
    expect(await healthy).toMatchObject({ from: 'unknown', to: 'healthy', result: { ok: true, status: 200 } });
    const unhealthy = next('unhealthy');
    status = 500;
    expect(await unhealthy).toMatchObject({ from: 'healthy', result: { ok: false, status: 500 } });
    expect(monitor.view().state('web', 'vm-a1')).toBe('unhealthy');
    await monitor.stop();
  });
});
