import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultVmMac } from './lookup.ts';
import { formatPath } from './semantics.ts';
import { validateSpec } from './validate.ts';

const exampleValue = (): Record<string, unknown> =>
  parse(readFileSync(fileURLToPath(new URL('../../examples/example.yaml', import.meta.url)), 'utf8')) as Record<string, unknown>;

const KNOWN_VM_FIELDS = ['name', 'host', 'privateIpv4', 'udpPort', 'nicPort', 'mac', 'weight', 'location'];

describe('validateSpec', () => {
  it('accepts the example value', () => {
    expect(validateSpec(exampleValue()).ok).toBe(true);
  });

  it('reports any unknown VM field at its exact path, and nothing else', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9]{0,12}$/).filter((k) => !KNOWN_VM_FIELDS.includes(k)),
        (index, key) => {
          const value = exampleValue();
          const vms = value.vms as Record<string, unknown>[];
          vms[index]![key] = 1;
          const result = validateSpec(value);
          expect(result.ok).toBe(false);
          if (!result.ok) {
            expect(result.issues.map((i) => [formatPath(i.path), i.at])).toEqual([[`vms[${index}].${key}`, 'key']]);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('accepts exactly the power-of-two slot counts that cover 100 x backends', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1 << 20 }), (slots) => {
        const value = exampleValue();
        (value.vips as Record<string, unknown>[])[0]!.slots = slots;
        const powerOfTwo = (slots & (slots - 1)) === 0;
        expect(validateSpec(value).ok).toBe(powerOfTwo && slots >= 400);
      }),
      { numRuns: 200 },
    );
  });

  it('does not report a cross-field rule on a field the schema already rejected', () => {
    const value = exampleValue();
    (value.vips as Record<string, unknown>[])[0]!.slots = 100;
    const result = validateSpec(value);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => formatPath(i.path))).toEqual(['vips[0].slots']);
  });

  it('reports a gateway without a location once even when several VIPs prefer geography', () => {
    const value = exampleValue();
    delete (value.gateways as Record<string, unknown>[])[1]!.location;
    (value.vips as Record<string, unknown>[])[1]!.geoPreference = true;
    const result = validateSpec(value);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issues.map((i) => `${formatPath(i.path)}: ${i.message}`)).toEqual([
        'gateways[1].location: gateway has no location, which geoPreference needs',
      ]);
    }
  });

  it("reports a VM MAC equal to any other VM's MAC, given or derived, at the given one only", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        fc.boolean(),
        (i, j, upper, explicitOther) => {
          const value = exampleValue();
          const vms = value.vms as Record<string, unknown>[];
          const other = defaultVmMac(vms[j]!.privateIpv4 as string);
          if (explicitOther && i !== j) vms[j]!.mac = other;
          vms[i]!.mac = upper ? other.toUpperCase() : other;
          const result = validateSpec(value);
          // Its own default MAC is no conflict.
          expect(result.ok).toBe(i === j);
          if (!result.ok) {
            const first = explicitOther ? Math.min(i, j) : j;
            const second = explicitOther ? Math.max(i, j) : i;
            expect(result.issues.map((x) => [formatPath(x.path), x.message])).toEqual([
              [`vms[${second}].mac`, `MAC ${other} is already used by vms[${first}]`],
            ]);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('does not match a VM without a host to a host without a name', () => {
    const value = exampleValue();
    delete (value.hosts as Record<string, unknown>[])[1]!.name;
    const vms = value.vms as Record<string, unknown>[];
    delete vms[0]!.host;
    vms[0]!.nicPort = 1;
    const result = validateSpec(value);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      const paths = result.issues.map((x) => formatPath(x.path));
      expect(paths).toContain('vms[0].host');
      expect(paths).not.toContain('vms[0].nicPort');
    }
  });

  it('refuses two NAT VIPs that send to one VM port (replies could not be told apart), naming the second', () => {
    const value = exampleValue();
    const vips = value.vips as Record<string, unknown>[];
    vips.push({ ...vips[1], name: 'api2', address: '203.0.113.21', backends: ['vm-b2', 'vm-a2'] });
    const result = validateSpec(value);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issues.map((x) => `${formatPath(x.path)}: ${x.message}`)).toEqual([
        "vips[2].backends[0]: NAT target VM 'vm-b2' tcp port 80 (replies are translated back by VM and port) is already used by vips[1]",
        "vips[2].backends[1]: NAT target VM 'vm-a2' tcp port 80 (replies are translated back by VM and port) is already used by vips[1]",
      ]);
    }
    // Another target port is fine, and so is a spare tunnel port listed once.
    vips[2]!.targetPort = 81;
    value.spareVmUdpPorts = [7005, 7006];
    expect(validateSpec(value).ok).toBe(true);
    value.spareVmUdpPorts = [7005, 7005];
    const twice = validateSpec(value);
    expect(twice.ok ? [] : twice.issues.map((x) => formatPath(x.path))).toEqual(['spareVmUdpPorts[1]']);
  });
});
