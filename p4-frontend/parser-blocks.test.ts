import { describe, expect, it } from 'vitest';
import type { BlockTypeDecl, ControlDecl, Declaration, ParserDecl } from './ast.ts';
import { P4SyntaxError } from './errors.ts';
import { parseP4 } from './parser.ts';

// Parser, control and package declarations share one header parser (parseBlockHeader).
function decls(text: string): readonly Declaration[] {
  return parseP4(text, 'p.p4').declarations;
}

function syntaxError(text: string): string {
  try {
    parseP4(text, 'p.p4');
  } catch (e) {
    if (e instanceof P4SyntaxError) return e.describe();
    throw e;
  }
  throw new Error('expected a syntax error');
}

describe('parser, control and package headers', () => {
  it('reads a header followed by `;` as a block type', () => {
    const ds = decls('parser P<H>(in H h);\ncontrol C<M>(inout M m);\npackage S<H, M>(P<H> p, C<M> c);') as readonly BlockTypeDecl[];
    expect(ds.map((d) => [d.kind, d.name, d.typeParams, d.params.map((p) => p.name)])).toEqual([
      ['parserType', 'P', ['H'], ['h']],
      ['controlType', 'C', ['M'], ['m']],
      ['packageType', 'S', ['H', 'M'], ['p', 'c']],
    ]);
    // The span runs from the keyword to the `;`.
    expect(ds[1]!.span).toMatchObject({ line: 2, col: 1, offset: 21, end: 45 });
  });

  it('reads constructor parameters and keeps type parameters in scope for the body', () => {
    const [p, c] = decls(`parser P<T>(in T x)(bit<8> k) { T y; state start { transition accept; } }
      control C<T>(inout T x)() { apply { x = (T) x; } }`) as readonly [ParserDecl, ControlDecl];
    expect([p.kind, p.typeParams, p.params.map((q) => q.name), p.ctorParams.map((q) => q.name)]).toEqual(['parser', ['T'], ['x'], ['k']]);
    expect(p.locals[0]!.kind).toBe('var');
    expect([c.kind, c.ctorParams]).toEqual(['control', []]);
    const s = c.apply.statements[0]!;
    expect(s.kind === 'assign' && s.right.kind).toBe('cast');
  });

  it('reports what follows the header where it is wrong', () => {
    expect(syntaxError('parser P() x')).toBe("p.p4:1:12: expected '{', found 'x'");
    expect(syntaxError('control C() (bit<8> a) x')).toBe("p.p4:1:24: expected '{', found 'x'");
    expect(syntaxError('package P() {')).toBe("p.p4:1:13: expected ';', found '{'");
    expect(syntaxError('control')).toBe('p.p4:1:8: expected a name, found end of file');
  });
});
