import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileP4, deriveP4Info, formatP4InfoText } from '../../p4-frontend/index.ts';
import { p4InfoFromText } from '../../core/p4runtime/text-format.ts';
import { decodeDigestData, encodeFieldMatch, encodeTableEntry, P4InfoIndex, type MatchFieldInfo } from './p4info-index.ts';

const LBMINI = new URL('../conformance/lbmini/lbmini.p4', import.meta.url);
const MINI = new URL('../conformance/mini/mini.p4', import.meta.url);

function indexOf(url: URL): P4InfoIndex {
  const text = readFileSync(url, 'utf8');
  return new P4InfoIndex(p4InfoFromText(formatP4InfoText(deriveP4Info(compileP4(text, 'p.p4')))));
}

const field = (kind: MatchFieldInfo['kind'], bitwidth = 32): MatchFieldInfo => ({ id: 3, name: 'f', bitwidth, kind });

describe('P4Runtime field matches', () => {
  it('encodes values canonically (shortest big-endian, 0 as one byte)', () => {
    expect(encodeFieldMatch(field('exact', 48), { kind: 'exact', value: 0x0102n })).toEqual({ fieldId: 3, fieldMatchType: { case: 'exact', value: { value: new Uint8Array([1, 2]) } } });
    expect(encodeFieldMatch(field('exact'), { kind: 'exact', value: 0n })?.fieldMatchType?.value).toEqual({ value: new Uint8Array([0]) });
  });

  it('omits don\'t-care matches, as P4Runtime requires', () => {
    expect(encodeFieldMatch(field('lpm'), { kind: 'lpm', value: 0n, prefixLength: 0 })).toBeUndefined();
    expect(encodeFieldMatch(field('ternary'), { kind: 'ternary', value: 0n, mask: 0n })).toBeUndefined();
    expect(encodeFieldMatch(field('range', 8), { kind: 'range', low: 0n, high: 255n })).toBeUndefined();
  });

  it('encodes lpm, ternary and range', () => {
    expect(encodeFieldMatch(field('lpm'), { kind: 'lpm', value: 0x0a000100n, prefixLength: 24 })?.fieldMatchType).toEqual({ case: 'lpm', value: { value: new Uint8Array([10, 0, 1, 0]), prefixLen: 24 } });
    expect(encodeFieldMatch(field('ternary', 16), { kind: 'ternary', value: 0x1234n, mask: 0xff00n })?.fieldMatchType).toEqual({ case: 'ternary', value: { value: new Uint8Array([0x12, 0]), mask: new Uint8Array([0xff, 0]) } });
    expect(encodeFieldMatch(field('range', 16), { kind: 'range', low: 5n, high: 300n })?.fieldMatchType).toEqual({ case: 'range', value: { low: new Uint8Array([5]), high: new Uint8Array([1, 44]) } });
  });

  it('refuses an lpm value with bits past its prefix', () => {
    expect(() => encodeFieldMatch(field('lpm'), { kind: 'lpm', value: 0x0a000101n, prefixLength: 24 })).toThrow(/outside mask/);
  });
});

describe('P4InfoIndex', () => {
  it('finds tables, actions and counters by full name or last part, with a suggestion for a typo', () => {
    const index = indexOf(MINI);
    const slots = index.table('slots');
    expect(slots.name).toBe('MyIngress.slots');
    expect(slots.fields).toEqual([{ id: 1, name: 'dst', bitwidth: 48, kind: 'exact' }]);
    expect(index.action(slots, 'set_backend').params.map((p) => [p.name, p.bitwidth])).toEqual([['backend', 16], ['port', 9]]);
    expect(index.counter('per_backend')).toMatchObject({ size: 64, direct: false });
    expect(() => index.table('slot')).toThrow(/no table 'slot'/);
  });

  it('encodes an entry by ids, and a priority only for tables that need one', () => {
    const index = indexOf(MINI);
    const slots = index.table('MyIngress.slots');
    const action = index.action(slots, 'set_backend');
    const entry = encodeTableEntry(slots, [{ kind: 'exact', value: 0xc9a03ed357d8n }], { action, args: [2n, 7n] }, 5);
    expect(entry.tableId).toBe(slots.id);
    expect(entry.priority).toBeUndefined();
    expect(entry.action?.type).toEqual({ case: 'action', value: { actionId: action.id, params: [{ paramId: 1, value: new Uint8Array([2]) }, { paramId: 2, value: new Uint8Array([7]) }] } });
  });

  it('names a digest by its struct and decodes its members', () => {
    const index = indexOf(MINI);
    const [digest] = [...index.digests.values()];
    expect(digest).toMatchObject({ typeName: 'learn_t', fields: ['src', 'backend'] });
    const data = {
      data: { case: 'struct', value: { members: [{ data: { case: 'bitstring', value: new Uint8Array([0xc9, 0xa0]) } }, { data: { case: 'bitstring', value: new Uint8Array([3]) } }] } },
    } as unknown as Parameters<typeof decodeDigestData>[1];
    expect(decodeDigestData(digest!, data)).toEqual({ src: 0xc9a0n, backend: 3n });
  });

  it('marks tables with ternary keys as needing a priority', () => {
    const index = indexOf(LBMINI);
    for (const t of index.tables.values()) expect(t.needsPriority).toBe(t.fields.some((f) => f.kind !== 'exact' && f.kind !== 'lpm'));
  });
});
