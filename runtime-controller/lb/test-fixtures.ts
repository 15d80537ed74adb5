/**
 * Small validated specs for the lb and health tests (not used by the controller): hosts in
 * named locations, VMs spread over them, gateways placed where a test wants them.
 */
import { createHash } from 'node:crypto';
import { validateSpec } from '../../core/spec/validate.ts';
import type { LbSpec, LbSpecInput } from '../../core/spec/schema.ts';
import type { TokenKeys } from './tokens.ts';

export const FIXTURE_LOCATIONS = [
  { name: 'east', latitude: 40.7, longitude: -74.0 },
  { name: 'central', latitude: 41.9, longitude: -87.6 },
  { name: 'west', latitude: 37.4, longitude: -122.1 },
] as const;

export type FixtureLocation = (typeof FIXTURE_LOCATIONS)[number]['name'];

export interface FixtureVm {
  readonly location: FixtureLocation;
  readonly weight?: number;
}

export interface FixtureOptions {
  /** One VM per item, named vm-0, vm-1, ...; one host per location that has a VM. */
  readonly vms: readonly FixtureVm[];
  /** One gateway per item, named gw-0, gw-1, ..., at that location. */
  readonly gateways: readonly FixtureLocation[];
  readonly algorithm?: 'maglev' | 'rendezvous';
  readonly slots?: number;
  readonly geoPreference?: boolean;
  readonly mode?: 'tunnel' | 'nat';
}

const hex = (n: number) => n.toString(16).padStart(2, '0');

/** A spec with one VIP `svc` over every VM; throws when the options make an invalid spec. */
export function fixtureSpec(options: FixtureOptions): LbSpec {
  const used = FIXTURE_LOCATIONS.filter((l) => options.vms.some((vm) => vm.location === l.name));
  const hostOf = (loc: string) => `host-${loc}`;
  const perHost = new Map<string, number>();
  const input: LbSpecInput = {
    deployment: 'fixture',
    locations: FIXTURE_LOCATIONS.map((l) => ({ ...l })),
    gateways: options.gateways.map((location, i) => ({
      name: `gw-${i}`,
      location,
      p4runtime: { address: `127.0.0.1:${9559 + i}`, deviceId: i + 1 },
      ports: { public: 1, underlay: 2 },
      underlay: { ipv4: `10.0.0.${i + 1}`, mac: `02:00:00:00:00:${hex(i + 1)}` },
    })),
    hosts: used.map((l, i) => ({
      name: hostOf(l.name),
      location: l.name,
      ports: { underlay: 1 },
      underlay: { ipv4: `10.0.1.${i + 1}`, mac: `02:00:00:00:01:${hex(i + 1)}` },
      p4runtime: { address: `127.0.0.1:${9600 + i}`, deviceId: 100 + i },
    })),
    vms: options.vms.map((vm, i) => {
      const host = hostOf(vm.location);
      const k = (perHost.get(host) ?? 0) + 1;
      perHost.set(host, k);
      return {
        name: `vm-${i}`,
        host,
        privateIpv4: `192.168.${used.findIndex((l) => l.name === vm.location) + 1}.${10 + k}`,
        udpPort: 7000 + i,
        nicPort: 1 + k,
        weight: vm.weight ?? 1,
      };
    }),
    vips: [
      {
        name: 'svc',
        address: '203.0.113.10',
        protocol: 'tcp',
        ports: [80],
        mode: options.mode ?? 'tunnel',
        algorithm: options.algorithm ?? 'maglev',
        slots: options.slots ?? 1024,
        backends: options.vms.map((_, i) => `vm-${i}`),
        healthCheck: { type: 'tcp', port: 80 },
        geoPreference: options.geoPreference ?? false,
      },
    ],
  };
  const result = validateSpec(input);
  if (!result.ok) throw new Error(`fixture spec is invalid: ${JSON.stringify(result.issues)}`);
  return result.spec;
}

/** Stable per-side secrets (SHA-256 of a label): tests need repeatable tokens, not secret ones. */
export const FIXTURE_KEYS: TokenKeys = {
  gateway: (name) => new Uint8Array(createHash('sha256').update(`p4lb lb-test gateway ${name}`).digest()),
  host: (name) => new Uint8Array(createHash('sha256').update(`p4lb lb-test host ${name}`).digest()),
};

export const FIXTURE_EXPIRY = 1767225600;
export const FIXTURE_ROUTER_MAC = '02:00:00:00:00:fe';
