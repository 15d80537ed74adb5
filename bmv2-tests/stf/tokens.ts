/**
 * Tokens of one STF statement line after its keyword (for `add`, `setdefault`, `remove`,
 * `check_counter`): names (bare or quoted), numbers, punctuation. Packet data has its own scanner
 * in the parser, as p4c's lexer has its own state for it.
 */

export type StfToken =
  | { readonly kind: 'name'; readonly text: string; readonly quoted: boolean; readonly column: number }
  | { readonly kind: 'number'; readonly text: string; readonly column: number }
  | { readonly kind: 'punct'; readonly text: StfPunct; readonly column: number }
  | { readonly kind: 'end'; readonly column: number };

export type StfPunct = ':' | ',' | '(' | ')' | '[' | ']' | '.' | '/' | '=' | '==' | '!=' | '<' | '<=' | '>' | '>=';

/** A fault in one STF line (a bad character, an unexpected token); `column` is 1-based. */
export class StfLineError extends Error {
  constructor(
    message: string,
    readonly column: number,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const IDENTIFIER = /[A-Za-z_$][A-Za-z0-9_$]*/y;
// Greedy on purpose: `0b012` becomes one token and is reported whole as a malformed number.
const NUMBER = /[0-9][0-9A-Za-z_*]*/y;
const PUNCTS: readonly StfPunct[] = ['==', '!=', '<=', '>=', ':', ',', '(', ')', '[', ']', '.', '/', '=', '<', '>'];

/** Tokens of `line` from index `start`; the comment must already be cut off. */
export function tokenize(line: string, start: number): StfToken[] {
  const tokens: StfToken[] = [];
  let i = start;
  while (i < line.length) {
    const c = line[i]!;
    const column = i + 1;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '"') {
      const close = line.indexOf('"', i + 1);
      if (close < 0) throw new StfLineError('unterminated quoted name', column);
      if (close === i + 1) throw new StfLineError('empty quoted name', column);
      tokens.push({ kind: 'name', text: line.slice(i + 1, close), quoted: true, column });
      i = close + 1;
      continue;
    }
    IDENTIFIER.lastIndex = i;
    const ident = IDENTIFIER.exec(line);
    if (ident !== null) {
      tokens.push({ kind: 'name', text: ident[0], quoted: false, column });
      i += ident[0].length;
      continue;
    }
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(line);
    if (num !== null) {
      tokens.push({ kind: 'number', text: num[0], column });
      i += num[0].length;
      continue;
    }
    const punct = PUNCTS.find((p) => line.startsWith(p, i));
    if (punct !== undefined) {
      tokens.push({ kind: 'punct', text: punct, column });
      i += punct.length;
      continue;
    }
    if (line.startsWith('&&&', i)) {
      throw new StfLineError(
        "'&&&' masks are not STF syntax",
        column,
        "write don't-care digits as '*' instead, e.g. 0x0A0B****",
      );
    }
    throw new StfLineError(`unexpected character '${c}'`, column);
  }
  tokens.push({ kind: 'end', column: line.length + 1 });
  return tokens;
}

/** How a token reads in a message: `'x'`, `'"quoted"'` or `end of line`. */
export function describeToken(t: StfToken): string {
  switch (t.kind) {
    case 'end':
      return 'end of line';
    case 'name':
      return t.quoted ? `'"${t.text}"'` : `'${t.text}'`;
    case 'number':
    case 'punct':
      return `'${t.text}'`;
  }
}
