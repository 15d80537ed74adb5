/**
 * The interpreter's v1model semantics, one behaviour per test, on small programs: arithmetic that
 * wraps at each width, signed integers, saturating operators, shifts, slices, concatenation,
 * casts, tables of every match kind, const entries, size limits, parser errors, exit and return.
 * The STF corpus (bmv2-tests/conformance) checks the same interpreter against BMv2 on larger
 * programs; these pin down the corners it does not reach.
 */
import { describe, expect, it } from 'vitest';
import { compileP4 } from '../../p4-frontend/index.ts';
import { V1ModelSwitch } from './switch.ts';
import type { FieldMatch } from './tables.ts';

/** A program with one header {a: 8, b: 8, c: 16, d: 32} parsed, changed by `body`, and sent out port 1. */
function program(body: string, locals = ''): V1ModelSwitch {
  const text = `
#include <core.p4>
#include <v1model.p4>
header h_t { bit<8> a; bit<8> b; bit<16> c; bit<32> d; }
struct headers_t { h_t h; }
struct meta_t { bit<32> x; }
parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control VC(inout headers_t hdr, inout meta_t m) { apply { } }
control I(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    ${locals}
    apply {
        sm.egress_spec = 1;
        ${body}
    }
}
control E(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control CC(inout headers_t hdr, inout meta_t m) { apply { } }
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.h); } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;
`;
  return new V1ModelSwitch(compileP4(text, 'semantics.p4'), { clock: () => 0n });
}

const INPUT = Uint8Array.from([0xf0, 0x0f, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef]);

/** The header fields after the program ran on INPUT. */
function run(sw: V1ModelSwitch, input: Uint8Array = INPUT): { a: number; b: number; c: number; d: number } {
  const r = sw.process(0, input);
  if (r.output === undefined) throw new Error(`dropped: ${r.dropReason}`);
  const o = r.output.bytes;
  return { a: o[0]!, b: o[1]!, c: (o[2]! << 8) | o[3]!, d: ((o[4]! << 24) | (o[5]! << 16) | (o[6]! << 8) | o[7]!) >>> 0 };
}

describe('arithmetic', () => {
  it('wraps bit<W> addition, subtraction and multiplication at the width', () => {
    const out = run(program('hdr.h.a = hdr.h.a + 8w0x20; hdr.h.b = hdr.h.b - 8w0x10; hdr.h.c = hdr.h.c * 16w0x1000;'));
    expect(out).toMatchObject({ a: 0x10, b: 0xff, c: 0x4000 });
  });

  it('saturates |+| and |-| at the bounds of bit<W>', () => {
    const out = run(program('hdr.h.a = hdr.h.a |+| 8w0x20; hdr.h.b = hdr.h.b |-| 8w0x10;'));
    expect(out).toMatchObject({ a: 0xff, b: 0x00 });
  });

  it('shifts bit<W> logically and drops bits shifted past the width', () => {
    const out = run(program('hdr.h.a = hdr.h.a << 2; hdr.h.b = hdr.h.b >> 2; hdr.h.c = hdr.h.c << 16;'));
    expect(out).toMatchObject({ a: 0xc0, b: 0x03, c: 0 });
  });

  it('computes int<W> in two\'s complement and casts back to bit<W>', () => {
    // 0xf0 as int<8> is -16; -16 >> 2 is -4 (arithmetic shift) = 0xfc; -16 - 120 wraps to 120.
    const out = run(program('int<8> s = (int<8>)hdr.h.a; hdr.h.a = (bit<8>)(s >> 2); hdr.h.b = (bit<8>)(s - 8s120);'));
    expect(out).toMatchObject({ a: 0xfc, b: 0x78 });
  });

  it('takes slices and concatenates with the widths adding up', () => {
    const out = run(program('hdr.h.a = hdr.h.d[31:24]; hdr.h.c = hdr.h.a ++ hdr.h.b; hdr.h.d = hdr.h.c[7:0] ++ 24w0;'));
    // c = old a (0xf0) ++ b (0x0f) is computed after a was replaced by 0xde.
    expect(out).toMatchObject({ a: 0xde, c: 0xde0f, d: 0x0f000000 });
  });

  it('writes a slice in place, leaving the other bits', () => {
    const out = run(program('hdr.h.d[15:8] = 8w0x55;'));
    expect(out.d).toBe(0xdead55ef);
  });

  it('widens and narrows with casts: zero extension and truncation', () => {
    const out = run(program('hdr.h.d = (bit<32>)hdr.h.a; hdr.h.b = (bit<8>)hdr.h.c;'));
    expect(out).toMatchObject({ d: 0xf0, b: 0x34 });
  });

  it('evaluates the ternary operator and boolean logic', () => {
    const out = run(program('hdr.h.a = (hdr.h.b == 8w0x0f && !(hdr.h.c == 0)) ? 8w1 : 8w2;'));
    expect(out.a).toBe(1);
  });
});

describe('tables', () => {
  const tableProgram = (kind: string, extra = ''): V1ModelSwitch =>
    program(
      'if (!t.apply().hit) { hdr.h.a = 8w0xee; }',
      `action set(bit<8> v) { hdr.h.a = v; }
       table t { key = { hdr.h.c: ${kind}; } actions = { set; NoAction; } default_action = NoAction(); size = 2; ${extra} }`,
    );
  const insert = (sw: V1ModelSwitch, match: FieldMatch | undefined, value: bigint, priority = 0): void =>
    sw.tables.get('I.t')!.insert({ matches: [match], priority, action: { action: sw.actions.get('I.set')!, args: [value] } });

  it('range: the highest priority of the matching ranges wins', () => {
    const sw = tableProgram('range');
    insert(sw, { kind: 'range', low: 0x1000n, high: 0x2000n }, 1n, 10);
    insert(sw, { kind: 'range', low: 0x1234n, high: 0x1234n }, 2n, 20);
    expect(run(sw).a).toBe(2);
  });

  it('optional: a wildcard entry matches anything, a value only itself', () => {
    const sw = tableProgram('optional');
    insert(sw, undefined, 3n, 1);
    expect(run(sw).a).toBe(3);
    insert(sw, { kind: 'optional', value: 0x1234n }, 4n, 5);
    expect(run(sw).a).toBe(4);
  });

  it('ternary: masks select the bits that count', () => {
    const sw = tableProgram('ternary');
    insert(sw, { kind: 'ternary', value: 0x1200n, mask: 0xff00n }, 5n, 1);
    expect(run(sw).a).toBe(5);
  });

  it('lpm: the longest matching prefix wins', () => {
    const sw = tableProgram('lpm');
    insert(sw, { kind: 'lpm', value: 0x1000n, prefixLength: 4 }, 6n);
    insert(sw, { kind: 'lpm', value: 0x1200n, prefixLength: 8 }, 7n);
    expect(run(sw).a).toBe(7);
  });

  it('a miss runs the default action', () => {
    expect(run(tableProgram('exact')).a).toBe(0xee);
  });

  it('refuses inserts beyond the size, and duplicates', () => {
    const sw = tableProgram('exact');
    insert(sw, { kind: 'exact', value: 1n }, 1n);
    expect(() => insert(sw, { kind: 'exact', value: 1n }, 1n)).toThrow(/already exists/);
    insert(sw, { kind: 'exact', value: 2n }, 1n);
    expect(() => insert(sw, { kind: 'exact', value: 3n }, 1n)).toThrow(/table is full \(2 entries\)/);
  });

  it('const entries: the first one listed wins among those that match', () => {
    const sw = program(
      't.apply();',
      `action set(bit<8> v) { hdr.h.a = v; }
       table t { key = { hdr.h.c: ternary; } actions = { set; }
                 const entries = { 16w0x1234 &&& 16w0xffff : set(8); 16w0x1200 &&& 16w0xff00 : set(9); } }`,
    );
    expect(run(sw).a).toBe(8);
    expect(() => sw.tables.get('I.t')!.insert({ matches: [undefined], priority: 1, action: { action: sw.actions.get('I.set')!, args: [1n] } })).toThrow(/const/);
  });

  it('switch on action_run picks the case of the action that ran', () => {
    const sw = program(
      'switch (t.apply().action_run) { set: { hdr.h.b = 8w1; } default: { hdr.h.b = 8w2; } }',
      `action set(bit<8> v) { hdr.h.a = v; }
       table t { key = { hdr.h.c: exact; } actions = { set; NoAction; } default_action = NoAction(); }`,
    );
    expect(run(sw).b).toBe(2);
    sw.tables.get('I.t')!.insert({ matches: [{ kind: 'exact', value: 0x1234n }], priority: 0, action: { action: sw.actions.get('I.set')!, args: [7n] } });
    expect(run(sw)).toMatchObject({ a: 7, b: 1 });
  });
});

describe('control flow and the pipeline', () => {
  it('exit leaves the control at once; the packet still goes out', () => {
    expect(run(program('hdr.h.a = 8w1; exit; hdr.h.a = 8w2;')).a).toBe(1);
  });

  it('return in an action ends the action only', () => {
    const sw = program('act(); hdr.h.b = 8w3;', 'action act() { hdr.h.a = 8w1; return; }');
    expect(run(sw)).toMatchObject({ a: 1, b: 3 });
  });

  it('mark_to_drop drops the packet after ingress', () => {
    const r = program('mark_to_drop(sm);').process(0, INPUT);
    expect(r.output).toBeUndefined();
    expect(r.dropReason).toBe('ingress: egress_spec is the drop port');
  });

  it('a packet too short for the header reaches ingress with PacketTooShort, its bytes kept as payload', () => {
    const sw = program('if (sm.parser_error == error.PacketTooShort) { sm.egress_spec = 2; }');
    const r = sw.process(0, Uint8Array.from([1, 2, 3]));
    expect(r.output?.port).toBe(2);
    expect([...r.output!.bytes]).toEqual([1, 2, 3]);
  });

  it('bytes past the parsed headers follow them out unchanged', () => {
    const sw = program('hdr.h.a = 8w0;');
    const r = sw.process(0, Uint8Array.from([...INPUT, 0xaa, 0xbb]));
    expect([...r.output!.bytes]).toEqual([0, 0x0f, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0xaa, 0xbb]);
  });

  it('ingress_global_timestamp comes from the injected clock, in microseconds', () => {
    const withTime = new V1ModelSwitch(
      compileP4(
        `#include <core.p4>
#include <v1model.p4>
header h_t { bit<48> t; }
struct H { h_t h; } struct M { }
parser P(packet_in p, out H h, inout M m, inout standard_metadata_t sm) { state start { p.extract(h.h); transition accept; } }
control VC(inout H h, inout M m) { apply { } }
control I(inout H h, inout M m, inout standard_metadata_t sm) { apply { h.h.t = sm.ingress_global_timestamp; sm.egress_spec = 1; } }
control E(inout H h, inout M m, inout standard_metadata_t sm) { apply { } }
control CC(inout H h, inout M m) { apply { } }
control D(packet_out p, in H h) { apply { p.emit(h.h); } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;`,
        'time.p4',
      ),
      { clock: () => 0x123456789n },
    );
    const out = withTime.process(0, new Uint8Array(6)).output!.bytes;
    expect(Buffer.from(out).toString('hex')).toBe('000123456789');
  });
});
