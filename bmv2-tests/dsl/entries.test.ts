import { describe, expect, it } from 'vitest';
import { FLOW_KEY_CODES, VIP_MODE_CODES, idleTimeoutTicks } from '../../core/p4-contract.ts';
import { backendId, gatewayByName, vipByName, vmByName, vipId } from '../../core/spec/lookup.ts';
import { verifyToken } from '../../core/token/token.ts';
import { GATEWAY_P4, HOST_P4, gatewayEntries, hostEntries, replyTokenFields, requestTokenFields, type ProgramEntries } from './entries.ts';
import { CLIENT_ROUTER_MAC, TEST_EXPIRY, TEST_KEYS, exampleSpec } from './scenario.ts';

const spec = exampleSpec();
const ofTable = (e: ProgramEntries, table: string) => e.entries.filter((x) => x.table === table);
const east = gatewayEntries(spec, { gateway: 'gw-east', keys: TEST_KEYS, expiry: TEST_EXPIRY, publicNextHopMac: CLIENT_ROUTER_MAC });

describe('gateway entries for the example', () => {
  it('one VIP entry per VIP port, with set_vip parameters per core/p4-contract', () => {
    expect(ofTable(east, GATEWAY_P4.vipTable)).toEqual([
      {
        table: GATEWAY_P4.vipTable,
        keys: { dst_addr: '203.0.113.10', protocol: 6, dst_port: 80 },
        action: 'GatewayIngress.set_vip',
        params: { vip_id: vipId(spec, 'web'), mode: VIP_MODE_CODES.tunnel, flow_key: FLOW_KEY_CODES['5-tuple'].code, slots: 65536, idle_ticks: idleTimeoutTicks(120), nat_port: 0 },
      },
      {
        table: GATEWAY_P4.vipTable,
        keys: { dst_addr: '203.0.113.20', protocol: 6, dst_port: 8080 },
        action: 'GatewayIngress.set_vip',
        params: { vip_id: vipId(spec, 'api'), mode: VIP_MODE_CODES.nat, flow_key: FLOW_KEY_CODES['5-tuple'].code, slots: 65536, idle_ticks: idleTimeoutTicks(120), nat_port: 80 },
      },
    ]);
  });

  it('fills every slot of every VIP; geoPreference keeps gw-east on the east VMs and gw-west on the west ones', () => {
    const owners = (e: ProgramEntries, vip: string) =>
      new Set(ofTable(e, GATEWAY_P4.slotTable).filter((x) => x.keys.vip_id === vipId(spec, vip)).map((x) => x.params.backend_id));
    expect(ofTable(east, GATEWAY_P4.slotTable)).toHaveLength(2 * 65536);
    expect(owners(east, 'web')).toEqual(new Set([backendId(spec, 'vm-a1'), backendId(spec, 'vm-a2')]));
    expect(owners(east, 'api')).toEqual(new Set(['vm-a1', 'vm-a2', 'vm-b1', 'vm-b2'].map((n) => backendId(spec, n))));
    const west = gatewayEntries(spec, { gateway: 'gw-west', keys: TEST_KEYS, expiry: TEST_EXPIRY, publicNextHopMac: CLIENT_ROUTER_MAC });
    expect(owners(west, 'web')).toEqual(new Set([backendId(spec, 'vm-b1'), backendId(spec, 'vm-b2')]));
  });

  it('gives each (VIP, VM) a backend entry whose token the VM\'s host verifies', () => {
    const backends = ofTable(east, GATEWAY_P4.backendTable);
    expect(backends).toHaveLength(8);
    const gw = gatewayByName(spec, 'gw-east');
    for (const [vip, vm] of [['web', 'vm-a1'], ['api', 'vm-b2']] as const) {
      const e = backends.find((x) => x.keys.vip_id === vipId(spec, vip) && x.keys.backend_id === backendId(spec, vm))!;
      const fields = requestTokenFields(spec, gw, vipByName(spec, vip), vmByName(spec, vm), TEST_EXPIRY);
      const host = vm === 'vm-a1' ? 'host-a' : 'host-b';
      expect(verifyToken(TEST_KEYS.host(host), fields, e.params.token as bigint, TEST_EXPIRY, 0)).toEqual({ ok: true });
      expect(fields.innerDstIp).toBe(vip === 'web' ? '203.0.113.10' : vmByName(spec, vm).privateIpv4);
    }
  });

  it('accepts one reply token per VM, reverses NAT per NAT backend, routes to each host and by default to the public side', () => {
    expect(ofTable(east, GATEWAY_P4.tokenTable)).toHaveLength(4);
    expect(ofTable(east, GATEWAY_P4.natReverse).map((x) => x.keys.vm_addr)).toEqual(['192.168.1.11', '192.168.1.12', '192.168.2.11', '192.168.2.12']);
    expect(ofTable(east, GATEWAY_P4.routes).map((x) => [x.keys.dst_addr, x.params.port, x.params.dst_mac])).toEqual([
      [{ value: '10.0.1.1', prefixLength: 32 }, 2, '02:00:00:00:01:01'],
      [{ value: '10.0.1.2', prefixLength: 32 }, 2, '02:00:00:00:01:02'],
      [{ value: '0.0.0.0', prefixLength: 0 }, 1, CLIENT_ROUTER_MAC],
    ]);
  });
});

describe('host entries for the example', () => {
  const a = hostEntries(spec, { host: 'host-a', keys: TEST_KEYS, expiry: TEST_EXPIRY });

  it('knows its VMs by tunnel port and by NIC port', () => {
    expect(ofTable(a, HOST_P4.localVm).map((x) => [x.keys.vm_udp_port, x.params.port, x.params.vm_mac])).toEqual([
      [7001, 2, '02:00:c0:a8:01:0b'],
      [7002, 3, '02:00:c0:a8:01:0c'],
    ]);
    expect(ofTable(a, HOST_P4.vmPort).map((x) => [x.keys.port, x.params.vm_udp_port])).toEqual([[2, 7001], [3, 7002]]);
  });

  it('accepts the tokens of both gateways for both VIPs of each VM', () => {
    // 2 gateways x 2 VMs x 2 VIPs (tunnel mode binds the VIP, NAT mode the VM's address).
    expect(ofTable(a, HOST_P4.tokenTable)).toHaveLength(8);
  });

  it('sends its VMs\' packets to the gateway of its location with a token that gateway verifies', () => {
    const peers = ofTable(a, HOST_P4.peerTable);
    expect(peers.map((x) => x.params.peer_addr)).toEqual(['10.0.0.1', '10.0.0.1']);
    const gw = gatewayByName(spec, 'gw-east');
    const fields = replyTokenFields(spec, gw, vmByName(spec, 'vm-a1'), TEST_EXPIRY);
    expect(verifyToken(TEST_KEYS.gateway('gw-east'), fields, peers[0]!.params.token as bigint, TEST_EXPIRY, 0)).toEqual({ ok: true });
  });
});
