import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileP4, deriveP4Info, formatP4InfoText } from '../../p4-frontend/index.ts';
import { p4InfoFromText } from '../../core/p4runtime/text-format.ts';
import { create } from '@bufbuild/protobuf';
import { DigestListSchema } from '../../core/p4runtime/gen/p4/v1/p4runtime_pb.ts';
import { decodeDigestList, P4Schema } from '../../runtime-controller/schema/index.ts';
import { defaultEntryOf, keyFieldsOf, resolveAction, resolveTable, tableEntryOf } from './schema-entries.ts';

const LBMINI = new URL('../conformance/lbmini/lbmini.p4', import.meta.url);
const MINI = new URL('../conformance/mini/mini.p4', import.meta.url);

function schemaOf(url: URL): P4Schema {
  const text = readFileSync(url, 'utf8');
  return P4Schema.fromP4Info(p4InfoFromText(formatP4InfoText(deriveP4Info(compileP4(text, 'p.p4')))));
}

describe('BMv2 entries through the controller schema', () => {
  it('finds tables and actions by full name or last part, with a suggestion for a typo', () => {
    const schema = schemaOf(MINI);
    const slots = resolveTable(schema, 'slots');
    expect(slots.name).toBe('MyIngress.slots');
    expect(keyFieldsOf(slots)).toEqual([{ name: 'dst', matchKind: 'exact', width: 48 }]);
    expect(resolveAction(slots, 'set_backend').params.map((p) => [p.name, p.bitwidth])).toEqual([['backend', 16], ['port', 9]]);
    expect(() => resolveTable(schema, 'slot')).toThrow(/no table 'slot'/);
  });

  it('encodes an entry by ids, and a priority only for tables that need one', () => {
    const schema = schemaOf(MINI);
    const slots = resolveTable(schema, 'MyIngress.slots');
    const action = resolveAction(slots, 'set_backend');
    const entry = tableEntryOf(schema, { table: slots, matches: [{ kind: 'exact', value: 0xc9a03ed357d8n }], action: { action, args: [2n, 7n] }, priority: 5 });
    expect(entry.tableId).toBe(slots.id);
    expect(entry.priority).toBe(0);
    expect(entry.match[0]?.fieldMatchType).toEqual({ case: 'exact', value: expect.objectContaining({ value: new Uint8Array([0xc9, 0xa0, 0x3e, 0xd3, 0x57, 0xd8]) }) });
    const type = entry.action?.type;
    expect(type?.case).toBe('action');
    const call = type?.case === 'action' ? type.value : undefined;
    expect(call?.actionId).toBe(action.id);
    expect(call?.params.map((p) => [p.paramId, [...p.value]])).toEqual([[1, [2]], [2, [7]]]);
    const reset = defaultEntryOf(schema, slots);
    expect([reset.isDefaultAction, reset.action, reset.match]).toEqual([true, undefined, []]);
  });

  it('gives ternary tables priority 1 by default, clears bits outside a mask and leaves don\'t-cares out', () => {
    const schema = schemaOf(LBMINI);
    const acl = resolveTable(schema, 'acl');
    expect(acl.needsPriority).toBe(true);
    const deny = resolveAction(acl, 'deny');
    const fields = keyFieldsOf(acl);
    const matches = fields.map((f) =>
      f.matchKind === 'exact' ? { kind: 'exact' as const, value: 6n } : f.width === 32 ? { kind: 'ternary' as const, value: 0x0a0000ffn, mask: 0xff000000n } : undefined);
    const entry = tableEntryOf(schema, { table: acl, matches, action: { action: deny, args: [] } });
    expect(entry.priority).toBe(1);
    expect(entry.match).toHaveLength(2);
    const ternary = entry.match.find((m) => m.fieldMatchType.case === 'ternary')?.fieldMatchType.value;
    expect(ternary).toMatchObject({ value: new Uint8Array([0x0a, 0, 0, 0]), mask: new Uint8Array([0xff, 0, 0, 0]) });
    for (const t of schema.tables) expect(t.needsPriority).toBe(t.matchFields.some((f) => f.kind !== 'exact' && f.kind !== 'lpm'));
  });

  it('encodes lpm canonically, leaves /0 out and refuses bits past the prefix', () => {
    const schema = schemaOf(LBMINI);
    const routes = resolveTable(schema, 'routes');
    const call = { action: resolveAction(routes, 'drop'), args: [] };
    const at = (value: bigint, prefixLength: number) => tableEntryOf(schema, { table: routes, matches: [{ kind: 'lpm', value, prefixLength }], action: call });
    expect(at(0x0a000100n, 24).match[0]?.fieldMatchType).toMatchObject({ case: 'lpm', value: { value: new Uint8Array([10, 0, 1, 0]), prefixLen: 24 } });
    expect(at(0x00000000n, 0).match).toEqual([]);
    expect(() => at(0x0a000101n, 24)).toThrow(/bits set past \/24/);
  });

  it('decodes a digest of the struct the program names', () => {
    const schema = schemaOf(MINI);
    const [digest] = [...schema.digests];
    expect(digest?.members.map((m) => m.name)).toEqual(['src', 'backend']);
    const list = create(DigestListSchema, {
      digestId: digest!.id,
      data: [{ data: { case: 'struct', value: { members: [{ data: { case: 'bitstring', value: new Uint8Array([0xc9, 0xa0]) } }, { data: { case: 'bitstring', value: new Uint8Array([3]) } }] } } }],
    });
    expect(decodeDigestList(schema, list).data).toEqual([{ src: 0xc9a0n, backend: 3n }]);
  });
});
