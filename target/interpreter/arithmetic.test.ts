/**
 * The interpreter holds bit<W ≤ 32> values as numbers and wider ones as bigints (values.ts). These
 * tests run the same operators at widths on both sides of that line through a compiled program and
 * compare every result with a bigint reference of the P4_16 semantics (arithmetic modulo 2^W).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileP4 } from '../../p4-frontend/index.ts';
import { V1ModelSwitch } from './switch.ts';
import { Table, type ActionInfo } from './tables.ts';

const OPS = ['+', '-', '*', '&', '|', '^', '|+|', '|-|'] as const;

/** A program whose ingress computes every operator on the packet's two W-bit fields. */
function program(w: number): string {
  const results = OPS.map((_, i) => `bit<${w}> r${i};`).join(' ');
  const assigns = OPS.map((op, i) => `hdr.o.r${i} = hdr.i.a ${op} hdr.i.b;`).join('\n');
  return `#include <core.p4>
#include <v1model.p4>
header in_h { bit<${w}> a; bit<${w}> b; bit<8> s; }
header out_h { ${results} bit<${w}> shl; bit<${w}> shr; bit<${w}> not; bit<${w}> neg; bit<8> lo; bit<${2 * w}> cat;
  bit<8> cmp; bit<${w}> cast; }
struct headers_t { in_h i; out_h o; }
struct meta_t { }
parser P(packet_in p, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
  state start { p.extract(hdr.i); transition accept; }
}
control V(inout headers_t hdr, inout meta_t m) { apply { } }
control I(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
  apply {
    hdr.o.setValid();
    ${assigns}
    hdr.o.shl = hdr.i.a << hdr.i.s;
    hdr.o.shr = hdr.i.a >> hdr.i.s;
    hdr.o.not = ~hdr.i.a;
    hdr.o.neg = -hdr.i.a;
    hdr.o.lo = hdr.i.a[7:0];
    hdr.o.cat = hdr.i.a ++ hdr.i.b;
    hdr.o.cmp = 0;
    if (hdr.i.a < hdr.i.b) { hdr.o.cmp = hdr.o.cmp | 1; }
    if (hdr.i.a == hdr.i.b) { hdr.o.cmp = hdr.o.cmp | 2; }
    if (hdr.i.a >= hdr.i.b) { hdr.o.cmp = hdr.o.cmp | 4; }
    hdr.o.cast = (bit<${w}>)(bit<8>)hdr.i.b;
    sm.egress_spec = 1;
  }
}
control E(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control C(inout headers_t hdr, inout meta_t m) { apply { } }
control D(packet_out p, in headers_t hdr) { apply { p.emit(hdr.o); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
`;
}

function toBytes(value: bigint, bits: number): number[] {
  return Array.from({ length: bits / 8 }, (_, i) => Number((value >> BigInt(bits - 8 - 8 * i)) & 0xffn));
}

function fromBytes(bytes: Uint8Array, start: number, bits: number): bigint {
  let v = 0n;
  for (let i = 0; i < bits / 8; i++) v = (v << 8n) | BigInt(bytes[start + i]!);
  return v;
}

/** The expected output fields, computed with bigints. */
function reference(a: bigint, b: bigint, s: number, w: number): bigint[] {
  const m = (1n << BigInt(w)) - 1n;
  const max = m;
  const ops = [
    (a + b) & m, (a - b) & m, (a * b) & m, a & b, a | b, a ^ b,
    a + b > max ? max : a + b, a - b < 0n ? 0n : a - b,
  ];
  return [
    ...ops,
    s >= w ? 0n : (a << BigInt(s)) & m,
    s >= w ? 0n : a >> BigInt(s),
    ~a & m,
    -a & m,
    a & 0xffn,
    (a << BigInt(w)) | b,
    (a < b ? 1n : 0n) | (a === b ? 2n : 0n) | (a >= b ? 4n : 0n),
    b & 0xffn,
  ];
}

describe('integer operators on both representations', () => {
  for (const w of [8, 16, 24, 32, 40, 48, 64]) {
    it(`bit<${w}> matches the bigint reference`, () => {
      const sw = new V1ModelSwitch(compileP4(program(w), `arith${w}.p4`));
      const widths = [...OPS.map(() => w), w, w, w, w, 8, 2 * w, 8, w];
      const field = fc.bigInt({ min: 0n, max: (1n << BigInt(w)) - 1n });
      const edge = fc.constantFrom(0n, 1n, (1n << BigInt(w)) - 1n, 1n << BigInt(w - 1));
      fc.assert(
        fc.property(fc.oneof(field, edge), fc.oneof(field, edge), fc.integer({ min: 0, max: 255 }), (a, b, s) => {
          const input = new Uint8Array([...toBytes(a, w), ...toBytes(b, w), s]);
          const out = sw.process(0, input).output;
          expect(out?.port).toBe(1);
          const got: bigint[] = [];
          let pos = 0;
          for (const fw of widths) {
            got.push(fromBytes(out!.bytes, pos, fw));
            pos += fw / 8;
          }
          expect(got).toEqual(reference(a, b, s, w));
        }),
        { numRuns: 200 },
      );
    });
  }
});

describe('exact table lookups', () => {
  it('finds by data-plane scalars what it finds by bigint keys', () => {
    const keys = [
      { name: 'a', matchKind: 'exact' as const, width: 32 },
      { name: 'b', matchKind: 'exact' as const, width: 48 },
    ];
    const noAction: ActionInfo = { name: 'NoAction', decl: {} as ActionInfo['decl'], params: [], run: () => undefined };
    const table = new Table({
      name: 't', span: { file: 't', line: 1, column: 1 } as never, keys, actions: [{ action: noAction, defaultOnly: false, tableOnly: false }],
      defaultAction: { action: noAction, args: [] }, defaultIsConst: false, size: 1024, constEntries: [], entriesAreConst: false,
      hasDirectCounter: false,
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.bigInt({ min: 0n, max: 0xffffffffn }), fc.bigInt({ min: 0n, max: (1n << 48n) - 1n })), {
          maxLength: 20, selector: ([a, b]) => `${a}/${b}`,
        }),
        fc.bigInt({ min: 0n, max: 0xffffffffn }),
        (entries, probe) => {
          table.clear();
          for (const [a, b] of entries) {
            table.insert({ matches: [{ kind: 'exact', value: a }, { kind: 'exact', value: b }], priority: 0, action: { action: noAction, args: [] } });
          }
          const [first] = entries;
          if (first !== undefined) table.delete({ matches: [{ kind: 'exact', value: first[0] }, { kind: 'exact', value: first[1] }], priority: 0 });
          for (const [a, b] of [...entries, [probe, 0n] as const]) {
            expect(table.lookupScalars([Number(a), b])).toBe(table.lookup([a, b]));
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
