import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ActionDecl } from '../../p4-frontend/ast.ts';
import { Table, type ActionInfo, type FieldMatch, type TableEntryData } from './tables.ts';

const span = { file: 'slots.p4', line: 1, col: 1, offset: 0, end: 0 };

function action(name: string, widths: readonly number[]): ActionInfo {
  return {
    name,
    decl: {} as ActionDecl,
    params: widths.map((width, i) => ({ name: `p${i}`, width })),
    run: () => undefined,
  };
}

const setBackend = action('set_slot_backend', [16]);
const noAction = action('NoAction', []);

/** A slot table as the gateway has it: VIP id and slot index, exact. */
function slotTable(size = 1024): Table {
  return new Table({
    name: 'slot_table',
    span,
    keys: [
      { name: 'vip_id', matchKind: 'exact', width: 16 },
      { name: 'slot', matchKind: 'exact', width: 16 },
    ],
    actions: [
      { action: setBackend, defaultOnly: false, tableOnly: false },
      { action: noAction, defaultOnly: true, tableOnly: false },
    ],
    defaultAction: { action: noAction, args: [] },
    defaultIsConst: false,
    size,
    constEntries: [],
    entriesAreConst: false,
    hasDirectCounter: true,
  });
}

function exact(value: bigint): FieldMatch {
  return { kind: 'exact', value };
}

function slotEntry(vip: bigint, slot: bigint, backend: bigint): TableEntryData {
  return { matches: [exact(vip), exact(slot)], priority: 0, action: { action: setBackend, args: [backend] } };
}

describe('Table.modify', () => {
  it('changes the action in place: identity, order and counters stay, lookups see the new action', () => {
    const t = slotTable();
    t.insert(slotEntry(1n, 7n, 3n));
    t.insert(slotEntry(1n, 8n, 3n));
    const stored = t.find({ matches: [exact(1n), exact(7n)], priority: 0 })!;
    stored.packets = 5n;
    t.modify(slotEntry(1n, 7n, 4n));
    const after = t.find({ matches: [exact(1n), exact(7n)], priority: 0 })!;
    expect(after).toBe(stored);
    expect(after.packets).toBe(5n);
    expect(after.action.args).toEqual([4n]);
    expect(t.lookup([1n, 7n]).call.args).toEqual([4n]);
    expect(t.lookupScalars([1, 7]).call.args).toEqual([4n]);
    expect(t.lookupScalars([1, 7]).entry).toBe(stored);
    expect(t.entries().map((e) => e.matches[1])).toEqual([exact(7n), exact(8n)]);
  });

  it('reports the same errors as before the fast checks', () => {
    const t = slotTable();
    t.insert(slotEntry(1n, 7n, 3n));
    expect(() => t.modify(slotEntry(1n, 9n, 3n))).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }) as Error);
    expect(() => t.modify(slotEntry(1n, 0x10000n, 3n))).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }) as Error);
    expect(() => t.modify(slotEntry(1n, -1n, 3n))).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }) as Error);
    expect(() => t.modify(slotEntry(1n, 7n, 0x10000n))).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }) as Error);
    expect(() => t.modify({ matches: [exact(1n), exact(7n)], priority: 0, action: { action: noAction, args: [] } })).toThrow(/@defaultonly/);
    expect(() => t.modify({ ...slotEntry(1n, 7n, 3n), priority: 2 })).toThrow(/priority must be 0/);
    expect(() => t.modify({ matches: [exact(1n), undefined], priority: 0, action: { action: setBackend, args: [1n] } })).toThrow(/exact and needs a value/);
    expect(() => t.modify({ matches: [exact(1n), { kind: 'lpm', value: 0n, prefixLength: 8 }], priority: 0, action: { action: setBackend, args: [1n] } })).toThrow(/got a lpm match/);
  });
});

describe('shared action calls', () => {
  it('entries with equal calls share one call object; lookups return each entry its own arguments', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: 5n }), { minLength: 1, maxLength: 60 }), (backends) => {
        const t = slotTable();
        backends.forEach((b, slot) => t.insert(slotEntry(2n, BigInt(slot), b)));
        const calls = new Map<bigint, unknown>();
        backends.forEach((b, slot) => {
          const hit = t.lookup([2n, BigInt(slot)]);
          expect(hit.hit).toBe(true);
          expect(hit.call.args).toEqual([b]);
          const seen = calls.get(b);
          if (seen === undefined) calls.set(b, hit.call);
          else expect(hit.call).toBe(seen);
        });
      }),
      { numRuns: 50 },
    );
  });

  it('forgets shared calls when the table is cleared', () => {
    const t = slotTable();
    t.insert(slotEntry(1n, 1n, 3n));
    t.clear();
    expect(t.entryCount).toBe(0);
    t.insert(slotEntry(1n, 1n, 4n));
    expect(t.lookup([1n, 1n]).call.args).toEqual([4n]);
  });
});
