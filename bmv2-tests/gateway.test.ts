/**
 * The example's gw-east gateway program on the embedded target, one behaviour a test. The switch
 * (with its 131072 slot entries) is built once; each test uses clients of its own so that flow
 * state and counters of one test do not meet another's.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLOW_ENTRY, GATEWAY_DROP_REASONS, decodeFlowEntry } from '../core/p4-contract.ts';
import { flowHash, flowStateIndexes, slotOf } from '../core/hash/index.ts';
import { natReverse, natRewrite } from '../core/packet/nat.ts';
import { decodePacket, type InnerPacket } from '../core/packet/packet.ts';
import { TCP_FLAGS } from '../core/packet/tcp.ts';
import { tcpChecksum, ipv4HeaderChecksum } from '../core/packet/checksum.ts';
import { backendId, vipId } from '../core/spec/lookup.ts';
import { GATEWAY_P4 } from './dsl/entries.ts';
import {
  CLIENT_ROUTER_MAC, frame, gatewayScenario, gatewayTunnelFrame, hostTunnelFrame, innerPacket, tupleOf,
  type ClientPacket, type GatewayScenario,
} from './dsl/scenario.ts';
import { planTargets, type TargetFactory } from './dsl/runner.ts';
import type { PacketTestTarget } from './dsl/target.ts';

const plan = planTargets();
const DROP = Object.fromEntries(GATEWAY_DROP_REASONS.map((r) => [r.label, r.code]));
const PUBLIC_PORT = 1;
const UNDERLAY_PORT = 2;
/** Every port a scenario sends on or expects on, or routes to (5 and 9 in the LPM test): BMv2 gets a veth pair for each. */
const GATEWAY_PORTS = [PUBLIC_PORT, UNDERLAY_PORT, 5, 9];
/** One tick of flow state is 2^20 µs. */
const TICK_MICROS = 2 ** FLOW_ENTRY.tickShiftMicros;

let nextClient = 1;
/** A client no other test uses: 198.51.100.0/22, one address a call. */
function freshClient(): string {
  const n = nextClient++;
  return `198.51.${100 + (n >> 8)}.${n & 0xff}`;
}

function webSyn(src = freshClient(), srcPort = 40000): ClientPacket {
  return { src, srcPort, dst: '203.0.113.10', dstPort: 80 };
}

function apiSyn(src = freshClient(), srcPort = 40000): ClientPacket {
  return { src, srcPort, dst: '203.0.113.20', dstPort: 8080 };
}

/**
 * A new client (100.64.0.0/16, used by no other test) whose flow to `vip` falls in `slot`: one
 * slot in 65536 needs some 65536 tries, so both the address and the port vary.
 */
/** Sends `p` (its flow pinned to the slot's backend), then gives the slot to another backend; `restore` gives it back. */
async function pinThenMoveSlot(sc: GatewayScenario, p: ClientPacket) {
  const v = sc.vip('web');
  const original = sc.predictedBackend('web', p);
  const slot = slotOf(flowHash(v.flowKey, tupleOf(p)), v.slots);
  await sc.sw.send(PUBLIC_PORT, sc.clientFrame(p));
  await sc.sw.expectPacket(UNDERLAY_PORT, gatewayTunnelFrame(sc.spec, sc.gateway, v, original, innerPacket(p)));
  const other = sc.slotTable('web').backends.find((n) => n !== original.name)!;
  const keys = { vip_id: vipId(sc.spec, 'web'), slot };
  const setOwner = (name: string) => sc.sw.modify(GATEWAY_P4.slotTable, keys, 'set_slot_backend', { backend_id: backendId(sc.spec, name) });
  await setOwner(other);
  return { v, slot, original, other, restore: () => setOwner(original.name) };
}

function clientInSlot(sc: GatewayScenario, vip: string, slot: number): ClientPacket {
  const v = sc.vip(vip);
  for (let host = 0; host < 65536; host++) {
    for (let srcPort = 1024; srcPort < 1024 + 64; srcPort++) {
      const p = { src: `100.64.${host >> 8}.${host & 0xff}`, srcPort, dst: v.address, dstPort: v.ports[0]! };
      if (slotOf(flowHash(v.flowKey, tupleOf(p)), v.slots) === slot) return p;
    }
  }
  throw new Error(`no client found for slot ${slot}`);
}

/**
 * `it`, or a skip that says why, for a scenario that needs what a target lacks: BMv2 runs on real
 * time (no advanceClock), and reads registers only over Thrift, whose i64 answer saturates at
 * 2^63−1 (flow entries keep their signature in bits 63..32, so half of them read wrong).
 */
function itWhere(factory: TargetFactory, needs: { clock?: boolean; registers?: boolean }) {
  const missing = [
    needs.clock === true && !factory.capabilities.clock ? 'its clock cannot be advanced (BMv2 runs on real time)' : undefined,
    needs.registers === true && !factory.capabilities.registers
      ? '64-bit registers cannot be read (P4Runtime register reads are UNIMPLEMENTED; Thrift saturates values >= 2^63)'
      : undefined,
  ].filter((m) => m !== undefined);
  if (missing.length === 0) return it;
  return (name: string, fn: () => Promise<void>) => it.skip(`${name} [embedded target only: on ${factory.name} ${missing.join('; ')}]`, fn);
}

// One describe per planned target (a loop rather than describe.each keeps the scenarios' text as it was).
for (const factory of plan.targets) {
  describe(`gateway gw-east on the ${factory.name} target`, () => {
    let sc: GatewayScenario;
    let target: PacketTestTarget | undefined;
    const itClock = itWhere(factory, { clock: true });
    const itClockRegisters = itWhere(factory, { clock: true, registers: true });
    const itRegisters = itWhere(factory, { registers: true });

    beforeAll(async () => {
      console.info(plan.summary);
      // BMv2 takes the 131072 slot entries in batches, a few seconds; the embedded target one.
      target = factory.create({ ports: GATEWAY_PORTS });
      sc = await gatewayScenario('gw-east', { target });
    }, 300_000);

    // Always: a BMv2 switch and its veth pairs must not outlive the file.
    afterAll(async () => {
      await target?.close();
    });

    it('tunnels a packet to a tunnel-mode VIP to the chosen VM, byte for byte as core/packet builds it', async () => {
      const p = webSyn();
      const vm = sc.predictedBackend('web', p);
      await sc.sw.send(PUBLIC_PORT, sc.clientFrame(p));
      await sc.sw.expectPacket(UNDERLAY_PORT, gatewayTunnelFrame(sc.spec, sc.gateway, sc.vip('web'), vm, innerPacket(p)));
      await sc.sw.expectNoPacket();
    });

    it('drops a packet to no VIP and counts it as not-a-vip', async () => {
      const before = await sc.sw.counter(GATEWAY_P4.drops, DROP['not-a-vip']!);
      await sc.sw.send(PUBLIC_PORT, sc.clientFrame({ src: freshClient(), srcPort: 40000, dst: '203.0.113.10', dstPort: 81 }));
      await sc.sw.expectNoPacket();
      await sc.sw.expectCounter(GATEWAY_P4.drops, DROP['not-a-vip']!, { packets: before.packets + 1n });
    });

    it('NAT mode: rewrites the destination to the VM and its targetPort with checksums as natRewrite, then tunnels', async () => {
      const p = apiSyn();
      const vm = sc.predictedBackend('api', p);
      const inFrame = sc.clientFrame(p);
      await sc.sw.send(PUBLIC_PORT, inFrame);
      const rewritten = decodePacket(natRewrite(inFrame, { ip: vm.privateIpv4, port: 80 }));
      const inner: InnerPacket = { ipv4: rewritten.ipv4!, tcp: rewritten.tcp!, payload: rewritten.payload };
      const out = await sc.sw.expectPacket(UNDERLAY_PORT, gatewayTunnelFrame(sc.spec, sc.gateway, sc.vip('api'), vm, inner));
      // Independent of natRewrite: the checksums are right by full recomputation.
      const got = decodePacket(out.bytes, { tunnel: 'always', verifyChecksums: true }).tunnel!.inner;
      expect(got.ipv4.dst).toBe(vm.privateIpv4);
      expect(got.tcp!.dstPort).toBe(80);
    });

    it('keeps a flow on its first backend when the controller moves its slot; a new flow in that slot takes the new owner', async () => {
      const first = webSyn();
      const { v, slot, original, other, restore } = await pinThenMoveSlot(sc, first);
      try {
        await sc.sw.send(PUBLIC_PORT, sc.clientFrame({ ...first, tcpFlags: TCP_FLAGS.ACK }));
        await sc.sw.expectPacket(UNDERLAY_PORT, gatewayTunnelFrame(sc.spec, sc.gateway, v, original, innerPacket({ ...first, tcpFlags: TCP_FLAGS.ACK })));
        const newcomer = clientInSlot(sc, 'web', slot);
        await sc.sw.send(PUBLIC_PORT, sc.clientFrame(newcomer));
        await sc.sw.expectPacket(UNDERLAY_PORT, gatewayTunnelFrame(sc.spec, sc.gateway, v, sc.vm(other), innerPacket(newcomer)));
      } finally {
        await restore();
      }
    });

    it('treats a SYN on a pinned 5-tuple as a new connection: it takes the slot\'s current owner, and its later packets stay there', async () => {
      const first = webSyn();
      const { v, other, restore } = await pinThenMoveSlot(sc, first);
      try {
        // The client reuses the 5-tuple for a new connection (the old one closed with FIN, so its entry is still there).
        await sc.sw.send(PUBLIC_PORT, sc.clientFrame(first));
        await sc.sw.expectPacket(UNDERLAY_PORT, gatewayTunnelFrame(sc.spec, sc.gateway, v, sc.vm(other), innerPacket(first)));
        // Pinned to the new owner: moving the slot back does not move the connection.
        await restore();
        const ack = { ...first, tcpFlags: TCP_FLAGS.ACK };
        await sc.sw.send(PUBLIC_PORT, sc.clientFrame(ack));
        await sc.sw.expectPacket(UNDERLAY_PORT, gatewayTunnelFrame(sc.spec, sc.gateway, v, sc.vm(other), innerPacket(ack)));
      } finally {
        await restore();
      }
    });

    itClock('forgets an idle flow after the VIP\'s idle timeout: its next packet takes the slot\'s new owner', async () => {
      const p = webSyn();
      const { v, other, restore } = await pinThenMoveSlot(sc, p);
      try {
        // flowIdleTimeoutSeconds 120 = 115 ticks; two ticks more are past it whatever the phase.
        await sc.sw.advanceClock((v.flowIdleTimeoutSeconds + 3) * 1_000_000);
        await sc.sw.send(PUBLIC_PORT, sc.clientFrame(p));
        await sc.sw.expectPacket(UNDERLAY_PORT, gatewayTunnelFrame(sc.spec, sc.gateway, v, sc.vm(other), innerPacket(p)));
      } finally {
        await restore();
      }
    });

    itClockRegisters('keeps a flow that is busy for longer than the idle timeout', async () => {
      const p = webSyn();
      const vm = sc.predictedBackend('web', p);
      const v = sc.vip('web');
      const indexes = flowStateIndexes(v.flowKey, tupleOf(p), sc.spec.flowState.slotsPerGateway);
      await sc.sw.send(PUBLIC_PORT, sc.clientFrame(p));
      await sc.sw.expectPacket(UNDERLAY_PORT, gatewayTunnelFrame(sc.spec, sc.gateway, v, vm, innerPacket(p)));
      for (let i = 0; i < 3; i++) {
        await sc.sw.advanceClock(60 * TICK_MICROS);
        await sc.sw.send(PUBLIC_PORT, sc.clientFrame(p));
        await sc.sw.expectPacket(UNDERLAY_PORT, gatewayTunnelFrame(sc.spec, sc.gateway, v, vm, innerPacket(p)));
      }
      const way0 = decodeFlowEntry(await sc.sw.register(GATEWAY_P4.flowWay0, indexes.way0));
      const way1 = decodeFlowEntry(await sc.sw.register(GATEWAY_P4.flowWay1, indexes.way1));
      expect([way0, way1].some((e) => e?.signature === indexes.signature && e.backendId === backendId(sc.spec, vm.name))).toBe(true);
    });

    itRegisters('frees the flow-state entry on a TCP RST', async () => {
      const p = webSyn();
      const v = sc.vip('web');
      const indexes = flowStateIndexes(v.flowKey, tupleOf(p), sc.spec.flowState.slotsPerGateway);
      const read = async (): Promise<[bigint, bigint]> => [
        await sc.sw.register(GATEWAY_P4.flowWay0, indexes.way0),
        await sc.sw.register(GATEWAY_P4.flowWay1, indexes.way1),
      ];
      await sc.sw.send(PUBLIC_PORT, sc.clientFrame(p));
      const learned = await read();
      expect(learned.some((x) => decodeFlowEntry(x)?.signature === indexes.signature)).toBe(true);
      await sc.sw.send(PUBLIC_PORT, sc.clientFrame({ ...p, tcpFlags: TCP_FLAGS.RST }));
      expect(await read()).toEqual([0n, 0n]);
      expect((await sc.sw.received()).length).toBe(2);
    });

    it('accepts a host\'s reply with a valid token: decapsulated and sent out the public port', async () => {
      const client = freshClient();
      const vm = sc.vm('vm-a1');
      const reply = innerPacket({ src: '203.0.113.10', srcPort: 80, dst: client, dstPort: 40000, tcpFlags: TCP_FLAGS.SYN | TCP_FLAGS.ACK });
      await sc.sw.send(UNDERLAY_PORT, hostTunnelFrame(sc.spec, sc.gateway, vm, reply));
      await sc.sw.expectPacket(PUBLIC_PORT, frame(CLIENT_ROUTER_MAC, sc.gateway.underlay.mac, reply));
    });

    it('drops a reply with a forged token, counted as bad-token', async () => {
      const before = await sc.sw.counter(GATEWAY_P4.drops, DROP['bad-token']!);
      const reply = innerPacket({ src: '203.0.113.10', srcPort: 80, dst: freshClient(), dstPort: 40000 });
      await sc.sw.send(UNDERLAY_PORT, hostTunnelFrame(sc.spec, sc.gateway, sc.vm('vm-a1'), reply, { token: 0x0123456789abcdefn }));
      await sc.sw.expectNoPacket();
      await sc.sw.expectCounter(GATEWAY_P4.drops, DROP['bad-token']!, { packets: before.packets + 1n });
    });

    it('drops a reply whose token carries another expiry, counted as bad-token', async () => {
      const before = await sc.sw.counter(GATEWAY_P4.drops, DROP['bad-token']!);
      const reply = innerPacket({ src: '203.0.113.10', srcPort: 80, dst: freshClient(), dstPort: 40000 });
      const frameWithValidToken = hostTunnelFrame(sc.spec, sc.gateway, sc.vm('vm-a1'), reply);
      const token = decodePacket(frameWithValidToken, { tunnel: 'always' }).tunnel!.header.token;
      await sc.sw.send(UNDERLAY_PORT, hostTunnelFrame(sc.spec, sc.gateway, sc.vm('vm-a1'), reply, { token, expiry: 1767225600 + 86400 }));
      await sc.sw.expectNoPacket();
      await sc.sw.expectCounter(GATEWAY_P4.drops, DROP['bad-token']!, { packets: before.packets + 1n });
    });

    it('translates a NAT reply back to VIP:port with correct checksums', async () => {
      const client = freshClient();
      const vm = sc.vm('vm-b1');
      const reply = innerPacket({ src: vm.privateIpv4, srcPort: 80, dst: client, dstPort: 40000, tcpFlags: TCP_FLAGS.SYN | TCP_FLAGS.ACK });
      await sc.sw.send(UNDERLAY_PORT, hostTunnelFrame(sc.spec, sc.gateway, vm, reply));
      const expected = natReverse(frame(CLIENT_ROUTER_MAC, sc.gateway.underlay.mac, reply), { ip: '203.0.113.20', port: 8080 });
      const out = await sc.sw.expectPacket(PUBLIC_PORT, expected);
      const p = decodePacket(out.bytes, { verifyChecksums: true });
      expect([p.ipv4!.src, p.tcp!.srcPort]).toEqual(['203.0.113.20', 8080]);
      expect(ipv4HeaderChecksum(out.bytes, 14, 20)).toBe(p.ipv4!.checksum);
      expect(tcpChecksum(p.ipv4!.src, p.ipv4!.dst, out.bytes.subarray(34))).toBe(p.tcp!.checksum);
    });

    it('routes by longest prefix: a more specific route wins, the default route still takes the rest', async () => {
      const vm = sc.vm('vm-a1');
      // A /24 over host-a's /32 must not win; a /30 covering part of the clients must.
      const special = '198.51.103.1';
      const wide = { dst_addr: { value: '10.0.1.0', prefixLength: 24 } };
      const narrow = { dst_addr: { value: '198.51.103.0', prefixLength: 30 } };
      await sc.sw.insert(GATEWAY_P4.routes, wide, 'forward', { port: 9, src_mac: '02:00:00:00:00:99', dst_mac: '02:00:00:00:00:98' });
      await sc.sw.insert(GATEWAY_P4.routes, narrow, 'forward', { port: 5, src_mac: '02:00:00:00:00:55', dst_mac: '02:00:00:00:00:56' });
      try {
        const p = webSyn();
        await sc.sw.send(PUBLIC_PORT, sc.clientFrame(p));
        const chosen = sc.predictedBackend('web', p);
        await sc.sw.expectPacket(UNDERLAY_PORT, gatewayTunnelFrame(sc.spec, sc.gateway, sc.vip('web'), chosen, innerPacket(p)));
        const toSpecial = innerPacket({ src: '203.0.113.10', srcPort: 80, dst: special, dstPort: 40000 });
        await sc.sw.send(UNDERLAY_PORT, hostTunnelFrame(sc.spec, sc.gateway, vm, toSpecial));
        await sc.sw.expectPacket(5, frame('02:00:00:00:00:56', '02:00:00:00:00:55', toSpecial));
        const toOther = innerPacket({ src: '203.0.113.10', srcPort: 80, dst: '198.51.103.9', dstPort: 40000 });
        await sc.sw.send(UNDERLAY_PORT, hostTunnelFrame(sc.spec, sc.gateway, vm, toOther));
        await sc.sw.expectPacket(PUBLIC_PORT, frame(CLIENT_ROUTER_MAC, sc.gateway.underlay.mac, toOther));
      } finally {
        await sc.sw.delete(GATEWAY_P4.routes, wide);
        await sc.sw.delete(GATEWAY_P4.routes, narrow);
      }
    });

    it('counts packets and bytes per VIP and per backend', async () => {
      const p = apiSyn();
      const vm = sc.predictedBackend('api', p);
      const vipIndex = vipId(sc.spec, 'api');
      const vmIndex = backendId(sc.spec, vm.name);
      const vipBefore = await sc.sw.counter(GATEWAY_P4.vipStats, vipIndex);
      const vmBefore = await sc.sw.counter(GATEWAY_P4.backendStats, vmIndex);
      const bytes = sc.clientFrame(p);
      await sc.sw.send(PUBLIC_PORT, bytes);
      await sc.sw.send(PUBLIC_PORT, sc.clientFrame({ ...p, tcpFlags: TCP_FLAGS.ACK }));
      await sc.sw.received();
      const n = BigInt(bytes.length);
      await sc.sw.expectCounter(GATEWAY_P4.vipStats, vipIndex, { packets: vipBefore.packets + 2n, bytes: vipBefore.bytes + 2n * n });
      await sc.sw.expectCounter(GATEWAY_P4.backendStats, vmIndex, { packets: vmBefore.packets + 2n, bytes: vmBefore.bytes + 2n * n });
    });

    it('reports a newly pinned flow in a digest with its flow key, VIP id and backend id, once', async () => {
      await sc.sw.digests();
      const p = webSyn();
      const vm = sc.predictedBackend('web', p);
      await sc.sw.send(PUBLIC_PORT, sc.clientFrame(p));
      await sc.sw.expectDigest('flow_pin_digest_t', {
        src_addr: p.src,
        dst_addr: p.dst,
        protocol: 6,
        src_port: p.srcPort,
        dst_port: p.dstPort,
        vip_id: vipId(sc.spec, 'web'),
        backend_id: backendId(sc.spec, vm.name),
      });
      await sc.sw.send(PUBLIC_PORT, sc.clientFrame({ ...p, tcpFlags: TCP_FLAGS.ACK }));
      await sc.sw.expectNoDigest();
      await sc.sw.received();
    });

    itRegisters('keeps each flow at the register index and with the signature core/hash predicts, and picks the predicted slot', async () => {
      const v = sc.vip('web');
      const size = sc.spec.flowState.slotsPerGateway;
      const table = sc.slotTable('web');
      // Sampled, not a property with shrinking: the switch keeps state between runs.
      const flows = fc.sample(fc.tuple(fc.integer({ min: 1, max: 0xfffffffe }), fc.integer({ min: 1, max: 65535 })), { numRuns: 200, seed: 0x5eed });
      for (const [src, srcPort] of flows) {
        const p = webSyn(`${src >>> 24}.${(src >>> 16) & 255}.${(src >>> 8) & 255}.${src & 255}`, srcPort);
        const tuple = tupleOf(p);
        const hash = flowHash(v.flowKey, tuple);
        const indexes = flowStateIndexes(v.flowKey, tuple, size);
        const owner = table.backends[table.owner[slotOf(hash, v.slots)]!]!;
        await sc.sw.send(PUBLIC_PORT, sc.clientFrame(p));
        await sc.sw.expectPacket(UNDERLAY_PORT, gatewayTunnelFrame(sc.spec, sc.gateway, v, sc.vm(owner), innerPacket(p)));
        const ways = [await sc.sw.register(GATEWAY_P4.flowWay0, indexes.way0), await sc.sw.register(GATEWAY_P4.flowWay1, indexes.way1)];
        expect(indexes.signature).toBe(hash);
        expect(ways.map(decodeFlowEntry).some((e) => e?.signature === hash && e.backendId === backendId(sc.spec, owner))).toBe(true);
      }
      await sc.sw.expectNoPacket();
    });
  });
}
