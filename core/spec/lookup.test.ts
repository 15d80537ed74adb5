import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { P4lbError } from '../errors.ts';
import { parseSpec } from './load.ts';
import {
  backendId,
  defaultVmMac,
  distanceKm,
  gatewayId,
  hostOfVm,
  ipv4Bytes,
  locationNameOfVm,
  locationOf,
  splitAddress,
  vipId,
  vipsOfVm,
  vmMac,
  vmsOfHost,
  vmsOfVip,
} from './lookup.ts';
import type { LbSpec } from './schema.ts';

const example: LbSpec = parseSpec(
  readFileSync(fileURLToPath(new URL('../../examples/example.yaml', import.meta.url)), 'utf8'),
  'example.yaml',
);

describe('ids', () => {
  it('are 1-based positions in the name-sorted list', () => {
    expect(vipId(example, 'api')).toBe(1);
    expect(vipId(example, 'web')).toBe(2);
    expect(['vm-a1', 'vm-a2', 'vm-b1', 'vm-b2'].map((n) => backendId(example, n))).toEqual([1, 2, 3, 4]);
    expect(gatewayId(example, 'gw-east')).toBe(1);
  });

  it('do not depend on the order of the spec lists', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(example.vms, { minLength: example.vms.length }), fc.shuffledSubarray(example.vips, { minLength: 2 }), (vms, vips) => {
        const shuffled = { ...example, vms, vips };
        for (const vm of example.vms) expect(backendId(shuffled, vm.name)).toBe(backendId(example, vm.name));
        for (const vip of example.vips) expect(vipId(shuffled, vip.name)).toBe(vipId(example, vip.name));
      }),
      { numRuns: 50 },
    );
  });

  it('are a permutation of 1..n for any set of distinct names', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z0-9]{1,8}$/), { minLength: 1, maxLength: 30 }), (names) => {
        const vms = names.map((name, i) => ({ ...example.vms[0]!, name, udpPort: 1000 + i }));
        const spec = { ...example, vms };
        const ids = names.map((n) => backendId(spec, n)).sort((a, b) => a - b);
        expect(ids).toEqual(names.map((_, i) => i + 1));
      }),
      { numRuns: 100 },
    );
  });

  it('throw a coded error with a hint for an unknown name', () => {
    expect(() => backendId(example, 'vm-a9')).toThrow(P4lbError);
    try {
      vipId(example, 'wbe');
    } catch (err) {
      expect((err as P4lbError).code).toBe('SPEC_UNKNOWN_NAME');
      expect((err as P4lbError).hint).toBe("did you mean 'web'?");
    }
  });
});

describe('lookups', () => {
  it('follow references between objects', () => {
    expect(vmsOfVip(example, 'web').map((v) => v.name)).toEqual(['vm-a1', 'vm-a2', 'vm-b1', 'vm-b2']);
    expect(hostOfVm(example, 'vm-b1').name).toBe('host-b');
    expect(vmsOfHost(example, 'host-a').map((v) => v.name)).toEqual(['vm-a1', 'vm-a2']);
    expect(vipsOfVm(example, 'vm-a1').map((v) => v.name)).toEqual(['web', 'api']);
  });

  it('inherit a VM location from its host', () => {
    expect(locationNameOfVm(example, 'vm-b2')).toBe('west');
    expect(locationOf(example, 'west')?.longitude).toBe(-122.1);
    expect(locationOf(example, undefined)).toBeUndefined();
  });

  it('measure great-circle distances', () => {
    const east = locationOf(example, 'east')!;
    const west = locationOf(example, 'west')!;
    // New York to the Bay Area is about 4100 km.
    expect(distanceKm(east, west)).toBeGreaterThan(4000);
    expect(distanceKm(east, west)).toBeLessThan(4200);
    expect(distanceKm(east, east)).toBe(0);
  });

  it('split P4Runtime addresses', () => {
    expect(splitAddress('127.0.0.1:9559')).toEqual({ host: '127.0.0.1', port: 9559 });
    expect(splitAddress('[::1]:50051')).toEqual({ host: '::1', port: 50051 });
  });
});

describe('vmMac', () => {
  it('is 02:00 and the four bytes of the private address when the VM gives none', () => {
    // 192.168.1.11 = c0.a8.01.0b
    expect(example.vms.map((vm) => vmMac(vm))).toEqual([
      '02:00:c0:a8:01:0b',
      '02:00:c0:a8:01:0c',
      '02:00:c0:a8:02:0b',
      '02:00:c0:a8:02:0c',
    ]);
  });

  it("is the VM's own MAC when given", () => {
    expect(vmMac({ ...example.vms[0]!, mac: '02:aa:bb:cc:dd:ee' })).toBe('02:aa:bb:cc:dd:ee');
  });

  it('defaults to a locally administered unicast MAC that encodes the address', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        const mac = defaultVmMac(ip);
        expect(mac).toMatch(/^02:00(?::[0-9a-f]{2}){4}$/);
        expect(mac.split(':').slice(2).map((b) => parseInt(b, 16))).toEqual(ipv4Bytes(ip));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses what is not a dotted-quad IPv4 address', () => {
    for (const bad of ['1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.x', '']) expect(ipv4Bytes(bad)).toBeUndefined();
    expect(ipv4Bytes('0.255.10.1')).toEqual([0, 255, 10, 1]);
    expect(() => defaultVmMac('10.0.0')).toThrow(P4lbError);
  });
});
