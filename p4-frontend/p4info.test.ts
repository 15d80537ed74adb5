import { fileURLToPath } from 'node:url';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { P4TypeError } from './errors.ts';
import { compileP4 } from './index.ts';
import { ID_PREFIX, deriveP4Info, jenkinsOneAtATime, type P4Info } from './p4info.ts';
import { escapeText, formatP4InfoText } from './p4info-text.ts';

/** The STF conformance corpus, copied into this repository as test data. */
const CORPUS = fileURLToPath(new URL('../bmv2-tests/conformance/', import.meta.url));

const TESTDATA = join(import.meta.dirname, 'testdata');

function p4infoOf(text: string, file = 'p.p4'): P4Info {
  return deriveP4Info(compileP4(text, file));
}

function corpus(name: string): P4Info {
  const file = join(CORPUS, name, `${name}.p4`);
  return p4infoOf(readFileSync(file, 'utf8'), file);
}

const byName = <T extends { preamble: { name: string } }>(xs: readonly T[], name: string): T => {
  const x = xs.find((e) => e.preamble.name === name);
  if (x === undefined) throw new Error(`no ${name} in ${xs.map((e) => e.preamble.name).join(', ')}`);
  return x;
};

const PIPELINE = (ingress: string, egress = 'control E(inout hs h, inout m_t m, inout standard_metadata_t sm) { apply { } }'): string => `
#include <core.p4>
#include <v1model.p4>
header h_t { bit<48> dst; }
struct hs { h_t h; }
struct m_t { bit<16> a; }
parser P(packet_in b, out hs h, inout m_t m, inout standard_metadata_t sm) { state start { transition accept; } }
control VC(inout hs h, inout m_t m) { apply { } }
${ingress}
${egress}
control CC(inout hs h, inout m_t m) { apply { } }
control D(packet_out b, in hs h) { apply { } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;
`;

describe('jenkinsOneAtATime ids', () => {
  it('reproduces ids p4c gave to objects without @id', () => {
    // Ids from p4c's testdata/p4_16_samples_outputs p4info files.
    const id = (prefix: number, name: string): number => ((prefix << 24) | (jenkinsOneAtATime(name) & 0xffffff)) >>> 0;
    expect(id(ID_PREFIX.action, 'NoAction')).toBe(21257015);
    expect(id(ID_PREFIX.action, 'MyIngress.drop')).toBe(25652968);
    expect(id(ID_PREFIX.table, 'MyIngress.forward')).toBe(46460945);
    expect(id(ID_PREFIX.digest, 'test_digest_t')).toBe(387015589);
    expect(id(ID_PREFIX.controllerHeader, 'packet_in_t')).toBe(80671331);
  });
});

describe('deriveP4Info on the conformance corpus', () => {
  it('mini: @id annotations get the type prefix; widths and sizes come from the program', () => {
    const info = corpus('mini');
    const slots = byName(info.tables, 'MyIngress.slots');
    expect(slots.preamble.id).toBe(0x02000005);
    expect(slots.matchFields).toEqual([{ id: 1, name: 'dst', annotations: [], bitwidth: 48, matchType: 'EXACT', otherMatchType: undefined }]);
    expect(slots.size).toBe(4096);
    expect(slots.actionRefs.map((a) => a.id)).toEqual([0x01000003, 0x01000004]);
    expect(slots.initialDefaultAction).toEqual({ actionId: 0x01000004, arguments: [] });
    const setBackend = byName(info.actions, 'MyIngress.set_backend');
    expect(setBackend.params.map((p) => [p.id, p.name, p.bitwidth])).toEqual([[1, 'backend', 16], [2, 'port', 9]]);
    expect(byName(info.registers, 'MyIngress.flow_sig')).toMatchObject({ preamble: { id: 0x16000007 }, typeSpec: { kind: 'bit', bitwidth: 32 }, size: 1024 });
    expect(byName(info.counters, 'MyIngress.per_backend')).toMatchObject({ preamble: { id: 0x12000008 }, unit: 'BOTH', size: 64 });
    expect(info.digests.map((d) => d.preamble.name)).toEqual(['learn_t']);
    expect(info.typeInfo?.structs.get('learn_t')).toEqual([
      { name: 'src', typeSpec: { kind: 'bit', bitwidth: 48 } }, { name: 'backend', typeSpec: { kind: 'bit', bitwidth: 16 } },
    ]);
  });

  it('lbmini: names, match kinds, NoAction first and actions called from apply', () => {
    const info = corpus('lbmini');
    expect(info.tables.map((t) => t.preamble.name)).toEqual(['MyIngress.routes', 'MyIngress.acl', 'MyIngress.slots']);
    expect(info.actions.map((a) => a.preamble.name)).toEqual([
      'NoAction', 'MyIngress.drop', 'MyIngress.route', 'MyIngress.deny', 'MyIngress.allow', 'MyIngress.pick', 'MyIngress.pin',
    ]);
    const acl = byName(info.tables, 'MyIngress.acl');
    expect(acl.matchFields.map((m) => [m.name, m.bitwidth, m.matchType])).toEqual([
      ['h.ipv4.srcAddr', 32, 'TERNARY'], ['m.dport', 16, 'TERNARY'], ['h.ipv4.protocol', 8, 'EXACT'],
    ]);
    expect(byName(info.tables, 'MyIngress.slots').matchFields[0]).toMatchObject({ name: 'slot', bitwidth: 10 });
    expect(byName(info.tables, 'MyIngress.routes').matchFields[0]!.matchType).toBe('LPM');
    expect(byName(info.actions, 'NoAction').preamble).toEqual({ id: 21257015, name: 'NoAction', alias: 'NoAction', annotations: ['@noWarn("unused")'] });
  });

  it('slots: two @id(1) objects of different kinds do not collide', () => {
    const info = corpus('slots');
    expect(info.tables[0]!.preamble.id).toBe(0x02000001);
    expect(byName(info.actions, 'MyIngress.set_backend').preamble.id).toBe(0x01000001);
  });

  it('fwd has no control-plane objects', () => {
    const info = corpus('fwd');
    expect([info.tables.length, info.actions.length, info.registers.length]).toEqual([0, 0, 0]);
    expect(formatP4InfoText(info)).toBe('# proto-file: p4/config/v1/p4info.proto\n# proto-message: p4.config.v1.P4Info\n\npkg_info {\n  arch: "v1model"\n}\n');
  });
});

describe('deriveP4Info rules', () => {
  it('makes aliases the shortest unique suffix', () => {
    const info = p4infoOf(PIPELINE(
      'control I(inout hs h, inout m_t m, inout standard_metadata_t sm) { action a() {} table t { key = { h.h.dst: exact; } actions = { a; } } apply { t.apply(); } }',
      'control E(inout hs h, inout m_t m, inout standard_metadata_t sm) { action b() {} table t { key = { m.a: exact; } actions = { b; } } apply { t.apply(); } }',
    ));
    expect(info.tables.map((t) => [t.preamble.name, t.preamble.alias])).toEqual([['I.t', 'I.t'], ['E.t', 'E.t']]);
    expect(info.actions.map((a) => a.preamble.alias)).toEqual(['NoAction', 'a', 'b']);
  });

  it('gives a table without default_action a @defaultonly NoAction, as p4c does', () => {
    const info = p4infoOf(PIPELINE('control I(inout hs h, inout m_t m, inout standard_metadata_t sm) { action a() {} table t { key = { h.h.dst: exact; } actions = { a; } } apply { t.apply(); } }'));
    const t = info.tables[0]!;
    expect(t.actionRefs.slice(1)).toEqual([{ id: 21257015, annotations: ['@defaultonly'], scope: 'DEFAULT_ONLY' }]);
    expect(t.initialDefaultAction).toEqual({ actionId: 21257015, arguments: [] });
  });

  it('leaves out tables that are never applied, and their actions', () => {
    const info = p4infoOf(PIPELINE('control I(inout hs h, inout m_t m, inout standard_metadata_t sm) { action a() {} table t { key = { h.h.dst: exact; } actions = { a; } default_action = a(); } apply { } }'));
    expect([info.tables.length, info.actions.length]).toEqual([0, 0]);
  });

  it('takes match-field and parameter ids from @id, numbering the rest around them', () => {
    const info = p4infoOf(PIPELINE('control I(inout hs h, inout m_t m, inout standard_metadata_t sm) { action a(@id(1) bit<8> x, bit<8> y, bit<8> z) {} table t { key = { h.h.dst: exact @id(2); m.a: exact; } actions = { a; } default_action = a(1, 2, 3); } apply { t.apply(); } }'));
    expect(info.actions[0]!.params.map((p) => p.id)).toEqual([1, 2, 3]);
    // p4c's allocator moves its counter past an @id'd element's position, so the second key is 3.
    expect(info.tables[0]!.matchFields.map((m) => m.id)).toEqual([2, 3]);
    expect(info.tables[0]!.initialDefaultAction!.arguments.map((x) => [x.paramId, [...x.value]])).toEqual([[1, [1]], [2, [2]], [3, [3]]]);
  });

  it('leaves out actions no table uses and no apply block calls', () => {
    const info = p4infoOf(PIPELINE('control I(inout hs h, inout m_t m, inout standard_metadata_t sm) { action used() {} action unused() {} apply { used(); } }'));
    expect(info.actions.map((a) => a.preamble.name)).toEqual(['I.used']);
  });

  it('honours @name, absolute names and the default table size', () => {
    const info = p4infoOf(PIPELINE('control I(inout hs h, inout m_t m, inout standard_metadata_t sm) { @name(".glob") action a() {} @name("tbl") table t { key = { h.h.dst: exact; } actions = { a; } } apply { t.apply(); } }'));
    expect(info.tables[0]!.preamble.name).toBe('I.tbl');
    expect(info.tables[0]!.size).toBe(1024);
    expect(info.actions.map((a) => a.preamble.name)).toEqual(['NoAction', 'glob']);
  });

  it('names objects of a control applied inside another by the path of instances', () => {
    const info = p4infoOf(PIPELINE(`control Inner(inout hs h) { action a() {} table t { key = { h.h.dst: exact; } actions = { a; } default_action = a(); } apply { t.apply(); } }
control I(inout hs h, inout m_t m, inout standard_metadata_t sm) { Inner() c; apply { c.apply(h); Inner.apply(h); } }`));
    expect(info.tables.map((t) => t.preamble.name)).toEqual(['I.c.t', 'I.Inner.t']);
    expect(info.actions.map((a) => a.preamble.name)).toEqual(['I.c.a', 'I.Inner.a']);
  });

  it('leaves out pkg_info without a main package, and type_info when nothing touched it', () => {
    const info = p4infoOf('#include <v1model.p4>\nheader h_t { bit<8> f; }\n');
    expect(formatP4InfoText(info)).toBe('# proto-file: p4/config/v1/p4info.proto\n# proto-message: p4.config.v1.P4Info\n\n');
  });

  it('rejects an @id with another kind\'s prefix', () => {
    expect(() => p4infoOf(PIPELINE('control I(inout hs h, inout m_t m, inout standard_metadata_t sm) { @id(0x02000001) action a() {} apply { a(); } }')))
      .toThrow(P4TypeError);
  });
});

describe('formatP4InfoText', () => {
  it('matches our golden file for testdata/lb-small.p4 (UPDATE_GOLDEN=1 rewrites it)', () => {
    const source = readFileSync(join(TESTDATA, 'lb-small.p4'), 'utf8');
    const text = formatP4InfoText(p4infoOf(source, 'lb-small.p4'));
    const golden = join(TESTDATA, 'lb-small.p4info.txtpb');
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, 'utf8'));
  });

  it('escapes strings as protobuf text format does', () => {
    expect(escapeText('@noWarn("unused")')).toBe('@noWarn(\\"unused\\")');
    expect(escapeText(new Uint8Array([0x12, 0x34, 0x41]))).toBe('\\0224A');
  });
});
