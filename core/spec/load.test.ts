import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { P4lbAggregateError, P4lbError } from '../errors.ts';
import { SpecError, loadSpecFile, parseSpec } from './load.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const EXAMPLE = here('../../examples/example.yaml');
const exampleText = readFileSync(EXAMPLE, 'utf8');

/** The diagnostics of a spec text as `line:col path message (hint)` strings, in file order. */
function diagnosticsOf(text: string, file = 'spec.yaml'): string[] {
  try {
    parseSpec(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    const e = err as SpecError;
    return e.diagnostics.map((d) => {
      const l = d.location!;
      expect(l.file).toBe(file);
      return `${l.line}:${l.column} ${l.path ?? ''} ${d.message}${d.hint === undefined ? '' : ` (${d.hint})`}`;
    });
  }
  throw new Error('expected the spec to be rejected');
}

const fixture = (name: string) => readFileSync(here(`./fixtures/${name}`), 'utf8');

/** A minimal valid spec, for targeted faults. */
const MINIMAL = `deployment: tiny
gateways:
  - name: gw-1
    p4runtime: { address: "127.0.0.1:9559", deviceId: 1 }
    ports: { public: 1, underlay: 2 }
    underlay: { ipv4: 10.0.0.1, mac: "02:00:00:00:00:01" }
hosts:
  - name: host-a
    ports: { underlay: 1 }
    underlay: { ipv4: 10.0.1.1, mac: "02:00:00:00:01:01" }
    p4runtime: { address: "127.0.0.1:9561", deviceId: 3 }
vms:
  - { name: vm-a1, host: host-a, privateIpv4: 192.168.1.11, udpPort: 7001, nicPort: 2 }
  - { name: vm-a2, host: host-a, privateIpv4: 192.168.1.12, udpPort: 7002, nicPort: 3 }
vips:
  - name: web
    address: 203.0.113.10
    protocol: tcp
    ports: [80]
    mode: nat
    backends: [vm-a1, vm-a2]
    healthCheck: { type: tcp }
`;

describe('parseSpec', () => {
  it('accepts the example and fills defaults', () => {
    const spec = parseSpec(exampleText, 'example.yaml');
    expect(spec.deployment).toBe('example');
    expect(spec.gateways.map((g) => g.name)).toEqual(['gw-east', 'gw-west']);
    expect(spec.vms).toHaveLength(4);
    const west = spec.gateways[1]!;
    expect(west.p4runtime.electionId).toBe(1);
    expect(west.underlay.tunnelUdpPort).toBe(6635);
    expect(west.ports.cpu).toBeUndefined();
    expect(spec.vms[0]!.weight).toBe(1);
    expect(spec.vms[3]!.weight).toBe(2);
    const api = spec.vips.find((v) => v.name === 'api')!;
    expect(api).toMatchObject({
      mode: 'nat',
      flowKey: '5-tuple',
      algorithm: 'maglev',
      slots: 65536,
      geoPreference: false,
      flowIdleTimeoutSeconds: 120,
    });
    expect(api.targetPort).toBe(80);
    expect(api.healthCheck).toEqual({ type: 'tcp', port: 80, intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 2 });
    const web = spec.vips.find((v) => v.name === 'web')!;
    expect(web.targetPort).toBeUndefined();
    expect(web.healthCheck).toMatchObject({ type: 'http', path: '/healthz', expectStatus: 200, port: 80 });
    expect(spec.hosts.map((h) => h.ports)).toEqual([{ underlay: 1 }, { underlay: 1 }]);
    // NIC ports are per host: vm-a1 and vm-b1 both use port 2 of their own host.
    expect(spec.vms.map((v) => [v.udpPort, v.nicPort, v.mac])).toEqual([
      [7001, 2, undefined],
      [7002, 3, undefined],
      [7003, 2, undefined],
      [7004, 3, undefined],
    ]);
    expect(spec.tokens).toEqual({ ttlSeconds: 3600, clockSkewSeconds: 30 });
    expect(spec.flowState).toEqual({ slotsPerGateway: 65536 });
  });

  it('fills defaults for tokens, flowState and http health-check fields when absent', () => {
    const spec = parseSpec(MINIMAL.replace('{ type: tcp }', '{ type: http, port: 8081 }'), 'm.yaml');
    expect(spec.tokens).toEqual({ ttlSeconds: 3600, clockSkewSeconds: 30 });
    expect(spec.flowState).toEqual({ slotsPerGateway: 65536 });
    expect(spec.vips[0]!.healthCheck).toEqual({
      type: 'http',
      port: 8081,
      path: '/healthz',
      expectStatus: 200,
      intervalMs: 1000,
      timeoutMs: 500,
      rise: 2,
      fall: 2,
    });
  });

  it("takes each gateway's public next-hop MAC from the spec, 02:00:00:00:00:fe when absent", () => {
    expect(parseSpec(exampleText, 'example.yaml').gateways.map((g) => [g.name, g.publicNextHopMac])).toEqual([
      ['gw-east', '02:72:74:00:00:01'],
      ['gw-west', '02:72:74:00:00:02'],
    ]);
    expect(parseSpec(MINIMAL, 'm.yaml').gateways[0]!.publicNextHopMac).toBe('02:00:00:00:00:fe');
    const given = MINIMAL.replace('underlay: { ipv4: 10.0.0.1', 'publicNextHopMac: 02:AA:00:00:00:FE\n    underlay: { ipv4: 10.0.0.1');
    expect(parseSpec(given, 'm.yaml').gateways[0]!.publicNextHopMac).toBe('02:aa:00:00:00:fe');
    expect(diagnosticsOf(MINIMAL.replace('underlay: { ipv4: 10.0.0.1', 'publicNextHopMac: 02:00\n    underlay: { ipv4: 10.0.0.1'))).toEqual([
      expect.stringMatching(/^6:23 gateways\[0\]\.publicNextHopMac must be a MAC address/),
    ]);
  });

  it('lower-cases MAC addresses, quoted or not', () => {
    const spec = parseSpec(MINIMAL.replace('"02:00:00:00:00:01"', '02:AB:00:00:00:01'), 'm.yaml');
    expect(spec.gateways[0]!.underlay.mac).toBe('02:ab:00:00:00:01');
  });

  it('reports every fault of a file in one error, with positions and paths', () => {
    expect(diagnosticsOf(fixture('many-faults.yaml'))).toEqual([
      "2:13 deployment deployment name must be lower-case letters, digits and dashes (not at either end), at most 63 characters, got 'Faulty'",
      '6:35 gateways[0].ports.underlay must be <= 510, got 511',
      "7:23 gateways[0].underlay.ipv4 must be an IPv4 address in dotted-quad form, like 10.0.0.1, got '10.0.0.300'",
      "8:5 gateways[0].colour unknown field 'colour'",
      "16:26 vms[1].host unknown host 'hots-a' (did you mean 'host-a'?)",
      '16:70 vms[1].udpPort must be <= 65535, got 70000',
      "18:5 vips[0].protocol missing required field 'protocol'",
      "21:11 vips[0].mode expected one of 'tunnel' | 'nat', got 'tunel' (did you mean 'tunnel'?)",
      '22:12 vips[0].slots must be a power of two (the P4 program masks the hash), got 1000',
      "23:23 vips[0].backends[1] unknown VM 'vm-a3' (did you mean 'vm-a1'?)",
      "24:31 vips[0].healthCheck.path unknown field 'path' (only allowed when type is 'http')",
      '24:75 vips[0].healthCheck.timeoutMs timeoutMs (500) must be less than intervalMs (500) (a probe must end before the next one starts)',
    ]);
  });

  it('reports duplicate names and addresses at the second use', () => {
    expect(diagnosticsOf(fixture('duplicates.yaml'))).toEqual([
      '6:35 gateways[0].ports.underlay port 1 is also the public port',
      '11:23 hosts[0].underlay.ipv4 underlay IPv4 10.0.0.1 is already used by gateways[0]',
      '11:38 hosts[0].underlay.mac MAC 02:00:00:00:00:01 is already used by gateways[0]',
      '12:55 hosts[0].p4runtime.deviceId P4Runtime target 127.0.0.1:9559 device 1 is already used by gateways[0]',
      "15:13 vms[1].name VM name 'vm-a1' is already used by vms[0]",
      '15:47 vms[1].privateIpv4 private IPv4 192.168.1.11 is already used by vms[0]',
      "15:70 vms[1].udpPort UDP port 7001 on host 'host-a' is already used by vms[0]",
      '20:17 vips[0].ports[1] VIP 203.0.113.10 tcp port 80 is already used by vips[0].ports[0]',
      "23:23 vips[0].backends[1] VM 'vm-a1' is listed twice",
    ]);
  });

  it('points a missing field at its parent mapping and explains bad values', () => {
    expect(diagnosticsOf(fixture('missing-fields.yaml'))).toEqual([
      "4:5 gateways[0].ports missing required field 'ports'",
      "5:27 gateways[0].p4runtime.address must be 'host:port', like 127.0.0.1:9559, got 'localhost'",
      "17:15 vips[0].protocol expected one of 'tcp' | 'udp', got 'sctp' (did you mean 'tcp'?)",
      '18:12 vips[0].ports must have at least 1 item(s)',
      "21:26 vips[0].healthCheck.type expected one of 'tcp' | 'http', got 'icmp' (did you mean 'tcp'?)",
    ]);
  });

  it('reports YAML syntax errors with their position', () => {
    const [only, ...rest] = diagnosticsOf(fixture('syntax-error.yaml'));
    expect(rest).toEqual([]);
    expect(only).toMatch(/^5:1 {2}YAML: /);
  });

  it('reports a duplicate YAML key as a syntax error', () => {
    const text = MINIMAL.replace('deployment: tiny\n', 'deployment: tiny\ndeployment: again\n');
    expect(diagnosticsOf(text)[0]).toMatch(/^2:1 {2}YAML: .*unique/);
  });

  it('rejects an unknown field with its path and a did-you-mean', () => {
    const text = MINIMAL.replace('udpPort: 7002,', 'udpPort: 7002, wieght: 3,');
    expect(diagnosticsOf(text)).toEqual(["14:76 vms[1].wieght unknown field 'wieght' (did you mean 'weight'?)"]);
  });

  it('suggests the closest VM for a misspelled backend', () => {
    const text = MINIMAL.replace('backends: [vm-a1, vm-a2]', 'backends: [vm-a1, vma2]');
    expect(diagnosticsOf(text)).toEqual(["21:23 vips[0].backends[1] unknown VM 'vma2' (did you mean 'vm-a2'?)"]);
  });

  it('requires slots of at least 100 x backends, counting the default', () => {
    const text = MINIMAL.replace('    mode: nat\n', '    mode: nat\n    slots: 128\n');
    expect(diagnosticsOf(text)).toEqual(['21:12 vips[0].slots 128 slots is less than 100 x 2 backends = 200 (use 256)']);
  });

  it('checks switch and L4 port ranges', () => {
    const text = MINIMAL.replace('public: 1, underlay: 2', 'public: -1, underlay: 2').replace('ports: [80]', 'ports: [0]');
    expect(diagnosticsOf(text)).toEqual([
      '5:22 gateways[0].ports.public must be >= 0, got -1',
      '19:13 vips[0].ports[0] must be >= 1, got 0',
    ]);
  });

  it('checks location references only when a locations list is given', () => {
    const free = MINIMAL.replace('  - name: gw-1\n', '  - name: gw-1\n    location: mars\n');
    expect(parseSpec(free, 'f.yaml').gateways[0]!.location).toBe('mars');
    const listed = free.replace('gateways:\n', 'locations:\n  - { name: east, latitude: 1, longitude: 2 }\ngateways:\n');
    expect(diagnosticsOf(listed)).toEqual(["6:15 gateways[0].location unknown location 'mars' (known locations: east)"]);
  });

  it('requires locations for geoPreference', () => {
    const text = MINIMAL.replace('    mode: nat\n', '    mode: nat\n    geoPreference: true\n');
    expect(diagnosticsOf(text)).toEqual(["21:20 vips[0].geoPreference geoPreference needs a top-level 'locations' list"]);
  });

  it('reports a non-mapping document at the start', () => {
    expect(diagnosticsOf('- just\n- a list\n')).toEqual(['1:1  expected a mapping, got a list']);
  });

  it('throws a SpecError that is a P4lbAggregateError with code SPEC_INVALID', () => {
    try {
      parseSpec('deployment: x\n', 'x.yaml');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(P4lbAggregateError);
      expect((err as SpecError).code).toBe('SPEC_INVALID');
      expect((err as SpecError).describe()).toMatch(/^x\.yaml: 4 problems in the spec\n {2}x\.yaml:1:1: gateways: missing/);
    }
  });
});

describe('parseSpec: host NIC ports, VM MACs and NAT target ports', () => {
  it('requires the ports of a host and the NIC port of a VM', () => {
    const text = MINIMAL.replace('    ports: { underlay: 1 }\n', '').replace(', nicPort: 3 }', ' }');
    expect(diagnosticsOf(text)).toEqual([
      "8:5 hosts[0].ports missing required field 'ports'",
      "13:5 vms[1].nicPort missing required field 'nicPort'",
    ]);
  });

  it('checks the range of NIC ports and the form of a VM MAC', () => {
    const text = MINIMAL.replace('nicPort: 2 }', 'nicPort: 511 }').replace('nicPort: 3 }', 'nicPort: 3, mac: "02:00:c0:a8:01" }');
    expect(diagnosticsOf(text)).toEqual([
      '13:85 vms[0].nicPort must be <= 510, got 511',
      "14:93 vms[1].mac must be a MAC address of six colon-separated hex bytes, like 02:00:00:00:00:01, got '02:00:c0:a8:01'",
    ]);
  });

  it('rejects a host cpu port equal to its underlay port', () => {
    const text = MINIMAL.replace('{ underlay: 1 }', '{ underlay: 1, cpu: 1 }');
    expect(diagnosticsOf(text)).toEqual(['9:32 hosts[0].ports.cpu port 1 is also the underlay port']);
  });

  it('rejects a NIC port used twice on one host', () => {
    const text = MINIMAL.replace('nicPort: 3 }', 'nicPort: 2 }');
    expect(diagnosticsOf(text)).toEqual(["14:85 vms[1].nicPort NIC port 2 on host 'host-a' is already used by vms[0]"]);
  });

  it("rejects a NIC port that is its host's underlay or cpu port", () => {
    const text = MINIMAL.replace('{ underlay: 1 }', '{ underlay: 1, cpu: 3 }').replace('nicPort: 2 }', 'nicPort: 1 }');
    expect(diagnosticsOf(text)).toEqual([
      "13:85 vms[0].nicPort port 1 is the underlay port of host 'host-a'",
      "14:85 vms[1].nicPort port 3 is the cpu port of host 'host-a'",
    ]);
  });

  it('rejects a VM MAC used twice, whatever its case', () => {
    const text = MINIMAL.replace('nicPort: 2 }', 'nicPort: 2, mac: "02:AA:00:00:00:01" }').replace(
      'nicPort: 3 }',
      'nicPort: 3, mac: "02:aa:00:00:00:01" }',
    );
    expect(diagnosticsOf(text)).toEqual(['14:93 vms[1].mac MAC 02:aa:00:00:00:01 is already used by vms[0]']);
  });

  it("rejects a VM MAC equal to another VM's default MAC, at the explicit one", () => {
    // 192.168.1.12 is c0 a8 01 0c: vm-a2's default MAC, given explicitly to vm-a1 (listed first).
    const text = MINIMAL.replace('nicPort: 2 }', 'nicPort: 2, mac: "02:00:c0:a8:01:0c" }');
    expect(diagnosticsOf(text)).toEqual([
      '13:93 vms[0].mac MAC 02:00:c0:a8:01:0c is already used by vms[1] (the default MAC of vms[1], from its privateIpv4)',
    ]);
  });

  it('accepts a VM MAC equal to its own default and lower-cases it', () => {
    const spec = parseSpec(MINIMAL.replace('nicPort: 2 }', 'nicPort: 2, mac: "02:00:C0:A8:01:0B" }'), 'm.yaml');
    expect(spec.vms[0]!.mac).toBe('02:00:c0:a8:01:0b');
  });

  it('allows targetPort only in nat mode', () => {
    const tunnel = MINIMAL.replace('    mode: nat\n', '    mode: tunnel\n    targetPort: 8080\n');
    expect(diagnosticsOf(tunnel)).toEqual([
      '21:17 vips[0].targetPort targetPort applies only to mode nat (in tunnel mode the packet reaches the VM unchanged)',
    ]);
    // With an unknown mode only the mode is reported.
    expect(diagnosticsOf(tunnel.replace('mode: tunnel', 'mode: natt'))).toEqual([
      "20:11 vips[0].mode expected one of 'tunnel' | 'nat', got 'natt' (did you mean 'nat'?)",
    ]);
    expect(diagnosticsOf(MINIMAL.replace('    mode: nat\n', '    mode: nat\n    targetPort: 0\n'))).toEqual([
      '21:17 vips[0].targetPort must be >= 1, got 0',
    ]);
  });

  it('allows targetPort only on a VIP with one port', () => {
    const twoPorts = MINIMAL.replace('    mode: nat\n', '    mode: nat\n    targetPort: 8080\n').replace('ports: [80]', 'ports: [80, 81]');
    expect(diagnosticsOf(twoPorts)).toEqual([
      '21:17 vips[0].targetPort targetPort needs a VIP with one port, this one has 2 (split the VIP into one VIP per port)',
    ]);
  });

  it('probes the targetPort in nat mode unless the health check names a port', () => {
    const nat = MINIMAL.replace('    mode: nat\n', '    mode: nat\n    targetPort: 8080\n');
    const vip = parseSpec(nat, 'n.yaml').vips[0]!;
    expect([vip.ports, vip.targetPort, vip.healthCheck.port]).toEqual([[80], 8080, 8080]);
    const explicit = parseSpec(nat.replace('{ type: tcp }', '{ type: tcp, port: 9000 }'), 'n.yaml').vips[0]!;
    expect(explicit.healthCheck.port).toBe(9000);
    const tunnel = parseSpec(MINIMAL.replace('mode: nat', 'mode: tunnel'), 't.yaml').vips[0]!;
    expect([tunnel.targetPort, tunnel.healthCheck.port]).toEqual([undefined, 80]);
  });
});

describe('loadSpecFile', () => {
  it('reads and validates a file', async () => {
    expect((await loadSpecFile(EXAMPLE)).deployment).toBe('example');
  });

  it('reports an unreadable file with its path', async () => {
    const missing = here('./fixtures/does-not-exist.yaml');
    await expect(loadSpecFile(missing)).rejects.toSatisfy(
      (e) => e instanceof P4lbError && e.code === 'SPEC_UNREADABLE' && e.location?.file === missing,
    );
  });
});
