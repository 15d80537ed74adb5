/**
 * Fuzzing the embedded target with the generated gateway and host programs and their standard
 * entries: random frames and mutations of valid ones (fixed seeds, 50,000 a program). No exception
 * escapes, every packet is either forwarded or dropped by the program with a reason it counts, and
 * the heap stays flat.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { GATEWAY_DROP_REASONS, HOST_DROP_REASONS } from '../core/p4-contract.ts';
import { gatewayByName, hostOfVm, vipByName, vmByName } from '../core/spec/lookup.ts';
import type { V1ModelSwitch } from '../target/interpreter/switch.ts';
import { EmbeddedTarget } from './dsl/embedded-target.ts';
import {
  frame, gatewayScenario, gatewayTunnelFrame, hostScenario, hostTunnelFrame, innerPacket, CLIENT_ROUTER_MAC,
  type ClientPacket,
} from './dsl/scenario.ts';

const PACKETS_PER_PROGRAM = 50_000;

/** xorshift32: a fixed seed gives the same packets on every run and machine. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function forceGc(): () => void {
  setFlagsFromString('--expose_gc');
  return runInNewContext('gc') as () => void;
}

/** A random frame, or a valid one with a few bytes flipped, cut short or extended. */
function fuzzFrame(next: () => number, valid: readonly Uint8Array[]): Uint8Array {
  const kind = next() % 4;
  if (kind === 0) {
    const out = new Uint8Array(next() % 160);
    for (let i = 0; i < out.length; i++) out[i] = next() & 0xff;
    if (out.length >= 14 && next() % 2 === 0) {
      out[12] = 0x08; // IPv4 EtherType half the time, so the parser goes deeper
      out[13] = 0x00;
    }
    return out;
  }
  const base = valid[next() % valid.length]!;
  if (kind === 1) {
    const out = Uint8Array.from(base);
    const flips = 1 + (next() % 4);
    for (let i = 0; i < flips; i++) {
      const at = next() % out.length;
      out[at] = out[at]! ^ (1 << (next() % 8));
    }
    return out;
  }
  if (kind === 2) return base.slice(0, next() % base.length);
  const out = new Uint8Array(base.length + (next() % 64));
  out.set(base);
  for (let i = base.length; i < out.length; i++) out[i] = next() & 0xff;
  return out;
}

interface FuzzOutcome {
  forwarded: number;
  dropped: number;
  heapGrowthBytes: number;
}

function fuzz(sw: V1ModelSwitch, ports: readonly number[], valid: readonly Uint8Array[], seed: number): FuzzOutcome {
  const next = rng(seed);
  const gc = forceGc();
  let forwarded = 0;
  let dropped = 0;
  let heapAfterWarmup = 0;
  for (let i = 0; i < PACKETS_PER_PROGRAM; i++) {
    const bytes = fuzzFrame(next, valid);
    const port = ports[next() % ports.length]!;
    let result;
    try {
      result = sw.process(port, bytes);
    } catch (err) {
      throw new Error(`packet ${i} (seed ${seed}) on port ${port} threw: ${(err as Error).message}\n${Buffer.from(bytes).toString('hex')}`, {
        cause: err,
      });
    }
    if (result.output !== undefined) {
      forwarded++;
      expect(result.dropReason).toBeUndefined();
    } else {
      dropped++;
      // Dropped by the program (mark_to_drop), never by a fault of the interpreter.
      expect(result.dropReason, Buffer.from(bytes).toString('hex')).toMatch(/^(ingress|egress): /);
    }
    if (i === PACKETS_PER_PROGRAM / 10) {
      gc();
      heapAfterWarmup = process.memoryUsage().heapUsed;
    }
  }
  gc();
  return { forwarded, dropped, heapGrowthBytes: process.memoryUsage().heapUsed - heapAfterWarmup };
}

function countedDrops(sw: V1ModelSwitch, counter: string): bigint {
  const c = sw.counters.get(counter);
  if (c === undefined) throw new Error(`no counter ${counter}`);
  return c.packets.reduce((a, b) => a + b, 0n);
}

describe('fuzzing the embedded target (fixed seeds)', () => {
  it(`gateway: ${PACKETS_PER_PROGRAM} random and mutated packets are each forwarded or dropped with a counted reason`, async () => {
    const target = new EmbeddedTarget({ trace: false });
    const sc = await gatewayScenario('gw-east', { target });
    const gw = gatewayByName(sc.spec, 'gw-east');
    const client = (p: Partial<ClientPacket>): Uint8Array =>
      frame(gw.underlay.mac, CLIENT_ROUTER_MAC, innerPacket({ src: '198.51.100.7', srcPort: 40000, dst: '203.0.113.10', dstPort: 80, ...p }));
    const vm = vmByName(sc.spec, 'vm-a1');
    const valid = [
      client({}),
      client({ dst: '203.0.113.20', dstPort: 8080 }),
      client({ protocol: 'udp', dstPort: 53 }),
      gatewayTunnelFrame(sc.spec, gw, vipByName(sc.spec, 'web'), vm, innerPacket({ src: '198.51.100.7', srcPort: 1, dst: '203.0.113.10', dstPort: 80 })),
      hostTunnelFrame(sc.spec, gw, vm, innerPacket({ src: vm.privateIpv4, srcPort: 80, dst: '198.51.100.7', dstPort: 40000 })),
    ];
    const sw = target.interpreter;
    const outcome = fuzz(sw, [gw.ports.public, gw.ports.underlay, 7], valid, 0x5eed);
    expect(outcome.forwarded + outcome.dropped).toBe(PACKETS_PER_PROGRAM);
    expect(outcome.dropped).toBeGreaterThan(PACKETS_PER_PROGRAM / 4);
    expect(outcome.forwarded).toBeGreaterThan(100);
    // Every drop went through the program's drop(reason) action, which counts it.
    expect(countedDrops(sw, 'GatewayIngress.drops')).toBe(BigInt(outcome.dropped));
    expect(sw.counters.get('GatewayIngress.drops')!.packets[0]).toBe(0n);
    expect(GATEWAY_DROP_REASONS.length).toBe(sw.counters.get('GatewayIngress.drops')!.size);
    expect(outcome.heapGrowthBytes).toBeLessThan(8 * 1024 * 1024);
  }, 120_000);

  it(`host: ${PACKETS_PER_PROGRAM} random and mutated packets are each forwarded or dropped with a counted reason`, async () => {
    const target = new EmbeddedTarget({ trace: false });
    const sc = await hostScenario('host-a', { target });
    const vm = vmByName(sc.spec, 'vm-a1');
    const host = hostOfVm(sc.spec, vm);
    const gw = gatewayByName(sc.spec, 'gw-east');
    const valid = [
      gatewayTunnelFrame(sc.spec, gw, vipByName(sc.spec, 'web'), vm, innerPacket({ src: '198.51.100.7', srcPort: 1, dst: '203.0.113.10', dstPort: 80 })),
      frame(host.underlay.mac, vm.mac ?? '02:00:c0:a8:01:0b', innerPacket({ src: vm.privateIpv4, srcPort: 80, dst: '198.51.100.7', dstPort: 40000 })),
    ];
    const sw = target.interpreter;
    const outcome = fuzz(sw, [host.ports.underlay, vm.nicPort, vmByName(sc.spec, 'vm-a2').nicPort], valid, 0xf00d);
    expect(outcome.forwarded + outcome.dropped).toBe(PACKETS_PER_PROGRAM);
    expect(outcome.forwarded).toBeGreaterThan(100);
    expect(countedDrops(sw, 'HostIngress.drops')).toBe(BigInt(outcome.dropped));
    expect(HOST_DROP_REASONS.length).toBe(sw.counters.get('HostIngress.drops')!.size);
    expect(outcome.heapGrowthBytes).toBeLessThan(8 * 1024 * 1024);
  }, 120_000);
});
