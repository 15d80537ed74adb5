/**
 * The load-balancer spec, defined once: this zod schema is the validator, the source of the
 * TypeScript types (`z.infer`) and of docs/spec.schema.json. Every object is strict so a
 * misspelled field is an error, not a silently ignored line. Cross-field rules (duplicates,
 * references, slots versus backends) live in semantics.ts because JSON Schema cannot say them.
 */
import { z } from 'zod';

/** v1model egress_spec is 9 bits; 511 is the drop port, so usable ports are 0..510. */
export const MAX_SWITCH_PORT = 510;
export const MAX_L4_PORT = 65535;
/** Default consistent-hash table size per VIP (a power of two so the P4 program can mask). */
export const DEFAULT_SLOTS = 65536;
/** Maglev §3.4: the table must be much larger than the backend count to keep imbalance small. */
export const MIN_SLOTS_PER_BACKEND = 100;
/** Upper bound on a slot table: it is a P4 table in switch memory. */
export const MAX_SLOTS = 1 << 20;
/** MPLS-in-UDP destination port (RFC 7510), the tunnel port when none is given. */
export const DEFAULT_TUNNEL_UDP_PORT = 6635;
/** Defaults of the health-check timing and of the token settings, shared with semantics.ts. */
export const HEALTH_DEFAULTS = { intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 2 } as const;
export const TOKEN_DEFAULTS = { ttlSeconds: 3600, clockSkewSeconds: 30 } as const;
export const DEFAULT_FLOW_STATE_SLOTS = 65536;
/** The public next hop when a gateway names none: a locally administered placeholder. */
export const DEFAULT_PUBLIC_NEXT_HOP_MAC = '02:00:00:00:00:fe';
/** Relative weights; 8 bits are enough to express any useful ratio. */
export const MAX_WEIGHT = 255;

/** DNS-label style: lower-case letters, digits and inner dashes; safe in file names and P4 identifiers after mapping. */
const NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const NAME_RULE = 'must be lower-case letters, digits and dashes (not at either end), at most 63 characters';

export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0 && n <= 2 ** 30;
}

const name = (what: string) =>
  z.string().regex(NAME_PATTERN, { error: `${what} ${NAME_RULE}` }).describe(what);

const ipv4 = (what: string) =>
  z.ipv4({ error: 'must be an IPv4 address in dotted-quad form, like 10.0.0.1' }).describe(what);

const mac = (what: string) =>
  z
    .string()
    .regex(/^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$/, {
      error: 'must be a MAC address of six colon-separated hex bytes, like 02:00:00:00:00:01',
    })
    // Lower-cased so comparisons (duplicates) and encoders see one spelling.
    .toLowerCase()
    .describe(what);

const l4Port = (what: string) => z.int().min(1).max(MAX_L4_PORT).describe(what);
const switchPort = (what: string) => z.int().min(0).max(MAX_SWITCH_PORT).describe(what);

const powerOfTwo = (what: string, max: number) =>
  z
    .int()
    .min(1)
    .max(max)
    .refine(isPowerOfTwo, { error: 'must be a power of two (the P4 program masks the hash)' })
    .describe(what);

/** `host:port` where host is a name, an IPv4 address or a bracketed IPv6 address. */
const ADDRESS_PATTERN = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;

/** True unless the address has a port outside 1..65535 (a malformed address is reported by the pattern). */
function addressPortInRange(address: string): boolean {
  const port = ADDRESS_PATTERN.exec(address)?.[1];
  return port === undefined || (Number(port) >= 1 && Number(port) <= MAX_L4_PORT);
}

export const P4RuntimeTargetSchema = z
  .strictObject({
    address: z
      .string()
      .regex(ADDRESS_PATTERN, { error: "must be 'host:port', like 127.0.0.1:9559" })
      .refine(addressPortInRange, { error: 'port must be in 1..65535' })
      .describe('gRPC address of the P4Runtime server, host:port'),
    // P4Runtime's device_id is uint64; YAML numbers are doubles, so ids stay below 2^53.
    deviceId: z.int().min(0).describe('P4Runtime device_id'),
    electionId: z.int().min(1).default(1).describe('P4Runtime election id for mastership; 1 or more'),
  })
  .describe('How the controller reaches the switch over P4Runtime');

export const LocationSchema = z
  .strictObject({
    name: name('location name'),
    latitude: z.number().min(-90).max(90).describe('degrees north'),
    longitude: z.number().min(-180).max(180).describe('degrees east'),
  })
  .describe('A named place, used to prefer the geographically closest healthy backends');

export const GatewayPortsSchema = z
  .strictObject({
    public: switchPort('switch port facing clients'),
    underlay: switchPort('switch port facing the hosts'),
    cpu: switchPort('switch port to the controller (packet-in/out)').optional(),
  })
  .describe('Switch port numbers, 0..510');

export const GatewaySchema = z
  .strictObject({
    name: name('gateway name'),
    location: name('location name').optional(),
    p4runtime: P4RuntimeTargetSchema,
    ports: GatewayPortsSchema,
    underlay: z.strictObject({
      ipv4: ipv4('underlay IPv4 address of the gateway, the tunnel source'),
      mac: mac('underlay MAC address of the gateway'),
      tunnelUdpPort: l4Port('UDP port of the tunnel encapsulation').default(DEFAULT_TUNNEL_UDP_PORT),
    }),
    publicNextHopMac: mac('MAC of the public next hop')
      .default(DEFAULT_PUBLIC_NEXT_HOP_MAC)
      .describe(
        'MAC of the router the gateway sends public-side traffic to (replies to clients, VM egress): the destination MAC of its default route out of ports.public',
      ),
  })
  .describe('A P4 switch that receives VIP traffic and sends it to backends');

export const HostPortsSchema = z
  .strictObject({
    underlay: switchPort('NIC switch port facing the underlay'),
    cpu: switchPort('NIC switch port to the controller (packet-in/out)').optional(),
  })
  .describe('Switch port numbers of the host NIC, 0..510; each VM has its own (vms[].nicPort)');

export const HostSchema = z
  .strictObject({
    name: name('host name'),
    location: name('location name').optional(),
    ports: HostPortsSchema,
    underlay: z.strictObject({
      ipv4: ipv4('underlay IPv4 address of the host, the tunnel destination'),
      mac: mac('underlay MAC address of the host'),
    }),
    p4runtime: P4RuntimeTargetSchema,
  })
  .describe('A machine running VMs, with a P4 switch that ends the tunnel');

export const VmSchema = z
  .strictObject({
    name: name('VM name'),
    host: name('host name').describe('name of the host the VM runs on'),
    privateIpv4: ipv4('private IPv4 address of the VM'),
    udpPort: l4Port('tunnel UDP port on the host that leads to this VM'),
    nicPort: switchPort("the host NIC's switch port that leads to this VM"),
    mac: mac('MAC address of the VM')
      .optional()
      .describe('MAC address of the VM; defaults to 02:00 followed by the four bytes of privateIpv4'),
    weight: z.int().min(1).max(MAX_WEIGHT).default(1).describe('relative share of the slots'),
    location: name('location name').optional().describe('defaults to the location of its host'),
  })
  .describe('A backend virtual machine');

const healthTiming = {
  port: l4Port('port probed on the VM')
    .optional()
    .describe("port probed on the VM's private address; defaults to targetPort in nat mode, else the first port of the VIP"),
  intervalMs: z.int().min(10).max(3_600_000).default(HEALTH_DEFAULTS.intervalMs).describe('time between probes'),
  timeoutMs: z.int().min(1).max(3_600_000).default(HEALTH_DEFAULTS.timeoutMs).describe('probe timeout; less than intervalMs'),
  rise: z.int().min(1).max(100).default(HEALTH_DEFAULTS.rise).describe('consecutive successes to become healthy'),
  fall: z.int().min(1).max(100).default(HEALTH_DEFAULTS.fall).describe('consecutive failures to become unhealthy'),
};

export const TcpHealthCheckSchema = z
  .strictObject({ type: z.literal('tcp'), ...healthTiming })
  .describe('Healthy when a TCP connection opens');

export const HttpHealthCheckSchema = z
  .strictObject({
    type: z.literal('http'),
    ...healthTiming,
    path: z.string().startsWith('/', { error: "must start with '/'" }).default('/healthz'),
    expectStatus: z.int().min(100).max(599).default(200).describe('HTTP status of a healthy answer'),
  })
  .describe('Healthy when an HTTP GET of path answers expectStatus');

export const HealthCheckSchema = z.discriminatedUnion('type', [TcpHealthCheckSchema, HttpHealthCheckSchema]);

export const VIP_PROTOCOLS = ['tcp', 'udp'] as const;
export const VIP_MODES = ['tunnel', 'nat'] as const;
export const FLOW_KEYS = ['5-tuple', '3-tuple', '2-tuple'] as const;
export const ALGORITHMS = ['maglev', 'rendezvous'] as const;

export const VipSchema = z
  .strictObject({
    name: name('VIP name'),
    address: ipv4('the virtual IPv4 address clients connect to'),
    protocol: z.enum(VIP_PROTOCOLS).describe('tcp | udp'),
    ports: z.array(l4Port('service port')).min(1).describe('service ports of the VIP'),
    mode: z
      .enum(VIP_MODES)
      .describe('tunnel: encapsulate, destination unchanged (the VM owns the VIP); nat: rewrite the destination to the VM'),
    flowKey: z
      .enum(FLOW_KEYS)
      .default('5-tuple')
      .describe('fields hashed: 5-tuple, 3-tuple (src, dst, proto) or 2-tuple (src, dst)'),
    algorithm: z.enum(ALGORITHMS).default('maglev').describe('slot-table algorithm'),
    slots: powerOfTwo('slot-table size', MAX_SLOTS)
      .default(DEFAULT_SLOTS)
      .describe(`slot-table size: a power of two, at least ${MIN_SLOTS_PER_BACKEND} x backends`),
    backends: z.array(name('VM name')).min(1).describe('names of the VMs serving this VIP'),
    healthCheck: HealthCheckSchema.describe(
      "probe, sent in both modes to the VM's private address (privateIpv4) on healthCheck.port",
    ),
    targetPort: l4Port('port on the VM')
      .optional()
      .describe('nat mode: the VM port that the VIP port is rewritten to; defaults to the VIP port'),
    geoPreference: z.boolean().default(false).describe('send to the closest location that has a healthy backend'),
    flowIdleTimeoutSeconds: z.int().min(1).max(86_400).default(120).describe('flow-state entry lifetime when idle'),
  })
  // The health-check port defaults to the port the VM serves on: in nat mode the targetPort when
  // given, else the VIP's first service port (a tunnel-mode VM serves on the VIP's ports). Filled
  // here so consumers never handle the absent case.
  .transform((vip) => ({
    ...vip,
    healthCheck: {
      ...vip.healthCheck,
      port: vip.healthCheck.port ?? (vip.mode === 'nat' ? vip.targetPort : undefined) ?? vip.ports[0]!,
    },
  }))
  .describe('A virtual service address balanced over backends');

export const TokensSchema = z
  .strictObject({
    ttlSeconds: z.int().min(1).max(86_400 * 366).default(TOKEN_DEFAULTS.ttlSeconds).describe('lifetime of a flow token'),
    clockSkewSeconds: z.int().min(0).default(TOKEN_DEFAULTS.clockSkewSeconds).describe('tolerated clock difference between gateways'),
  })
  .describe('Flow tokens');

export const FlowStateSchema = z
  .strictObject({
    slotsPerGateway: powerOfTwo('flow-state slots per gateway', 1 << 24).default(DEFAULT_FLOW_STATE_SLOTS),
  })
  .describe('Per-gateway flow-state table');

export const CapacitySchema = z
  .strictObject({
    vips: z.int().min(1).max(0xffff).optional().describe('VIPs the generated programs have room for, each with as many ports and slots as the largest of the spec'),
    vms: z.int().min(1).max(0xffff).optional().describe('VMs the generated programs have room for, any of them a backend of any VIP'),
  })
  .describe('Room in the generated programs for VIPs and VMs added while p4lb run is running (the programs are sized for at least the spec itself)');

export const LbSpecSchema = z
  .strictObject({
    deployment: name('deployment name').describe('name of the deployment, also the output folder name'),
    locations: z.array(LocationSchema).optional(),
    gateways: z.array(GatewaySchema).min(1),
    hosts: z.array(HostSchema).min(1),
    vms: z.array(VmSchema).min(1),
    vips: z.array(VipSchema).min(1),
    tokens: TokensSchema.default({ ...TOKEN_DEFAULTS }),
    flowState: FlowStateSchema.default({ slotsPerGateway: DEFAULT_FLOW_STATE_SLOTS }),
    capacity: CapacitySchema.optional(),
    spareVmUdpPorts: z
      .array(l4Port('a spare VM tunnel port'))
      .default([])
      .describe('tunnel UDP ports the host program parses besides the VMs\' own, so that VMs added while the controller runs can use them'),
  })
  .describe('p4lb load-balancer spec');

/** The validated spec with every default filled. */
export type LbSpec = z.output<typeof LbSpecSchema>;
/** What a user may write (defaults optional). */
export type LbSpecInput = z.input<typeof LbSpecSchema>;
export type Location = z.output<typeof LocationSchema>;
export type P4RuntimeTarget = z.output<typeof P4RuntimeTargetSchema>;
export type GatewayPorts = z.output<typeof GatewayPortsSchema>;
export type HostPorts = z.output<typeof HostPortsSchema>;
export type Gateway = z.output<typeof GatewaySchema>;
export type Host = z.output<typeof HostSchema>;
export type Vm = z.output<typeof VmSchema>;
export type Vip = z.output<typeof VipSchema>;
/** A VIP's health check, with its port filled. */
export type HealthCheck = Vip['healthCheck'];
export type TcpHealthCheck = Extract<HealthCheck, { type: 'tcp' }>;
export type HttpHealthCheck = Extract<HealthCheck, { type: 'http' }>;
export type Tokens = z.output<typeof TokensSchema>;
export type FlowState = z.output<typeof FlowStateSchema>;
export type VipProtocol = (typeof VIP_PROTOCOLS)[number];
export type VipMode = (typeof VIP_MODES)[number];
export type FlowKeyKind = (typeof FLOW_KEYS)[number];
export type SlotAlgorithm = (typeof ALGORITHMS)[number];
