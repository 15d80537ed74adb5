/**
 * Packets per second through the generated gateway program on the embedded target: established
 * flows (flow state hits) and new flows (slot table, learning, digest), in-process; the host
 * program's delivery path; and the gateway between two veth pairs (AF_PACKET ports), when run as
 * root with the native addon built.
 */
import { execFileSync } from 'node:child_process';
import { gatewayByName, vipByName, vmByName } from '../core/spec/lookup.ts';
import { EmbeddedTarget } from '../bmv2-tests/dsl/embedded-target.ts';
import {
  CLIENT_ROUTER_MAC, frame, gatewayScenario, gatewayTunnelFrame, hostScenario, innerPacket,
} from '../bmv2-tests/dsl/scenario.ts';
import { FrameRecorder } from '../target/ports/frame-recorder.ts';
import { InterfacePort } from '../target/ports/interface-port.ts';
import { packetAddonAvailability } from '../target/ports/packet-addon.ts';
import type { V1ModelSwitch } from '../target/interpreter/switch.ts';
import { Bmv2Target } from '../bmv2-tests/bmv2/bmv2-target.ts';
import { findBmv2 } from '../bmv2-tests/dsl/runner.ts';
import type { BenchCase, BenchSuite } from './harness.ts';

const BATCH = 1000;
const VETH_BATCH = 500;
/** Packets sent to BMv2 before waiting for them to come out. */
const BMV2_WINDOW = 25;

// The gateway gw-east of the example with its standard entries.
const gatewayTarget = new EmbeddedTarget({ trace: false });
const gsc = await gatewayScenario('gw-east', { target: gatewayTarget });
const gw = gatewayByName(gsc.spec, 'gw-east');
const gateway = gatewayTarget.interpreter;

const clientFrame = (srcPort: number, src = '198.51.100.7'): Uint8Array =>
  frame(gw.underlay.mac, CLIENT_ROUTER_MAC, innerPacket({ src, srcPort, dst: '203.0.113.10', dstPort: 80, tcpFlags: 0x10 }));

const established = Array.from({ length: BATCH }, (_, i) => clientFrame(10_000 + i));
for (const p of established) gateway.process(gw.ports.public, p); // learn them once

// New flows: a fresh source port (and, past 50,000, a fresh source address) for every packet.
let nextFlow = 0;
function newFlowFrame(): Uint8Array {
  const n = nextFlow++;
  return clientFrame(1024 + (n % 50_000), `198.51.${101 + Math.floor(n / 50_000)}.9`);
}
const newFlowBatches = Array.from({ length: 20 }, () => Array.from({ length: BATCH }, newFlowFrame));
let newBatch = 0;

function run(sw: V1ModelSwitch, port: number, packets: readonly Uint8Array[]): number {
  let out = 0;
  for (const p of packets) if (sw.process(port, p).output !== undefined) out++;
  if (out !== packets.length) throw new Error(`only ${out} of ${packets.length} packets were forwarded`);
  return out;
}

// The host host-a delivering tunnelled packets to vm-a1.
const hostTarget = new EmbeddedTarget({ trace: false });
const hsc = await hostScenario('host-a', { target: hostTarget });
const vm = vmByName(hsc.spec, 'vm-a1');
const hostPackets = Array.from({ length: BATCH }, (_, i) =>
  gatewayTunnelFrame(hsc.spec, gw, vipByName(hsc.spec, 'web'), vm, innerPacket({ src: '198.51.100.7', srcPort: 20_000 + i, dst: '203.0.113.10', dstPort: 80 })),
);

const cases: BenchCase[] = [
  {
    name: `gateway in-process, established flows (batch ${BATCH})`,
    group: 'gateway in-process',
    opsPerCall: BATCH,
    iterations: 15,
    fn: () => run(gateway, gw.ports.public, established),
  },
  {
    name: `gateway in-process, new flows (batch ${BATCH})`,
    group: 'gateway in-process',
    opsPerCall: BATCH,
    warmup: 2,
    iterations: 15,
    fn: () => run(gateway, gw.ports.public, newFlowBatches[newBatch++ % newFlowBatches.length]!),
  },
  {
    name: `host in-process, delivery to a VM (batch ${BATCH})`,
    opsPerCall: BATCH,
    iterations: 15,
    fn: () => run(hostTarget.interpreter, hsc.host.ports.underlay, hostPackets),
  },
];

// ------------------------------------------------------------------ veth pairs
const skipped: string[] = [];
const cleanups: (() => void | Promise<void>)[] = [];

function canUseVeth(): string | undefined {
  if (process.getuid?.() !== 0) return 'gateway over veth: needs root to create veth pairs';
  const addon = packetAddonAvailability();
  if (!addon.available) return `gateway over veth: ${addon.reason}`;
  return undefined;
}

const vethProblem = canUseVeth();
if (vethProblem !== undefined) {
  skipped.push(vethProblem);
} else {
  const tag = `p4lbb${process.pid % 100000}`;
  const pairs = { public: `${tag}p`, underlay: `${tag}u` };
  const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: 'ignore' });
  for (const name of Object.values(pairs)) {
    ip('link', 'add', `${name}a`, 'type', 'veth', 'peer', 'name', `${name}b`);
    cleanups.push(() => ip('link', 'del', `${name}a`));
    ip('link', 'set', `${name}a`, 'up');
    ip('link', 'set', `${name}b`, 'up');
  }
  // The switch's two ports on the a ends; the generator and the sink on the b ends.
  const switchPublic = InterfacePort.open({ number: gw.ports.public, ifname: `${pairs.public}a` });
  const switchUnderlay = InterfacePort.open({ number: gw.ports.underlay, ifname: `${pairs.underlay}a` });
  const generator = InterfacePort.open({ number: 0, ifname: `${pairs.public}b` });
  const sink = InterfacePort.open({ number: 0, ifname: `${pairs.underlay}b` });
  const switchPorts = new Map([[gw.ports.public, switchPublic], [gw.ports.underlay, switchUnderlay]]);
  for (const port of switchPorts.values()) {
    port.onFrame((bytes) => {
      const r = gateway.process(port.number, bytes);
      if (r.output !== undefined) switchPorts.get(r.output.port)?.send(r.output.bytes);
    });
  }
  // Only the tunnelled packets to the hosts count (the kernel sends its own frames too).
  const recorder = new FrameRecorder(sink, { accept: (f) => f.length > 34 && f[23] === 17 });
  cleanups.push(async () => {
    for (const p of [switchPublic, switchUnderlay, generator, sink]) await p.close();
  });
  await new Promise((r) => setTimeout(r, 500)); // links up
  cases.push({
    name: `gateway over two veth pairs, established flows (batch ${VETH_BATCH})`,
    opsPerCall: VETH_BATCH,
    warmup: 2,
    iterations: 10,
    fn: async () => {
      recorder.drain();
      for (let i = 0; i < VETH_BATCH; i++) generator.send(established[i]!);
      await recorder.take(VETH_BATCH, 10_000);
    },
  });
}

// ------------------------------------------------------------------ BMv2, the reference
const bmv2 = findBmv2(process.env);
if (bmv2 === undefined) {
  skipped.push('BMv2 gateway: BMv2 not found (set SIMPLE_SWITCH_GRPC and P4C)');
} else {
  const target = new Bmv2Target({ tools: bmv2, ports: [gw.ports.public, gw.ports.underlay] });
  cleanups.push(() => target.close());
  await gatewayScenario('gw-east', { target });
  cases.push({
    name: `BMv2 simple_switch_grpc gateway over veth, established flows (batch ${VETH_BATCH})`,
    opsPerCall: VETH_BATCH,
    warmup: 1,
    iterations: 5,
    // A window of 25 packets in flight: BMv2 (a default build, with logging) drops bursts of 100.
    // Each window ends with the target's 20 ms settle time, which is part of the figure.
    fn: async () => {
      let forwarded = 0;
      for (let i = 0; i < VETH_BATCH; i += BMV2_WINDOW) {
        for (let j = i; j < Math.min(VETH_BATCH, i + BMV2_WINDOW); j++) await target.send(gw.ports.public, established[j]!);
        forwarded += (await target.outputs()).length;
      }
      if (forwarded !== VETH_BATCH) throw new Error(`BMv2 forwarded ${forwarded} of ${VETH_BATCH} packets`);
    },
  });
}

const suite: BenchSuite = {
  name: 'target',
  description: 'embedded target: packets per second through the generated example programs',
  cases,
  skipped,
  teardown: async () => {
    for (const c of cleanups.reverse()) await c();
  },
};
export default suite;
