/**
 * The p4testgen corpus in bmv2-tests/conformance: every file parses, chosen lines give the model
 * read off the file by hand, and every table entry and parameter resolves against the widths and
 * match kinds its program declares.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { matchExpected } from './expect.ts';
import type { StfAdd, StfCommand, StfFile } from './model.ts';
import { parseStf } from './parser.ts';
import { resolveArgValue, resolveKeyValue } from './values.ts';

const CORPUS = join(dirname(fileURLToPath(import.meta.url)), '..', 'conformance');

function corpusFiles(): string[] {
  const files: string[] = [];
  for (const dir of readdirSync(CORPUS, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    for (const f of readdirSync(join(CORPUS, dir.name))) if (f.endsWith('.stf')) files.push(`${dir.name}/${f}`);
  }
  return files.sort();
}

function load(file: string): StfFile {
  return parseStf(readFileSync(join(CORPUS, file), 'utf8'), file);
}

function at(file: StfFile, line: number): StfCommand {
  const c = file.commands.find((x) => x.line === line);
  if (c === undefined) throw new Error(`${file.file}: no command on line ${line}`);
  return c;
}

/** Key kinds and widths, and parameter widths, as declared in the corpus programs (*.p4). */
const KEYS: Record<string, Record<string, { kind: 'exact' | 'lpm' | 'ternary'; width: number }>> = {
  'MyIngress.vip': { 'h.eth.dst': { kind: 'exact', width: 48 } }, // flowreg.p4
  'MyIngress.slots': {
    dst: { kind: 'exact', width: 48 }, // mini.p4: h.eth.dst @name("dst")
    slot: { kind: 'exact', width: 10 }, // lbmini.p4: m.h[9:0] @name("slot")
  },
  'MyIngress.slot_table': { vip: { kind: 'exact', width: 16 }, slot: { kind: 'exact', width: 32 } }, // slots.p4
  'MyIngress.routes': { 'h.ipv4.dstAddr': { kind: 'lpm', width: 32 } }, // lbmini.p4
  'MyIngress.acl': {
    'h.ipv4.srcAddr': { kind: 'ternary', width: 32 },
    'm.dport': { kind: 'ternary', width: 16 },
    'h.ipv4.protocol': { kind: 'exact', width: 8 },
  },
};
const PARAMS: Record<string, Record<string, number>> = {
  'MyIngress.set_vip': { slots: 32 },
  'MyIngress.set_backend': { backend: 16, port: 9 }, // mini.p4; slots.p4 has backend only
  'MyIngress.route': { port: 9, nextHop: 48 },
  'MyIngress.pick': { backend: 16 },
};

describe('conformance corpus', () => {
  const files = corpusFiles();

  it('holds the 70 files of the six program folders', () => {
    expect(files).toHaveLength(70);
    expect(new Set(files.map((f) => f.split('/')[0]))).toEqual(new Set(['flowreg', 'fwd', 'hashcheck', 'lbmini', 'mini', 'slots']));
  });

  it.each(files)('%s parses, one packet per file', (file) => {
    const stf = load(file);
    expect(stf.commands.filter((c) => c.kind === 'packet')).toHaveLength(1);
    // p4testgen writes `expect PORT DATA$`: every expectation here has data and an exact length.
    for (const c of stf.commands) if (c.kind === 'expect') expect(c.packet?.exactLength).toBe(true);
  });

  it('reads lbmini_21.stf lines 87-94 as written', () => {
    const stf = load('lbmini/lbmini_21.stf');
    expect(at(stf, 87)).toEqual({
      kind: 'add',
      line: 87,
      table: 'MyIngress.slots',
      priority: undefined,
      keys: [{ name: 'slot', text: '0x360', value: { text: '0x360', radix: 16, digits: '360', hasWildcards: false }, prefixLength: undefined, column: 23 }],
      action: { name: 'NoAction', args: [], column: 36 },
      handle: undefined,
    });
    const route = at(stf, 90) as StfAdd;
    expect(route).toMatchObject({
      kind: 'add',
      table: 'MyIngress.routes',
      priority: 1,
      keys: [{ name: 'h.ipv4.dstAddr', text: '0b0100100101000000****************', prefixLength: undefined }],
      action: {
        name: 'MyIngress.route',
        args: [
          { name: 'port', text: '0x00E', value: 14n },
          { name: 'nextHop', text: '0x000000000000', value: 0n },
        ],
      },
    });
    // 0b01001001_01000000 then 16 wildcards: 73.64.0.0/16.
    expect(resolveKeyValue(route.keys[0]!.text, 32)).toEqual({ bitwidth: 32, value: 0x49400000n, mask: 0xffff0000n, shape: 'lpm', prefixLength: 16 });
    // Ethernet with type 0x0800, then IPv4 version 0 / ihl 5 as p4testgen chose it.
    const packet = at(stf, 93);
    expect(packet).toMatchObject({ kind: 'packet', port: 0 });
    if (packet.kind !== 'packet') throw new Error('not a packet');
    expect(packet.bytes.length).toBe(241);
    expect(Array.from(packet.bytes.subarray(0, 16))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00, 0x05, 0x00]);
    const expectation = at(stf, 94);
    expect(expectation).toMatchObject({ kind: 'expect', port: 14, packet: { exactLength: true } });
    if (expectation.kind !== 'expect') throw new Error('not an expect');
    // 8 bytes longer than the input: the program inserts its 8-byte tag header.
    expect(expectation.packet!.nibbles).toHaveLength(2 * 249);
    expect(expectation.packet!.nibbles.slice(0, 48)).toBe('000000000000000000000000080005000000000000001A06');
  });

  it('reads fwd_12.stf: a 6-byte packet in on port 36, expected whole on port 1', () => {
    const stf = load('fwd/fwd_12.stf');
    expect(stf.commands).toEqual([
      { kind: 'packet', line: 44, port: 36, bytes: Uint8Array.from([0xce, 0xc5, 0xa4, 0xf4, 0xd9, 0x0f]) },
      { kind: 'expect', line: 45, port: 1, packet: { nibbles: 'CEC5A4F4D90F', exactLength: true } },
    ]);
    const [sent, expected] = stf.commands;
    if (sent?.kind !== 'packet' || expected?.kind !== 'expect') throw new Error('unexpected commands');
    expect(matchExpected(expected.packet!, sent.bytes)).toEqual({ ok: true });
  });

  it('resolves every table entry against its key kinds and widths', () => {
    let entries = 0;
    for (const file of files) {
      for (const c of load(file).commands) {
        if (c.kind !== 'add') continue;
        entries++;
        const keys = KEYS[c.table];
        expect(keys, `${file}:${c.line} table ${c.table}`).toBeDefined();
        for (const k of c.keys) {
          const decl = keys![k.name]!;
          expect(decl, `${file}:${c.line} key ${k.name}`).toBeDefined();
          const r = resolveKeyValue(k.text, decl.width, { file, line: c.line, column: k.column });
          // An exact key needs every bit; an lpm key a prefix; a ternary key takes any mask.
          if (decl.kind === 'exact') expect(r.shape).toBe('exact');
          if (decl.kind === 'lpm') expect(r.prefixLength).toBeDefined();
        }
        // p4testgen gives a priority exactly to tables with ternary or lpm keys.
        const needsPriority = c.keys.some((k) => keys![k.name]!.kind !== 'exact');
        expect(c.priority !== undefined).toBe(needsPriority);
        for (const a of c.action.args) {
          const width = PARAMS[c.action.name]?.[a.name];
          expect(width, `${file}:${c.line} parameter ${a.name}`).toBeDefined();
          expect(resolveArgValue(a.text, width!)).toBe(a.value);
        }
      }
    }
    expect(entries).toBe(77);
  });
});
