import { fileURLToPath } from 'node:url';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ActionDecl, AssignStmt, ControlDecl, Expression, Statement, VarDecl } from './ast.ts';
import { checkProgram, type CheckedProgram } from './checker.ts';
import { P4CheckErrors } from './errors.ts';
import { compileP4 } from './index.ts';
import { parseP4 } from './parser.ts';
import { typeToString } from './types.ts';

/** The STF conformance corpus, copied into this repository as test data. */
const CORPUS = fileURLToPath(new URL('../bmv2-tests/conformance/', import.meta.url));


/** Six lines of prelude, so user code starts on line 7. */
const PRELUDE = `#include <core.p4>
#include <v1model.p4>
header h_t { bit<48> dstAddr; bit<16> etherType; bit<8> ttl; }
struct hs { h_t h; }
struct m_t { bit<32> a; bit<16> b; bit<1> flag; }
struct l_t { bit<48> mac; bit<16> b; }
`;

function check(body: string): CheckedProgram {
  return checkProgram(parseP4(PRELUDE + body, 'p4lb.p4'));
}

function errorsOf(body: string): string[] {
  try {
    check(body);
  } catch (e) {
    if (e instanceof P4CheckErrors) return e.errors.map((x) => x.describe());
    throw e;
  }
  return [];
}

function control(p: CheckedProgram, name: string): ControlDecl {
  return p.program.declarations.find((d): d is ControlDecl => d.kind === 'control' && d.name === name)!;
}

function applyStmts(p: CheckedProgram, name = 'C'): readonly Statement[] {
  return control(p, name).apply.statements;
}

const rhs = (s: Statement | undefined): Expression => (s as AssignStmt).right;

describe('checkProgram on the conformance corpus', () => {
  const programs = readdirSync(CORPUS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

  it('finds the six programs', () => {
    expect(programs.sort()).toEqual(['flowreg', 'fwd', 'hashcheck', 'lbmini', 'mini', 'slots']);
  });

  it.each(programs)('%s parses and checks without errors, with a V1Switch pipeline of six blocks', (name) => {
    const file = join(CORPUS, name, `${name}.p4`);
    const checked = compileP4(readFileSync(file, 'utf8'), file);
    expect(checked.pipeline.map((b) => b.paramName)).toEqual(['p', 'vr', 'ig', 'eg', 'ck', 'dep']);
    expect(checked.pipeline.map((b) => b.decl.kind)).toEqual(['parser', 'control', 'control', 'control', 'control', 'control']);
  });
});

/** A program using the wider subset: typedefs, stacks, unions, enums, lookahead, ranges, saturating ops, exit, switch on enums. */
const WIDER = `#include <core.p4>
#include <v1model.p4>
typedef bit<48> mac_t;
header e_t { mac_t dst; bit<16> type; }
header v_t { bit<16> tci; }
header_union u_t { e_t e; v_t v; }
struct hs { e_t e; v_t[2] vlans; }
struct m_t { bit<8> r; bit<16> t; bool b; error err; }
enum Color { Red, Green }
enum bit<8> Proto { TCP = 6, UDP = 17 }
parser P(packet_in pkt, out hs h, inout m_t m, inout standard_metadata_t sm) {
  state start {
    pkt.extract(h.e);
    m.t = pkt.lookahead<bit<16>>();
    transition select(pkt.lookahead<bit<16>>(), h.e.type) {
      (0x8100 .. 0x8101, _): vlan;
      default: accept;
    }
  }
  state vlan { pkt.extract(h.vlans.next); verify(h.vlans[0].tci != 0, error.NoMatch); transition select(h.vlans.lastIndex) { 0: vlan; default: accept; } }
}
control VC(inout hs h, inout m_t m) { apply { } }
control I(inout hs h, inout m_t m, inout standard_metadata_t sm) {
  Color c = Color.Red;
  action a(Proto p) { m.r = (bit<8>) p; }
  apply {
    random(m.r, 0, 255);
    log_msg("r={}", { m.r });
    log_msg("plain");
    if (sm.parser_error == error.PacketTooShort) { exit; }
    m.b = m.r |+| 8w250 > 3 && !m.b;
    m.t = m.t |-| 1;
    m.t = -m.t;
    m.t = ~m.t ^ 16w0xFF00 & 0x0F0F | 3;
    m.t = m.t << 2 >> 1;
    m.t = (bit<16>) (int<16>) m.t;
    switch (c) { Color.Red: { m.r = 1; } Color.Green: { m.r = 2; } }
    clone(CloneType.I2E, 32w5);
    h.vlans.push_front(1);
    bool x = true;
    m.r = x ? 8w1 : 2;
    a(Proto.TCP);
    m.err = error.NoError;
  }
}
control E(inout hs h, inout m_t m, inout standard_metadata_t sm) { apply { } }
control CC(inout hs h, inout m_t m) { apply { } }
control D(packet_out b, in hs h) { apply { b.emit(h.e); b.emit(h.vlans); } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;
`;

describe('checkProgram on the wider language subset', () => {
  it('accepts stacks, unions, serializable enums, lookahead, ranges, saturating arithmetic and enum switches', () => {
    const checked = compileP4(WIDER, 'wider.p4');
    const ingress = control(checked, 'I');
    const shift = ingress.apply.statements[7]!;
    expect(shift.kind === 'assign' && typeToString(shift.right.type!)).toBe('bit<16>');
    const ternary = ingress.apply.statements.find((s) => s.kind === 'assign' && s.right.kind === 'ternary');
    expect(ternary !== undefined && typeToString(rhs(ternary).type!)).toBe('bit<8>');
  });
});

describe('types and resolution annotated on the AST', () => {
  it('gives unsized literals the width of what they meet', () => {
    const p = check(`control C(inout hs h, inout m_t m) { apply { m.b = 7; m.a = m.a + 1; h.h.ttl = h.h.ttl - 1; } }`);
    const [s1, s2] = applyStmts(p);
    expect(typeToString(rhs(s1).type!)).toBe('bit<16>');
    const plus = rhs(s2);
    expect(plus.kind === 'binary' && typeToString(plus.right.type!)).toBe('bit<32>');
  });

  it('adds widths in concatenation and gives slices bit<hi-lo+1>', () => {
    const p = check(`control C(inout hs h, inout m_t m) { apply { bit<64> x = m.b ++ h.h.dstAddr; bit<10> s = m.a[9:0]; } }`);
    const [x, s] = applyStmts(p) as VarDecl[];
    expect(typeToString(x!.init!.type!)).toBe('bit<64>');
    expect(typeToString(s!.init!.type!)).toBe('bit<10>');
    expect(s!.init!.kind === 'slice' && [s!.init!.hiValue, s!.init!.loValue]).toEqual([9, 0]);
  });

  it('folds constants and truncates them to the target width', () => {
    const p = check(`const bit<8> K = 250;\ncontrol C(inout m_t m) { apply { bit<8> y = K + 10; m.a = 32w1 << 4; } }`);
    const [a, b] = applyStmts(p);
    expect((a as VarDecl).init!.constValue).toBe(4n);
    expect(rhs(b).constValue).toBe(16n);
  });

  it('resolves names to their declarations and calls to their targets', () => {
    const p = check(`control C(inout hs h, inout m_t m, inout standard_metadata_t sm) {
      register<bit<32>>(16) r;
      action drop() { mark_to_drop(sm); }
      table t { key = { h.h.dstAddr: exact; } actions = { drop; } }
      apply {
        r.write(0, m.a);
        if (t.apply().hit) { drop(); }
        hash(m.a, HashAlgorithm.crc32, 32w0, { h.h.dstAddr, m.b }, 32w1024);
        h.h.setInvalid();
      }
    }`);
    const c = control(p, 'C');
    const [write, ifs, hash, setInvalid] = c.apply.statements;
    expect(write!.kind === 'callStmt' && write.call.target?.kind).toBe('externMethod');
    expect(write!.kind === 'callStmt' && typeToString(write.call.args[0]!.type!)).toBe('bit<32>');
    if (ifs!.kind !== 'if') throw new Error('shape');
    expect(ifs.cond.kind === 'member' && ifs.cond.resolution).toEqual({ kind: 'applyResult', field: 'hit' });
    const call = (ifs.then as unknown as { statements: Statement[] }).statements[0]!;
    expect(call.kind === 'callStmt' && call.call.target?.kind === 'action' && call.call.target.decl).toBe(c.locals[1] as ActionDecl);
    expect(hash!.kind === 'callStmt' && hash.call.target?.kind === 'externFunction' && hash.call.target.decl.name).toBe('hash');
    expect(hash!.kind === 'callStmt' && typeToString(hash.call.args[3]!.type!)).toBe('tuple<bit<48>, bit<16>>');
    expect(setInvalid!.kind === 'callStmt' && setInvalid.call.target).toEqual({ kind: 'headerMethod', method: 'setInvalid' });
    const sm = (c.locals[1] as ActionDecl).body.statements[0]!;
    expect(sm.kind === 'callStmt' && sm.call.args[0]!.kind === 'name' && sm.call.args[0]!.decl?.kind).toBe('param');
  });

  it('types a list passed to digest<T> as the struct T', () => {
    const p = check(`control C(inout hs h, inout m_t m) { apply { digest<l_t>(1, { h.h.dstAddr, m.b }); } }`);
    const [s] = applyStmts(p);
    expect(s!.kind === 'callStmt' && typeToString(s.call.args[1]!.type!)).toBe('struct l_t');
  });

  it('checks switch labels against the table actions', () => {
    const p = check(`control C(inout m_t m) {
      action a() {} action b() {}
      table t { key = { m.a: exact; } actions = { a; b; } }
      apply { switch (t.apply().action_run) { a: { m.b = 1; } default: {} } }
    }`);
    const [s] = applyStmts(p);
    expect(s!.kind === 'switch' && s.expr.type?.kind).toBe('actionEnum');
  });
});

describe('type errors, each with its file:line:col', () => {
  it('rejects assigning a narrower field to a wider one', () => {
    expect(errorsOf(`control C(inout hs h, inout m_t m) {\n  apply {\n        h.h.dstAddr = m.b;\n  }\n}`)).toEqual([
      "p4lb.p4:9:9: cannot assign bit<16> to bit<48> field 'dstAddr'",
    ]);
  });

  it('rejects mixing widths in arithmetic and comparisons', () => {
    expect(errorsOf(`control C(inout m_t m) { apply { m.a = m.a + m.b; } }`)).toEqual([
      "p4lb.p4:7:40: cannot apply '+' to bit<32> and bit<16>",
    ]);
    expect(errorsOf(`control C(inout m_t m) { apply { if (m.a == m.b) {} } }`)).toEqual([
      "p4lb.p4:7:38: cannot apply '==' to bit<32> and bit<16>",
    ]);
  });

  it('requires bool conditions', () => {
    expect(errorsOf(`control C(inout m_t m) { apply { if (m.flag) {} } }`)).toEqual([
      'p4lb.p4:7:38: condition must be bool, not bit<1>',
    ]);
  });

  it('reports unknown names, fields and match kinds with a suggestion', () => {
    expect(errorsOf(`control C(inout hs h, inout m_t m) {
  table t { key = { h.h.dstAddr: exakt; } actions = { NoAction; } }
  apply { h.h.etherTyp = 1; m.c = 2; foo(); }
}`)).toEqual([
      "p4lb.p4:8:34: unknown match kind 'exakt' (did you mean 'exact'?)",
      "p4lb.p4:9:11: header h_t has no field 'etherTyp' (did you mean 'etherType'?)",
      "p4lb.p4:9:29: struct m_t has no field 'c' (did you mean 'a'?)",
      "p4lb.p4:9:38: unknown name 'foo'",
    ]);
  });

  it('reports one error per statement and goes on with the next', () => {
    expect(errorsOf(`control C(inout m_t m) { apply {\n m.a = m.b + m.a;\n m.b = true;\n m.flag = 1;\n} }`)).toEqual([
      "p4lb.p4:8:8: cannot apply '+' to bit<16> and bit<32>",
      "p4lb.p4:9:2: cannot assign bool to bit<16> field 'b'",
    ]);
  });

  it('rejects writes to in parameters and out arguments that are not lvalues', () => {
    expect(errorsOf(`control C(in m_t m) { apply { m.a = 1; } }`)).toEqual([
      "p4lb.p4:7:31: the left side of an assignment cannot be 'm': parameter 'm' is read-only (in)",
    ]);
    expect(errorsOf(`control C(inout hs h) { apply { hash(32w1, HashAlgorithm.crc32, 32w0, { h.h.ttl }, 32w8); } }`)).toEqual([
      "p4lb.p4:7:38: argument 'result' of 'hash' (out) must be a variable, field or slice",
    ]);
  });

  it('checks action arguments, table defaults and slice bounds', () => {
    expect(errorsOf(`control C(inout m_t m) {
  action a(bit<8> x) { }
  action b() { }
  table t { key = { m.a: exact; } actions = { a; } default_action = b(); }
  apply { a(); m.b = m.a[40:0]; }
}`)).toEqual([
      "p4lb.p4:10:69: default action 'b' is not in the actions list of table 't'",
      "p4lb.p4:11:11: 'a' takes 1 arguments, got 0",
      'p4lb.p4:11:22: slice [40:0] is out of range for bit<32>',
    ]);
  });

  it('keeps @tableonly actions out of defaults and @defaultonly actions out of entries', () => {
    expect(errorsOf(`control C(inout m_t m) {
  action a() {} action b() {}
  table t { key = { m.a: exact; } actions = { @tableonly a; @defaultonly b; } default_action = a(); const entries = { 1: b(); } }
  apply { t.apply(); }
}`)).toEqual([
      "p4lb.p4:9:96: default action 'a' is marked @tableonly in table 't'",
      "p4lb.p4:9:122: entry action 'b' is marked @defaultonly in table 't'",
    ]);
  });

  it('enforces table, switch, cast and division rules p4c enforces', () => {
    expect(errorsOf(`control C(inout m_t m) {
  action a() {}
  table t { key = { m.a: exact; } actions = { a; a; } }
  table u { key = { m.a: exact; } }
  apply {
    switch (m.b) { default: {} 1: {} }
    int<8> s = (int<8>) m.b;
    m.a = m.a / -2;
  }
}`)).toEqual([
      "p4lb.p4:9:50: action 'a' is listed twice in table 't'",
      "p4lb.p4:10:3: table 'u' has no actions property",
      "p4lb.p4:12:20: 'default' must be the last switch label",
      'p4lb.p4:13:16: cannot cast bit<16> to int<8>: change the width and the signedness in two casts',
      "p4lb.p4:14:11: '/' is not defined on negative numbers",
    ]);
  });

  it('rejects a type that refers to itself', () => {
    expect(errorsOf('typedef rec_t rec_t;')).toEqual(["p4lb.p4:7:1: 'rec_t' refers to itself"]);
    expect(errorsOf('struct s_t { s_t inner; }')).toEqual(["p4lb.p4:7:1: 's_t' refers to itself"]);
  });

  it('needs a width where p4c cannot infer one', () => {
    expect(errorsOf(`control C(inout m_t m) { apply { m.b = 5 ++ m.b; } }`)).toEqual([
      'p4lb.p4:7:40: cannot concatenate an integer of unknown width; give it a width',
    ]);
  });

  it('checks the package arguments against V1Switch', () => {
    const errs = errorsOf(`parser P(packet_in b, out hs h, inout m_t m, inout standard_metadata_t sm) { state start { transition accept; } }
control VC(inout hs h, inout m_t m) { apply { } }
control I(inout hs h, inout m_t m, inout standard_metadata_t sm) { apply { } }
control CC(inout hs h, inout l_t m) { apply { } }
control D(packet_out b, in hs h) { apply { } }
V1Switch(P(), VC(), I(), I(), CC(), D()) main;`);
    expect(errs).toEqual(["p4lb.p4:10:24: parameter 'm' of CC has type struct l_t, V1Switch expects struct m_t"]);
  });

  it('rejects unknown parser states and selects on the wrong width', () => {
    expect(errorsOf(`parser P(packet_in b, out hs h) {
  state start { b.extract(h.h); transition select(h.h.etherType) { 16w1 &&& 16w1: next; 8w2: accept; } }
}`)).toEqual([
      "p4lb.p4:8:83: unknown state 'next'",
      'p4lb.p4:8:89: cannot assign bit<8> to bit<16> keyset value',
    ]);
    expect(errorsOf(`parser P(packet_in b, out hs h) {
  state start { transition select(h.h.etherType) { 8w2: accept; } }
}`)).toEqual([
      'p4lb.p4:8:52: cannot assign bit<8> to bit<16> keyset value',
    ]);
  });
});
