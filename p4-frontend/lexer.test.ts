import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { P4SyntaxError } from './errors.ts';
import { tokenize } from './lexer.ts';

const kinds = (text: string): string[] => tokenize(text, 't.p4').map((t) => `${t.kind}:${t.text}`);

describe('tokenize', () => {
  it('gives each token a 1-based line and column', () => {
    const toks = tokenize('header h {\n  bit<8> f;\n}', 't.p4');
    const f = toks.find((t) => t.text === 'f')!;
    expect([f.span.line, f.span.col]).toEqual([2, 10]);
    expect(toks.at(-1)!.kind).toBe('eof');
  });

  it('reads width-prefixed, based and underscored integer literals', () => {
    const ints = tokenize('8w5 32w0x0A 0b1010 0x_FF_FF 4s3 1_000 0o17 9w0b1_1111_1111', 't.p4').filter((t) => t.kind === 'int');
    expect(ints.map((t) => [t.value, t.width, t.signed])).toEqual([
      [5n, 8, false], [10n, 32, false], [10n, undefined, false], [0xffffn, undefined, false], [3n, 4, true],
      [1000n, undefined, false], [15n, undefined, false], [511n, 9, false],
    ]);
  });

  it('keeps > > apart so that bit<bit<8>> closes two type argument lists', () => {
    expect(kinds('register<bit<64>>(1)')).toEqual([
      'ident:register', 'punct:<', 'keyword:bit', 'punct:<', 'int:64', 'punct:>', 'punct:>', 'punct:(', 'int:1', 'punct:)', 'eof:<end of file>',
    ]);
  });

  it('prefers the longest operator: &&& over &&, |+| over |', () => {
    expect(kinds('a &&& b && c |+| d |-| e ++ f').filter((k) => k.startsWith('punct'))).toEqual([
      'punct:&&&', 'punct:&&', 'punct:|+|', 'punct:|-|', 'punct:++',
    ]);
  });

  it('skips line and block comments, keeping line numbers right', () => {
    const toks = tokenize('// one\n/* two\nthree */ x', 't.p4');
    expect(toks[0]!.text).toBe('x');
    expect(toks[0]!.span.line).toBe(3);
  });

  it('turns a # line into one directive token', () => {
    const toks = tokenize('#include <core.p4>\nx', 't.p4');
    expect(toks[0]).toMatchObject({ kind: 'directive', text: 'include <core.p4>' });
  });

  it('reads string literals with escapes', () => {
    expect(tokenize('"a\\"b"', 't.p4')[0]).toMatchObject({ kind: 'string', text: 'a"b' });
  });

  it('reports a stray character at its line and column', () => {
    expect(() => tokenize('x;\n  $', 'p.p4')).toThrow(P4SyntaxError);
    try {
      tokenize('x;\n  $', 'p.p4');
    } catch (e) {
      expect((e as P4SyntaxError).describe()).toBe("p.p4:2:3: unexpected character '$'");
    }
  });

  it('reports an unterminated comment where it starts', () => {
    expect(() => tokenize('a /* b', 'p.p4')).toThrow("unterminated comment");
  });

  it('reads any decimal literal back to its value (property)', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (v) => {
      const [t] = tokenize(`0x${v.toString(16)}`, 't.p4');
      return t!.value === v;
    }));
  });
});
