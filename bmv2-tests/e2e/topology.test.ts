import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadSpecFile } from '../../core/spec/load.ts';
import { pendingExitCleanups } from './exit-cleanup.ts';
import { findLeaks, hasLeaks, removeTag } from './leaks.ts';
import { run } from './run.ts';
import { buildTopology, randomTag, topologySupport, type Topology } from './topology.ts';
import { startVmServers, type VmServers } from './vm-servers.ts';

const support = await topologySupport();
const SKIP_REASON = support.ok ? '' : ` — skipped: ${support.reason}`;
const spec = await loadSpecFile(fileURLToPath(new URL('../../examples/example.yaml', import.meta.url)));
const NO_LEAKS = { namespaces: [], links: [] };

/** A bounded HTTP GET run with node inside a namespace; prints the body. */
function fetchScript(url: string): string[] {
  return ['-e', `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(3000) }).then(async (r) => console.log(r.status, (await r.text()).trim()))`];
}

/** `count` TCP connection attempts to host:port from the namespace, each abandoned after `waitMs`. */
function connectScript(host: string, port: number, count: number, waitMs: number): string[] {
  return [
    '-e',
    `const net = require('node:net');
     for (let i = 0; i < ${count}; i++) {
       const s = net.connect({ host: '${host}', port: ${port} });
       s.on('error', () => {});
       setTimeout(() => s.destroy(), ${waitMs});
     }`,
  ];
}

async function rxPackets(topology: Topology, netns: string | undefined, ifname: string): Promise<number> {
  const { stdout } = await topology.exec(netns, 'ip', ['-s', '-j', 'link', 'show', ifname]);
  return (JSON.parse(stdout) as { stats64: { rx: { packets: number } } }[])[0]!.stats64.rx.packets;
}

async function sysctl(topology: Topology, netns: string, key: string): Promise<string> {
  return (await topology.exec(netns, 'sysctl', ['-n', key])).stdout.trim();
}

function alive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe.skipIf(!support.ok)(`e2e topology of the example${SKIP_REASON}`, () => {
  describe('one build', () => {
    let topology: Topology;
    let servers: VmServers;

    beforeAll(async () => {
      topology = await buildTopology(spec);
      servers = await startVmServers(topology, spec);
    }, 20_000);
    afterAll(async () => {
      await topology?.destroy();
    });

    it('routes each VIP over both gateways with a layer-4 hash and static next-hop neighbours', async () => {
      const router = topology.layout.router;
      expect(await sysctl(topology, router.netns, 'net.ipv4.fib_multipath_hash_policy')).toBe(existsSync('/proc/sys/net/ipv4/fib_multipath_hash_fields') ? '3' : '1');
      expect(await sysctl(topology, router.netns, 'net.ipv4.ip_forward')).toBe('1');
      for (const vip of ['203.0.113.10', '203.0.113.20']) {
        const { stdout } = await topology.exec(router.netns, 'ip', ['route', 'show', `${vip}/32`]);
        for (const link of router.gatewayLinks) expect(stdout).toContain(`nexthop via ${link.nextHop} dev ${link.ifname}`);
      }
      const { stdout } = await topology.exec(router.netns, 'ip', ['neigh', 'show', 'nud', 'permanent']);
      expect(stdout).toContain(`192.0.2.2 dev ${router.gatewayLinks[0]!.ifname} lladdr 02:00:00:00:00:01 PERMANENT`);
      expect(stdout).toContain(`192.0.2.6 dev ${router.gatewayLinks[1]!.ifname} lladdr 02:00:00:00:00:02 PERMANENT`);
    });

    it('spreads the flows of one client over both gateways by source port', async () => {
      const router = topology.layout.router;
      const chosen = new Set<string>();
      for (let sport = 40000; sport < 40032; sport++) {
        const { stdout } = await topology.exec(router.netns, 'ip', [
          'route', 'get', '203.0.113.10', 'from', topology.layout.clients[0]!.address, 'iif', router.clientLinks[0]!.ifname,
          'ipproto', 'tcp', 'sport', String(sport), 'dport', '80',
        ]);
        chosen.add(/ dev (\S+)/.exec(stdout)![1]!);
      }
      expect([...chosen].sort()).toEqual(router.gatewayLinks.map((l) => l.ifname).sort());
    });

    it("delivers a client's connection attempts to both gateways' public switch ports", async () => {
      const sw = topology.namespaces.switches;
      const publicPorts = ['gw-east', 'gw-west'].map((g) => topology.switchPorts(g).ports.find((p) => p.role === 'public')!.ifname);
      const before = await Promise.all(publicPorts.map((p) => rxPackets(topology, sw, p)));
      const client = topology.layout.clients[1]!;
      await topology.exec(client.netns, process.execPath, connectScript('203.0.113.10', 80, 24, 300));
      const after = await Promise.all(publicPorts.map((p) => rxPackets(topology, sw, p)));
      expect(after[0]! - before[0]!).toBeGreaterThan(0);
      expect(after[1]! - before[1]!).toBeGreaterThan(0);
    });

    it('offers every switch port as an up interface for -i N@ifname, offloads off when ethtool is present', async () => {
      const { stdout } = await topology.exec(topology.namespaces.switches, 'ip', ['-j', 'link', 'show']);
      const links = new Map((JSON.parse(stdout) as { ifname: string; operstate: string }[]).map((l) => [l.ifname, l.operstate]));
      const bindings = Object.values(topology.layout.switches).flatMap((s) => s.bindings);
      expect(bindings).toHaveLength(2 + 2 + 3 + 3);
      for (const binding of bindings) expect(links.get(binding.slice(binding.indexOf('@') + 1))).toBe('UP');
      expect(topology.switchPorts('host-a').bindings.map((b) => b.split('@')[0])).toEqual(['1', '2', '3']);
      if (topology.offloadsDisabled) {
        const port = topology.switchPorts('gw-east').ports[0]!.ifname;
        const features = (await topology.exec(topology.namespaces.switches, 'ethtool', ['-k', port])).stdout;
        expect(features).toMatch(/^tx-checksumming: off/m);
        expect(features).toMatch(/^generic-segmentation-offload: off/m);
      } else {
        expect(topology.warnings.join('\n')).toContain('ethtool is not installed');
      }
    });

    it('joins the gateways and hosts underlay ports with one bridge', async () => {
      const { underlay } = topology.layout;
      const { stdout } = await topology.exec(underlay.netns, 'ip', ['-j', 'link', 'show', 'master', underlay.bridge]);
      expect((JSON.parse(stdout) as { ifname: string }[]).map((l) => l.ifname).sort()).toEqual(Object.values(underlay.ports).sort());
    });

    it('configures each VM: spec MAC and private /32, VIP on lo, static default gateway, rp_filter and IPv6 off', async () => {
      for (const vm of spec.vms) {
        const v = topology.vm(vm.name);
        const addresses = (await topology.exec(v.netns, 'ip', ['-br', 'address'])).stdout;
        expect(addresses).toMatch(new RegExp(`^${v.ifname}@\\S+\\s+UP\\s+${v.address.replace(/\./g, '\\.')}/32`, 'm'));
        expect(addresses).toMatch(/^lo\s+UNKNOWN\s+127\.0\.0\.1\/8 203\.0\.113\.10\/32/m);
        expect((await topology.exec(v.netns, 'ip', ['-br', 'link', 'show', v.ifname])).stdout).toContain(v.mac);
        expect((await topology.exec(v.netns, 'ip', ['route', 'show', 'default'])).stdout.trim()).toBe(`default via 169.254.1.1 dev ${v.ifname} onlink`);
        expect((await topology.exec(v.netns, 'ip', ['neigh', 'show', '169.254.1.1'])).stdout).toContain(`lladdr ${v.gatewayMac} PERMANENT`);
        expect(await sysctl(topology, v.netns, 'net.ipv4.conf.all.rp_filter')).toBe('0');
        expect(await sysctl(topology, v.netns, 'net.ipv6.conf.all.disable_ipv6')).toBe('1');
      }
    });

    it("answers HTTP with the VM's name on each private address and on the VIP, through a bridge standing in for the host switch", async () => {
      for (const host of spec.hosts) {
        const stand = await topology.standInHostSwitch(host.name);
        try {
          for (const vm of spec.vms.filter((v) => v.host === host.name)) {
            const { stdout } = await topology.exec(stand.netns, process.execPath, fetchScript(`http://${vm.privateIpv4}/`));
            expect(stdout.trim()).toBe(`200 ${vm.name}`);
          }
          // Tunnel mode: a packet for the VIP, sent to one VM's MAC, is answered by that VM from the VIP.
          const first = topology.vm(spec.vms.find((v) => v.host === host.name)!.name);
          await topology.exec(stand.netns, 'ip', ['route', 'add', '203.0.113.10/32', 'dev', stand.ifname]);
          await topology.exec(stand.netns, 'ip', ['neigh', 'replace', '203.0.113.10', 'lladdr', first.mac, 'dev', stand.ifname, 'nud', 'permanent']);
          const { stdout } = await topology.exec(stand.netns, process.execPath, fetchScript('http://203.0.113.10/healthz'));
          expect(stdout.trim()).toBe(`200 ${first.name}`);
        } finally {
          await stand.remove();
        }
      }
      expect([...servers.servers.keys()].sort()).toEqual(['vm-a1', 'vm-a2', 'vm-b1', 'vm-b2']);
    });

    it('destroys everything, stops the servers, and is idempotent', async () => {
      const pids = [...servers.servers.values()].map((s) => s.process.pid);
      expect(hasLeaks(await findLeaks(topology.tag))).toBe(true);
      await Promise.all([topology.destroy(), topology.destroy()]);
      await topology.destroy();
      expect(await findLeaks(topology.tag)).toEqual(NO_LEAKS);
      for (const pid of pids) expect(alive(pid)).toBe(false);
      expect(pendingExitCleanups()).toBe(0);
      expect(() => topology.exec(topology.namespaces.router, 'true', [])).toThrow(expect.objectContaining({ code: 'E2E_DESTROYED' }));
    });
  });

  it('removes everything built so far when a step throws in the middle', async () => {
    const tag = randomTag();
    let vmNamespaces = 0;
    const build = buildTopology(spec, {
      tag,
      onStep: (step) => {
        if (step.kind === 'netns' && step.role === 'vm' && ++vmNamespaces === 3) throw new Error('injected failure');
      },
    });
    await expect(build).rejects.toMatchObject({ code: 'E2E_BUILD_FAILED', message: expect.stringContaining('injected failure') });
    expect(vmNamespaces).toBe(3);
    expect(await findLeaks(tag)).toEqual(NO_LEAKS);
  });

  it('removes everything when a command fails late in the build (a bad neighbour MAC)', async () => {
    const tag = randomTag();
    const build = buildTopology(spec, { tag, switchPlacement: 'root', gatewayPublicMac: () => 'not-a-mac' });
    await expect(build).rejects.toMatchObject({ code: 'E2E_BUILD_FAILED', message: expect.stringMatching(/neighbour 192\.0\.2\.2 .*lladdr not-a-mac/) });
    expect(await findLeaks(tag)).toEqual(NO_LEAKS);
  });

  it('refuses a tag that is in use', async () => {
    const topology = await buildTopology(spec, { clients: 1 });
    try {
      await expect(buildTopology(spec, { tag: topology.tag })).rejects.toMatchObject({ code: 'E2E_TAG_IN_USE' });
    } finally {
      await topology.destroy();
    }
  });

  it('builds in parallel under different tags without collisions, switch ends in a namespace or the root', async () => {
    const [a, b] = await Promise.all([
      buildTopology(spec, { clients: 1 }),
      buildTopology(spec, { clients: 1, switchPlacement: 'root' }),
    ]);
    try {
      expect(a.tag).not.toBe(b.tag);
      const leaksA = await findLeaks(a.tag);
      const leaksB = await findLeaks(b.tag);
      expect(leaksA.namespaces).toHaveLength(1 + 2 + 1 + 4);
      expect(leaksA.links).toEqual([]);
      expect(leaksB.namespaces).toHaveLength(1 + 2 + 4);
      // Root placement: the ten switch ends are in the root namespace, IPv6 off on each.
      expect(leaksB.links).toHaveLength(10);
      for (const link of leaksB.links) {
        if (existsSync('/proc/sys/net/ipv6')) expect(readFileSync(`/proc/sys/net/ipv6/conf/${link}/disable_ipv6`, 'utf8').trim()).toBe('1');
      }
      expect(b.switchPorts('gw-east').netns).toBeUndefined();
    } finally {
      await Promise.all([a.destroy(), b.destroy()]);
    }
    expect(await findLeaks(a.tag)).toEqual(NO_LEAKS);
    expect(await findLeaks(b.tag)).toEqual(NO_LEAKS);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('removes everything, servers included, when the process gets %s', async (signal) => {
    const tag = randomTag();
    const fixture = fileURLToPath(new URL('./fixtures/hold-topology.ts', import.meta.url));
    const runTs = fileURLToPath(new URL('../../bin/run-ts.js', import.meta.url));
    const child = spawn(process.execPath, [runTs, fixture, tag], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('close', (code, sig) => resolve(sig ?? code)));
    let output = '';
    const built = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fixture not built in time: ${output}`)), 15_000);
      const watch = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.includes(`built ${tag}`)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', watch);
      child.stderr.on('data', watch);
      void exited.then(() => reject(new Error(`fixture ended early: ${output}`)));
    });
    try {
      await built;
      const { namespaces } = await findLeaks(tag);
      const vmNamespaces = namespaces.filter((n) => n.includes('-vm-'));
      expect(vmNamespaces).toHaveLength(4);
      const pids = (await Promise.all(vmNamespaces.map((n) => run('ip', ['netns', 'pids', n]))))
        .flatMap((r) => r.stdout.split(/\s+/).filter((t) => t !== ''))
        .map(Number);
      expect(pids).toHaveLength(4);
      child.kill(signal);
      expect(await exited).toBe(signal);
      expect(await findLeaks(tag)).toEqual(NO_LEAKS);
      for (const pid of pids) expect(alive(pid)).toBe(false);
    } finally {
      // A failed assertion must not strand the fixture's topology: its own cleanup first, then ours.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      child.kill('SIGKILL');
      await removeTag(tag);
    }
  }, 25_000);
});
