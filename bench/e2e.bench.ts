/**
 * The whole path, end to end, in network namespaces (bmv2-tests/e2e/system.ts): the example
 * deployment with its full-size slot tables, on the embedded target and, when p4c and
 * simple_switch_grpc are found, on BMv2 at the same time (each system has namespaces of its own),
 * so that the two are measured side by side in one run. Cases: new connections per second through
 * the NAT VIP, a 16 MiB download through the tunnel VIP; printed alongside: gateway packets per
 * second during the connection bursts (the switches' own counters) and the time from a VM's
 * failure to its removal on every gateway, and from its return to its restoration. Needs root
 * and ethtool; otherwise every case is skipped with the reason.
 */
import { readFileSync } from 'node:fs';
import { findBmv2 } from '../bmv2-tests/dsl/runner.ts';
import { hasEthtool } from '../bmv2-tests/e2e/run.ts';
import { EXAMPLE_SPEC_FILE, startSystem, type RunningSystem, type SystemTarget } from '../bmv2-tests/e2e/system.ts';
import { topologySupport } from '../bmv2-tests/e2e/topology.ts';
import { runBulk, runBurst } from '../bmv2-tests/e2e/traffic.ts';
import type { BenchCase, BenchSuite } from './harness.ts';

const CONNECTIONS = 400;
const BULK_BYTES = 16 * 2 ** 20;
const FAILURES = 3;
const NAT = '203.0.113.20:8080';
const WEB = '203.0.113.10:80';

const skipped: string[] = [];
const systems = new Map<SystemTarget, RunningSystem>();
const support = await topologySupport();
if (!support.ok) skipped.push(`end to end: ${support.reason}`);
else if (!(await hasEthtool())) skipped.push('end to end: ethtool is not installed');
else {
  const bmv2 = findBmv2(process.env);
  if (bmv2 === undefined) skipped.push('end to end on BMv2: not found (set SIMPLE_SWITCH_GRPC and P4C)');
  const specText = readFileSync(EXAMPLE_SPEC_FILE, 'utf8');
  const targets: SystemTarget[] = bmv2 === undefined ? ['embedded'] : ['embedded', 'bmv2'];
  for (const target of targets) {
    console.log(`  starting the ${target} system…`);
    systems.set(target, await startSystem({ specText, target, ...(bmv2 === undefined ? {} : { bmv2 }), readyTimeoutMs: 300_000 }));
  }
}

/** Gateway packets of the VIPs so far (the switches' vip_stats counters, as the controller exports them). */
async function gatewayPackets(system: RunningSystem): Promise<number> {
  return system.metric('p4lb_vip_packets_total');
}

/** ms from a VM's server stopping to its removal on every gateway, and from its restart to being back everywhere. */
async function convergence(system: RunningSystem, vm: string): Promise<{ removal: number; restore: number }> {
  const everywhere = async (healthy: boolean): Promise<boolean> => {
    const reply = await system.api.vips();
    return reply.vips.every((vip) => vip.backends.filter((b) => b.vm === vm).every((b) => Object.values(b.gateways).every((g) => (g.health === 'healthy') === healthy && (healthy || g.slots === 0))));
  };
  const stopped = performance.now();
  await system.stopVm(vm);
  await system.until(() => everywhere(false), 30_000, `${vm} removed`);
  const removal = performance.now() - stopped;
  const started = performance.now();
  await system.startVm(vm);
  await system.until(() => system.converged(), 30_000, `${vm} restored`);
  return { removal, restore: performance.now() - started };
}

const cases: BenchCase[] = [];
const pps = new Map<SystemTarget, number[]>();
/** Connections per second as the client measured them (without its own start-up, which the case's time includes). */
const clientRate = new Map<SystemTarget, number[]>();
for (const [target, system] of systems) {
  cases.push({
    name: `${target}: ${CONNECTIONS} new connections through the NAT VIP (HTTP GET, 16 in flight)`,
    group: 'connections',
    opsPerCall: CONNECTIONS,
    warmup: 1,
    iterations: 5,
    fn: async () => {
      const before = await gatewayPackets(system);
      const started = performance.now();
      const result = await runBurst(system.topology, 'client0', { target: NAT, count: CONNECTIONS, concurrency: 16 });
      const seconds = (performance.now() - started) / 1000;
      if (result.failed > 0) throw new Error(`${result.failed} connections failed: ${JSON.stringify(result.errors)}`);
      (clientRate.get(target) ?? clientRate.set(target, []).get(target)!).push(result.connectionsPerSecond);
      // The controller reads the counters every 500 ms: wait for a read after the burst.
      await new Promise((r) => setTimeout(r, 1200));
      (pps.get(target) ?? pps.set(target, []).get(target)!).push(((await gatewayPackets(system)) - before) / seconds);
    },
  });
  cases.push({
    name: `${target}: 16 MiB download through the tunnel VIP (bytes)`,
    group: 'download',
    opsPerCall: BULK_BYTES,
    warmup: 1,
    iterations: 3,
    fn: async () => {
      const result = await runBulk(system.topology, 'client1', { target: WEB, bytes: BULK_BYTES, timeoutMs: 30_000, maxMs: 300_000 });
      if (!result.ok) throw new Error(`download failed: ${result.error ?? ''} ${result.detail ?? ''}`);
    },
  });
}

const suite: BenchSuite = {
  name: 'e2e',
  description: 'the example deployment in network namespaces, clients → router (ECMP) → gateways → hosts → VMs, full-size slot tables',
  cases,
  skipped,
  async teardown() {
    try {
      for (const [target, values] of pps) {
        const sorted = [...values].sort((a, b) => a - b);
        const rates = [...(clientRate.get(target) ?? [])].sort((a, b) => a - b);
        console.log(
          `  ${target}: connections/s as the client measured them: median ${rates[Math.floor(rates.length / 2)]?.toFixed(0) ?? '—'}; ` +
            `gateway packets/s during the bursts (client → VIP direction): median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)}`,
        );
      }
      for (const [target, system] of systems) {
        const runs: { removal: number; restore: number }[] = [];
        for (let i = 0; i < FAILURES; i++) runs.push(await convergence(system, 'vm-b1'));
        const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
        console.log(
          `  ${target}: VM failure → removed on every gateway: median ${median(runs.map((r) => r.removal)).toFixed(0)} ms; ` +
            `return → restored everywhere: median ${median(runs.map((r) => r.restore)).toFixed(0)} ms (${FAILURES} runs; health: interval ${system.spec.vips[1]!.healthCheck.intervalMs} ms, fall ${system.spec.vips[1]!.healthCheck.fall}, rise ${system.spec.vips[1]!.healthCheck.rise})`,
        );
      }
    } finally {
      for (const system of systems.values()) await system.destroy();
    }
  },
};

export default suite;
