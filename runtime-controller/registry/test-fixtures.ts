/**
 * Specs and keys for the registry's tests: two gateways, two hosts, a tunnel VIP and a NAT VIP
 * with overlapping backends, and one VM that serves no VIP (so the policy has something to deny).
 */
import type { LbSpec, LbSpecInput } from '../../core/spec/schema.ts';
import { validateSpec } from '../../core/spec/validate.ts';
import { RegistryError } from './errors.ts';
import type { TokenKeyRing } from './tokens.ts';

export const TEST_SPEC_INPUT: LbSpecInput = {
  deployment: 'registry-test',
  locations: [
    { name: 'east', latitude: 40.7, longitude: -74.0 },
    { name: 'west', latitude: 37.4, longitude: -122.1 },
  ],
  gateways: [
    {
      name: 'gw-east',
      location: 'east',
      p4runtime: { address: '127.0.0.1:9559', deviceId: 1 },
      ports: { public: 1, underlay: 2 },
      underlay: { ipv4: '10.0.0.1', mac: '02:00:00:00:00:01', tunnelUdpPort: 6635 },
    },
    {
      name: 'gw-west',
      location: 'west',
      p4runtime: { address: '127.0.0.1:9560', deviceId: 2 },
      ports: { public: 1, underlay: 2 },
      underlay: { ipv4: '10.0.0.2', mac: '02:00:00:00:00:02', tunnelUdpPort: 6636 },
    },
  ],
  hosts: [
    {
      name: 'host-a',
      location: 'east',
      ports: { underlay: 1 },
      underlay: { ipv4: '10.0.1.1', mac: '02:00:00:00:01:01' },
      p4runtime: { address: '127.0.0.1:9561', deviceId: 3 },
    },
    {
      name: 'host-b',
      location: 'west',
      ports: { underlay: 1 },
      underlay: { ipv4: '10.0.1.2', mac: '02:00:00:00:01:02' },
      p4runtime: { address: '127.0.0.1:9562', deviceId: 4 },
    },
  ],
  vms: [
    { name: 'vm-a1', host: 'host-a', privateIpv4: '192.168.1.11', udpPort: 7001, nicPort: 2 },
    { name: 'vm-a2', host: 'host-a', privateIpv4: '192.168.1.12', udpPort: 7002, nicPort: 3 },
    { name: 'vm-b1', host: 'host-b', privateIpv4: '192.168.2.11', udpPort: 7003, nicPort: 2 },
    { name: 'vm-lone', host: 'host-b', privateIpv4: '192.168.2.99', udpPort: 7009, nicPort: 4 },
  ],
  vips: [
    {
      name: 'web',
      address: '203.0.113.10',
      protocol: 'tcp',
      ports: [80],
      mode: 'tunnel',
      slots: 1024,
      backends: ['vm-a1', 'vm-a2'],
      healthCheck: { type: 'tcp' },
    },
    {
      name: 'api',
      address: '203.0.113.20',
      protocol: 'tcp',
      ports: [8080],
      mode: 'nat',
      targetPort: 80,
      slots: 1024,
      backends: ['vm-a1', 'vm-b1'],
      healthCheck: { type: 'tcp' },
    },
  ],
  tokens: { ttlSeconds: 3600, clockSkewSeconds: 30 },
};

/** Validates a spec input; a fixture that does not validate is a broken test. */
export function specOf(input: LbSpecInput): LbSpec {
  const r = validateSpec(input);
  if (!r.ok) throw new Error(`test spec invalid: ${r.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.spec;
}

export const TEST_SPEC: LbSpec = specOf(TEST_SPEC_INPUT);

/** Deterministic keys: byte i of the key for `label` is a function of the label and i. */
export function fixedKey(label: string): Uint8Array {
  const out = new Uint8Array(32);
  let h = 2166136261;
  for (const c of label) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  for (let i = 0; i < 32; i++) {
    h = Math.imul(h ^ i, 16777619) >>> 0;
    out[i] = h & 0xff;
  }
  return out;
}

export const FIXED_KEYS: TokenKeyRing = {
  gateway: (name) => fixedKey(`gateway/${name}`),
  host: (name) => fixedKey(`host/${name}`),
};

/** Runs `f`, expecting a RegistryError, and returns it (tests then check its code and path). */
export function errorOf(f: () => unknown): RegistryError {
  try {
    f();
  } catch (err) {
    if (err instanceof RegistryError) return err;
    throw err;
  }
  throw new Error('expected a RegistryError');
}
