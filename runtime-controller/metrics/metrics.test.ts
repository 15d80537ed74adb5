import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frame, innerPacket } from '../../bmv2-tests/dsl/scenario.ts';
import { eventually, startDeployment, type Deployment } from '../controller/test-setup.ts';
import { ControllerMetrics } from './metrics.ts';

/** The value of one sample line, or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('controller metrics', () => {
  let d: Deployment;
  let metrics: ControllerMetrics;

  beforeAll(async () => {
    d = await startDeployment();
    metrics = new ControllerMetrics({ controller: d.controller, pollIntervalMs: 100 });
    metrics.start();
    await d.controller.waitUntilReconciled(60_000);
    await eventually(() => d.controller.vipStatus().every((v) => v.backends.every((b) => Object.values(b.gateways).every((g) => g.health === 'healthy'))), 10_000, 'all healthy');
    await d.controller.settled();
  }, 120_000);

  afterAll(async () => {
    metrics?.stop();
    await metrics?.idle();
    await d?.close();
  });

  it('reports the process itself under the standard names (memory, heap), unless turned off', async () => {
    const text = await metrics.text();
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(10 * 2 ** 20);
    expect(sample(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    const bare = new ControllerMetrics({ controller: d.controller, processMetrics: false });
    expect(await bare.text()).not.toContain('process_resident_memory_bytes');
  });

  it('reports health per VIP, VM and gateway, slots, readiness, tokens and no alarm', async () => {
    const text = await metrics.text();
    expect(sample(text, 'p4lb_backend_health{gateway="gw-west",vip="api",vm="vm-a1",state="healthy"}')).toBe(1);
    expect(sample(text, 'p4lb_backend_health{gateway="gw-west",vip="api",vm="vm-a1",state="unknown"}')).toBe(0);
    expect(sample(text, 'p4lb_backend_slots{gateway="gw-west",vip="web",vm="vm-a1"}')).toBe(0);
    expect(sample(text, 'p4lb_backend_slots{gateway="gw-east",vip="web",vm="vm-a1"}')).toBeGreaterThan(0);
    expect(sample(text, 'p4lb_switch_ready{switch="gw-east",role="gateway"}')).toBe(1);
    expect(sample(text, 'p4lb_tokens{switch="host-a",state="installed"}')).toBeGreaterThan(0);
    expect(sample(text, 'p4lb_vip_no_backend_alarm{gateway="gw-east",vip="web"}')).toBe(0);
    expect(sample(text, 'p4lb_token_plan_next_change_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000);
    // Health reached 'healthy' through transitions, and reconciliations were timed.
    expect(sample(text, 'p4lb_health_transitions_total{gateway="gw-east",vip="web",vm="vm-b2",to="healthy"}')).toBe(1);
    expect(sample(text, 'p4lb_write_duration_seconds_count{switch="gw-east",kind="reconcile"}')).toBeGreaterThanOrEqual(1);
  });

  it('counts slot changes and convergence when a backend goes down, and raises the alarm gauge when a VIP has none', async () => {
    const before = await metrics.text();
    await d.backends.get('vm-b1')!.stop();
    await eventually(() => d.controller.vipStatus().every((v) => Object.values(v.backends.find((b) => b.vm === 'vm-b1')!.gateways).every((g) => g.health === 'unhealthy')), 5_000, 'vm-b1 unhealthy');
    await d.controller.settled();
    const after = await metrics.text();
    const changes = (t: string) => sample(t, 'p4lb_slot_changes_total{gateway="gw-west"}') ?? 0;
    expect(changes(after)).toBeGreaterThan(changes(before));
    expect(sample(after, 'p4lb_convergence_seconds_count{gateway="gw-west"}')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'p4lb_backend_health{gateway="gw-east",vip="api",vm="vm-b1",state="unhealthy"}')).toBe(1);
    expect(sample(after, 'p4lb_write_duration_seconds_count{switch="gw-west",kind="update"}')).toBeGreaterThanOrEqual(1);

    await d.backends.get('vm-b2')!.stop();
    await eventually(async () => sample(await metrics.text(), 'p4lb_vip_no_backend_alarm{gateway="gw-west",vip="web"}') === 0 && d.controller.vipStatus()[0]!.backends.find((b) => b.vm === 'vm-b2')!.gateways['gw-west']!.health === 'unhealthy', 5_000, 'vm-b2 down');
    // web on gw-west falls back to the closest location (east) rather than alarming: no alarm yet.
    for (const vm of ['vm-a1', 'vm-a2']) await d.backends.get(vm)!.stop();
    await eventually(async () => sample(await metrics.text(), 'p4lb_vip_no_backend_alarm{gateway="gw-west",vip="web"}') === 1, 5_000, 'alarm gauge');
    for (const b of d.backends.values()) await b.start();
    await eventually(async () => sample(await metrics.text(), 'p4lb_vip_no_backend_alarm{gateway="gw-west",vip="web"}') === 0, 5_000, 'alarm cleared');
  });

  it('polls the gateways\' per-VIP and per-backend counters and the drops by reason', async () => {
    const wire = d.targets.get('gw-east')!.wires.get(1)!;
    wire.send(frame('02:00:00:00:00:01', '02:00:00:00:00:fe', innerPacket({ src: '198.51.100.7', srcPort: 43000, dst: '203.0.113.10', dstPort: 80 })));
    // Not a VIP: dropped and counted as not-a-vip.
    wire.send(frame('02:00:00:00:00:01', '02:00:00:00:00:fe', innerPacket({ src: '198.51.100.7', srcPort: 43000, dst: '203.0.113.99', dstPort: 80 })));
    await eventually(async () => sample(await metrics.text(), 'p4lb_vip_packets_total{gateway="gw-east",vip="web"}') === 1, 5_000, 'vip packets polled');
    await eventually(async () => sample(await metrics.text(), 'p4lb_drops_total{switch="gw-east",reason="not-a-vip"}') === 1, 5_000, 'drops polled');
    const text = await metrics.text();
    expect(sample(text, 'p4lb_vip_bytes_total{gateway="gw-east",vip="web"}')).toBeGreaterThan(40);
    const backends = text.split('\n').filter((l) => l.startsWith('p4lb_backend_packets_total{gateway="gw-east"'));
    expect(backends.map((l) => Number(l.split(' ')[1])).reduce((a, b) => a + b, 0)).toBe(1);
    // A second poll of unchanged counters adds nothing.
    await metrics.poll();
    expect(sample(await metrics.text(), 'p4lb_vip_packets_total{gateway="gw-east",vip="web"}')).toBe(1);
  });

  it('leaves no series of a VM removed from the spec while running', async () => {
    const spec = d.controller.spec;
    expect(await metrics.text()).toContain('vm="vm-a1"');
    await d.controller.applySpec({ ...spec, vms: spec.vms.filter((v) => v.name !== 'vm-a1'), vips: spec.vips.map((v) => ({ ...v, backends: v.backends.filter((b) => b !== 'vm-a1') })) });
    const gauges = (await metrics.text()).split('\n').filter((l) => /^p4lb_backend_(health|slots|drained)\{/.test(l));
    expect(gauges.length).toBeGreaterThan(0);
    expect(gauges.filter((l) => l.includes('vm="vm-a1"'))).toEqual([]);
  });
});
