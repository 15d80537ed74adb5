import { describe, expect, it } from 'vitest';
import { idsFor, positionalIds } from '../core/spec/ids.ts';
import { loadSpecFile } from '../core/spec/load.ts';
import type { LbSpec, Vm } from '../core/spec/schema.ts';
import { programChangeProblems } from './program-change.ts';
import { gatewayViewModel, hostViewModel } from './view-model.ts';

const example = await loadSpecFile(new URL('../examples/example.yaml', import.meta.url).pathname);
const vm = (name: string, udpPort: number, nicPort: number): Vm => ({ name, host: 'host-a', privateIpv4: `192.168.1.${nicPort + 20}`, udpPort, nicPort, weight: 1 });
const withVms = (spec: LbSpec, vms: readonly Vm[]): LbSpec => ({
  ...spec,
  vms: [...spec.vms, ...vms],
  vips: spec.vips.map((v) => (v.name === 'web' ? { ...v, backends: [...v.backends, ...vms.map((x) => x.name)] } : v)),
});
const problemsOf = (running: LbSpec, next: LbSpec) => programChangeProblems(running, next, idsFor(next, positionalIds(running)));

describe('programChangeProblems', () => {
  it('accepts the spec the programs were generated from, and VMs on ports the host parser reads', () => {
    expect(problemsOf(example, example)).toEqual([]);
    // 7003 is host-b's; on host-a it is free, and the shared host program parses it.
    expect(problemsOf(example, withVms(example, [vm('vm-a3', 7003, 4)]))).toEqual([]);
  });

  it('names the VM whose tunnel port the running host program does not parse, and accepts it with a spare port', () => {
    const next = withVms(example, [vm('vm-a3', 7005, 4)]);
    expect(problemsOf(example, next)).toEqual([{ path: 'vms[4].udpPort', message: expect.stringMatching(/^port 7005 of VM 'vm-a3' is not a tunnel port of the running host program \(it parses 7001, 7002, 7003, 7004\)/) as unknown }]);
    const spare = { ...example, spareVmUdpPorts: [7005] };
    expect(problemsOf(spare, { ...next, spareVmUdpPorts: [7005] })).toEqual([]);
  });

  it('accepts one more VIP of the largest size, and names the table when a second would not fit', () => {
    const web = example.vips.find((v) => v.name === 'web')!;
    const vip = (name: string, port: number) => ({ ...web, name, ports: [port] });
    const one = { ...example, vips: [...example.vips, vip('extra', 81)] };
    expect(problemsOf(example, one)).toEqual([]);
    const two = { ...one, vips: [...one.vips, vip('extra2', 82)] };
    const slots = gatewayViewModel(example, 'x').sizes.slotTable;
    expect(problemsOf(example, two)).toEqual([{ path: 'vips[].slots', message: `the gateway program's slotTable holds ${slots}, the new spec needs ${slots + web.slots}` }]);
  });

  it('names counters that an id beyond their size would overrun', () => {
    const ids = positionalIds(example);
    const far = { vip: ids.vip, backend: new Map([...ids.backend, ['vm-a1', 5000]]) };
    expect(programChangeProblems(example, example, far).map((p) => p.path)).toEqual(['vms', 'vms']);
  });

  it('names a change of what the programs print other than sizes', () => {
    const flows = { ...example, flowState: { slotsPerGateway: 1024 } };
    expect(problemsOf(example, flows).map((p) => p.path)).toEqual(['flowSlots']);
  });

  it('takes as many VIPs and VMs as the running spec\'s capacity plans for', () => {
    const web = example.vips.find((v) => v.name === 'web')!;
    const vips = (n: number) => Array.from({ length: n }, (_, i) => ({ ...web, name: `extra${i}`, address: `203.0.113.${100 + i}`, backends: ['vm-a1'] }));
    const spare = Array.from({ length: 40 }, (_, i) => 7100 + i);
    const vms = (n: number) => Array.from({ length: n }, (_, i) => vm(`vm-x${i}`, spare[i]!, 10 + i));
    const grown = (nVips: number, nVms: number): LbSpec => ({ ...withVms(example, vms(nVms)), vips: [...withVms(example, vms(nVms)).vips, ...vips(nVips)] });
    // Without a capacity: one more VIP of the largest size fits, two do not.
    expect(problemsOf(example, grown(2, 0)).map((p) => p.path)).toEqual(['vips[].slots']);
    // With one, and tunnel ports to spare for the new VMs (all on host-a).
    const planned = { ...example, capacity: { vips: 8, vms: 40 }, spareVmUdpPorts: spare };
    const plan = { capacity: planned.capacity, spareVmUdpPorts: spare };
    expect(problemsOf(planned, { ...grown(6, 36), ...plan })).toEqual([]);
    // Beyond it, the table that overflows is named.
    expect(problemsOf(planned, { ...grown(8, 36), ...plan }).map((p) => p.path)).toEqual(['vips[].slots']);
  });

  it('sizes the programs for the capacity, and leaves a spec without one as it was', () => {
    const sizes = gatewayViewModel({ ...example, capacity: { vips: 8 } }, 'x').sizes;
    expect(sizes.slotTable).toBe(9 * 65_536);
    expect(sizes).toMatchObject({ vipCounter: 1024, backendTable: 1024 });
    expect(gatewayViewModel(example, 'x').sizes.slotTable).toBe(2 * 65_536 + 65_536);
    expect(hostViewModel({ ...example, capacity: { vms: 600 } }, 'x').sizes).toMatchObject({ localVm: 2048, vmCounter: 2048 });
  });
});
