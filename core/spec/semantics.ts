/**
 * Rules that span fields: unique names and addresses, references between objects, slot-table
 * size versus backend count, timing and port relations. They read the raw (pre-zod) value
 * defensively so they can be reported together with the schema's own issues in one pass.
 */
import { didYouMean } from '../errors.ts';
import {
  DEFAULT_SLOTS,
  HEALTH_DEFAULTS,
  MAX_SLOTS,
  MIN_SLOTS_PER_BACKEND,
  TOKEN_DEFAULTS,
  VIP_MODES,
  isPowerOfTwo,
} from './schema.ts';
import { defaultVmMac, ipv4Bytes } from './lookup.ts';

export type SpecPath = readonly (string | number)[];

/** One problem, addressed by its path in the spec document. */
export interface SpecIssue {
  readonly path: SpecPath;
  readonly message: string;
  readonly hint?: string | undefined;
  /** Point at the key of the last path element (an unknown field) rather than at its value. */
  readonly at?: 'key' | 'value';
}

type Rec = Record<string, unknown>;

const isRecord = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The records of `root[key]` with their index; non-records are left to the schema to report. */
function records(root: Rec, key: string): [number, Rec][] {
  const list = root[key];
  if (!Array.isArray(list)) return [];
  const out: [number, Rec][] = [];
  list.forEach((item, i) => {
    if (isRecord(item)) out.push([i, item]);
  });
  return out;
}

export function formatPath(path: SpecPath): string {
  let text = '';
  for (const seg of path) text += typeof seg === 'number' ? `[${seg}]` : text === '' ? seg : `.${seg}`;
  return text;
}

/** Reports every entry whose key was already seen, naming where it was first used. */
function unique(
  issues: SpecIssue[],
  entries: readonly { path: SpecPath; key: string | undefined; owner: SpecPath }[],
  describe: (key: string) => string,
): void {
  const first = new Map<string, SpecPath>();
  for (const e of entries) {
    if (e.key === undefined) continue;
    const seen = first.get(e.key);
    if (seen === undefined) first.set(e.key, e.owner);
    else issues.push({ path: e.path, message: `${describe(e.key)} is already used by ${formatPath(seen)}` });
  }
}

const isKnownMode = (v: unknown): boolean => typeof v === 'string' && (VIP_MODES as readonly string[]).includes(v);

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export function checkSemantics(value: unknown): SpecIssue[] {
  if (!isRecord(value)) return [];
  const issues: SpecIssue[] = [];
  const gateways = records(value, 'gateways');
  const hosts = records(value, 'hosts');
  const vms = records(value, 'vms');
  const vips = records(value, 'vips');
  const locations = records(value, 'locations');

  // Names are unique within each kind.
  const kinds: [string, [number, Rec][], string][] = [
    ['locations', locations, 'location'],
    ['gateways', gateways, 'gateway'],
    ['hosts', hosts, 'host'],
    ['vms', vms, 'VM'],
    ['vips', vips, 'VIP'],
  ];
  for (const [key, list, label] of kinds) {
    unique(
      issues,
      list.map(([i, r]) => ({ path: [key, i, 'name'], key: str(r.name), owner: [key, i] })),
      (n) => `${label} name '${n}'`,
    );
  }

  // Switches (gateways and hosts) share the underlay and the P4Runtime namespace.
  const switches = [
    ...gateways.map(([i, r]) => ({ owner: ['gateways', i] as SpecPath, r })),
    ...hosts.map(([i, r]) => ({ owner: ['hosts', i] as SpecPath, r })),
  ];
  const underlay = (r: Rec): Rec => (isRecord(r.underlay) ? r.underlay : {});
  unique(
    issues,
    switches.map(({ owner, r }) => ({ path: [...owner, 'underlay', 'ipv4'], key: str(underlay(r).ipv4), owner })),
    (a) => `underlay IPv4 ${a}`,
  );
  unique(
    issues,
    switches.map(({ owner, r }) => ({
      path: [...owner, 'underlay', 'mac'],
      key: str(underlay(r).mac)?.toLowerCase(),
      owner,
    })),
    (m) => `MAC ${m}`,
  );
  unique(
    issues,
    switches.map(({ owner, r }) => {
      const p4 = isRecord(r.p4runtime) ? r.p4runtime : {};
      const address = str(p4.address);
      const device = num(p4.deviceId);
      return {
        path: [...owner, 'p4runtime', 'deviceId'],
        key: address === undefined || device === undefined ? undefined : `${address} device ${device}`,
        owner,
      };
    }),
    (k) => `P4Runtime target ${k}`,
  );

  for (const [g, gw] of gateways) {
    if (!isRecord(gw.ports)) continue;
    const seen = new Map<number, string>();
    for (const role of ['public', 'underlay', 'cpu']) {
      const port = num(gw.ports[role]);
      if (port === undefined) continue;
      const other = seen.get(port);
      if (other !== undefined) {
        issues.push({ path: ['gateways', g, 'ports', role], message: `port ${port} is also the ${other} port` });
      } else seen.set(port, role);
    }
  }

  for (const [h, host] of hosts) {
    if (!isRecord(host.ports)) continue;
    const underlay = num(host.ports.underlay);
    const cpu = num(host.ports.cpu);
    if (underlay !== undefined && cpu !== undefined && underlay === cpu) {
      issues.push({ path: ['hosts', h, 'ports', 'cpu'], message: `port ${cpu} is also the underlay port` });
    }
  }

  // Locations: checked only when a list is given (otherwise a location is a free label).
  const locationNames = locations.map(([, r]) => str(r.name)).filter((n) => n !== undefined);
  const hasLocations = Array.isArray(value.locations);
  if (hasLocations) {
    for (const [key, list] of [['gateways', gateways], ['hosts', hosts], ['vms', vms]] as const) {
      for (const [i, r] of list) {
        const loc = str(r.location);
        if (loc !== undefined && !locationNames.includes(loc)) {
          issues.push({
            path: [key, i, 'location'],
            message: `unknown location '${loc}'`,
            hint: didYouMean(loc, locationNames) ?? `known locations: ${locationNames.join(', ')}`,
          });
        }
      }
    }
  }

  // VMs: their host exists, private addresses and (host, tunnel port) pairs are unique.
  const hostNames = hosts.map(([, r]) => str(r.name)).filter((n) => n !== undefined);
  for (const [i, vm] of vms) {
    const host = str(vm.host);
    if (host !== undefined && !hostNames.includes(host)) {
      issues.push({ path: ['vms', i, 'host'], message: `unknown host '${host}'`, hint: didYouMean(host, hostNames) });
    }
  }
  unique(
    issues,
    vms.map(([i, r]) => ({ path: ['vms', i, 'privateIpv4'], key: str(r.privateIpv4), owner: ['vms', i] })),
    (a) => `private IPv4 ${a}`,
  );
  unique(
    issues,
    vms.map(([i, r]) => {
      const host = str(r.host);
      const port = num(r.udpPort);
      return {
        path: ['vms', i, 'udpPort'],
        key: host === undefined || port === undefined ? undefined : `${port} on host '${host}'`,
        owner: ['vms', i],
      };
    }),
    (k) => `UDP port ${k}`,
  );
  // Spare tunnel ports are listed once each (a spare port may equal a VM's: ports are per host).
  const spares = Array.isArray(value.spareVmUdpPorts) ? value.spareVmUdpPorts : [];
  unique(
    issues,
    spares.map((port, i) => ({ path: ['spareVmUdpPorts', i], key: typeof port === 'number' ? String(port) : undefined, owner: ['spareVmUdpPorts', i] })),
    (p) => `spare UDP port ${p}`,
  );
  unique(
    issues,
    vms.map(([i, r]) => {
      const host = str(r.host);
      const port = num(r.nicPort);
      return {
        path: ['vms', i, 'nicPort'],
        key: host === undefined || port === undefined ? undefined : `${port} on host '${host}'`,
        owner: ['vms', i],
      };
    }),
    (k) => `NIC port ${k}`,
  );
  // A VM without `mac` gets one derived from its private address, which an explicit MAC must not
  // repeat either. Derived ones are registered first so the explicit MAC (the one to change) is
  // reported; two equal derived MACs mean equal private addresses, reported above.
  const macOwner = new Map<string, { owner: SpecPath; derived: boolean }>();
  for (const [i, r] of vms) {
    const ip = str(r.privateIpv4);
    if (r.mac !== undefined || ip === undefined || ipv4Bytes(ip) === undefined) continue;
    const mac = defaultVmMac(ip);
    if (!macOwner.has(mac)) macOwner.set(mac, { owner: ['vms', i], derived: true });
  }
  for (const [i, r] of vms) {
    const mac = str(r.mac)?.toLowerCase();
    if (mac === undefined) continue;
    const seen = macOwner.get(mac);
    if (seen === undefined) {
      macOwner.set(mac, { owner: ['vms', i], derived: false });
      continue;
    }
    issues.push({
      path: ['vms', i, 'mac'],
      message: `MAC ${mac} is already used by ${formatPath(seen.owner)}`,
      hint: seen.derived ? `the default MAC of ${formatPath(seen.owner)}, from its privateIpv4` : undefined,
    });
  }

  const hostByName = new Map<string, Rec>();
  for (const [, r] of hosts) {
    const n = str(r.name);
    if (n !== undefined && !hostByName.has(n)) hostByName.set(n, r);
  }
  for (const [i, vm] of vms) {
    const hostName = str(vm.host);
    const host = hostName === undefined ? undefined : hostByName.get(hostName);
    const port = num(vm.nicPort);
    if (host === undefined || port === undefined || !isRecord(host.ports)) continue;
    for (const role of ['underlay', 'cpu']) {
      if (num(host.ports[role]) === port) {
        issues.push({ path: ['vms', i, 'nicPort'], message: `port ${port} is the ${role} port of host '${hostName}'` });
      }
    }
  }

  const vmByName = new Map<string, Rec>();
  for (const [, r] of vms) {
    const n = str(r.name);
    if (n !== undefined && !vmByName.has(n)) vmByName.set(n, r);
  }

  // VIPs: each (address, protocol, port) is served once.
  unique(
    issues,
    vips.flatMap(([i, r]) => {
      const address = str(r.address);
      const protocol = str(r.protocol);
      const ports = Array.isArray(r.ports) ? r.ports : [];
      return ports.map((p, k) => ({
        path: ['vips', i, 'ports', k] as SpecPath,
        key: address === undefined || protocol === undefined || num(p) === undefined ? undefined : `${address} ${protocol} port ${p}`,
        owner: ['vips', i, 'ports', k] as SpecPath,
      }));
    }),
    (k) => `VIP ${k}`,
  );

  for (const [i, vip] of vips) {
    const backends = Array.isArray(vip.backends) ? vip.backends : [];
    const listed = new Set<string>();
    backends.forEach((b, k) => {
      if (typeof b !== 'string') return;
      if (!vmByName.has(b)) {
        issues.push({ path: ['vips', i, 'backends', k], message: `unknown VM '${b}'`, hint: didYouMean(b, vmByName.keys()) });
      } else if (listed.has(b)) {
        issues.push({ path: ['vips', i, 'backends', k], message: `VM '${b}' is listed twice` });
      }
      listed.add(b);
    });

    const slots = vip.slots === undefined ? DEFAULT_SLOTS : num(vip.slots);
    const needed = MIN_SLOTS_PER_BACKEND * backends.length;
    if (slots !== undefined && isPowerOfTwo(slots) && slots < needed) {
      const suggestion = nextPowerOfTwo(needed);
      issues.push({
        path: ['vips', i, 'slots'],
        message: `${slots} slots is less than ${MIN_SLOTS_PER_BACKEND} x ${backends.length} backends = ${needed}`,
        hint: suggestion <= MAX_SLOTS ? `use ${suggestion}` : `at most ${Math.floor(MAX_SLOTS / MIN_SLOTS_PER_BACKEND)} backends per VIP`,
      });
    }

    if (isRecord(vip.healthCheck)) {
      const hc = vip.healthCheck;
      const interval = hc.intervalMs === undefined ? HEALTH_DEFAULTS.intervalMs : num(hc.intervalMs);
      const timeout = hc.timeoutMs === undefined ? HEALTH_DEFAULTS.timeoutMs : num(hc.timeoutMs);
      if (interval !== undefined && timeout !== undefined && timeout >= interval) {
        issues.push({
          path: ['vips', i, 'healthCheck', 'timeoutMs'],
          message: `timeoutMs (${timeout}) must be less than intervalMs (${interval})`,
          hint: 'a probe must end before the next one starts',
        });
      }
    }

    // An unknown or missing mode is the schema's to report.
    if (vip.targetPort !== undefined && isKnownMode(vip.mode) && vip.mode !== 'nat') {
      issues.push({
        path: ['vips', i, 'targetPort'],
        message: 'targetPort applies only to mode nat',
        hint: 'in tunnel mode the packet reaches the VM unchanged',
      });
    } else if (vip.targetPort !== undefined && Array.isArray(vip.ports) && vip.ports.length > 1) {
      // Replies are translated back by (VM address, VM port): one VM port cannot tell two VIP ports apart.
      issues.push({
        path: ['vips', i, 'targetPort'],
        message: `targetPort needs a VIP with one port, this one has ${vip.ports.length}`,
        hint: 'split the VIP into one VIP per port',
      });
    }

    if (vip.geoPreference === true) {
      if (!hasLocations) {
        issues.push({
          path: ['vips', i, 'geoPreference'],
          message: "geoPreference needs a top-level 'locations' list",
        });
      } else {
        backends.forEach((b, k) => {
          const vm = typeof b === 'string' ? vmByName.get(b) : undefined;
          if (vm === undefined) return;
          const host = hostByName.get(str(vm.host) ?? '');
          if (str(vm.location) === undefined && str(host?.location) === undefined) {
            issues.push({
              path: ['vips', i, 'backends', k],
              message: `VM '${b}' has no location, which geoPreference needs`,
              hint: 'set the location of the VM or of its host',
            });
          }
        });
        for (const [g, gw] of gateways) {
          if (str(gw.location) === undefined) {
            issues.push({
              path: ['gateways', g, 'location'],
              message: 'gateway has no location, which geoPreference needs',
            });
          }
        }
      }
    }
  }

  if (isRecord(value.tokens)) {
    const ttl = value.tokens.ttlSeconds === undefined ? TOKEN_DEFAULTS.ttlSeconds : num(value.tokens.ttlSeconds);
    const skew = value.tokens.clockSkewSeconds === undefined ? TOKEN_DEFAULTS.clockSkewSeconds : num(value.tokens.clockSkewSeconds);
    if (ttl !== undefined && skew !== undefined && skew >= ttl) {
      issues.push({
        path: ['tokens', 'clockSkewSeconds'],
        message: `clockSkewSeconds (${skew}) must be less than ttlSeconds (${ttl})`,
      });
    }
  }

  // NAT replies are translated back by (VM, protocol, VM port): two NAT VIPs cannot share one.
  unique(
    issues,
    vips.flatMap(([i, vip]) => {
      if (vip.mode !== 'nat' || !Array.isArray(vip.backends) || !Array.isArray(vip.ports)) return [];
      const protocol = str(vip.protocol);
      const ports = vip.targetPort === undefined ? vip.ports : [vip.targetPort];
      // Repeats within the VIP (a VM or port listed twice) are reported on their own above.
      const own = new Set<string>();
      return vip.backends.flatMap((b, k) =>
        ports.flatMap((port) => {
          const key = typeof b === 'string' && protocol !== undefined && typeof port === 'number' ? `VM '${b}' ${protocol} port ${port}` : undefined;
          if (key === undefined || own.has(key)) return [];
          own.add(key);
          return [{ path: ['vips', i, 'backends', k] as SpecPath, key, owner: ['vips', i] as SpecPath }];
        }),
      );
    }),
    (k) => `NAT target ${k} (replies are translated back by VM and port)`,
  );
  return issues;
}
