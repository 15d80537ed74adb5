import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { loadSpecFile } from '../../core/spec/load.ts';
import { MAX_IFNAME_BYTES } from '../../target/ports/port-binding.ts';
import { parseNetnsList } from './leaks.ts';
import { commandsOf, isRunInterface, planHostStandIn, planTopology, TAG_PATTERN, type BuildStep } from './plan.ts';
import { vmListenAddresses } from './vm-servers.ts';
import { randomTag } from './topology.ts';

const spec = await loadSpecFile(new URL('../../examples/example.yaml', import.meta.url).pathname);
const plan = planTopology(spec, { tag: 'tst01', clients: 2, switchPlacement: 'namespace' });
const { layout } = plan;
const on = { disableOffloads: true, ipv6: true };

function interfacesOf(steps: readonly BuildStep[]): string[] {
  return steps.flatMap((s) => (s.kind === 'veth' ? [s.a.ifname, s.b.ifname] : s.kind === 'bridge' ? [s.ifname] : []));
}

describe('planTopology on the example', () => {
  it('binds each gateway and host switch port by spec port number', () => {
    expect(layout.switches['gw-east']!.bindings).toEqual(['1@tst01g0-1', '2@tst01g0-2']);
    expect(layout.switches['gw-west']!.interfaceArgs).toEqual(['-i', '1@tst01g1-1', '-i', '2@tst01g1-2']);
    expect(layout.switches['host-a']!.bindings).toEqual(['1@tst01h0-1', '2@tst01h0-2', '3@tst01h0-3']);
    expect(layout.switches['host-b']!.ports.map((p) => p.vm)).toEqual([undefined, 'vm-b1', 'vm-b2']);
    expect(layout.switches['host-a']!.netns).toBe('p4lb-tst01-switches');
  });

  it('routes every VIP over both gateway links, with permanent neighbours for the next hops', () => {
    const routes = plan.steps.filter((s) => s.kind === 'route' && s.netns === layout.router.netns);
    expect(routes.map((r) => commandsOf(r, on)[0]!.args)).toEqual([
      ['-n', 'p4lb-tst01-router', 'route', 'add', '203.0.113.10/32', 'nexthop', 'via', '192.0.2.2', 'dev', 'tst01rg0', 'nexthop', 'via', '192.0.2.6', 'dev', 'tst01rg1'],
      ['-n', 'p4lb-tst01-router', 'route', 'add', '203.0.113.20/32', 'nexthop', 'via', '192.0.2.2', 'dev', 'tst01rg0', 'nexthop', 'via', '192.0.2.6', 'dev', 'tst01rg1'],
    ]);
    const neighbours = plan.steps.filter((s) => s.kind === 'neigh' && s.netns === layout.router.netns);
    expect(neighbours.map((n) => commandsOf(n, on)[0]!.args.slice(2).join(' '))).toEqual([
      'neigh replace 192.0.2.2 lladdr 02:00:00:00:00:01 dev tst01rg0 nud permanent',
      'neigh replace 192.0.2.6 lladdr 02:00:00:00:00:02 dev tst01rg1 nud permanent',
    ]);
    expect(layout.router.gatewayLinks.map((l) => l.mac)).toEqual(['02:72:74:00:00:01', '02:72:74:00:00:02']);
  });

  it('turns on forwarding and a header-field multipath hash in the router only (layer 4 on kernels without hash fields)', () => {
    const router = plan.steps.find((s) => s.kind === 'netns' && s.role === 'router')!;
    expect(commandsOf(router, on)[1]!.args).toEqual(
      expect.arrayContaining(['net.ipv4.ip_forward=1', 'net.ipv4.fib_multipath_hash_policy=3', 'net.ipv4.fib_multipath_hash_fields=0x0037', 'net.ipv4.conf.all.rp_filter=0']),
    );
    const old = commandsOf(router, { ...on, multipathHashFields: false })[1]!.args;
    expect(old).toContain('net.ipv4.fib_multipath_hash_policy=1');
    expect(old.some((a) => a.startsWith('net.ipv4.fib_multipath_hash_fields'))).toBe(false);
    const vm = plan.steps.find((s) => s.kind === 'netns' && s.role === 'vm')!;
    const vmSysctls = commandsOf(vm, on)[1]!.args;
    expect(vmSysctls).toContain('net.ipv6.conf.all.disable_ipv6=1');
    expect(vmSysctls).not.toContain('net.ipv4.ip_forward=1');
    expect(commandsOf(vm, { ...on, ipv6: false })[1]!.args.some((a) => a.startsWith('net.ipv6.'))).toBe(false);
  });

  it('gives each VM its spec MAC, a /32, the tunnel VIPs on lo and a static default gateway', () => {
    const a1 = layout.vms['vm-a1']!;
    expect(a1).toMatchObject({ mac: '02:00:c0:a8:01:0b', address: '192.168.1.11', loopbackAddresses: ['203.0.113.10'], gatewayMac: '02:00:00:00:01:01' });
    const mine = plan.steps.filter((s) => 'netns' in s && s.netns === a1.netns && s.kind !== 'bridge');
    expect(mine.flatMap((s) => commandsOf(s, on)).map((c) => c.args.slice(2).join(' '))).toEqual([
      'address add 203.0.113.10/32 dev lo',
      'neigh replace 169.254.1.1 lladdr 02:00:00:00:01:01 dev tst01v0 nud permanent',
      'route add default via 169.254.1.1 dev tst01v0 onlink',
      'route add 198.18.1.1/32 dev tst01m0',
    ]);
    expect(layout.vms['vm-b2']!.gatewayMac).toBe('02:00:00:00:01:02');
  });

  it('reaches every VM from the switches namespace over a management bridge, and only with the switches in a namespace', () => {
    expect(layout.management).toEqual({
      netns: 'p4lb-tst01-switches',
      bridge: 'tst01mb',
      address: '198.18.1.1',
      vmInterfaces: { 'vm-a1': 'tst01m0', 'vm-a2': 'tst01m1', 'vm-b1': 'tst01m2', 'vm-b2': 'tst01m3' },
    });
    const inSwitches = plan.steps.filter((s) => s.kind !== 'veth' && 'netns' in s && s.netns === 'p4lb-tst01-switches');
    expect(inSwitches.flatMap((s) => commandsOf(s, on)).map((c) => c.args.slice(2).join(' '))).toEqual([
      'link add tst01mb mtu 1500 type bridge stp_state 0',
      'link set tst01mb0 master tst01mb',
      'link set tst01mb1 master tst01mb',
      'link set tst01mb2 master tst01mb',
      'link set tst01mb3 master tst01mb',
      'link set tst01mb up',
      'address add 198.18.1.1/32 dev tst01mb',
      'route add 192.168.1.11/32 dev tst01mb',
      'route add 192.168.1.12/32 dev tst01mb',
      'route add 192.168.2.11/32 dev tst01mb',
      'route add 192.168.2.12/32 dev tst01mb',
    ]);
    expect(planTopology(spec, { tag: 'tst01', clients: 1, switchPlacement: 'root' }).layout.management).toBeUndefined();
  });

  it('creates each veth pair directly in its namespaces, offloads off, with jumbo MTU on the underlay', () => {
    const vmLink = plan.steps.find((s) => s.kind === 'veth' && s.b.ifname === 'tst01v0')!;
    const commands = commandsOf(vmLink, on).map((c) => [c.cmd, ...c.args].join(' '));
    expect(commands).toEqual([
      'ip link add tst01h0-2 netns p4lb-tst01-switches mtu 1500 type veth peer name tst01v0 netns p4lb-tst01-vm-vm-a1 mtu 1500 address 02:00:c0:a8:01:0b',
      'ip netns exec p4lb-tst01-switches ethtool -K tst01h0-2 tx off tso off gso off gro off',
      'ip -n p4lb-tst01-switches link set tst01h0-2 up',
      'ip netns exec p4lb-tst01-vm-vm-a1 ethtool -K tst01v0 tx off tso off gso off gro off',
      'ip -n p4lb-tst01-vm-vm-a1 address add 192.168.1.11/32 dev tst01v0',
      'ip -n p4lb-tst01-vm-vm-a1 link set tst01v0 up',
    ]);
    expect(commandsOf(vmLink, { ...on, disableOffloads: false }).some((c) => c.args.includes('ethtool'))).toBe(false);
    const bridge = plan.steps.find((s) => s.kind === 'bridge')!;
    expect(bridge).toMatchObject({ netns: 'p4lb-tst01-underlay', mtu: 9000, ports: ['tst01ug0', 'tst01ug1', 'tst01uh0', 'tst01uh1'] });
  });

  it('puts switch ends in the root namespace on request, with IPv6 turned off per interface', () => {
    const root = planTopology(spec, { tag: 'tst02', clients: 1, switchPlacement: 'root' });
    expect(root.layout.namespaces.switches).toBeUndefined();
    expect(root.layout.switches['gw-east']!.netns).toBeUndefined();
    const link = root.steps.find((s) => s.kind === 'veth' && s.a.ifname === 'tst02h0-2')!;
    const commands = commandsOf(link, on).map((c) => [c.cmd, ...c.args].join(' '));
    expect(commands.slice(0, 4)).toEqual([
      'ip link add tst02h0-2 mtu 1500 type veth peer name tst02v0 netns p4lb-tst02-vm-vm-a1 mtu 1500 address 02:00:c0:a8:01:0b',
      'sysctl -q -w net.ipv6.conf.tst02h0-2.disable_ipv6=1',
      'ethtool -K tst02h0-2 tx off tso off gso off gro off',
      'ip link set tst02h0-2 up',
    ]);
  });

  it('uses a custom gateway public MAC for the router neighbour and rejects one equal to the router MAC', () => {
    const custom = planTopology(spec, { tag: 'tst03', clients: 1, switchPlacement: 'namespace', gatewayPublicMac: (g) => (g.name === 'gw-east' ? '02:AA:00:00:00:01' : g.underlay.mac) });
    expect(custom.layout.router.gatewayLinks[0]!.nextHopMac).toBe('02:aa:00:00:00:01');
    expect(() => planTopology(spec, { tag: 'tst03', clients: 1, switchPlacement: 'namespace', gatewayPublicMac: () => '02:72:74:00:00:01' })).toThrow(
      expect.objectContaining({ code: 'E2E_PLAN_INVALID' }),
    );
  });

  it('rejects bad tags and client counts', () => {
    for (const tag of ['', 'ab', 'Abc', 'a-bc', 'abcdefg', '1abc']) {
      expect(() => planTopology(spec, { tag, clients: 1, switchPlacement: 'namespace' })).toThrow(expect.objectContaining({ code: 'E2E_BAD_TAG' }));
    }
    for (const clients of [0, 64, 1.5]) {
      expect(() => planTopology(spec, { tag: 'tst04', clients, switchPlacement: 'namespace' })).toThrow(expect.objectContaining({ code: 'E2E_PLAN_INVALID' }));
    }
  });

  it('keeps every name within IFNAMSIZ, unique, and marked with the tag, for any tag, client count and placement', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(TAG_PATTERN),
        fc.integer({ min: 1, max: 63 }),
        fc.constantFrom('namespace' as const, 'root' as const),
        (tag, clients, switchPlacement) => {
          const p = planTopology(spec, { tag, clients, switchPlacement });
          const names = interfacesOf(p.steps);
          expect(new Set(names).size).toBe(names.length);
          for (const n of names) {
            expect(isRunInterface(tag, n)).toBe(true);
            expect(Buffer.byteLength(n)).toBeLessThanOrEqual(MAX_IFNAME_BYTES);
          }
          const namespaces = p.steps.filter((s) => s.kind === 'netns').map((s) => s.name);
          expect(new Set(namespaces).size).toBe(namespaces.length);
          for (const n of namespaces) expect(n.startsWith(`p4lb-${tag}-`)).toBe(true);
          expect(namespaces).toHaveLength(clients + 2 + spec.vms.length + (switchPlacement === 'namespace' ? 1 : 0));
          const clientAddresses = p.layout.clients.map((c) => c.address);
          expect(new Set(clientAddresses).size).toBe(clients);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("tells the run's interfaces from other names that start with the tag", () => {
    const stand = planHostStandIn(spec, layout, 'host-a');
    for (const n of interfacesOf([...plan.steps, ...stand.steps])) expect(isRunInterface('tst01', n)).toBe(true);
    for (const n of ['tst01', 'tst01-0-1a', 'tst01x', 'tst01g0', 'tst0g0-1', 'eth0']) expect(isRunInterface('tst01', n)).toBe(false);
  });

  it('makes random tags the builder accepts', () => {
    for (let i = 0; i < 100; i++) expect(randomTag()).toMatch(TAG_PATTERN);
  });
});

describe('planHostStandIn', () => {
  it('bridges the VM ports only and gives the probe the host MAC and a route and neighbour per VM', () => {
    const stand = planHostStandIn(spec, layout, 'host-b');
    expect(stand.layout).toMatchObject({ netns: 'p4lb-tst01-probe-host-b', mac: '02:00:00:00:01:02', address: '198.18.0.2', bridge: 'tst01sb1' });
    const bridge = stand.steps.find((s) => s.kind === 'bridge')!;
    expect(bridge).toMatchObject({ netns: 'p4lb-tst01-switches', ports: ['tst01h1-2', 'tst01h1-3', 'tst01pb1'] });
    const probeCommands = stand.steps.filter((s) => s.kind === 'route' || s.kind === 'neigh').flatMap((s) => commandsOf(s, on)).map((c) => c.args.slice(2).join(' '));
    expect(probeCommands).toEqual([
      'neigh replace 192.168.2.11 lladdr 02:00:c0:a8:02:0b dev tst01p1 nud permanent',
      'route add 192.168.2.11/32 dev tst01p1',
      'neigh replace 192.168.2.12 lladdr 02:00:c0:a8:02:0c dev tst01p1 nud permanent',
      'route add 192.168.2.12/32 dev tst01p1',
    ]);
  });
});

describe('vmListenAddresses', () => {
  it('listens on the VIP for tunnel mode, on the private address and target port for NAT mode, and on the private address for health checks', () => {
    expect(vmListenAddresses(spec, 'vm-a1')).toEqual([
      { address: '192.168.1.11', port: 80 },
      { address: '203.0.113.10', port: 80 },
    ]);
  });

  it('adds a health-check port that differs from the service port', () => {
    const changed = { ...spec, vips: spec.vips.map((v) => (v.name === 'api' ? { ...v, healthCheck: { ...v.healthCheck, port: 9000 } } : v)) };
    expect(vmListenAddresses(changed, 'vm-b2')).toEqual([
      { address: '192.168.2.12', port: 80 },
      { address: '192.168.2.12', port: 9000 },
      { address: '203.0.113.10', port: 80 },
    ]);
    const tunnelCheck = { ...spec, vips: spec.vips.map((v) => (v.name === 'web' ? { ...v, healthCheck: { ...v.healthCheck, port: 8081 } } : v)) };
    expect(vmListenAddresses(tunnelCheck, 'vm-a1')).toEqual([
      { address: '192.168.1.11', port: 80 },
      { address: '192.168.1.11', port: 8081 },
      { address: '203.0.113.10', port: 80 },
    ]);
  });
});

describe('parseNetnsList', () => {
  it('reads names with and without ids', () => {
    expect(parseNetnsList('p4lb-x-router (id: 3)\nother\n\n')).toEqual(['p4lb-x-router', 'other']);
  });
});
