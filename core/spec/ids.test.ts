import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadSpecFile } from './load.ts';
import { assignIds, idsFor, maxId, namesById, positionalIds, sameIds, vipIdIn, backendIdIn, NO_ID } from './ids.ts';
import { backendId, vipId } from './lookup.ts';

const example = await loadSpecFile(new URL('../../examples/example.yaml', import.meta.url).pathname);

describe('data-plane ids', () => {
  it('start as positions in the name-sorted lists, as lookup numbers them', () => {
    const ids = positionalIds(example);
    for (const vm of example.vms) expect(backendIdIn(ids, vm.name)).toBe(backendId(example, vm.name));
    for (const vip of example.vips) expect(vipIdIn(ids, vip.name)).toBe(vipId(example, vip.name));
    expect(namesById(ids.vip).get(1)).toBe('api');
    expect(namesById(ids.backend).get(NO_ID)).toBeUndefined();
  });

  it('keep the ids of names that stay; a new name takes the lowest free id', () => {
    const kept = new Map([['vm-a1', 1], ['vm-a2', 2], ['vm-b1', 3], ['vm-b2', 4]]);
    // vm-a2 leaves, vm-a3 and vm-a0 arrive: vm-a0 (first by name) takes the freed 2, vm-a3 takes 5.
    const next = assignIds('backend', ['vm-a1', 'vm-a3', 'vm-b1', 'vm-b2', 'vm-a0'], kept);
    expect(Object.fromEntries(next)).toEqual({ 'vm-a1': 1, 'vm-b1': 3, 'vm-b2': 4, 'vm-a0': 2, 'vm-a3': 5 });
  });

  it('never give two names one id, and never renumber a name that stays (property)', () => {
    const name = fc.stringMatching(/^[a-d]{1,2}$/);
    fc.assert(
      fc.property(fc.uniqueArray(name), fc.uniqueArray(name), (first, second) => {
        const a = assignIds('vip', first);
        const b = assignIds('vip', second, a);
        expect(new Set(b.values()).size).toBe(b.size);
        for (const n of second) if (a.has(n)) expect(b.get(n)).toBe(a.get(n));
        // Lowest free: ids stay within the number of names held at once.
        expect(maxId(b)).toBeLessThanOrEqual(Math.max(first.length, second.length, 0) + first.length);
        expect([...b.values()].every((id) => id >= 1)).toBe(true);
      }),
    );
  });

  it('follow a spec, keeping earlier ids', () => {
    const ids = positionalIds(example);
    const grown = { ...example, vms: [...example.vms, { ...example.vms[0]!, name: 'vm-0', udpPort: 7005, nicPort: 4 }] };
    const next = idsFor(grown, ids);
    expect(backendIdIn(next, 'vm-0')).toBe(5);
    expect(backendIdIn(next, 'vm-a1')).toBe(1);
    // By position vm-0 would have taken 1 and shifted every other VM.
    expect(backendId(grown, 'vm-0')).toBe(1);
    expect(sameIds(next, ids)).toBe(false);
    expect(sameIds(idsFor(example, next), ids)).toBe(true);
  });

  it('refuse a kept id outside 16 bits or held twice, and an unknown name with a suggestion', () => {
    expect(() => assignIds('vip', ['a'], new Map([['a', 0x10000]]))).toThrow(/id 65536, outside 1\.\.65535/);
    expect(() => assignIds('vip', ['a', 'b'], new Map([['a', 3], ['b', 3]]))).toThrow(/id 3 is held by two names/);
    expect(() => backendIdIn(positionalIds(example), 'vm-a3')).toThrow(/unknown VM 'vm-a3'/);
  });
});
