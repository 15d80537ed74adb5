/**
 * The end-to-end scenarios: real kernels' TCP clients in namespaces, an ECMP router, two
 * gateways and two host NICs (our embedded target, and BMv2 as well when it is installed), VMs
 * serving HTTP, and one `p4lb run` controller — every part a real process. One system per target
 * serves the scenarios in order; each restores what it changed, and the gateway loss comes last.
 * Needs root (network namespaces) and ethtool (software switches need checksums finished by the
 * sender); otherwise the suite is skipped and says why.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowStateIndexes, parseIpv4 } from '../../core/hash/index.ts';
import { InterfacePort } from '../../target/ports/interface-port.ts';
import { decodeEthernet, ETHERTYPE_IPV4 } from '../../core/packet/ethernet.ts';
import { decodeIpv4 } from '../../core/packet/ipv4.ts';
import type { VipsReply } from '../../runtime-controller/api/client.ts';
import { findBmv2 } from '../dsl/runner.ts';
import { hasEthtool } from './run.ts';
import { E2E_HEALTH, e2eSpecText, EXAMPLE_SPEC_FILE, startSystem, type RunningSystem, type SystemTarget } from './system.ts';
import { topologySupport } from './topology.ts';
import { runBurst, startHold, type BurstResult } from './traffic.ts';
import { forgeToken, UnderlayTap, type TunnelFrame } from './underlay-tap.ts';

const WEB = '203.0.113.10:80';
const API = '203.0.113.20:8080';
const TOKENS = { ttlSeconds: 8, clockSkewSeconds: 1 } as const;
/** interval × fall + 1 s: the issue's bound for a health change to reach every gateway. */
const REMOVAL_BUDGET_MS = E2E_HEALTH.intervalMs * E2E_HEALTH.fall + 1000;

const support = await topologySupport();
const skipReason = !support.ok ? support.reason : !(await hasEthtool()) ? 'ethtool is not installed (TCP through software switches needs offloads off)' : undefined;
const bmv2 = findBmv2(process.env);
const targets: SystemTarget[] = bmv2 === undefined ? ['embedded'] : ['embedded', 'bmv2'];
if (skipReason !== undefined) console.warn(`end-to-end scenarios skipped: ${skipReason}`);
else if (bmv2 === undefined) console.warn('end-to-end scenarios: BMv2 not found (SIMPLE_SWITCH_GRPC and P4C): embedded target only');

/** The spec text without one VM: gone from `vms` and from every VIP's backends. */
function specWithoutVm(text: string, vm: string): string {
  const doc = parse(text) as { vms: { name: string }[]; vips: { backends: string[] }[] };
  doc.vms = doc.vms.filter((v) => v.name !== vm);
  for (const vip of doc.vips) vip.backends = vip.backends.filter((b) => b !== vm);
  return stringify(doc);
}

/** Each VM's expected share of a VIP's new connections: its slots on each gateway, the gateways sharing the router's ECMP evenly. */
function expectedShares(reply: VipsReply, vipName: string): Record<string, number> {
  const vip = reply.vips.find((v) => v.name === vipName)!;
  const gateways = Object.keys(vip.backends[0]!.gateways);
  const shares: Record<string, number> = {};
  for (const gw of gateways) {
    const total = vip.backends.reduce((sum, b) => sum + b.gateways[gw]!.slots, 0);
    for (const b of vip.backends) shares[b.vm] = (shares[b.vm] ?? 0) + b.gateways[gw]!.slots / total / gateways.length;
  }
  return shares;
}

function expectSpread(result: BurstResult, shares: Record<string, number>, tolerance: number): void {
  expect(result.failed, JSON.stringify(result.errors)).toBe(0);
  for (const [vm, share] of Object.entries(shares)) {
    const expected = share * result.count;
    const got = result.byVm[vm] ?? 0;
    expect(Math.abs(got - expected), `${vm}: ${got} connections, expected ${expected.toFixed(0)} ± ${(tolerance * 100).toFixed(0)}% (shares ${JSON.stringify(shares)}, got ${JSON.stringify(result.byVm)})`).toBeLessThanOrEqual(tolerance * expected);
  }
}

/** In snapshots of flow records per gateway, the records of client connections to `target` from these source ports. */
function flowStateIn(snapshots: readonly { gateway: string; flows: readonly { signature: number }[] }[], client: string, target: string, ports: readonly number[], size: number): unknown[] {
  const [address, port] = target.split(':') as [string, string];
  return snapshots.flatMap(({ gateway, flows }) =>
    ports.map((srcPort) => {
      const { signature } = flowStateIndexes('5-tuple', { srcAddr: parseIpv4(client), dstAddr: parseIpv4(address), protocol: 6, srcPort, dstPort: Number(port) }, size);
      return { gateway, srcPort, entries: flows.filter((f) => f.signature === signature) };
    }),
  );
}

/** The same, read now from every gateway through the admin API. */
async function flowStateOf(sys: RunningSystem, client: string, target: string, ports: readonly number[]): Promise<unknown[]> {
  const snapshots = await Promise.all(sys.spec.gateways.map(async (g) => ({ gateway: g.name, flows: (await sys.api.flows({ gateway: g.name })).flows })));
  return flowStateIn(snapshots, client, target, ports, sys.spec.flowState.slotsPerGateway);
}

/** The controller's log lines about switch sessions, reconciliations and table updates (for a failure message). */
function controllerEvents(sys: RunningSystem): string[] {
  return (sys.controller?.output() ?? '')
    .split('\n')
    .filter((l) => /switch connection|reconcil|tables updated|pipeline|spec applied|drain/.test(l))
    .map((l) => {
      try {
        const j = JSON.parse(l) as { time: number; msg: string; switch?: string; from?: string; to?: string; causes?: string[]; inserted?: number; modified?: number; deleted?: number; pushed?: boolean };
        return `${j.time % 100000} ${j.switch ?? ''} ${j.msg} ${j.from ?? ''}${j.to === undefined ? '' : `→${j.to}`} ${j.causes?.join(',') ?? ''} ${j.inserted ?? ''}/${j.modified ?? ''}/${j.deleted ?? ''} ${j.pushed ?? ''}`;
      } catch {
        return l.slice(0, 160);
      }
    });
}

describe.skipIf(skipReason !== undefined).each(targets)('end to end on the %s target', (target) => {
  let sys: RunningSystem;
  const vmsOf = (host: string): string[] => sys.spec.vms.filter((v) => v.host === host).map((v) => v.name);
  const removedEverywhere = async (vm: string): Promise<boolean> => {
    const reply = await sys.api.vips();
    return reply.vips.every((vip) => vip.backends.filter((b) => b.vm === vm).every((b) => Object.values(b.gateways).every((g) => g.health === 'unhealthy' && g.slots === 0)));
  };

  beforeAll(async () => {
    const specText = e2eSpecText(readFileSync(EXAMPLE_SPEC_FILE, 'utf8'), { slots: 4096, tokens: TOKENS });
    sys = await startSystem({ specText, target, clients: 2, ...(bmv2 === undefined ? {} : { bmv2 }), readyTimeoutMs: 180_000 });
  }, 300_000);

  afterAll(async () => {
    await sys?.destroy();
  }, 60_000);

  it('1. spread: 2,000 new connections per VIP land on the VMs within ±15% of their share', async () => {
    const reply = await sys.api.vips();
    for (const [vip, address] of [['api', API], ['web', WEB]] as const) {
      // A connect that needs a SYN retransmission on a busy machine still succeeds, as for any TCP client.
      const result = await runBurst(sys.topology, 'client0', { target: address, count: 2000, concurrency: 16, timeoutMs: 8000, maxMs: 240_000 });
      expectSpread(result, expectedShares(reply, vip), 0.15);
    }
  }, 600_000);

  it('2. affinity: one connection, and new connections reusing one 5-tuple, always reach the same VM', async () => {
    const hold = startHold(sys.topology, 'client1', { target: API, connections: 8, intervalMs: 100, durationMs: 3000 });
    const held = await hold.result;
    expect(held, JSON.stringify(held.brokenDetails)).toMatchObject({ broken: 0, vmChanges: 0, failedRequests: 0 });
    expect(held.requests).toBeGreaterThanOrEqual(8 * 20);
    for (const [address, port] of [[API, 40_111], [WEB, 40_112]] as const) {
      const same = await runBurst(sys.topology, 'client0', { target: address, count: 15, concurrency: 1, localPort: port });
      expect(same.failed, JSON.stringify(same.errors)).toBe(0);
      expect(Object.keys(same.byVm)).toHaveLength(1);
    }
  }, 120_000);

  it('4. VM failure: health checks remove it on every gateway, new connections avoid it, other connections never break; it comes back', async () => {
    const failing = 'vm-a2';
    const hold = startHold(sys.topology, 'client1', { target: API, connections: 40, intervalMs: 250, durationMs: 60_000, requestTimeoutMs: 5000 });
    await hold.ready();
    const written = async (): Promise<number[]> => Promise.all(sys.spec.gateways.map((g) => sys.metric('p4lb_convergence_seconds_count', { gateway: g.name })));
    const writesBefore = await written();
    const tables = await sys.slotTablesOf(failing);
    const stopped = Date.now();
    await sys.stopVm(failing);
    await sys.until(() => removedEverywhere(failing), 10_000, `${failing} removed on every gateway`);
    // Removed means written: the controller counts a convergence once a gateway acknowledged the write.
    await sys.until(async () => (await written()).every((n, i) => n > writesBefore[i]!), 10_000, 'removal written to every gateway');
    // Timed by the controller's stamps of the acknowledged slot writes, not by when these polls saw them.
    expect(await sys.removalWrittenMs(tables, stopped, 10_000)).toBeLessThanOrEqual(REMOVAL_BUDGET_MS);
    for (const address of [API, WEB]) {
      const after = await runBurst(sys.topology, 'client0', { target: address, count: 200, concurrency: 8 });
      expect(after.failed, JSON.stringify(after.errors)).toBe(0);
      expect(after.byVm[failing]).toBeUndefined();
    }

    await sys.startVm(failing);
    await sys.until(() => sys.converged(), 15_000, `${failing} healthy again on every gateway`);
    const back = await runBurst(sys.topology, 'client0', { target: API, count: 200, concurrency: 8 });
    expect(back.failed).toBe(0);
    expect(back.byVm[failing]).toBeGreaterThan(0);

    // Its own connections broke with its server; every other one outlived the failure and the return.
    const result = await hold.finish();
    expect(result.broken).toBe(result.byVm[failing] ?? 0);
    expect(result.brokenDetails.every((b) => b.vm === failing)).toBe(true);
    expect(result.vmChanges).toBe(0);
  }, 180_000);

  it('5. NAT mode: the VM behind the VIP answers, and the client only ever sees the VIP as source', async () => {
    const client = sys.topology.layout.clients[0]!;
    const tap = InterfacePort.open({ number: 0, ifname: client.ifname, netns: client.netns });
    const sources = new Map<string, number>();
    tap.onFrame((bytes) => {
      if (decodeEthernet(bytes).etherType !== ETHERTYPE_IPV4) return;
      const ip = decodeIpv4(bytes, 14);
      if (ip.dst === client.address) sources.set(ip.src, (sources.get(ip.src) ?? 0) + 1);
    });
    try {
      const result = await runBurst(sys.topology, 'client0', { target: API, count: 100, concurrency: 4 });
      expect(result.failed).toBe(0);
      expect(Object.keys(result.byVm).sort()).toEqual(sys.spec.vms.map((v) => v.name).sort());
    } finally {
      await tap.close();
    }
    expect([...sources.keys()]).toEqual(['203.0.113.20']);
    expect(sources.get('203.0.113.20')).toBeGreaterThanOrEqual(100 * 3);
  }, 120_000);

  it('6. tokens: forged and expired tokens are dropped and counted at the gateway and the host; VM egress through the gateway works', async () => {
    const gateway = 'gw-east';
    const host = 'host-a';
    const gw = sys.spec.gateways.find((g) => g.name === gateway)!;
    const h = sys.spec.hosts.find((x) => x.name === host)!;
    const gatewayTap = UnderlayTap.open(sys.topology, gateway);
    const hostTap = UnderlayTap.open(sys.topology, host);
    try {
      // Real traffic: gw-east tunnels requests to host-a (geo preference), host-a tunnels the VMs' replies (their egress) back.
      const burst = await runBurst(sys.topology, 'client0', { target: WEB, count: 20, concurrency: 2 });
      expect(burst.failed).toBe(0);
      const request: TunnelFrame = await gatewayTap.waitFor((f) => f.outer.src === gw.underlay.ipv4 && f.outer.dst === h.underlay.ipv4, 5000, 'request tunnel frame');
      const reply: TunnelFrame = await hostTap.waitFor((f) => f.outer.src === h.underlay.ipv4 && f.outer.dst === gw.underlay.ipv4, 5000, 'reply tunnel frame');

      const drops = async (): Promise<[number, number]> => [
        await sys.metric('p4lb_drops_total', { switch: host, reason: 'bad-token' }),
        await sys.metric('p4lb_drops_total', { switch: gateway, reason: 'bad-token' }),
      ];
      const before = await drops();
      hostTap.inject(forgeToken(request));
      gatewayTap.inject(forgeToken(reply));
      await sys.until(async () => (await drops()).every((n, i) => n === before[i]! + 1), 10_000, 'forged tokens counted at host and gateway');

      // Expired: the captured (genuine) frames again once their tokens' expiry and the skew have passed.
      const expiry = Math.max(request.header.expiry, reply.header.expiry);
      const waitMs = (expiry + TOKENS.clockSkewSeconds + 2) * 1000 - Date.now();
      expect(waitMs).toBeLessThan((TOKENS.ttlSeconds + TOKENS.clockSkewSeconds + 3) * 1000);
      await new Promise((r) => setTimeout(r, Math.max(0, waitMs)));
      const beforeExpired = await drops();
      hostTap.inject(request.bytes);
      gatewayTap.inject(reply.bytes);
      await sys.until(async () => (await drops()).every((n, i) => n === beforeExpired[i]! + 1), 10_000, 'expired tokens counted at host and gateway');

      // Traffic with the current tokens still flows both ways.
      const later = await runBurst(sys.topology, 'client0', { target: WEB, count: 20, concurrency: 2 });
      expect(later.failed).toBe(0);
    } finally {
      await gatewayTap.close();
      await hostTap.close();
    }
  }, 120_000);

  it('7. geo: each gateway sends new flows to the VMs of its own location while one is healthy there', async () => {
    const east = vmsOf('host-a');
    const west = vmsOf('host-b');
    const counters = async (): Promise<Record<string, number>> => {
      const samples = await sys.metrics();
      const out: Record<string, number> = {};
      for (const s of samples) if (s.name === 'p4lb_backend_packets_total') out[`${s.labels.gateway}>${s.labels.vm}`] = s.value;
      return out;
    };
    const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 1500));
    const before = await counters();
    const result = await runBurst(sys.topology, 'client0', { target: WEB, count: 300, concurrency: 8 });
    expect(result.failed).toBe(0);
    await settle();
    const after = await counters();
    const delta = (gw: string, vm: string): number => (after[`${gw}>${vm}`] ?? 0) - (before[`${gw}>${vm}`] ?? 0);
    for (const vm of east) {
      expect(delta('gw-east', vm)).toBeGreaterThan(0);
      expect(delta('gw-west', vm)).toBe(0);
    }
    for (const vm of west) {
      expect(delta('gw-west', vm)).toBeGreaterThan(0);
      expect(delta('gw-east', vm)).toBe(0);
    }

    // No healthy VM left in the east: gw-east falls back to the west's VMs, and returns when they come back.
    for (const vm of east) await sys.stopVm(vm);
    await sys.until(async () => (await Promise.all(east.map((vm) => removedEverywhere(vm)))).every(Boolean), 10_000, 'east VMs removed');
    const fallback = await runBurst(sys.topology, 'client0', { target: WEB, count: 100, concurrency: 8 });
    expect(fallback.failed).toBe(0);
    expect(Object.keys(fallback.byVm).sort()).toEqual(west.sort());
    for (const vm of east) await sys.startVm(vm);
    await sys.until(() => sys.converged(), 15_000, 'east VMs healthy again');
  }, 120_000);

  it('8. drain: a drained VM gets no new connections, and its existing connections finish normally', async () => {
    const drained = 'vm-b2';
    const hold = startHold(sys.topology, 'client1', { target: API, connections: 40, intervalMs: 250, durationMs: 60_000, requestTimeoutMs: 5000 });
    const flapsBefore = await sys.metric('p4lb_health_transitions_total', { to: 'unhealthy' });
    const ready = await hold.ready();
    expect(ready.byVm[drained]).toBeGreaterThan(0);
    // Flow state just before the drain, to tell on a failure whether a broken connection was pinned.
    const beforeDrain = await Promise.all(sys.spec.gateways.map(async (g) => ({ gateway: g.name, flows: (await sys.api.flows({ gateway: g.name })).flows })));
    await sys.api.drain(drained);
    try {
      await sys.until(async () => (await sys.backendView('gw-east', 'api', drained)).slots === 0 && (await sys.backendView('gw-west', 'api', drained)).slots === 0, 10_000, `${drained} drained`);
      for (const address of [API, WEB]) {
        const result = await runBurst(sys.topology, 'client0', { target: address, count: 200, concurrency: 8 });
        expect(result.failed).toBe(0);
        expect(result.byVm[drained]).toBeUndefined();
      }
      const finished = await hold.finish();
      const flaps = (await sys.metric('p4lb_health_transitions_total', { to: 'unhealthy' })) - flapsBefore;
      // For a failure: what each gateway's flow state holds for the broken connections.
      const pinned = finished.broken === 0 ? [] : [
        ...(await flowStateOf(sys, sys.topology.layout.clients[1]!.address, API, finished.brokenDetails.map((b) => b.localPort ?? 0))).map((x) => ({ after: x })),
        ...flowStateIn(beforeDrain, sys.topology.layout.clients[1]!.address, API, finished.brokenDetails.map((b) => b.localPort ?? 0), sys.spec.flowState.slotsPerGateway).map((x) => ({ beforeDrain: x })),
      ];
      const events = finished.broken === 0 ? [] : controllerEvents(sys).slice(-12);
      expect(finished, `${JSON.stringify(finished.brokenDetails)}; health checks that failed meanwhile: ${flaps}; flow state: ${JSON.stringify(pinned)}; controller: ${events.join(' | ')}`).toMatchObject({ broken: 0, vmChanges: 0, failedRequests: 0 });
      expect(finished.finished).toBe(40);
    } finally {
      await sys.api.undrain(drained);
    }
    await sys.until(async () => (await sys.backendView('gw-east', 'api', drained)).slots > 0, 10_000, `${drained} undrained`);
  }, 120_000);

  it('9. spec change while running: a VM removed from the spec takes only its own connections, every other one survives (ids are kept); added back, it serves again', async () => {
    const removed = 'vm-a1';
    const original = readFileSync(sys.specFile, 'utf8');
    const reloads = (): number => (sys.controller?.output().match(/"msg":"spec reloaded"/g) ?? []).length;
    const reload = async (text: string, what: string): Promise<void> => {
      const before = reloads();
      writeFileSync(sys.specFile, text);
      process.kill(sys.controller!.pid, 'SIGHUP');
      await sys.until(() => reloads() > before, 15_000, `${what}: the controller reloaded its spec`);
    };
    const hold = startHold(sys.topology, 'client1', { target: API, connections: 40, intervalMs: 250, durationMs: 60_000, requestTimeoutMs: 5000 });
    const ready = await hold.ready();
    expect(ready.byVm[removed]).toBeGreaterThan(0);
    try {
      // By position, removing vm-a1 would renumber vm-a2, vm-b1 and vm-b2: their pinned flows would change VM.
      await reload(specWithoutVm(original, removed), `${removed} removed`);
      await sys.until(async () => (await sys.api.vips()).vips.every((v) => v.backends.every((b) => b.vm !== removed)), 10_000, `${removed} gone from every VIP`);
      for (const address of [API, WEB]) {
        const result = await runBurst(sys.topology, 'client0', { target: address, count: 200, concurrency: 8 });
        expect(result.failed, JSON.stringify(result.errors)).toBe(0);
        expect(result.byVm[removed]).toBeUndefined();
      }
      const finished = await hold.finish();
      // Its own connections end with it (their flow entries name an id that no longer has a backend); no other breaks or moves.
      expect(finished.brokenDetails.every((b) => b.vm === removed), JSON.stringify(finished.brokenDetails)).toBe(true);
      expect(finished.broken).toBe(ready.byVm[removed]);
      expect(finished.vmChanges).toBe(0);
      expect(finished.finished + finished.broken).toBe(40);
    } finally {
      await reload(original, `${removed} added back`);
    }
    await sys.until(() => sys.converged(), 15_000, `${removed} healthy again on every gateway`);
    const back = await runBurst(sys.topology, 'client0', { target: API, count: 200, concurrency: 8 });
    expect(back.failed).toBe(0);
    expect(back.byVm[removed]).toBeGreaterThan(0);
  }, 180_000);

  it('3. gateway loss (last): 200 long-lived connections keep working when a gateway goes down', async () => {
    const hold = startHold(sys.topology, 'client0', { target: API, connections: 200, intervalMs: 400, durationMs: 90_000, requestTimeoutMs: 5000 });
    await hold.ready();
    const flapsBefore = await sys.metric('p4lb_health_transitions_total', { to: 'unhealthy' });
    const requestsBefore = hold.latest()?.requests ?? 0;
    await sys.loseGateway('gw-west');
    // Enough time for every connection to make several requests through gw-east alone.
    await new Promise((r) => setTimeout(r, 5000));
    const result = await hold.finish();
    expect(result.requests - requestsBefore).toBeGreaterThan(200 * 5);
    const flaps = (await sys.metric('p4lb_health_transitions_total', { to: 'unhealthy' })) - flapsBefore;
    expect(result, `${JSON.stringify(result.brokenDetails)}; health checks that failed meanwhile: ${flaps}`).toMatchObject({ connections: 200, broken: 0, vmChanges: 0 });
    const after = await runBurst(sys.topology, 'client1', { target: API, count: 100, concurrency: 8 });
    expect(after.failed).toBe(0);
  }, 180_000);
});
