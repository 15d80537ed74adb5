/** The example's host-a NIC program on the embedded target, one behaviour a test, a fresh switch each. */
import { afterAll, describe, it } from 'vitest';
import { HOST_DROP_REASONS } from '../core/p4-contract.ts';
import { TCP_FLAGS } from '../core/packet/tcp.ts';
import { backendId, gatewayByName, vipByName, vmMac } from '../core/spec/lookup.ts';
import { HOST_P4 } from './dsl/entries.ts';
import { planTargets } from './dsl/runner.ts';
import { frame, gatewayTunnelFrame, hostScenario, hostTunnelFrame, innerPacket } from './dsl/scenario.ts';

const plan = planTargets();
const DROP = Object.fromEntries(HOST_DROP_REASONS.map((r) => [r.label, r.code]));
const UNDERLAY_PORT = 1;
/** The underlay, vm-a1's and vm-a2's NIC ports, and the unknown VM port 7: BMv2 gets a veth pair for each. */
const HOST_PORTS = [UNDERLAY_PORT, 2, 3, 7];

const clientSyn = innerPacket({ src: '198.51.100.7', srcPort: 40000, dst: '203.0.113.10', dstPort: 80 });
const vmReply = innerPacket({ src: '203.0.113.10', srcPort: 80, dst: '198.51.100.7', dstPort: 40000, tcpFlags: TCP_FLAGS.SYN | TCP_FLAGS.ACK });

for (const factory of plan.targets) {
  describe(`host host-a on the ${factory.name} target`, () => {
    // One target a file: each scenario loads the program again, which starts it afresh (empty
    // tables, zero counters) on either target; BMv2 keeps its process and veth pairs.
    const target = factory.create({ ports: HOST_PORTS });
    const scenario = () => hostScenario('host-a', { target });

    afterAll(async () => {
      await target.close();
    });

    it('delivers a tunnelled packet with a valid token to the local VM, decapsulated, on its NIC port with its MAC', async () => {
      const { sw, spec, host, vm } = await scenario();
      const a1 = vm('vm-a1');
      await sw.send(UNDERLAY_PORT, gatewayTunnelFrame(spec, gatewayByName(spec, 'gw-east'), vipByName(spec, 'web'), a1, clientSyn));
      await sw.expectPacket(a1.nicPort, frame(vmMac(a1), host.underlay.mac, clientSyn));
      await sw.expectNoPacket();
      await sw.expectCounter(HOST_P4.vmRx, backendId(spec, 'vm-a1'), { packets: 1 });
    });

    it('accepts the other gateway\'s token too', async () => {
      const { sw, spec, host, vm } = await scenario();
      const a2 = vm('vm-a2');
      await sw.send(UNDERLAY_PORT, gatewayTunnelFrame(spec, gatewayByName(spec, 'gw-west'), vipByName(spec, 'web'), a2, clientSyn));
      await sw.expectPacket(a2.nicPort, frame(vmMac(a2), host.underlay.mac, clientSyn));
    });

    it('drops a tunnelled packet with a forged token, counted as bad-token', async () => {
      const { sw, spec, vm } = await scenario();
      const forged = gatewayTunnelFrame(spec, gatewayByName(spec, 'gw-east'), vipByName(spec, 'web'), vm('vm-a1'), clientSyn, { token: 0xdeadbeefn });
      await sw.send(UNDERLAY_PORT, forged);
      await sw.expectNoPacket();
      await sw.expectCounter(HOST_P4.drops, DROP['bad-token']!, { packets: 1 });
    });

    it('drops a token minted for another VM of the same host, counted as bad-token', async () => {
      const { sw, spec, vm } = await scenario();
      const gw = gatewayByName(spec, 'gw-east');
      const web = vipByName(spec, 'web');
      const forA2 = gatewayTunnelFrame(spec, gw, web, vm('vm-a2'), clientSyn);
      const tokenForA2 = forA2.slice(42, 50).reduce((n, b) => (n << 8n) | BigInt(b), 0n);
      await sw.send(UNDERLAY_PORT, gatewayTunnelFrame(spec, gw, web, vm('vm-a1'), clientSyn, { token: tokenForA2 }));
      await sw.expectNoPacket();
      await sw.expectCounter(HOST_P4.drops, DROP['bad-token']!, { packets: 1 });
    });

    it('drops a tunnelled packet to the UDP port of a VM on another host, counted as not-local-vm', async () => {
      const { sw, spec, vm } = await scenario();
      await sw.send(UNDERLAY_PORT, gatewayTunnelFrame(spec, gatewayByName(spec, 'gw-east'), vipByName(spec, 'web'), vm('vm-b1'), clientSyn));
      await sw.expectNoPacket();
      await sw.expectCounter(HOST_P4.drops, DROP['not-local-vm']!, { packets: 1 });
    });

    it('encapsulates a VM\'s packet toward its gateway with the token installed for that VM', async () => {
      const { sw, spec, vm, vmFrame, replyGateway } = await scenario();
      const a1 = vm('vm-a1');
      await sw.send(a1.nicPort, vmFrame('vm-a1', { src: '203.0.113.10', srcPort: 80, dst: '198.51.100.7', dstPort: 40000, tcpFlags: TCP_FLAGS.SYN | TCP_FLAGS.ACK }));
      await sw.expectPacket(UNDERLAY_PORT, hostTunnelFrame(spec, replyGateway, a1, vmReply));
      await sw.expectCounter(HOST_P4.vmTx, backendId(spec, 'vm-a1'), { packets: 1 });
    });

    it('drops a VM\'s packet when the controller installed no peer for it, counted as no-peer', async () => {
      const { sw, vmFrame } = await scenario();
      // A VM port the controller knows, with no peer entry (no token): policy forbids sending.
      await sw.insert(HOST_P4.vmPort, { port: 7 }, 'from_vm', { vm_id: 99, vm_udp_port: 7099 });
      await sw.send(7, vmFrame('vm-a1', { src: '203.0.113.10', srcPort: 80, dst: '198.51.100.7', dstPort: 40000 }));
      await sw.expectNoPacket();
      await sw.expectCounter(HOST_P4.drops, DROP['no-peer']!, { packets: 1 });
    });
  });
}
