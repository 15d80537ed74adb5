/**
 * A realistic demo run for the report tests: four VMs (weights 1, 1, 1, 2) behind two VIPs, a 60 s
 * timeline sampled every 250 ms, vm-b1 failing at 20 s and coming back at 40 s, gw-east lost at 50 s.
 * The traffic is synthetic but shaped like the real thing (no randomness: tests compare outputs).
 */
import { buildVipDistribution, type DemoReport, type TimelineEvent, type TimelineSample } from './report-model.ts';

export const FIXTURE_VMS = ['vm-a1', 'vm-a2', 'vm-b1', 'vm-b2'] as const;
const WEIGHTS: Record<string, number> = { 'vm-a1': 1, 'vm-a2': 1, 'vm-b1': 1, 'vm-b2': 2 };
const REQUESTS_PER_SECOND = 400;

function sampleAt(t: number): TimelineSample {
  const vmDown = t >= 20_000 && t < 40_000;
  // Between the failure and the controller's removal (1.5 s), vm-b1's share of requests fails.
  const detecting = t >= 20_000 && t < 21_500;
  const gatewayGap = t >= 50_000 && t < 50_500;
  const healthy = FIXTURE_VMS.filter((vm) => !(vmDown && vm === 'vm-b1'));
  const weightSum = healthy.reduce((s, vm) => s + WEIGHTS[vm]!, 0);
  const wobble = 1 + 0.02 * Math.sin(t / 1000);
  const perVm: Record<string, number> = {};
  let failed = 0;
  for (const vm of FIXTURE_VMS) {
    if (vmDown && vm === 'vm-b1') {
      perVm[vm] = 0;
      continue;
    }
    perVm[vm] = Math.round(((REQUESTS_PER_SECOND * WEIGHTS[vm]!) / weightSum) * wobble);
  }
  if (detecting) failed = Math.round(REQUESTS_PER_SECOND / 5);
  if (gatewayGap) failed += 12;
  const ok = Object.values(perVm).reduce((s, v) => s + v, 0) - failed;
  return {
    t,
    okPerSecond: Math.max(0, ok),
    failedPerSecond: failed,
    perVm,
    openConnections: t >= 50_000 ? 94 : 100,
    brokenConnections: t >= 50_000 ? 6 : 0,
  };
}

export function fixtureReport(): DemoReport {
  const samples: TimelineSample[] = [];
  for (let t = 250; t <= 60_000; t += 250) samples.push(sampleAt(t));
  const events: TimelineEvent[] = [
    { t: 0, kind: 'traffic-start', label: 'traffic' },
    { t: 20_000, kind: 'vm-down', label: 'vm-b1 down', detail: 'VM stopped (ip link set down)' },
    { t: 21_500, kind: 'vm-removed', label: 'vm-b1 removed', detail: 'controller wrote new tables to both gateways' },
    { t: 40_000, kind: 'vm-up', label: 'vm-b1 up' },
    { t: 42_000, kind: 'vm-restored', label: 'vm-b1 restored' },
    { t: 50_000, kind: 'gateway-down', label: 'gw-east down', detail: 'public link of gw-east removed' },
  ];
  return {
    schemaVersion: 1,
    run: {
      date: '2026-11-25T23:58:21.000Z',
      deployment: 'example',
      specFile: 'examples/example.yaml',
      target: 'embedded',
      version: '0.1.0',
      machine: { os: 'Linux 6.8.0', cpus: 2, cpuModel: 'Example CPU @ 2.0GHz', memoryMiB: 7936, node: 'v20.19.0' },
    },
    phases: [
      { name: 'topology', startMs: 0, endMs: 1_800, ok: true, notes: '2 gateways, 2 hosts, 4 VMs' },
      { name: 'controller', startMs: 1_800, endMs: 3_100, ok: true },
      { name: 'traffic', startMs: 3_100, endMs: 63_100, ok: true },
      { name: 'vm failure', startMs: 23_100, endMs: 43_100, ok: true },
      { name: 'gateway loss', startMs: 53_100, endMs: 55_000, ok: false, notes: '6 connections broken' },
    ],
    distribution: [
      buildVipDistribution({
        vip: 'web',
        address: '203.0.113.10',
        expectedFrom: 'weights',
        connections: [
          { vm: 'vm-a1', count: 1_010 },
          { vm: 'vm-a2', count: 985 },
          { vm: 'vm-b1', count: 1_003 },
          { vm: 'vm-b2', count: 2_002 },
        ],
        expected: WEIGHTS,
      }),
      buildVipDistribution({
        vip: 'dns',
        address: '203.0.113.53',
        expectedFrom: 'slots',
        connections: [
          { vm: 'vm-a1', count: 250 },
          { vm: 'vm-a2', count: 240 },
          { vm: 'vm-b1', count: 260 },
          { vm: 'vm-b2', count: 250 },
        ],
        expected: { 'vm-a1': 16_384, 'vm-a2': 16_384, 'vm-b1': 16_384, 'vm-b2': 16_384 },
      }),
    ],
    timeline: { intervalMs: 250, vms: [...FIXTURE_VMS], samples, events },
    results: {
      gatewayLoss: { gateway: 'gw-east', connectionsBefore: 100, survived: 94, broken: 6 },
      vmFailure: {
        vm: 'vm-b1',
        atMs: 20_000,
        failedRequests: 120,
        gateways: [
          { gateway: 'gw-east', detectionMs: 1_420, controllerConvergenceMs: 38, dataPlaneConvergenceMs: 1_500 },
          { gateway: 'gw-west', detectionMs: 1_420, controllerConvergenceMs: 41, dataPlaneConvergenceMs: 1_510 },
        ],
      },
      vmRecovery: {
        vm: 'vm-b1',
        atMs: 40_000,
        failedRequests: 0,
        gateways: [
          { gateway: 'gw-east', detectionMs: 1_950, controllerConvergenceMs: 35, dataPlaneConvergenceMs: 2_000 },
          { gateway: 'gw-west', detectionMs: 1_950, controllerConvergenceMs: null, dataPlaneConvergenceMs: 2_010 },
        ],
      },
    },
    checks: [
      { name: 'distribution within 10% of weights', passed: true, detail: 'max deviation 1.5% (vm-a2 on web)' },
      { name: 'VM failure converged under 3 s', passed: true, detail: 'slowest gateway gw-west: 1510 ms' },
      { name: 'all connections survived the gateway loss', passed: false, detail: '6 of 100 broken' },
    ],
  };
}
