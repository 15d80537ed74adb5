/**
 * STF text → typed model. Line oriented, as p4c's lexer is (it returns to its keyword state at
 * every newline): each non-blank line outside comments is one statement whose first word, in any
 * case, is the command. Every malformed line is reported, not only the first.
 */
import { didYouMean } from '../../core/errors.ts';
import { StfSyntaxError, StfSyntaxErrors } from './errors.ts';
import {
  BMV2_CLI_COMMANDS,
  type Bmv2CliCommandName,
  type StfActionArg,
  type StfActionCall,
  type StfCheckCounter,
  type StfCommand,
  type StfComparison,
  type StfFile,
  type StfKeyMatch,
  type StfRemoveTarget,
} from './model.ts';
import { StfLineError, describeToken, tokenize, type StfToken } from './tokens.ts';
import { literalValue, parseNumberLiteral } from './values.ts';

const STF_COMMANDS = ['add', 'setdefault', 'packet', 'expect', 'no_packet', 'wait', 'remove', 'check_counter'] as const;
const ALL_COMMANDS: readonly string[] = [...STF_COMMANDS, ...BMV2_CLI_COMMANDS];

/** Parses a whole STF file; throws StfSyntaxError (one bad line) or StfSyntaxErrors (several). */
export function parseStf(text: string, fileName: string): StfFile {
  const commands: StfCommand[] = [];
  const errors: StfSyntaxError[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = cutComment(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
    if (line.trim() === '') return;
    try {
      commands.push(parseStatement(line, lineNo));
    } catch (e) {
      if (!(e instanceof StfLineError)) throw e;
      errors.push(new StfSyntaxError(e.message, { file: fileName, line: lineNo, column: e.column }, e.hint));
    }
  });
  if (errors.length === 1) throw errors[0]!;
  if (errors.length > 1) throw new StfSyntaxErrors(fileName, errors);
  return { file: fileName, commands };
}

/** The line up to a `#` that is not inside a quoted name. */
function cutComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') quoted = !quoted;
    else if (c === '#' && !quoted) return line.slice(0, i);
  }
  return line;
}

function parseStatement(line: string, lineNo: number): StfCommand {
  const start = line.search(/\S/);
  const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(line.slice(start));
  if (word === null) {
    const found = /^\S+/.exec(line.slice(start))![0];
    throw new StfLineError(`expected an STF command, found '${found}'`, start + 1);
  }
  const keyword = word[0].toLowerCase();
  const rest = start + word[0].length;
  switch (keyword) {
    case 'packet':
      return parsePacket(line, rest, lineNo);
    case 'expect':
      return parseExpect(line, rest, lineNo);
    case 'add':
      return new TokenParser(line, rest).add(lineNo);
    case 'setdefault':
      return new TokenParser(line, rest).setDefault(lineNo);
    case 'remove':
      return new TokenParser(line, rest).remove(lineNo);
    case 'check_counter':
      return new TokenParser(line, rest).checkCounter(lineNo);
    case 'no_packet':
    case 'wait':
      new TokenParser(line, rest).end(`'${keyword}'`);
      return { kind: keyword, line: lineNo };
  }
  if (isBmv2CliCommand(keyword)) return parseBmv2Cli(keyword, line, rest, lineNo);
  throw new StfLineError(`unknown STF command '${word[0]}'`, start + 1, didYouMean(keyword, ALL_COMMANDS));
}

function isBmv2CliCommand(word: string): word is Bmv2CliCommandName {
  return (BMV2_CLI_COMMANDS as readonly string[]).includes(word);
}

// ---- packet and expect --------------------------------------------------------------------------

const HEX_DIGIT = /[0-9A-Fa-f]/;

/** The decimal port after `packet`/`expect`, and where the data after it starts. */
function parsePort(line: string, from: number, command: string): { port: number; next: number } {
  const m = /^[ \t]*(\S*)/.exec(line.slice(from))!;
  const text = m[1]!;
  const column = from + m[0].length - text.length + 1;
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    const found = text === '' ? 'end of line' : `'${text}'`;
    throw new StfLineError(`expected a port number (decimal) after '${command}', found ${found}`, column);
  }
  return { port: Number(text), next: from + m[0].length };
}

function parsePacket(line: string, from: number, lineNo: number): StfCommand {
  const { port, next } = parsePort(line, from, 'packet');
  let hex = '';
  let dataColumn = 0;
  for (let i = next; i < line.length; i++) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') continue;
    if (!HEX_DIGIT.test(c)) {
      const hint = c === '*' || c === '$' ? "'*' and '$' belong in expect data only" : undefined;
      throw new StfLineError(`invalid character '${c}' in packet data (expected hex digits)`, i + 1, hint);
    }
    if (dataColumn === 0) dataColumn = i + 1;
    hex += c;
  }
  if (hex === '') throw new StfLineError('expected packet data (hex digits) after the port', line.length + 1);
  if (hex.length % 2 !== 0) {
    throw new StfLineError(`packet data has an odd number of hex digits (${hex.length})`, dataColumn, 'write whole bytes');
  }
  return { kind: 'packet', line: lineNo, port, bytes: Uint8Array.from(Buffer.from(hex, 'hex')) };
}

function parseExpect(line: string, from: number, lineNo: number): StfCommand {
  const { port, next } = parsePort(line, from, 'expect');
  let nibbles = '';
  let exactLength = false;
  for (let i = next; i < line.length; i++) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') continue;
    if (exactLength) throw new StfLineError(`unexpected '${c}' after '$' (the '$' ends the expected data)`, i + 1);
    if (c === '$') exactLength = true;
    else if (c === '*' || HEX_DIGIT.test(c)) nibbles += c.toUpperCase();
    else {
      throw new StfLineError(`invalid character '${c}' in expected data (expected hex digits, '*' or a final '$')`, i + 1);
    }
  }
  const packet = nibbles === '' && !exactLength ? undefined : { nibbles, exactLength };
  return { kind: 'expect', line: lineNo, port, packet };
}

// ---- BMv2 CLI pass-through commands -------------------------------------------------------------

type CliArg = { readonly kind: 'number' | 'name' | 'numbers' | 'rates'; readonly name: string };
const num = (name: string): CliArg => ({ kind: 'number', name });
const nam = (name: string): CliArg => ({ kind: 'name', name });

/** Argument shapes from the `direct_cmd` rules of p4c's backends/bmv2/bmv2stf.py. */
const CLI_ARGS: Record<Bmv2CliCommandName, readonly CliArg[]> = {
  mirroring_add: [num('SESSION'), num('PORT')],
  mirroring_add_mc: [num('SESSION'), num('GROUP')],
  mirroring_delete: [num('SESSION')],
  mirroring_get: [num('SESSION')],
  mc_mgrp_create: [num('GROUP')],
  mc_node_create: [num('RID'), { kind: 'numbers', name: 'PORT…' }],
  mc_node_update: [num('NODE'), { kind: 'numbers', name: 'PORT…' }],
  mc_node_associate: [num('GROUP'), num('NODE')],
  counter_read: [nam('COUNTER'), num('INDEX')],
  counter_write: [nam('COUNTER'), num('INDEX'), num('PACKETS'), num('BYTES')],
  register_read: [nam('REGISTER'), num('INDEX')],
  register_write: [nam('REGISTER'), num('INDEX'), num('VALUE')],
  register_reset: [nam('REGISTER')],
  meter_get_rates: [nam('METER'), num('INDEX')],
  meter_set_rates: [nam('METER'), num('INDEX'), { kind: 'rates', name: 'RATE:BURST…' }],
  meter_array_set_rates: [nam('METER'), { kind: 'rates', name: 'RATE:BURST…' }],
};

const CLI_PATTERNS: Record<CliArg['kind'], RegExp> = {
  number: /^(0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+)$/,
  numbers: /^(0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+)$/,
  name: /^("[^"]+"|[A-Za-z_$][A-Za-z0-9_$]*(\[[0-9]+\])?(\.[A-Za-z_$][A-Za-z0-9_$]*)*)$/,
  rates: /^[0-9]+(\.[0-9]+)?:[0-9]+$/,
};

const CLI_ARG_WHAT: Record<CliArg['kind'], string> = {
  number: 'a number',
  numbers: 'a number',
  name: 'a name',
  rates: 'RATE:BURST',
};

function parseBmv2Cli(name: Bmv2CliCommandName, line: string, from: number, lineNo: number): StfCommand {
  const words: { text: string; column: number }[] = [];
  for (const m of line.slice(from).matchAll(/\S+/g)) words.push({ text: m[0], column: from + m.index + 1 });
  const shape = CLI_ARGS[name];
  const usage = `usage: ${name} ${shape.map((a) => a.name).join(' ')}`;
  const args: string[] = [];
  let w = 0;
  for (const arg of shape) {
    const repeated = arg.kind === 'numbers' || arg.kind === 'rates';
    let taken = 0;
    while (w < words.length && (taken === 0 || repeated)) {
      const word = words[w]!;
      if (!CLI_PATTERNS[arg.kind].test(word.text)) {
        if (taken > 0) break;
        throw new StfLineError(`expected ${arg.name} (${CLI_ARG_WHAT[arg.kind]}) for '${name}', found '${word.text}'`, word.column, usage);
      }
      args.push(arg.kind === 'name' ? word.text.replace(/^"(.*)"$/, '$1') : word.text);
      taken++;
      w++;
    }
    if (taken === 0) {
      throw new StfLineError(`expected ${arg.name} (${CLI_ARG_WHAT[arg.kind]}) for '${name}', found end of line`, line.length + 1, usage);
    }
  }
  if (w < words.length) {
    const extra = words[w]!;
    throw new StfLineError(`unexpected '${extra.text}' after the arguments of '${name}'`, extra.column, usage);
  }
  return { kind: 'bmv2_cli', line: lineNo, name, args, supported: false };
}

// ---- add, setdefault, remove, check_counter -----------------------------------------------------

const COMPARISONS: readonly string[] = ['==', '!=', '<', '<=', '>', '>='];

class TokenParser {
  private readonly tokens: StfToken[];
  private pos = 0;

  constructor(line: string, from: number) {
    this.tokens = tokenize(line, from);
  }

  /** `add TABLE [PRIORITY] KEY:VALUE… ACTION(ARGS) [= HANDLE]` */
  add(line: number): StfCommand {
    const table = this.qualifiedName('a table name after \'add\'');
    const priority = this.priority();
    const { keys, action } = this.keysThenAction();
    let handle: string | undefined;
    if (this.isPunct('=')) {
      this.pos++;
      handle = this.name('an entry handle name after \'=\'').text;
    }
    this.end('the action call');
    return { kind: 'add', line, table: table.text, priority, keys, action, handle };
  }

  /** `setdefault TABLE ACTION(ARGS)` */
  setDefault(line: number): StfCommand {
    const table = this.qualifiedName('a table name after \'setdefault\'');
    const name = this.qualifiedName('an action call "ACTION"(…) after the table name');
    if (!this.isPunct('(')) this.fail(`'(' after the action name '${name.text}'`);
    const action = this.actionCall(name);
    this.end('the action call');
    return { kind: 'setdefault', line, table: table.text, action };
  }

  /** `remove all`, or `remove TABLE [PRIORITY] KEY:VALUE…` for one entry (a p4lb extension). */
  remove(line: number): StfCommand {
    const first = this.peek();
    let target: StfRemoveTarget;
    if (first.kind === 'name' && !first.quoted && first.text.toLowerCase() === 'all') {
      this.pos++;
      this.end("'all'");
      target = { kind: 'all' };
    } else {
      const table = this.qualifiedName("'all' or a table name after 'remove'");
      const priority = this.priority();
      const keys: StfKeyMatch[] = [];
      while (this.peek().kind !== 'end') {
        keys.push(this.keyMatch(this.qualifiedName('a match key "KEY":VALUE')));
      }
      if (keys.length === 0) this.fail('a match key "KEY":VALUE after the table name');
      target = { kind: 'entry', table: table.text, priority, keys };
    }
    return { kind: 'remove', line, target };
  }

  /** `check_counter COUNTER(INDEX | $HANDLE) [packets|bytes OP VALUE]` */
  checkCounter(line: number): StfCommand {
    const counter = this.qualifiedName("a counter name after 'check_counter'");
    this.punct('(', `'(' after the counter name '${counter.text}'`);
    const at = this.peek();
    let index: StfCheckCounter['index'];
    if (at.kind === 'number') {
      index = { kind: 'index', value: this.plainNumber('the counter index') };
    } else if (at.kind === 'name') {
      this.pos++;
      index = { kind: 'entry', handle: at.text.replace(/^\$/, '') };
    } else {
      this.fail('a counter index or $HANDLE');
    }
    this.punct(')', "')' after the counter index");
    let check: StfCheckCounter['check'];
    if (this.peek().kind !== 'end') {
      const type = this.peek();
      const counterType = type.kind === 'name' && !type.quoted ? type.text.toLowerCase() : '';
      if (counterType !== 'packets' && counterType !== 'bytes') this.fail("'packets' or 'bytes' after ')'");
      this.pos++;
      const op = this.peek();
      if (op.kind !== 'punct' || !COMPARISONS.includes(op.text)) this.fail(`a comparison (${COMPARISONS.join(' ')})`);
      this.pos++;
      const value = this.plainNumber('the expected count');
      check = { counterType, op: op.text as StfComparison, value };
      this.end('the expected count');
    }
    return { kind: 'check_counter', line, counter: counter.text, index, check };
  }

  /** Fails unless nothing but the end of the line is left. */
  end(after: string): void {
    const t = this.peek();
    if (t.kind !== 'end') throw new StfLineError(`unexpected ${describeToken(t)} after ${after}`, t.column);
  }

  // -- pieces

  private priority(): number | undefined {
    const t = this.peek();
    if (t.kind !== 'number' || !/^[0-9]+$/.test(t.text)) return undefined;
    this.pos++;
    const value = Number(t.text);
    if (!Number.isSafeInteger(value)) throw new StfLineError(`priority ${t.text} is too large`, t.column);
    return value;
  }

  /** Match keys up to the action call; p4c's grammar needs at least one key. */
  private keysThenAction(): { keys: StfKeyMatch[]; action: StfActionCall } {
    const keys: StfKeyMatch[] = [];
    for (;;) {
      const name = this.qualifiedName('a match key "KEY":VALUE or an action call "ACTION"(…)');
      if (this.isPunct('(')) {
        if (keys.length === 0) {
          throw new StfLineError(`expected a match key "KEY":VALUE before the action '${name.text}'`, name.column);
        }
        return { keys, action: this.actionCall(name) };
      }
      if (!this.isPunct(':')) this.fail(`':' after the key '${name.text}' or '(' after the action '${name.text}'`);
      keys.push(this.keyMatch(name));
    }
  }

  /** `:VALUE` or `:VALUE/PREFIX` after a key name. */
  private keyMatch(name: { text: string; column: number }): StfKeyMatch {
    this.punct(':', `':' after the key '${name.text}'`);
    const valueToken = this.peek();
    const value = this.literal(`a value for the key '${name.text}'`);
    let prefixLength: number | undefined;
    let text = value.text;
    if (this.isPunct('/')) {
      this.pos++;
      const p = this.peek();
      if (p.kind !== 'number' || !/^[0-9]+$/.test(p.text)) this.fail("a decimal prefix length after '/'");
      if (value.hasWildcards) {
        throw new StfLineError(`the key '${name.text}' has both '*' digits and a /prefix`, valueToken.column, 'use one or the other');
      }
      this.pos++;
      prefixLength = Number(p.text);
      text += `/${p.text}`;
    }
    return { name: name.text, text, value, prefixLength, column: name.column };
  }

  /** `(ARG:VALUE, …)` after an action name; values are plain numbers. */
  private actionCall(name: { text: string; column: number }): StfActionCall {
    this.punct('(', `'(' after the action name '${name.text}'`);
    const args: StfActionArg[] = [];
    if (!this.isPunct(')')) {
      for (;;) {
        const argName = this.name(`a parameter name in the call of '${name.text}'`);
        this.punct(':', `':' after the parameter '${argName.text}'`);
        const valueToken = this.peek();
        const value = this.plainNumber(`a value for the parameter '${argName.text}'`);
        args.push({ name: argName.text, text: valueToken.kind === 'number' ? valueToken.text : '', value, column: argName.column });
        if (this.isPunct(',')) {
          this.pos++;
          continue;
        }
        break;
      }
    }
    this.punct(')', `',' or ')' in the call of '${name.text}'`);
    return { name: name.text, args, column: name.column };
  }

  /** `NAME`, `NAME[3]`, `a.b.c`, `"quoted.name"` (segments may be quoted). */
  private qualifiedName(what: string): { text: string; column: number } {
    const first = this.name(what);
    let text = first.text;
    for (;;) {
      if (this.isPunct('[')) {
        this.pos++;
        const index = this.peek();
        if (index.kind !== 'number' || !/^[0-9]+$/.test(index.text)) this.fail(`a decimal index after '${text}['`);
        this.pos++;
        this.punct(']', `']' after '${text}[${index.text}'`);
        text += `[${index.text}]`;
      } else if (this.isPunct('.') && this.tokens[this.pos + 1]?.kind === 'name') {
        this.pos++;
        text += `.${this.name('a name after \'.\'').text}`;
      } else {
        return { text, column: first.column };
      }
    }
  }

  private name(what: string): { text: string; column: number } {
    const t = this.peek();
    if (t.kind !== 'name') this.fail(what);
    this.pos++;
    return { text: t.text, column: t.column };
  }

  private literal(what: string) {
    const t = this.peek();
    if (t.kind !== 'number') this.fail(what);
    const lit = parseNumberLiteral(t.text);
    if (lit === undefined) {
      throw new StfLineError(`malformed number '${t.text}'`, t.column, 'write 0x… or 0b… digits (* for a don\'t-care digit) or decimal digits');
    }
    this.pos++;
    return lit;
  }

  private plainNumber(what: string): bigint {
    const t = this.peek();
    const lit = this.literal(what);
    if (lit.hasWildcards) throw new StfLineError(`'*' digits are only allowed in match keys, found '${lit.text}'`, t.column);
    return literalValue(lit);
  }

  private punct(p: string, what: string): void {
    if (!this.isPunct(p)) this.fail(what);
    this.pos++;
  }

  private isPunct(p: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === p;
  }

  private peek(): StfToken {
    return this.tokens[Math.min(this.pos, this.tokens.length - 1)]!;
  }

  private fail(what: string): never {
    const t = this.peek();
    throw new StfLineError(`expected ${what}, found ${describeToken(t)}`, t.column);
  }
}
