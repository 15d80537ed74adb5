/**
 * The end-to-end topology as data: which namespaces, veth pairs, bridges, addresses, routes and
 * neighbour entries a spec needs, and the `ip`/`sysctl`/`ethtool` commands that make each one.
 * Pure: topology.ts runs the steps, tests read the plan without root.
 *
 *   client-k ──┐                      ┌─ gw-east public ─[gw-east]─ underlay ─┐
 *   client-k ──┴─ router (ECMP, L4) ──┤                                        ├─ bridge ─┬─ [host-a] ─ vm-a1, vm-a2
 *                                     └─ gw-west public ─[gw-west]─ underlay ─┘           └─ [host-b] ─ vm-b1, vm-b2
 *
 * [switch] ends stay in one "switches" namespace (or the root namespace, switchPlacement 'root').
 * With the switches in their namespace, that namespace is also the control plane's: a management
 * bridge there reaches every VM on a second interface, so a controller started in it can probe
 * the VMs' private addresses (as an operator's management network would) while the switches'
 * P4Runtime servers listen on its loopback.
 */
import type { Gateway, LbSpec } from '../../core/spec/schema.ts';
import { hostByName, vmMac } from '../../core/spec/lookup.ts';
import { MAX_IFNAME_BYTES } from '../../target/ports/port-binding.ts';
import { E2eError } from './errors.ts';
import { inNamespace, type Command } from './run.ts';

/** Every namespace of a run is `p4lb-<tag>-<role>`, so a leak check can find them by tag. */
export const NAMESPACE_PREFIX = 'p4lb-';
/** A letter then 2..5 letters/digits: short enough that `<tag><suffix>` fits IFNAMSIZ. */
export const TAG_PATTERN = /^[a-z][a-z0-9]{2,5}$/;

/** Client links: /30 blocks of TEST-NET-2 (RFC 5737), router .4k+1, client .4k+2. */
const CLIENT_NET = [198, 51, 100] as const;
/** Router ↔ gateway public links: /30 blocks of TEST-NET-1 (RFC 5737), router .4g+1, next hop .4g+2. */
const GATEWAY_LINK_NET = [192, 0, 2] as const;
/** At most 63 /30 blocks fit a /24 (the last, .252/30, would use .254 and is kept for symmetry). */
export const MAX_CLIENTS = 63;
export const MAX_GATEWAYS = 63;
/**
 * The VMs' default gateway: link-local, so it can never be a VM's or a client's address. Nothing
 * owns it; the VMs carry a permanent neighbour entry mapping it to their host's underlay MAC,
 * the source MAC the host switch uses towards them (host-tables' deliver_to_vm host_mac).
 */
export const VM_GATEWAY_ADDRESS = '169.254.1.1';
/** Stand-in probes (tests only): RFC 2544 benchmarking range, one /32 per host. */
const PROBE_NET = [198, 18, 0] as const;
/** Management network (switches namespace ↔ VMs): RFC 2544 benchmarking range, away from the probes'. */
export const MANAGEMENT_ADDRESS = '198.18.1.1';
/** The router's MAC on its link to gateway g is 02:72:74:00:00:<g+1> ("rt"; locally administered). */
const ROUTER_MAC_PREFIX = '02:72:74:00:00';
/** Encapsulation makes underlay frames longer than the VMs' 1500-byte packets; jumbo frames absorb it. */
export const UNDERLAY_MTU = 9000;
export const EDGE_MTU = 1500;

export type SwitchPlacement = 'namespace' | 'root';
export type NamespaceRole = 'client' | 'router' | 'underlay' | 'switches' | 'vm' | 'probe';

export interface PlanOptions {
  readonly tag: string;
  /** Client namespaces, 1..63. */
  readonly clients: number;
  /** Where the switch-side veth ends go: one "switches" namespace (default) or the root namespace. */
  readonly switchPlacement: SwitchPlacement;
  /** The MAC the router sends VIP traffic to on a gateway's public link; default the gateway's underlay MAC. */
  readonly gatewayPublicMac?: (gateway: Gateway) => string;
}

/** One end of a veth pair; `netns` undefined is the root namespace. */
export interface LinkEnd {
  readonly netns: string | undefined;
  readonly ifname: string;
  /** Kernel-chosen when absent. */
  readonly mac?: string;
  /** CIDR addresses. */
  readonly addresses: readonly string[];
}

export type BuildStep =
  | { readonly kind: 'netns'; readonly name: string; readonly role: NamespaceRole; readonly sysctls: readonly Sysctl[] }
  | { readonly kind: 'veth'; readonly a: LinkEnd; readonly b: LinkEnd; readonly mtu: number; readonly purpose: string }
  | { readonly kind: 'bridge'; readonly netns: string | undefined; readonly ifname: string; readonly ports: readonly string[]; readonly mtu: number }
  | { readonly kind: 'address'; readonly netns: string; readonly dev: string; readonly cidr: string }
  | { readonly kind: 'route'; readonly netns: string; readonly destination: string; readonly nexthops: readonly NextHop[] }
  | { readonly kind: 'neigh'; readonly netns: string; readonly address: string; readonly mac: string; readonly dev: string };

export interface Sysctl {
  readonly key: string;
  readonly value: string;
}

export interface NextHop {
  /** Absent for a destination on the link itself. */
  readonly via?: string;
  readonly dev: string;
  /** The gateway is not in the interface's subnet (the VMs' /32 addresses). */
  readonly onlink?: boolean;
}

export interface SwitchPort {
  readonly port: number;
  readonly ifname: string;
  readonly role: 'public' | 'underlay' | 'vm';
  /** The VM behind a host switch's vm port. */
  readonly vm?: string;
}

/** How a switch binds its ports: `simple_switch_grpc -i 1@x -i 2@y` or `p4lb target -i …`. */
export interface SwitchPorts {
  readonly name: string;
  readonly kind: 'gateway' | 'host';
  /** Namespace of the interfaces (InterfacePort's `netns`); undefined for the root namespace. */
  readonly netns: string | undefined;
  /** By port number. */
  readonly ports: readonly SwitchPort[];
  /** `N@ifname`, one per port. */
  readonly bindings: readonly string[];
  /** `['-i', 'N@ifname', …]`, ready to append to a switch's command line. */
  readonly interfaceArgs: readonly string[];
}

export interface ClientLayout {
  readonly name: string;
  readonly netns: string;
  readonly ifname: string;
  readonly address: string;
  readonly routerAddress: string;
}

export interface GatewayLinkLayout {
  readonly gateway: string;
  /** The router's interface and address on the link. */
  readonly ifname: string;
  readonly address: string;
  /** The router's MAC: the gateway's `publicNextHopMac`. */
  readonly mac: string;
  /** The ECMP next hop (no host owns it) and the gateway MAC it resolves to. */
  readonly nextHop: string;
  readonly nextHopMac: string;
}

export interface RouterLayout {
  readonly netns: string;
  readonly clientLinks: readonly { readonly client: string; readonly ifname: string; readonly address: string }[];
  readonly gatewayLinks: readonly GatewayLinkLayout[];
  /** The VIP /32 routes, each over every gateway link. */
  readonly vipRoutes: readonly string[];
}

export interface VmLayout {
  readonly name: string;
  readonly host: string;
  readonly netns: string;
  readonly ifname: string;
  readonly mac: string;
  readonly address: string;
  /** Tunnel-mode VIPs the VM backs, on its loopback. */
  readonly loopbackAddresses: readonly string[];
  readonly gatewayAddress: string;
  readonly gatewayMac: string;
}

export interface UnderlayLayout {
  readonly netns: string;
  readonly bridge: string;
  /** Bridge port per switch (gateway or host name). */
  readonly ports: Readonly<Record<string, string>>;
}

/** The control plane's reach into the VMs (switchPlacement 'namespace' only). */
export interface ManagementLayout {
  /** The switches namespace, where a controller runs. */
  readonly netns: string;
  readonly bridge: string;
  /** The controller's source address on the bridge. */
  readonly address: string;
  /** Per VM: its management interface (its private address is reachable through it). */
  readonly vmInterfaces: Readonly<Record<string, string>>;
}

export interface TopologyLayout {
  readonly tag: string;
  readonly switchPlacement: SwitchPlacement;
  readonly namespaces: {
    readonly router: string;
    readonly underlay: string;
    /** Undefined when the switch ends are in the root namespace. */
    readonly switches: string | undefined;
    readonly clients: readonly string[];
    readonly vms: Readonly<Record<string, string>>;
  };
  readonly switches: Readonly<Record<string, SwitchPorts>>;
  readonly clients: readonly ClientLayout[];
  readonly router: RouterLayout;
  readonly underlay: UnderlayLayout;
  readonly vms: Readonly<Record<string, VmLayout>>;
  /** Undefined when the switch ends are in the root namespace (nothing is addressed there). */
  readonly management: ManagementLayout | undefined;
}

export interface TopologyPlan {
  readonly layout: TopologyLayout;
  readonly steps: readonly BuildStep[];
}

export function namespaceName(tag: string, role: string): string {
  return `${NAMESPACE_PREFIX}${tag}-${role}`;
}

/** `<tag><suffix>`; throws when the kernel would refuse it (more than 15 bytes). */
export function interfaceName(tag: string, suffix: string): string {
  const name = `${tag}${suffix}`;
  if (Buffer.byteLength(name) > MAX_IFNAME_BYTES) {
    throw new E2eError('E2E_PLAN_INVALID', `interface name '${name}' is longer than ${MAX_IFNAME_BYTES} bytes`, {
      hint: 'use a shorter tag',
    });
  }
  return name;
}

/** The suffixes planTopology and planHostStandIn give interfaces, for telling ours from others' `<tag>…` names. */
const SUFFIX_PATTERN = /^(?:c\d+|rc\d+|rg\d+|g\d+-\d+|h\d+-\d+|ug\d+|uh\d+|v\d+|br|sb\d+|pb\d+|p\d+|mb|mb\d+|m\d+)$/;

/** Whether `ifname` is an interface of run `tag` (and not another tool's name that starts the same). */
export function isRunInterface(tag: string, ifname: string): boolean {
  return ifname.startsWith(tag) && SUFFIX_PATTERN.test(ifname.slice(tag.length));
}

export function checkTag(tag: string): void {
  if (!TAG_PATTERN.test(tag)) {
    throw new E2eError('E2E_BAD_TAG', `tag '${tag}' must be a lower-case letter then 2 to 5 letters or digits`, {
      hint: 'it prefixes every interface name, which Linux limits to 15 bytes',
    });
  }
}

const dotted = (net: readonly number[], last: number): string => [...net, last].join('.');
const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/** Every namespace: IPv6 off (no router solicitations, DAD or MLD on the test links), no reverse-path filter. */
const COMMON_SYSCTLS: readonly Sysctl[] = [
  { key: 'net.ipv6.conf.all.disable_ipv6', value: '1' },
  { key: 'net.ipv6.conf.default.disable_ipv6', value: '1' },
  // Replies come back through whichever gateway the host chose, not the way the request went.
  { key: 'net.ipv4.conf.all.rp_filter', value: '0' },
  { key: 'net.ipv4.conf.default.rp_filter', value: '0' },
];

const HASH_POLICY = 'net.ipv4.fib_multipath_hash_policy';
/** Source and destination address, protocol, source and destination port (Linux 5.12 and later). */
const HASH_FIELDS = 'net.ipv4.fib_multipath_hash_fields';

const ROUTER_SYSCTLS: readonly Sysctl[] = [
  ...COMMON_SYSCTLS,
  { key: 'net.ipv4.ip_forward', value: '1' },
  // A hash of the packet's headers (addresses, protocol, ports), as a hardware router computes
  // it: policy 3 with these fields. Policy 1 (layer 4) would reuse the hash the sending socket
  // put on the skb, which is random per socket and changes on a TCP timeout, so one 5-tuple
  // could take either gateway.
  { key: HASH_POLICY, value: '3' },
  { key: HASH_FIELDS, value: '0x0037' },
];

export function planTopology(spec: LbSpec, options: PlanOptions): TopologyPlan {
  const { tag } = options;
  checkTag(tag);
  if (!Number.isInteger(options.clients) || options.clients < 1 || options.clients > MAX_CLIENTS) {
    throw new E2eError('E2E_PLAN_INVALID', `clients must be an integer in 1..${MAX_CLIENTS}, got ${options.clients}`);
  }
  if (spec.gateways.length > MAX_GATEWAYS) {
    throw new E2eError('E2E_PLAN_INVALID', `at most ${MAX_GATEWAYS} gateways fit the router's link range, the spec has ${spec.gateways.length}`);
  }
  const steps: BuildStep[] = [];
  const ns = (role: string): string => namespaceName(tag, role);
  const ifn = (suffix: string): string => interfaceName(tag, suffix);

  const routerNs = ns('router');
  const underlayNs = ns('underlay');
  const switchesNs = options.switchPlacement === 'namespace' ? ns('switches') : undefined;
  steps.push({ kind: 'netns', name: routerNs, role: 'router', sysctls: ROUTER_SYSCTLS });
  steps.push({ kind: 'netns', name: underlayNs, role: 'underlay', sysctls: COMMON_SYSCTLS });
  if (switchesNs !== undefined) steps.push({ kind: 'netns', name: switchesNs, role: 'switches', sysctls: COMMON_SYSCTLS });

  // Clients, each on its own /30 to the router.
  const clients: ClientLayout[] = [];
  const clientLinks: RouterLayout['clientLinks'][number][] = [];
  for (let k = 0; k < options.clients; k++) {
    const name = `client${k}`;
    const netns = ns(name);
    const routerAddress = dotted(CLIENT_NET, 4 * k + 1);
    const address = dotted(CLIENT_NET, 4 * k + 2);
    const client: ClientLayout = { name, netns, ifname: ifn(`c${k}`), address, routerAddress };
    const routerIf = ifn(`rc${k}`);
    steps.push({ kind: 'netns', name: netns, role: 'client', sysctls: COMMON_SYSCTLS });
    steps.push({
      kind: 'veth',
      purpose: `${name} ↔ router`,
      mtu: EDGE_MTU,
      a: { netns, ifname: client.ifname, addresses: [`${address}/30`] },
      b: { netns: routerNs, ifname: routerIf, addresses: [`${routerAddress}/30`] },
    });
    steps.push({ kind: 'route', netns, destination: 'default', nexthops: [{ via: routerAddress, dev: client.ifname }] });
    clients.push(client);
    clientLinks.push({ client: name, ifname: routerIf, address: routerAddress });
  }

  // Gateways: public port to the router, underlay port to the bridge.
  const switches: Record<string, SwitchPorts> = {};
  const gatewayLinks: GatewayLinkLayout[] = [];
  const underlayPorts: Record<string, string> = {};
  const underlayLinks: BuildStep[] = [];
  spec.gateways.forEach((gw, g) => {
    const publicIf = ifn(`g${g}-${gw.ports.public}`);
    const underlayIf = ifn(`g${g}-${gw.ports.underlay}`);
    const routerIf = ifn(`rg${g}`);
    const link: GatewayLinkLayout = {
      gateway: gw.name,
      ifname: routerIf,
      address: dotted(GATEWAY_LINK_NET, 4 * g + 1),
      mac: `${ROUTER_MAC_PREFIX}:${hex2(g + 1)}`,
      nextHop: dotted(GATEWAY_LINK_NET, 4 * g + 2),
      nextHopMac: (options.gatewayPublicMac?.(gw) ?? gw.underlay.mac).toLowerCase(),
    };
    if (link.mac === link.nextHopMac) {
      throw new E2eError('E2E_PLAN_INVALID', `gateway ${gw.name}'s public MAC ${link.nextHopMac} is the router's MAC on its link`, {
        hint: 'choose another gatewayPublicMac',
      });
    }
    steps.push({
      kind: 'veth',
      purpose: `router ↔ ${gw.name} public port ${gw.ports.public}`,
      mtu: EDGE_MTU,
      a: { netns: routerNs, ifname: routerIf, mac: link.mac, addresses: [`${link.address}/30`] },
      b: { netns: switchesNs, ifname: publicIf, addresses: [] },
    });
    const bridgePort = ifn(`ug${g}`);
    underlayPorts[gw.name] = bridgePort;
    underlayLinks.push({
      kind: 'veth',
      purpose: `${gw.name} underlay port ${gw.ports.underlay} ↔ underlay bridge`,
      mtu: UNDERLAY_MTU,
      a: { netns: switchesNs, ifname: underlayIf, addresses: [] },
      b: { netns: underlayNs, ifname: bridgePort, addresses: [] },
    });
    gatewayLinks.push(link);
    switches[gw.name] = switchPorts(gw.name, 'gateway', switchesNs, [
      { port: gw.ports.public, ifname: publicIf, role: 'public' },
      { port: gw.ports.underlay, ifname: underlayIf, role: 'underlay' },
    ]);
  });

  // Hosts: underlay port to the bridge, one port per VM into the VM's namespace.
  const vms: Record<string, VmLayout> = {};
  const vmNamespaces: Record<string, string> = {};
  const vmSteps: BuildStep[] = [];
  spec.hosts.forEach((host, h) => {
    const underlayIf = ifn(`h${h}-${host.ports.underlay}`);
    const bridgePort = ifn(`uh${h}`);
    underlayPorts[host.name] = bridgePort;
    underlayLinks.push({
      kind: 'veth',
      purpose: `${host.name} underlay port ${host.ports.underlay} ↔ underlay bridge`,
      mtu: UNDERLAY_MTU,
      a: { netns: switchesNs, ifname: underlayIf, addresses: [] },
      b: { netns: underlayNs, ifname: bridgePort, addresses: [] },
    });
    const ports: SwitchPort[] = [{ port: host.ports.underlay, ifname: underlayIf, role: 'underlay' }];
    for (const vm of spec.vms.filter((v) => v.host === host.name)) {
      const v = spec.vms.indexOf(vm);
      const switchIf = ifn(`h${h}-${vm.nicPort}`);
      ports.push({ port: vm.nicPort, ifname: switchIf, role: 'vm', vm: vm.name });
      const netns = ns(`vm-${vm.name}`);
      const layout: VmLayout = {
        name: vm.name,
        host: host.name,
        netns,
        ifname: ifn(`v${v}`),
        mac: vmMac(vm),
        address: vm.privateIpv4,
        loopbackAddresses: spec.vips.filter((vip) => vip.mode === 'tunnel' && vip.backends.includes(vm.name)).map((vip) => vip.address),
        gatewayAddress: VM_GATEWAY_ADDRESS,
        gatewayMac: host.underlay.mac,
      };
      vms[vm.name] = layout;
      vmNamespaces[vm.name] = netns;
      vmSteps.push({ kind: 'netns', name: netns, role: 'vm', sysctls: COMMON_SYSCTLS });
      vmSteps.push({
        kind: 'veth',
        purpose: `${host.name} port ${vm.nicPort} ↔ ${vm.name}`,
        mtu: EDGE_MTU,
        a: { netns: switchesNs, ifname: switchIf, addresses: [] },
        // /32: the VM reaches everything through its gateway, and answers no ARP for a subnet.
        b: { netns, ifname: layout.ifname, mac: layout.mac, addresses: [`${layout.address}/32`] },
      });
      for (const vip of layout.loopbackAddresses) vmSteps.push({ kind: 'address', netns, dev: 'lo', cidr: `${vip}/32` });
      // The host switch answers no ARP: a permanent entry, and a default route through it.
      vmSteps.push({ kind: 'neigh', netns, address: VM_GATEWAY_ADDRESS, mac: layout.gatewayMac, dev: layout.ifname });
      vmSteps.push({ kind: 'route', netns, destination: 'default', nexthops: [{ via: VM_GATEWAY_ADDRESS, dev: layout.ifname, onlink: true }] });
    }
    switches[host.name] = switchPorts(host.name, 'host', switchesNs, ports);
  });

  steps.push(...underlayLinks);
  const bridge = ifn('br');
  steps.push({ kind: 'bridge', netns: underlayNs, ifname: bridge, ports: Object.values(underlayPorts), mtu: UNDERLAY_MTU });
  steps.push(...vmSteps);
  const management = switchesNs === undefined ? undefined : planManagement(spec, switchesNs, vms, ifn, steps);

  // The gateway switches answer no ARP (they punt it): permanent neighbours, then ECMP per VIP.
  for (const link of gatewayLinks) {
    steps.push({ kind: 'neigh', netns: routerNs, address: link.nextHop, mac: link.nextHopMac, dev: link.ifname });
  }
  const vipRoutes = [...new Set(spec.vips.map((vip) => `${vip.address}/32`))];
  for (const destination of vipRoutes) {
    steps.push({ kind: 'route', netns: routerNs, destination, nexthops: gatewayLinks.map((l) => ({ via: l.nextHop, dev: l.ifname })) });
  }

  const layout: TopologyLayout = {
    tag,
    switchPlacement: options.switchPlacement,
    namespaces: { router: routerNs, underlay: underlayNs, switches: switchesNs, clients: clients.map((c) => c.netns), vms: vmNamespaces },
    switches,
    clients,
    router: { netns: routerNs, clientLinks, gatewayLinks, vipRoutes },
    underlay: { netns: underlayNs, bridge, ports: underlayPorts },
    vms,
    management,
  };
  return { layout, steps };
}

/**
 * A bridge in the switches namespace with the controller's address, and a veth from it into
 * every VM. The VM answers ARP for its private address on that link too (Linux's weak host
 * model), so one on-link /32 route per VM suffices; the VM returns to the controller's address
 * over the same link. Data-plane traffic never uses it: the VMs' default route stays on the host.
 */
function planManagement(spec: LbSpec, netns: string, vms: Readonly<Record<string, VmLayout>>, ifn: (suffix: string) => string, steps: BuildStep[]): ManagementLayout {
  const bridge = ifn('mb');
  const vmInterfaces: Record<string, string> = {};
  const bridgePorts: string[] = [];
  const links: BuildStep[] = [];
  spec.vms.forEach((vm, v) => {
    const layout = vms[vm.name]!;
    const vmIf = ifn(`m${v}`);
    const bridgePort = ifn(`mb${v}`);
    vmInterfaces[vm.name] = vmIf;
    bridgePorts.push(bridgePort);
    links.push({
      kind: 'veth',
      purpose: `management bridge ↔ ${vm.name}`,
      mtu: EDGE_MTU,
      a: { netns, ifname: bridgePort, addresses: [] },
      b: { netns: layout.netns, ifname: vmIf, addresses: [] },
    });
    links.push({ kind: 'route', netns: layout.netns, destination: `${MANAGEMENT_ADDRESS}/32`, nexthops: [{ dev: vmIf }] });
  });
  steps.push(...links);
  steps.push({ kind: 'bridge', netns, ifname: bridge, ports: bridgePorts, mtu: EDGE_MTU });
  steps.push({ kind: 'address', netns, dev: bridge, cidr: `${MANAGEMENT_ADDRESS}/32` });
  for (const vm of spec.vms) steps.push({ kind: 'route', netns, destination: `${vm.privateIpv4}/32`, nexthops: [{ dev: bridge }] });
  return { netns, bridge, address: MANAGEMENT_ADDRESS, vmInterfaces };
}

function switchPorts(name: string, kind: SwitchPorts['kind'], netns: string | undefined, ports: SwitchPort[]): SwitchPorts {
  const sorted = [...ports].sort((a, b) => a.port - b.port);
  const bindings = sorted.map((p) => `${p.port}@${p.ifname}`);
  return { name, kind, netns, ports: sorted, bindings, interfaceArgs: bindings.flatMap((b) => ['-i', b]) };
}

/** A probe namespace standing in for a host switch (tests): it owns the host's MAC, so VM replies reach it. */
export interface HostStandInLayout {
  readonly host: string;
  readonly netns: string;
  readonly ifname: string;
  readonly mac: string;
  readonly address: string;
  /** The bridge, in the switches' namespace, that joins the host's VM ports and the probe. */
  readonly bridge: string;
}

export function planHostStandIn(spec: LbSpec, layout: TopologyLayout, hostName: string): { layout: HostStandInLayout; steps: BuildStep[] } {
  const host = hostByName(spec, hostName);
  const h = spec.hosts.indexOf(host);
  const sw = layout.switches[hostName]!;
  const stand: HostStandInLayout = {
    host: hostName,
    netns: namespaceName(layout.tag, `probe-${hostName}`),
    ifname: interfaceName(layout.tag, `p${h}`),
    mac: host.underlay.mac,
    address: dotted(PROBE_NET, h + 1),
    bridge: interfaceName(layout.tag, `sb${h}`),
  };
  const bridgePort = interfaceName(layout.tag, `pb${h}`);
  const steps: BuildStep[] = [
    { kind: 'netns', name: stand.netns, role: 'probe', sysctls: COMMON_SYSCTLS },
    {
      kind: 'veth',
      purpose: `probe ↔ ${hostName}'s stand-in bridge`,
      mtu: EDGE_MTU,
      a: { netns: sw.netns, ifname: bridgePort, addresses: [] },
      b: { netns: stand.netns, ifname: stand.ifname, mac: stand.mac, addresses: [`${stand.address}/32`] },
    },
    // VM ports only: the underlay port stays out, so nothing the probe sends leaves the host.
    { kind: 'bridge', netns: sw.netns, ifname: stand.bridge, ports: [...sw.ports.filter((p) => p.role === 'vm').map((p) => p.ifname), bridgePort], mtu: EDGE_MTU },
  ];
  for (const port of sw.ports) {
    if (port.vm === undefined) continue;
    const vm = layout.vms[port.vm]!;
    steps.push({ kind: 'neigh', netns: stand.netns, address: vm.address, mac: vm.mac, dev: stand.ifname });
    steps.push({ kind: 'route', netns: stand.netns, destination: `${vm.address}/32`, nexthops: [{ dev: stand.ifname }] });
  }
  return { layout: stand, steps };
}

export interface CommandOptions {
  /** Turn transmit checksum and segmentation offloads off (needs ethtool). */
  readonly disableOffloads: boolean;
  /** Drop the IPv6 sysctls (a kernel without IPv6). */
  readonly ipv6: boolean;
  /** The kernel has custom multipath hash fields; without them the router falls back to policy 1. */
  readonly multipathHashFields?: boolean;
}

const ip = (netns: string | undefined, ...args: string[]): Command => inNamespace(netns, 'ip', args);

/** The commands that make one step, in order. */
export function commandsOf(step: BuildStep, options: CommandOptions): Command[] {
  switch (step.kind) {
    case 'netns': {
      const sysctls = step.sysctls
        .filter((s) => options.ipv6 || !s.key.startsWith('net.ipv6.'))
        .filter((s) => options.multipathHashFields !== false || s.key !== HASH_FIELDS)
        .map((s) => (options.multipathHashFields === false && s.key === HASH_POLICY ? { ...s, value: '1' } : s));
      return [
        { cmd: 'ip', args: ['netns', 'add', step.name] },
        inNamespace(step.name, 'sysctl', ['-q', '-w', ...sysctls.map((s) => `${s.key}=${s.value}`)]),
        ip(step.name, 'link', 'set', 'lo', 'up'),
      ];
    }
    case 'veth': {
      const end = (e: LinkEnd): string[] => [
        ...(e.netns === undefined ? [] : ['netns', e.netns]),
        'mtu', String(step.mtu),
        ...(e.mac === undefined ? [] : ['address', e.mac]),
      ];
      const out: Command[] = [{ cmd: 'ip', args: ['link', 'add', step.a.ifname, ...end(step.a), 'type', 'veth', 'peer', 'name', step.b.ifname, ...end(step.b)] }];
      for (const e of [step.a, step.b]) {
        // A root-namespace end does not inherit a namespace-wide IPv6 switch: turn it off per interface.
        if (e.netns === undefined && options.ipv6) out.push({ cmd: 'sysctl', args: ['-q', '-w', `net.ipv6.conf.${e.ifname}.disable_ipv6=1`] });
        // Software switches forward what they read; a checksum left to the "NIC" would arrive unfinished.
        if (options.disableOffloads) out.push(inNamespace(e.netns, 'ethtool', ['-K', e.ifname, 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off']));
        for (const cidr of e.addresses) out.push(ip(e.netns, 'address', 'add', cidr, 'dev', e.ifname));
        out.push(ip(e.netns, 'link', 'set', e.ifname, 'up'));
      }
      return out;
    }
    case 'bridge':
      return [
        ip(step.netns, 'link', 'add', step.ifname, 'mtu', String(step.mtu), 'type', 'bridge', 'stp_state', '0'),
        ...(step.netns === undefined && options.ipv6 ? [{ cmd: 'sysctl', args: ['-q', '-w', `net.ipv6.conf.${step.ifname}.disable_ipv6=1`] }] : []),
        ...step.ports.map((port) => ip(step.netns, 'link', 'set', port, 'master', step.ifname)),
        ip(step.netns, 'link', 'set', step.ifname, 'up'),
      ];
    case 'address':
      return [ip(step.netns, 'address', 'add', step.cidr, 'dev', step.dev)];
    case 'route': {
      const hop = (n: NextHop): string[] => [...(n.via === undefined ? [] : ['via', n.via]), 'dev', n.dev, ...(n.onlink === true ? ['onlink'] : [])];
      const hops = step.nexthops.length === 1 ? hop(step.nexthops[0]!) : step.nexthops.flatMap((n) => ['nexthop', ...hop(n)]);
      return [ip(step.netns, 'route', 'add', step.destination, ...hops)];
    }
    case 'neigh':
      return [ip(step.netns, 'neigh', 'replace', step.address, 'lladdr', step.mac, 'dev', step.dev, 'nud', 'permanent')];
  }
}

export function describeStep(step: BuildStep): string {
  switch (step.kind) {
    case 'netns':
      return `namespace ${step.name}`;
    case 'veth':
      return `veth ${step.a.ifname}/${step.b.ifname} (${step.purpose})`;
    case 'bridge':
      return `bridge ${step.ifname} over ${step.ports.join(', ')}`;
    case 'address':
      return `address ${step.cidr} on ${step.dev} in ${step.netns}`;
    case 'route':
      return `route ${step.destination} in ${step.netns}`;
    case 'neigh':
      return `neighbour ${step.address} → ${step.mac} in ${step.netns}`;
  }
}
