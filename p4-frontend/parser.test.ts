import { describe, expect, it } from 'vitest';
import type { ControlDecl, ParserDecl, TableDecl } from './ast.ts';
import { P4SyntaxError } from './errors.ts';
import { parseP4 } from './parser.ts';

const HEAD = '#include <core.p4>\n#include <v1model.p4>\n';

function syntaxError(text: string, options = {}): string {
  try {
    parseP4(text, 'p.p4', options);
  } catch (e) {
    if (e instanceof P4SyntaxError) return e.describe();
    throw e;
  }
  throw new Error('expected a syntax error');
}

function userDecls(text: string) {
  return parseP4(text, 'p.p4').declarations.filter((d) => d.span.file === 'p.p4');
}

describe('parseP4', () => {
  it('parses headers, structs, typedefs and consts', () => {
    const ds = userDecls('typedef bit<48> mac_t;\nconst bit<16> ETH = 0x0800;\nheader e_t { mac_t dst; bit<16> type; }\nstruct s_t { e_t e; }');
    expect(ds.map((d) => `${d.kind}:${d.name}`)).toEqual(['typedef:mac_t', 'const:ETH', 'header:e_t', 'struct:s_t']);
  });

  it('parses a parser with select, masks, tuples and default', () => {
    const [p] = userDecls(`${''}parser P(packet_in b) {
      state start { transition select(x, y) { (0, 5 &&& 0xF): s1; (1 .. 3, _): s1; default: accept; } }
      state s1 { transition accept; }
    }`) as ParserDecl[];
    const sel = p!.states[0]!.transition!;
    expect(sel.kind).toBe('select');
    if (sel.kind !== 'select') return;
    expect(sel.cases.map((c) => c.keyset.kind)).toEqual(['list', 'list', 'default']);
    const first = sel.cases[0]!.keyset;
    expect(first.kind === 'list' && first.elements[1]!.kind).toBe('mask');
    const second = sel.cases[1]!.keyset;
    expect(second.kind === 'list' && second.elements.map((e) => e.kind)).toEqual(['range', 'default']);
  });

  it('parses tables with keys, annotated match fields, actions, const default and entries', () => {
    const [c] = userDecls(`control C() {
      action a(bit<8> p) {}
      table t {
        key = { x[9:0]: exact @name("slot"); y: ternary; }
        actions = { a; @defaultonly NoAction; }
        const default_action = NoAction();
        const entries = { (1, 2 &&& 3): a(4); }
        size = 64;
        counters = dc;
      }
      apply { t.apply(); }
    }`) as ControlDecl[];
    const t = c!.locals[1] as TableDecl;
    expect(t.properties.map((p) => p.kind)).toEqual(['key', 'actions', 'defaultAction', 'entries', 'other', 'other']);
    const key = t.properties[0]!;
    expect(key.kind === 'key' && key.elements[0]!.annotations[0]!.text).toBe('@name("slot")');
    const acts = t.properties[1]!;
    expect(acts.kind === 'actions' && acts.actions[1]!.annotations[0]!.name).toBe('defaultonly');
    const def = t.properties[2]!;
    expect(def.kind === 'defaultAction' && def.isConst).toBe(true);
  });

  it('tells casts, generic calls, instantiations and declarations apart', () => {
    const [c] = userDecls(`${''}struct l_t { bit<8> a; }
    control C(inout bit<16> x) {
      register<bit<64>>(1024) r;
      apply {
        bit<32> y = (bit<32>) x;
        l_t z;
        digest<l_t>(1, { x });
        x = (x) - 1;
        x = x >> 2;
      }
    }`).slice(1) as ControlDecl[];
    expect(c!.locals[0]!.kind).toBe('instantiation');
    const kinds = c!.apply.statements.map((s) => s.kind);
    expect(kinds).toEqual(['var', 'var', 'callStmt', 'assign', 'assign']);
    const digest = c!.apply.statements[2]!;
    expect(digest.kind === 'callStmt' && digest.call.typeArgs.length).toBe(1);
    const minus = c!.apply.statements[3]!;
    expect(minus.kind === 'assign' && minus.right.kind).toBe('binary');
    const shift = c!.apply.statements[4]!;
    expect(shift.kind === 'assign' && shift.right.kind === 'binary' && shift.right.op).toBe('>>');
  });

  it('binds a cast tighter than ++ and ++ like +', () => {
    const [c] = userDecls('control C(inout bit<8> a) { apply { a = (bit<4>) a ++ a[3:0] + 1; } }') as ControlDecl[];
    const s = c!.apply.statements[0]!;
    if (s.kind !== 'assign' || s.right.kind !== 'binary') throw new Error('shape');
    expect(s.right.op).toBe('+');
    expect(s.right.left.kind === 'binary' && s.right.left.op).toBe('++');
  });

  it('includes quoted files relative to the including file and expands #define constants', () => {
    const files: Record<string, string> = { 'src/lib/h.p4': '#define W 16\nheader h_t { bit<W> f; }' };
    const p = parseP4('#include "lib/h.p4"\nstruct s { h_t h; }', 'src/main.p4', { readInclude: (path) => files[path]! });
    const h = p.declarations[0]!;
    expect(h.kind === 'header' && h.span.file).toBe('src/lib/h.p4');
    expect(h.kind === 'header' && h.fields[0]!.typeRef.kind === 'bitType' && h.fields[0]!.typeRef.width.kind).toBe('int');
  });

  it('honours #ifndef guards', () => {
    const lib = '#ifndef LIB\n#define LIB\nheader h_t { bit<8> f; }\n#endif\n';
    const p = parseP4('#include "l.p4"\n#include "l.p4"\n', 'm.p4', { readInclude: () => lib });
    expect(p.declarations.filter((d) => d.kind === 'header')).toHaveLength(1);
  });

  it('serves #include "v1model.p4" from the built-ins too, and v1model.p4 brings core.p4', () => {
    const names = parseP4('#include "v1model.p4"\n#ifdef _V1_MODEL_P4_\nconst bit<8> OK = 1;\n#endif\n', 'p.p4').declarations.map((d) => d.name);
    expect(names).toEqual(expect.arrayContaining(['packet_in', 'V1Switch', 'OK']));
  });

  it('gives core.p4 and v1model.p4 from our built-ins', () => {
    const names = parseP4(HEAD, 'p.p4').declarations.map((d) => d.name);
    expect(names).toEqual(expect.arrayContaining(['packet_in', 'NoAction', 'standard_metadata_t', 'V1Switch', 'hash', 'register']));
  });

  it('reports syntax errors with file:line:col', () => {
    expect(syntaxError('header h {\n  bit<8> f\n}')).toBe("p.p4:3:1: expected ';', found '}'");
    expect(syntaxError('control C() {\n  apply { x = ; }\n}')).toBe("p.p4:2:15: expected an expression, found ';'");
    expect(syntaxError('parser P() {\n  state start { transition select(x) { 1 accept; } }\n}')).toBe("p.p4:2:42: expected ':', found 'accept'");
    expect(syntaxError('control C() { action a() {} }')).toBe('p.p4:1:9: control C has no apply block');
  });

  it('reports unbalanced conditionals and recursive includes', () => {
    expect(syntaxError('#ifdef X\nheader h { }\n')).toBe('p.p4:1:1: #if without #endif');
    expect(syntaxError('#include "p.p4"', { readInclude: () => '#include "p.p4"' })).toBe('p.p4:1:1: recursive #include of "p.p4"');
  });

  it('reports a missing include reader and unknown system includes', () => {
    expect(syntaxError('#include "x.p4"')).toBe('p.p4:1:1: cannot include "x.p4": no include reader given');
    expect(syntaxError('#include <tna.p4>')).toBe('p.p4:1:1: unknown system include <tna.p4> (only <core.p4> and <v1model.p4> are built in)');
  });
});
