/**
 * Protobuf text format over protobuf-es reflection, printing the way protobuf's C++
 * `TextFormat::Print` does (what p4c uses for `.p4info.txtpb`): fields in field-number order,
 * two-space indentation, `name: value` for scalars and enums (by name), `name {` ... `}` for
 * messages, strings and bytes C-escaped in double quotes, map entries sorted by key, `Any`
 * not expanded. The parser accepts that output and the usual text-format variations.
 */
import { create, type DescEnum, type DescField, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { reflect, type ReflectList, type ReflectMap, type ReflectMessage } from '@bufbuild/protobuf/reflect';
import { ScalarType } from '@bufbuild/protobuf';
import { didYouMean, type ErrorLocation } from '../errors.ts';
import { P4RuntimeError } from './errors.ts';
import { P4InfoSchema, type P4Info } from './gen/p4/config/v1/p4info_pb.ts';
import { concatBytes } from '../packet/bytes.ts';

// ------------------------------------------------------------------------------------ printer

/** Prints `message` in text format; the result ends with a newline unless it is empty. */
export function printTextFormat<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): string {
  const out: string[] = [];
  printMessage(reflect(schema, message), '', out);
  return out.join('');
}

function printMessage(r: ReflectMessage, indent: string, out: string[]): void {
  for (const field of r.sortedFields) {
    if (!r.isSet(field)) continue;
    switch (field.fieldKind) {
      case 'list': {
        const list = r.get(field) as ReflectList;
        for (const item of list) printFieldValue(field, item, indent, out);
        break;
      }
      case 'map':
        printMap(field, r.get(field) as ReflectMap, indent, out);
        break;
      default:
        printFieldValue(field, r.get(field), indent, out);
    }
  }
}

function printFieldValue(field: DescField, value: unknown, indent: string, out: string[]): void {
  if (field.message !== undefined) {
    out.push(`${indent}${field.name} {\n`);
    printMessage(value as ReflectMessage, indent + '  ', out);
    out.push(`${indent}}\n`);
  } else if (field.enum !== undefined) {
    out.push(`${indent}${field.name}: ${enumName(field.enum, value as number)}\n`);
  } else {
    out.push(`${indent}${field.name}: ${formatScalar(field.scalar!, value)}\n`);
  }
}

// C++ TextFormat sorts map entries by key so that output is deterministic.
function printMap(field: DescField & { fieldKind: 'map' }, map: ReflectMap, indent: string, out: string[]): void {
  const keys = [...map.keys()].sort(compareMapKeys);
  const inner = indent + '  ';
  for (const key of keys) {
    out.push(`${indent}${field.name} {\n`);
    out.push(`${inner}key: ${formatScalar(field.mapKey, key)}\n`);
    const value = map.get(key);
    if (field.mapKind === 'message') {
      out.push(`${inner}value {\n`);
      printMessage(value as ReflectMessage, inner + '  ', out);
      out.push(`${inner}}\n`);
    } else if (field.mapKind === 'enum') {
      out.push(`${inner}value: ${enumName(field.enum, value as number)}\n`);
    } else {
      out.push(`${inner}value: ${formatScalar(field.scalar, value)}\n`);
    }
    out.push(`${indent}}\n`);
  }
}

function compareMapKeys(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') return compareUtf8(a, b);
  const x = typeof a === 'boolean' ? Number(a) : (a as number | bigint);
  const y = typeof b === 'boolean' ? Number(b) : (b as number | bigint);
  return x < y ? -1 : x > y ? 1 : 0;
}

// std::string compares bytes; UTF-16 order differs from UTF-8 order only above the BMP.
function compareUtf8(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]! - y[i]!;
  }
  return x.length - y.length;
}

function enumName(desc: DescEnum, value: number): string {
  return desc.values.find((v) => v.number === value)?.name ?? String(value);
}

const utf8 = new TextEncoder();

function formatScalar(type: ScalarType, value: unknown): string {
  switch (type) {
    case ScalarType.STRING:
      return `"${cEscape(utf8.encode(value as string))}"`;
    case ScalarType.BYTES:
      return `"${cEscape(value as Uint8Array)}"`;
    case ScalarType.BOOL:
      return value ? 'true' : 'false';
    case ScalarType.DOUBLE:
      return formatFloat(value as number, 15, 17, (n) => n);
    case ScalarType.FLOAT:
      // The field holds a JS double until serialised; print the float32 it becomes.
      return formatFloat(Math.fround(value as number), 6, 9, Math.fround);
    default:
      return String(value);
  }
}

/** C++ `CEscape`: named escapes for \n \r \t " ' \, three-digit octal for other non-printables. */
export function cEscape(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) {
    switch (b) {
      case 0x0a: s += '\\n'; break;
      case 0x0d: s += '\\r'; break;
      case 0x09: s += '\\t'; break;
      case 0x22: s += '\\"'; break;
      case 0x27: s += "\\'"; break;
      case 0x5c: s += '\\\\'; break;
      default:
        s += b < 0x20 || b >= 0x7f ? '\\' + b.toString(8).padStart(3, '0') : String.fromCharCode(b);
    }
  }
  return s;
}

// C++ SimpleDtoa/SimpleFtoa: `%.{short}g`, or `%.{long}g` when the short form does not round-trip.
function formatFloat(n: number, shortDigits: number, longDigits: number, round: (n: number) => number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  const short = formatG(n, shortDigits);
  return round(Number(short)) === n ? short : formatG(n, longDigits);
}

/** printf's `%.{precision}g`. */
function formatG(n: number, precision: number): string {
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mantissa, expText] = n.toExponential(precision - 1).split('e') as [string, string];
  const exp = Number(expText);
  const trim = (s: string): string => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);
  if (exp < -4 || exp >= precision) {
    const sign = exp < 0 ? '-' : '+';
    return `${trim(mantissa)}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return trim(n.toFixed(Math.max(0, precision - 1 - exp)));
}

// ------------------------------------------------------------------------------------- parser

export interface TextFormatParseOptions {
  /** File name for error locations. */
  readonly file?: string;
}

/** Parses text format into a new message of `schema`; errors carry line and column. */
export function parseTextFormat<Desc extends DescMessage>(
  schema: Desc,
  text: string,
  options: TextFormatParseOptions = {},
): MessageShape<Desc> {
  const message = create(schema);
  const parser = new Parser(new Tokenizer(text, options.file));
  parser.parseFields(reflect(schema, message), undefined);
  return message;
}

type TokenKind = 'ident' | 'number' | 'string' | 'symbol' | 'eof';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** String tokens: the decoded bytes. */
  readonly bytes?: Uint8Array;
  readonly line: number;
  readonly column: number;
}

class Tokenizer {
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  private current: Token;

  constructor(
    private readonly src: string,
    readonly file: string | undefined,
  ) {
    this.current = this.scan();
  }

  peek(): Token {
    return this.current;
  }

  next(): Token {
    const t = this.current;
    this.current = this.scan();
    return t;
  }

  error(message: string, at: Token = this.current, hint?: string): P4RuntimeError {
    const location: ErrorLocation = {
      ...(this.file === undefined ? {} : { file: this.file }),
      line: at.line,
      column: at.column,
    };
    return new P4RuntimeError('TEXT_FORMAT_PARSE', message, { location, ...(hint === undefined ? {} : { hint }) });
  }

  private skipSpaceAndComments(): void {
    while (this.pos < this.src.length) {
      const c = this.src[this.pos]!;
      if (c === '\n') {
        this.pos++;
        this.line++;
        this.lineStart = this.pos;
      } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
        this.pos++;
      } else if (c === '#') {
        while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.pos++;
      } else {
        return;
      }
    }
  }

  private scan(): Token {
    this.skipSpaceAndComments();
    const line = this.line;
    const column = this.pos - this.lineStart + 1;
    const start = this.pos;
    if (this.pos >= this.src.length) return { kind: 'eof', text: '', line, column };
    const c = this.src[this.pos]!;
    if (/[A-Za-z_]/.test(c)) {
      while (this.pos < this.src.length && /[A-Za-z0-9_]/.test(this.src[this.pos]!)) this.pos++;
      return { kind: 'ident', text: this.src.slice(start, this.pos), line, column };
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(this.src[this.pos + 1] ?? ''))) {
      const hex = /^0[xX]/.test(this.src.slice(start, start + 2));
      while (this.pos < this.src.length && /[A-Za-z0-9_.+-]/.test(this.src[this.pos]!)) {
        const ch = this.src[this.pos]!;
        // A sign belongs to the number only right after an exponent marker.
        if ((ch === '+' || ch === '-') && !/[eE]/.test(this.src[this.pos - 1]!)) break;
        if ((ch === '+' || ch === '-') && hex) break;
        this.pos++;
      }
      return { kind: 'number', text: this.src.slice(start, this.pos), line, column };
    }
    if (c === '"' || c === "'") {
      return { kind: 'string', text: c, bytes: this.scanString(c, line, column), line, column };
    }
    this.pos++;
    return { kind: 'symbol', text: c, line, column };
  }

  private scanString(quote: string, line: number, column: number): Uint8Array {
    const bytes: number[] = [];
    this.pos++;
    const fail = (message: string): P4RuntimeError =>
      this.error(message, { kind: 'string', text: quote, line, column });
    for (;;) {
      if (this.pos >= this.src.length || this.src[this.pos] === '\n') throw fail('unterminated string');
      const c = this.src[this.pos]!;
      this.pos++;
      if (c === quote) break;
      if (c !== '\\') {
        const cp = c.codePointAt(0)!;
        if (cp > 0xffff) this.pos++;
        bytes.push(...utf8.encode(String.fromCodePoint(cp)));
        continue;
      }
      const e = this.src[this.pos++];
      const simple: Record<string, number> = {
        n: 0x0a, r: 0x0d, t: 0x09, a: 0x07, b: 0x08, f: 0x0c, v: 0x0b,
        '\\': 0x5c, "'": 0x27, '"': 0x22, '?': 0x3f,
      };
      if (e === undefined) throw fail('unterminated string');
      if (simple[e] !== undefined) {
        bytes.push(simple[e]);
      } else if (/[0-7]/.test(e)) {
        let digits = e;
        while (digits.length < 3 && /[0-7]/.test(this.src[this.pos] ?? '')) digits += this.src[this.pos++];
        const v = parseInt(digits, 8);
        if (v > 0xff) throw fail(`octal escape \\${digits} is above \\377`);
        bytes.push(v);
      } else if (e === 'x' || e === 'X') {
        let digits = '';
        while (digits.length < 2 && /[0-9a-fA-F]/.test(this.src[this.pos] ?? '')) digits += this.src[this.pos++];
        if (digits === '') throw fail('\\x escape without hex digits');
        bytes.push(parseInt(digits, 16));
      } else if (e === 'u' || e === 'U') {
        const n = e === 'u' ? 4 : 8;
        const digits = this.src.slice(this.pos, this.pos + n);
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(digits)) throw fail(`\\${e} escape needs ${n} hex digits`);
        this.pos += n;
        bytes.push(...utf8.encode(String.fromCodePoint(parseInt(digits, 16))));
      } else {
        throw fail(`unknown escape \\${e}`);
      }
    }
    return Uint8Array.from(bytes);
  }
}

const INT_RANGES: Partial<Record<ScalarType, readonly [bigint, bigint]>> = {
  [ScalarType.INT32]: [-(1n << 31n), (1n << 31n) - 1n],
  [ScalarType.SINT32]: [-(1n << 31n), (1n << 31n) - 1n],
  [ScalarType.SFIXED32]: [-(1n << 31n), (1n << 31n) - 1n],
  [ScalarType.UINT32]: [0n, (1n << 32n) - 1n],
  [ScalarType.FIXED32]: [0n, (1n << 32n) - 1n],
  [ScalarType.INT64]: [-(1n << 63n), (1n << 63n) - 1n],
  [ScalarType.SINT64]: [-(1n << 63n), (1n << 63n) - 1n],
  [ScalarType.SFIXED64]: [-(1n << 63n), (1n << 63n) - 1n],
  [ScalarType.UINT64]: [0n, (1n << 64n) - 1n],
  [ScalarType.FIXED64]: [0n, (1n << 64n) - 1n],
};

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

class Parser {
  constructor(private readonly tok: Tokenizer) {}

  /** Fields until `close` (a closing delimiter) or end of input when `close` is undefined. */
  parseFields(r: ReflectMessage, close: string | undefined): void {
    const seen = new Set<string>();
    for (;;) {
      const t = this.tok.peek();
      if (close === undefined ? t.kind === 'eof' : t.kind === 'symbol' && t.text === close) return;
      if (t.kind === 'eof') throw this.tok.error(`expected '${close}' before end of input`);
      this.parseField(r, seen);
      const sep = this.tok.peek();
      if (sep.kind === 'symbol' && (sep.text === ',' || sep.text === ';')) this.tok.next();
    }
  }

  private parseField(r: ReflectMessage, seen: Set<string>): void {
    const nameTok = this.tok.next();
    if (nameTok.kind === 'symbol' && nameTok.text === '[') {
      throw this.tok.error('extensions and expanded Any are not supported', nameTok);
    }
    if (nameTok.kind !== 'ident') throw this.tok.error(`expected a field name, found '${nameTok.text}'`, nameTok);
    const field = r.fields.find((f) => f.name === nameTok.text);
    if (field === undefined) {
      throw this.tok.error(
        `message ${r.desc.typeName} has no field named '${nameTok.text}'`,
        nameTok,
        didYouMean(nameTok.text, r.fields.map((f) => f.name)),
      );
    }
    if (field.fieldKind !== 'list' && field.fieldKind !== 'map') {
      const key = field.oneof === undefined ? field.name : `oneof ${field.oneof.name}`;
      if (seen.has(key)) {
        throw this.tok.error(
          field.oneof === undefined
            ? `non-repeated field '${field.name}' is specified more than once`
            : `field '${field.name}' is specified along with another member of oneof '${field.oneof.name}'`,
          nameTok,
        );
      }
      seen.add(key);
    }
    const isMessageLike = field.message !== undefined;
    const colon = this.tok.peek();
    if (colon.kind === 'symbol' && colon.text === ':') {
      this.tok.next();
    } else if (!isMessageLike) {
      throw this.tok.error(`expected ':' after field '${field.name}'`);
    }
    const repeated = field.fieldKind === 'list' || field.fieldKind === 'map';
    const open = this.tok.peek();
    if (repeated && open.kind === 'symbol' && open.text === '[') {
      this.tok.next();
      if (this.isSymbol(']')) {
        this.tok.next();
        return;
      }
      for (;;) {
        this.parseOneValue(r, field);
        const t = this.tok.next();
        if (t.kind === 'symbol' && t.text === ']') return;
        if (!(t.kind === 'symbol' && t.text === ',')) throw this.tok.error(`expected ',' or ']', found '${t.text}'`, t);
      }
    }
    this.parseOneValue(r, field);
  }

  private isSymbol(text: string): boolean {
    const t = this.tok.peek();
    return t.kind === 'symbol' && t.text === text;
  }

  private parseOneValue(r: ReflectMessage, field: DescField): void {
    switch (field.fieldKind) {
      case 'message': {
        const child = reflect(field.message);
        this.parseMessageBody(child);
        r.set(field, child);
        return;
      }
      case 'list': {
        const list = r.get(field) as ReflectList;
        if (field.listKind === 'message') {
          const child = reflect(field.message);
          this.parseMessageBody(child);
          list.add(child);
        } else if (field.listKind === 'enum') {
          list.add(this.parseEnum(field.enum));
        } else {
          list.add(this.parseScalar(field.scalar));
        }
        return;
      }
      case 'map':
        this.parseMapEntry(r.get(field) as ReflectMap, field);
        return;
      case 'enum':
        r.set(field, this.parseEnum(field.enum));
        return;
      case 'scalar':
        r.set(field, this.parseScalar(field.scalar));
    }
  }

  private parseMessageBody(child: ReflectMessage): void {
    const open = this.tok.next();
    const close = open.text === '{' ? '}' : open.text === '<' ? '>' : undefined;
    if (open.kind !== 'symbol' || close === undefined) {
      throw this.tok.error(`expected '{' to start ${child.desc.typeName}, found '${open.text}'`, open);
    }
    this.parseFields(child, close);
    this.tok.next();
  }

  private parseMapEntry(map: ReflectMap, field: DescField & { fieldKind: 'map' }): void {
    const open = this.tok.next();
    const close = open.text === '{' ? '}' : open.text === '<' ? '>' : undefined;
    if (open.kind !== 'symbol' || close === undefined) {
      throw this.tok.error(`expected '{' to start a '${field.name}' entry, found '${open.text}'`, open);
    }
    let key: unknown;
    let value: unknown;
    while (!this.isSymbol(close)) {
      const name = this.tok.next();
      if (name.kind === 'eof') throw this.tok.error(`expected '${close}' before end of input`, name);
      if (name.text === 'key') {
        this.expectSymbol(':');
        key = this.parseScalar(field.mapKey);
      } else if (name.text === 'value') {
        if (field.mapKind === 'message') {
          if (this.isSymbol(':')) this.tok.next();
          const child = reflect(field.message);
          this.parseMessageBody(child);
          value = child;
        } else {
          this.expectSymbol(':');
          value = field.mapKind === 'enum' ? this.parseEnum(field.enum) : this.parseScalar(field.scalar);
        }
      } else {
        throw this.tok.error(`map entry of '${field.name}' has only 'key' and 'value', found '${name.text}'`, name);
      }
      if (this.isSymbol(',') || this.isSymbol(';')) this.tok.next();
    }
    this.tok.next();
    key ??= scalarDefault(field.mapKey);
    if (value === undefined) {
      value =
        field.mapKind === 'message' ? reflect(field.message) : field.mapKind === 'enum' ? 0 : scalarDefault(field.scalar);
    }
    map.set(key, value);
  }

  private expectSymbol(text: string): void {
    const t = this.tok.next();
    if (t.kind !== 'symbol' || t.text !== text) throw this.tok.error(`expected '${text}', found '${t.text}'`, t);
  }

  private parseEnum(desc: DescEnum): number {
    const t = this.tok.peek();
    if (t.kind === 'ident') {
      this.tok.next();
      const v = desc.values.find((x) => x.name === t.text);
      if (v === undefined) {
        throw this.tok.error(
          `enum ${desc.typeName} has no value named '${t.text}'`,
          t,
          didYouMean(t.text, desc.values.map((x) => x.name)),
        );
      }
      return v.number;
    }
    const n = this.parseInteger(ScalarType.INT32);
    return Number(n);
  }

  private parseScalar(type: ScalarType): unknown {
    switch (type) {
      case ScalarType.STRING:
      case ScalarType.BYTES: {
        const first = this.tok.next();
        if (first.kind !== 'string') throw this.tok.error(`expected a quoted string, found '${first.text}'`, first);
        const parts = [first.bytes!];
        // Adjacent string literals concatenate, as in C.
        while (this.tok.peek().kind === 'string') parts.push(this.tok.next().bytes!);
        const bytes = concatBytes(parts);
        if (type === ScalarType.BYTES) return bytes;
        try {
          return strictUtf8.decode(bytes);
        } catch {
          throw this.tok.error('string field holds invalid UTF-8', first);
        }
      }
      case ScalarType.BOOL: {
        const t = this.tok.next();
        if (['true', 'True', 't', '1'].includes(t.text)) return true;
        if (['false', 'False', 'f', '0'].includes(t.text)) return false;
        throw this.tok.error(`expected true or false, found '${t.text}'`, t);
      }
      case ScalarType.FLOAT:
      case ScalarType.DOUBLE:
        return this.parseFloat(type);
      default: {
        const n = this.parseInteger(type);
        const is64 = [ScalarType.INT64, ScalarType.UINT64, ScalarType.SINT64, ScalarType.FIXED64, ScalarType.SFIXED64]
          .includes(type);
        return is64 ? n : Number(n);
      }
    }
  }

  private parseInteger(type: ScalarType): bigint {
    let negative = false;
    if (this.isSymbol('-')) {
      this.tok.next();
      negative = true;
    }
    const t = this.tok.next();
    let magnitude: bigint;
    if (t.kind === 'number' && /^0[xX][0-9a-fA-F]+$/.test(t.text)) magnitude = BigInt(t.text);
    else if (t.kind === 'number' && /^0[0-7]+$/.test(t.text)) magnitude = BigInt('0o' + t.text.slice(1));
    else if (t.kind === 'number' && /^(0|[1-9][0-9]*)$/.test(t.text)) magnitude = BigInt(t.text);
    else throw this.tok.error(`expected an integer, found '${t.text}'`, t);
    const value = negative ? -magnitude : magnitude;
    const [lo, hi] = INT_RANGES[type] ?? [-(1n << 63n), (1n << 64n) - 1n];
    if (value < lo || value > hi) throw this.tok.error(`integer ${value} is out of range for ${ScalarType[type]}`, t);
    return value;
  }

  private parseFloat(type: ScalarType): number {
    let sign = 1;
    if (this.isSymbol('-')) {
      this.tok.next();
      sign = -1;
    }
    const t = this.tok.next();
    const lower = t.text.toLowerCase();
    let v: number;
    if (t.kind === 'ident' && (lower === 'inf' || lower === 'infinity')) v = Infinity;
    else if (t.kind === 'ident' && lower === 'nan') v = NaN;
    else if (t.kind === 'number' && /^0[xX][0-9a-fA-F]+$/.test(t.text)) v = Number(BigInt(t.text));
    else if (t.kind === 'number' && /^([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[fF]?$/.test(t.text)) {
      v = Number(t.text.replace(/[fF]$/, ''));
    } else throw this.tok.error(`expected a number, found '${t.text}'`, t);
    v *= sign;
    return type === ScalarType.FLOAT ? Math.fround(v) : v;
  }
}


function scalarDefault(type: ScalarType): unknown {
  switch (type) {
    case ScalarType.STRING:
      return '';
    case ScalarType.BYTES:
      return new Uint8Array(0);
    case ScalarType.BOOL:
      return false;
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return 0n;
    default:
      return 0;
  }
}

// --------------------------------------------------------------------------------------- P4Info

/** The header p4c writes at the top of `.p4info.txtpb` files (tools use it to pick the schema). */
export const P4INFO_TXTPB_HEADER = '# proto-file: p4/config/v1/p4info.proto\n# proto-message: p4.config.v1.P4Info\n\n';

/** P4Info as p4c writes `.p4info.txtpb`, header included. */
export function p4InfoToText(p4info: P4Info): string {
  return P4INFO_TXTPB_HEADER + printTextFormat(P4InfoSchema, p4info);
}

/** Reads a `.p4info.txtpb` (the header is a comment, so files with or without it parse). */
export function p4InfoFromText(text: string, options: TextFormatParseOptions = {}): P4Info {
  return parseTextFormat(P4InfoSchema, text, options);
}
