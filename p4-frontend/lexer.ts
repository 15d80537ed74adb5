/**
 * P4_16 lexer: text → tokens with spans. Preprocessor lines (`#include`, `#define`, ...) come out
 * as one `directive` token each; the parser's preprocessor handles them.
 */
import type { Span } from './ast.ts';
import { P4SyntaxError } from './errors.ts';

export type TokenKind = 'ident' | 'keyword' | 'int' | 'string' | 'punct' | 'directive' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Identifier/keyword name, operator text, string contents, or directive line. */
  readonly text: string;
  readonly span: Span;
  /** For `int` tokens. */
  readonly value?: bigint;
  readonly width?: number | undefined;
  readonly signed?: boolean;
}

export const KEYWORDS: ReadonlySet<string> = new Set([
  'action', 'apply', 'bit', 'bool', 'const', 'control', 'default', 'else', 'entries', 'enum', 'error',
  'exit', 'extern', 'false', 'header', 'header_union', 'if', 'in', 'inout', 'int', 'key', 'match_kind',
  'out', 'package', 'parser', 'return', 'select', 'state', 'string', 'struct', 'switch', 'table',
  'transition', 'true', 'tuple', 'typedef', 'type', 'varbit', 'void', 'actions', 'abstract', 'list',
  'priority',
]);

/** Words that are keywords only in some places; the parser accepts them as names elsewhere. */
export const CONTEXTUAL_KEYWORDS: ReadonlySet<string> = new Set(['key', 'actions', 'entries', 'apply', 'state', 'type', 'priority', 'list']);

/** Operators, longest first so that `&&&` wins over `&&`. `>>` is left as two `>` for generics. */
const PUNCTUATION = [
  '&&&', '|+|', '|-|', '<<', '<=', '>=', '==', '!=', '&&', '||', '++', '..',
  '{', '}', '(', ')', '[', ']', '<', '>', ';', ':', ',', '.', '=', '+', '-', '*', '/', '%', '&', '|',
  '^', '~', '!', '?', '@',
];

export function tokenize(text: string, file: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  let lineStart = 0;
  let atLineStart = true;

  const spanAt = (start: number, startLine: number, startCol: number): Span => ({
    file, line: startLine, col: startCol, offset: start, end: pos,
  });
  const fail = (message: string, at: number): never => {
    throw new P4SyntaxError(message, { file, line, col: at - lineStart + 1, offset: at, end: at + 1 });
  };

  while (pos < text.length) {
    const c = text[pos]!;
    if (c === '\n') {
      pos++; line++; lineStart = pos; atLineStart = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f') { pos++; continue; }
    if (c === '/' && text[pos + 1] === '/') {
      while (pos < text.length && text[pos] !== '\n') pos++;
      continue;
    }
    if (c === '/' && text[pos + 1] === '*') {
      const start = pos;
      pos += 2;
      while (pos < text.length && !(text[pos] === '*' && text[pos + 1] === '/')) {
        if (text[pos] === '\n') { line++; lineStart = pos + 1; }
        pos++;
      }
      if (pos >= text.length) fail('unterminated comment', start);
      pos += 2;
      continue;
    }
    const start = pos;
    const startLine = line;
    const startCol = pos - lineStart + 1;
    if (c === '#' && atLineStart) {
      // A directive runs to the end of the line; a trailing backslash continues it.
      let body = '';
      pos++;
      while (pos < text.length && text[pos] !== '\n') {
        if (text[pos] === '\\' && text[pos + 1] === '\n') { pos += 2; line++; lineStart = pos; body += ' '; continue; }
        if (text[pos] === '/' && text[pos + 1] === '/') { while (pos < text.length && text[pos] !== '\n') pos++; break; }
        body += text[pos];
        pos++;
      }
      tokens.push({ kind: 'directive', text: body.trim(), span: spanAt(start, startLine, startCol) });
      continue;
    }
    atLineStart = false;
    if (/[A-Za-z_]/.test(c)) {
      while (pos < text.length && /[A-Za-z0-9_]/.test(text[pos]!)) pos++;
      const word = text.slice(start, pos);
      tokens.push({ kind: KEYWORDS.has(word) ? 'keyword' : 'ident', text: word, span: spanAt(start, startLine, startCol) });
      continue;
    }
    if (/[0-9]/.test(c)) {
      tokens.push(lexNumber());
      continue;
    }
    if (c === '"') {
      pos++;
      let value = '';
      while (pos < text.length && text[pos] !== '"') {
        if (text[pos] === '\n') fail('unterminated string literal', start);
        if (text[pos] === '\\' && pos + 1 < text.length) {
          const e = text[pos + 1]!;
          value += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          pos += 2;
          continue;
        }
        value += text[pos];
        pos++;
      }
      if (pos >= text.length) fail('unterminated string literal', start);
      pos++;
      tokens.push({ kind: 'string', text: value, span: spanAt(start, startLine, startCol) });
      continue;
    }
    const op = PUNCTUATION.find((p) => text.startsWith(p, pos));
    if (op === undefined) fail(`unexpected character '${c}'`, pos);
    pos += op!.length;
    tokens.push({ kind: 'punct', text: op!, span: spanAt(start, startLine, startCol) });
  }
  tokens.push({ kind: 'eof', text: '<end of file>', span: { file, line, col: pos - lineStart + 1, offset: pos, end: pos } });
  return tokens;

  function lexNumber(): Token {
    const start = pos;
    const startLine = line;
    const startCol = pos - lineStart + 1;
    const digitsRun = (): string => {
      const s = pos;
      while (pos < text.length && /[0-9A-Za-z_]/.test(text[pos]!)) pos++;
      return text.slice(s, pos);
    };
    let width: number | undefined;
    let signed = false;
    // Width prefix: digits followed by 'w' or 's' and another number (`8w5`, `32w0x0A`, `4s3`).
    const m = /^([0-9]+)([ws])(?=[0-9])/.exec(text.slice(pos, pos + 16));
    if (m !== null) {
      width = Number(m[1]);
      signed = m[2] === 's';
      pos += m[0].length;
    }
    const body = digitsRun();
    const value = parseIntBody(body);
    if (value === undefined) fail(`invalid integer literal '${text.slice(start, pos)}'`, start);
    if (width !== undefined && width === 0) fail(`integer literal width must be positive`, start);
    return {
      kind: 'int', text: text.slice(start, pos), span: spanAt(start, startLine, startCol), value: value!, width, signed,
    };
  }
}

/** `123`, `0x1F`, `0b1010`, `0o17`, `0d99`, each with `_` separators. */
function parseIntBody(body: string): bigint | undefined {
  const clean = body.replace(/_/g, '');
  const m = /^0([xXbBoOdD])([0-9A-Fa-f]+)$/.exec(clean);
  let digits = clean;
  let radix = 10;
  if (m !== null) {
    const p = m[1]!.toLowerCase();
    radix = p === 'x' ? 16 : p === 'b' ? 2 : p === 'o' ? 8 : 10;
    digits = m[2]!;
  }
  const alphabet = '0123456789abcdef'.slice(0, radix);
  if (digits === '' || ![...digits.toLowerCase()].every((d) => alphabet.includes(d))) return undefined;
  let v = 0n;
  for (const d of digits.toLowerCase()) v = v * BigInt(radix) + BigInt(alphabet.indexOf(d));
  return v;
}
