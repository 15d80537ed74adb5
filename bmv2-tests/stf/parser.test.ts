import { describe, expect, it } from 'vitest';
import { P4lbError } from '../../core/errors.ts';
import { StfSyntaxError, StfSyntaxErrors } from './errors.ts';
import type { StfCommand } from './model.ts';
import { parseStf } from './parser.ts';

function one(line: string): StfCommand {
  const { commands } = parseStf(line, 't.stf');
  expect(commands).toHaveLength(1);
  return commands[0]!;
}

/** The `describe()` text of the error parsing `text` throws. */
function failure(text: string): string {
  try {
    parseStf(text, 't.stf');
  } catch (e) {
    expect(e).toBeInstanceOf(P4lbError);
    expect((e as P4lbError).code).toBe('STF_SYNTAX');
    return (e as P4lbError).describe();
  }
  throw new Error('expected a syntax error');
}

const lit = (text: string, radix: 2 | 10 | 16, digits: string) => ({ text, radix, digits, hasWildcards: digits.includes('*') });

describe('parseStf: add', () => {
  it('reads a ternary entry with priority, wildcard keys and an argument-less action', () => {
    expect(one('add "MyIngress.acl" 1 "h.ipv4.srcAddr":0b**** "m.dport":0b1*1* "h.ipv4.protocol":0x06 "MyIngress.allow"()')).toEqual({
      kind: 'add',
      line: 1,
      table: 'MyIngress.acl',
      priority: 1,
      keys: [
        { name: 'h.ipv4.srcAddr', text: '0b****', value: lit('0b****', 2, '****'), prefixLength: undefined, column: 23 },
        { name: 'm.dport', text: '0b1*1*', value: lit('0b1*1*', 2, '1*1*'), prefixLength: undefined, column: 47 },
        { name: 'h.ipv4.protocol', text: '0x06', value: lit('0x06', 16, '06'), prefixLength: undefined, column: 64 },
      ],
      action: { name: 'MyIngress.allow', args: [], column: 87 },
      handle: undefined,
    });
  });

  it('reads action arguments without a priority (mini_3.stf line 48)', () => {
    const line = 'add "MyIngress.slots" "dst":0x7D3555A570EF "MyIngress.set_backend"("backend":0x0000,"port":0x172)';
    expect(one(line)).toEqual({
      kind: 'add',
      line: 1,
      table: 'MyIngress.slots',
      priority: undefined,
      keys: [{ name: 'dst', text: '0x7D3555A570EF', value: lit('0x7D3555A570EF', 16, '7D3555A570EF'), prefixLength: undefined, column: 23 }],
      action: {
        name: 'MyIngress.set_backend',
        args: [
          { name: 'backend', text: '0x0000', value: 0n, column: 68 },
          { name: 'port', text: '0x172', value: 0x172n, column: 85 },
        ],
        column: 44,
      },
      handle: undefined,
    });
  });

  it("reads p4c's bare names, /prefix keys, decimal arguments and an entry handle", () => {
    const cmd = one('ADD Main.fib_table 10 prefix:0x0a000000/8 hdr.h[1].f:5 Main.set_nhid(index:0x1, x:7) = A');
    expect(cmd).toMatchObject({
      kind: 'add',
      table: 'Main.fib_table',
      priority: 10,
      keys: [
        { name: 'prefix', text: '0x0a000000/8', value: lit('0x0a000000', 16, '0A000000'), prefixLength: 8 },
        { name: 'hdr.h[1].f', text: '5', value: lit('5', 10, '5'), prefixLength: undefined },
      ],
      action: { name: 'Main.set_nhid', args: [{ name: 'index', value: 1n }, { name: 'x', value: 7n }] },
      handle: 'A',
    });
  });
});

describe('parseStf: other commands', () => {
  it('reads setdefault with arguments', () => {
    expect(one('setdefault pipe_t pipe_Reject(rej:0, bar:1)')).toEqual({
      kind: 'setdefault',
      line: 1,
      table: 'pipe_t',
      action: {
        name: 'pipe_Reject',
        args: [
          { name: 'rej', text: '0', value: 0n, column: 31 },
          { name: 'bar', text: '1', value: 1n, column: 38 },
        ],
        column: 19,
      },
    });
  });

  it('reads packet data with spaces between groups', () => {
    expect(one('packet 3 0A0b 0c\t0D')).toEqual({ kind: 'packet', line: 1, port: 3, bytes: Uint8Array.from([0x0a, 0x0b, 0x0c, 0x0d]) });
  });

  it('reads expect data with wildcards and a final $', () => {
    expect(one('expect 2 00000101 **** 7f $')).toEqual({
      kind: 'expect',
      line: 1,
      port: 2,
      packet: { nibbles: '00000101****7F', exactLength: true },
    });
    expect(one('expect 2 ab')).toMatchObject({ packet: { nibbles: 'AB', exactLength: false } });
    expect(one('expect 2 $')).toMatchObject({ packet: { nibbles: '', exactLength: true } });
  });

  it('reads a data-less expect as "port checked, contents not"', () => {
    expect(one('expect 5')).toEqual({ kind: 'expect', line: 1, port: 5, packet: undefined });
  });

  it('reads wait, no_packet and remove all in any case', () => {
    expect(one('WAIT')).toEqual({ kind: 'wait', line: 1 });
    expect(one('no_packet')).toEqual({ kind: 'no_packet', line: 1 });
    expect(one('remove ALL')).toEqual({ kind: 'remove', line: 1, target: { kind: 'all' } });
  });

  it('reads remove of one entry', () => {
    expect(one('remove "MyIngress.routes" 2 "h.ipv4.dstAddr":0x0A******')).toMatchObject({
      kind: 'remove',
      target: { kind: 'entry', table: 'MyIngress.routes', priority: 2, keys: [{ name: 'h.ipv4.dstAddr', text: '0x0A******' }] },
    });
  });

  it('reads check_counter by index, by entry handle, with and without a condition', () => {
    expect(one('check_counter cntDum(10) packets == 2')).toEqual({
      kind: 'check_counter',
      line: 1,
      counter: 'cntDum',
      index: { kind: 'index', value: 10n },
      check: { counterType: 'packets', op: '==', value: 2n },
    });
    expect(one('check_counter "MyIngress.c"($A) bytes >= 0x10')).toMatchObject({
      counter: 'MyIngress.c',
      index: { kind: 'entry', handle: 'A' },
      check: { counterType: 'bytes', op: '>=', value: 16n },
    });
    expect(one('check_counter cnt($A)')).toMatchObject({ check: undefined });
  });

  it('reads BMv2 CLI commands as unsupported, arguments checked', () => {
    expect(one('mirroring_add 5 4')).toEqual({ kind: 'bmv2_cli', line: 1, name: 'mirroring_add', args: ['5', '4'], supported: false });
    expect(one('mc_node_create 257 6 8')).toMatchObject({ name: 'mc_node_create', args: ['257', '6', '8'] });
    expect(one('meter_set_rates cIngress.meter0 2 0.000005:4 0.00002:5')).toMatchObject({
      args: ['cIngress.meter0', '2', '0.000005:4', '0.00002:5'],
    });
  });

  it('skips comments and blank lines and keeps source line numbers', () => {
    const text = '# header\n\n  packet 1 AA # trailing\r\n\t\nexpect 1 AA$\n';
    expect(parseStf(text, 'x.stf')).toEqual({
      file: 'x.stf',
      commands: [
        { kind: 'packet', line: 3, port: 1, bytes: Uint8Array.from([0xaa]) },
        { kind: 'expect', line: 5, port: 1, packet: { nibbles: 'AA', exactLength: true } },
      ],
    });
  });

  it('keeps a # inside a quoted name', () => {
    expect(one('setdefault "t#1" "a"()')).toMatchObject({ table: 't#1' });
  });
});

describe('parseStf: malformed lines', () => {
  const cases: [string, string][] = [
    ['pakcet 1 AA', "t.stf:1:1: unknown STF command 'pakcet' (did you mean 'packet'?)"],
    ['42 AA', "t.stf:1:1: expected an STF command, found '42'"],
    ['packet x AA', "t.stf:1:8: expected a port number (decimal) after 'packet', found 'x'"],
    ['packet 1', 't.stf:1:9: expected packet data (hex digits) after the port'],
    ['packet 1 ABC', 't.stf:1:10: packet data has an odd number of hex digits (3) (write whole bytes)'],
    ['packet 1 AB**', "t.stf:1:12: invalid character '*' in packet data (expected hex digits) ('*' and '$' belong in expect data only)"],
    ['expect', "t.stf:1:7: expected a port number (decimal) after 'expect', found end of line"],
    ['expect 1 AB$CD', "t.stf:1:13: unexpected 'C' after '$' (the '$' ends the expected data)"],
    ['expect 1 AG', "t.stf:1:11: invalid character 'G' in expected data (expected hex digits, '*' or a final '$')"],
    ['add', "t.stf:1:4: expected a table name after 'add', found end of line"],
    ['add "t" "a"()', 't.stf:1:9: expected a match key "KEY":VALUE before the action \'a\''],
    ['add "t" "k" 0x1 "a"()', "t.stf:1:13: expected ':' after the key 'k' or '(' after the action 'k', found '0x1'"],
    ['add "t" "k":0b012 "a"()', "t.stf:1:13: malformed number '0b012' (write 0x… or 0b… digits (* for a don't-care digit) or decimal digits)"],
    ['add "t" "k":0x1&&&0xF "a"()', "t.stf:1:16: '&&&' masks are not STF syntax (write don't-care digits as '*' instead, e.g. 0x0A0B****)"],
    ['add "t" "k":0x1* /4 "a"()', "t.stf:1:13: the key 'k' has both '*' digits and a /prefix (use one or the other)"],
    ['add "t" "k":1 "a"("p":0x1*)', "t.stf:1:23: '*' digits are only allowed in match keys, found '0x1*'"],
    ['add "t" "k":1 "a"("p":1 "q":2)', 't.stf:1:25: expected \',\' or \')\' in the call of \'a\', found \'"q"\''],
    ['add "t" "k":1 "a"() extra', "t.stf:1:21: unexpected 'extra' after the action call"],
    ['add "t" "k":1 "a"("p)', 't.stf:1:19: unterminated quoted name'],
    ['setdefault "t" "a"', "t.stf:1:19: expected '(' after the action name 'a', found end of line"],
    ['remove', "t.stf:1:7: expected 'all' or a table name after 'remove', found end of line"],
    ['wait 3', "t.stf:1:6: unexpected '3' after 'wait'"],
    ['check_counter c(1) packets = 2', "t.stf:1:28: expected a comparison (== != < <= > >=), found '='"],
    ['check_counter c(1) frames == 2', "t.stf:1:20: expected 'packets' or 'bytes' after ')', found 'frames'"],
    ['mirroring_add 1', "t.stf:1:16: expected PORT (a number) for 'mirroring_add', found end of line (usage: mirroring_add SESSION PORT)"],
    ['mirroring_add 1 x', "t.stf:1:17: expected PORT (a number) for 'mirroring_add', found 'x' (usage: mirroring_add SESSION PORT)"],
    ['mirroring_get 1 2', "t.stf:1:17: unexpected '2' after the arguments of 'mirroring_get' (usage: mirroring_get SESSION)"],
  ];
  it.each(cases)('%s', (text, message) => {
    expect(failure(text)).toBe(message);
  });

  it('throws one StfSyntaxError for one bad line', () => {
    expect(() => parseStf('wait\nwait 1\n', 'a.stf')).toThrow(StfSyntaxError);
  });

  it('reports every bad line of a file at once', () => {
    let error: unknown;
    try {
      parseStf('add\npacket 1 AA\npacket x\n# fine\nwait 3\n', 'g.stf');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StfSyntaxErrors);
    const all = error as StfSyntaxErrors;
    expect(all.code).toBe('STF_SYNTAX');
    expect(all.errors.map((e) => e.location?.line)).toEqual([1, 3, 5]);
    expect(all.describe()).toBe(
      [
        'g.stf: 3 malformed STF lines',
        "  g.stf:1:4: expected a table name after 'add', found end of line",
        "  g.stf:3:8: expected a port number (decimal) after 'packet', found 'x'",
        "  g.stf:5:6: unexpected '3' after 'wait'",
      ].join('\n'),
    );
  });
});
