/**
 * Recursive-descent parser for the P4_16 subset small v1model programs use: tokens → AST.
 * It tracks declared type names so that `(T) e` casts and `f<T>(...)` calls parse without
 * a symbol table; name resolution proper is the checker's job.
 */
import type {
  ActionDecl, ActionRef, Annotation, BinaryOp, BlockStmt, BlockTypeDecl, CallExpr, ConstDecl, ControlDecl,
  Declaration, Direction, Expression, ExternDecl, ExternFunctionDecl, Field, Instantiation, KeyElement,
  MethodDecl, NameExpr, Param, ParserDecl, ParserState, Program, SelectCase, Span, Statement, SwitchCase,
  TableDecl, TableEntry, TableProperty, Transition, TypeRef, VarDecl,
} from './ast.ts';
import { P4SyntaxError } from './errors.ts';
import { CONTEXTUAL_KEYWORDS, type Token } from './lexer.ts';
import { preprocess, type PreprocessOptions } from './preprocess.ts';

export type ParseOptions = PreprocessOptions;

/** Parses a P4_16 program (with its includes) into an AST; throws P4SyntaxError. */
export function parseP4(text: string, fileName: string, options: ParseOptions = {}): Program {
  const tokens = preprocess(text, fileName, options);
  return new Parser(tokens).parseProgram();
}

/** Binary operator precedence, higher binds tighter (P4_16 spec grammar). */
const PRECEDENCE: Readonly<Record<string, number>> = {
  '||': 1, '&&': 2, '==': 3, '!=': 3, '<': 4, '>': 4, '<=': 4, '>=': 4, '|': 5, '^': 6, '&': 7,
  '<<': 8, '>>': 8, '++': 9, '+': 9, '-': 9, '|+|': 9, '|-|': 9, '*': 10, '/': 10, '%': 10,
};

/** `keyword Name<T>(params)`, parsed; `start` is the keyword. */
interface BlockHeader {
  readonly start: Token;
  readonly name: Token;
  readonly typeParams: string[];
  readonly params: Param[];
}

/** A parser or control declaration: the header's fields, constructor parameters, and its body's. */
type BlockDecl<K extends 'parser' | 'control', B> = {
  readonly kind: K; readonly span: Span; readonly name: string; readonly annotations: Annotation[];
  readonly typeParams: string[]; readonly params: Param[]; readonly ctorParams: Param[];
} & B;

const BASE_TYPE_KEYWORDS = new Set(['bit', 'int', 'varbit', 'bool', 'string', 'void', 'error']);

function join(a: Span, b: Span): Span {
  return { file: a.file, line: a.line, col: a.col, offset: a.offset, end: a.file === b.file ? b.end : a.end };
}

class Parser {
  private pos = 0;
  private readonly typeNames = new Set<string>();

  constructor(private readonly tokens: readonly Token[]) {}

  // ------------------------------------------------------------------ token helpers
  private peek(n = 0): Token {
    return this.tokens[Math.min(this.pos + n, this.tokens.length - 1)]!;
  }
  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }
  private is(text: string, n = 0): boolean {
    const t = this.peek(n);
    return (t.kind === 'punct' || t.kind === 'keyword' || t.kind === 'ident') && t.text === text;
  }
  private accept(text: string): Token | undefined {
    return this.is(text) ? this.next() : undefined;
  }
  private expect(text: string, what?: string): Token {
    const t = this.peek();
    if (!this.is(text)) this.fail(`expected ${what ?? `'${text}'`}, found ${describe(t)}`, t);
    return this.next();
  }
  private fail(message: string, t: Token = this.peek()): never {
    throw new P4SyntaxError(message, t.span);
  }
  private isName(n = 0): boolean {
    const t = this.peek(n);
    return t.kind === 'ident' || (t.kind === 'keyword' && CONTEXTUAL_KEYWORDS.has(t.text));
  }
  private expectName(what = 'a name'): Token {
    if (!this.isName()) this.fail(`expected ${what}, found ${describe(this.peek())}`);
    return this.next();
  }
  /** Any identifier or keyword, as after `.` in a member access. */
  private expectMemberName(): Token {
    const t = this.peek();
    if (t.kind !== 'ident' && t.kind !== 'keyword') this.fail(`expected a member name, found ${describe(t)}`);
    return this.next();
  }
  private spanFrom(start: Token): Span {
    const prev = this.tokens[Math.max(this.pos - 1, 0)]!;
    return join(start.span, prev.span);
  }

  // ------------------------------------------------------------------ program
  parseProgram(): Program {
    const start = this.peek();
    const declarations: Declaration[] = [];
    while (this.peek().kind !== 'eof') {
      if (this.accept(';')) continue;
      declarations.push(this.parseDeclaration());
    }
    return { kind: 'program', span: join(start.span, this.peek().span), declarations };
  }

  private parseAnnotations(): Annotation[] {
    const out: Annotation[] = [];
    while (this.is('@')) {
      const at = this.next();
      const nameTok = this.expectMemberName();
      const args: (string | bigint)[] = [];
      const parts: string[] = [];
      if (this.is('(') && this.peek().span.offset === nameTok.span.end) {
        this.next();
        let depth = 1;
        while (depth > 0) {
          const t = this.next();
          if (t.kind === 'eof') this.fail(`unterminated annotation @${nameTok.text}`, at);
          if (t.text === '(' && t.kind === 'punct') depth++;
          if (t.text === ')' && t.kind === 'punct') depth--;
          if (depth === 0) break;
          if (t.kind === 'string') { args.push(t.text); parts.push(JSON.stringify(t.text)); }
          else if (t.kind === 'int') { args.push(t.value!); parts.push(t.text); }
          else if (t.kind === 'ident' || t.kind === 'keyword') { args.push(t.text); parts.push(t.text); }
          else parts.push(t.text === ',' ? ', ' : t.text);
        }
        const body = parts.join('');
        out.push({ kind: 'annotation', span: this.spanFrom(at), name: nameTok.text, args, text: `@${nameTok.text}(${body})` });
      } else {
        out.push({ kind: 'annotation', span: this.spanFrom(at), name: nameTok.text, args, text: `@${nameTok.text}` });
      }
    }
    return out;
  }

  private parseDeclaration(): Declaration {
    const annotations = this.parseAnnotations();
    const t = this.peek();
    switch (t.text) {
      case 'const': return this.parseConst(annotations);
      case 'typedef':
      case 'type': return this.parseTypedef(annotations);
      case 'header':
      case 'header_union':
      case 'struct': return this.parseStructLike(annotations);
      case 'enum': return this.parseEnum(annotations);
      case 'error':
      case 'match_kind':
        if (this.is('{', 1)) return this.parseIdList(annotations);
        break;
      case 'extern': return this.parseExtern(annotations);
      case 'parser': return this.parseParser(annotations);
      case 'control': return this.parseControl(annotations);
      case 'package': return this.parseBlockType(annotations, 'packageType');
      case 'action': return this.parseAction(annotations);
      default: break;
    }
    if (this.isName() || t.kind === 'keyword') return this.parseInstantiationOrVar(annotations, true);
    return this.fail(`expected a declaration, found ${describe(t)}`);
  }

  private parseConst(annotations: Annotation[]): ConstDecl {
    const start = this.expect('const');
    const typeRef = this.parseType();
    const name = this.expectName();
    this.expect('=');
    const value = this.parseExpression();
    this.expect(';');
    return { kind: 'const', span: this.spanFrom(start), name: name.text, annotations, typeRef, value };
  }

  private parseTypedef(annotations: Annotation[]): Declaration {
    const start = this.next();
    const typeRef = this.parseType();
    const name = this.expectName();
    this.expect(';');
    this.typeNames.add(name.text);
    return { kind: 'typedef', span: this.spanFrom(start), name: name.text, annotations, typeRef, isNewType: start.text === 'type' };
  }

  private parseStructLike(annotations: Annotation[]): Declaration {
    const start = this.next();
    const name = this.expectName();
    this.typeNames.add(name.text);
    this.expect('{');
    const fields: Field[] = [];
    while (!this.accept('}')) {
      const fa = this.parseAnnotations();
      const fstart = this.peek();
      const typeRef = this.parseType();
      const fname = this.expectMemberName();
      this.expect(';');
      fields.push({ span: this.spanFrom(fstart), annotations: fa, typeRef, name: fname.text });
    }
    const span = this.spanFrom(start);
    const kind = start.text === 'header' ? 'header' : start.text === 'struct' ? 'struct' : 'headerUnion';
    return { kind, span, name: name.text, annotations, fields };
  }

  private parseEnum(annotations: Annotation[]): Declaration {
    const start = this.expect('enum');
    const underlying = this.is('bit') || this.is('int') ? this.parseType() : undefined;
    const name = this.expectName();
    this.typeNames.add(name.text);
    this.expect('{');
    const members: { name: string; span: Span; value: Expression | undefined }[] = [];
    while (!this.is('}')) {
      const m = this.expectName('an enum member');
      const value = this.accept('=') ? this.parseExpression() : undefined;
      members.push({ name: m.text, span: m.span, value });
      if (!this.accept(',')) break;
    }
    this.expect('}');
    return { kind: 'enum', span: this.spanFrom(start), name: name.text, annotations, underlying, members };
  }

  private parseIdList(annotations: Annotation[]): Declaration {
    const start = this.next();
    this.expect('{');
    const members: string[] = [];
    while (!this.is('}')) {
      members.push(this.expectName().text);
      if (!this.accept(',')) break;
    }
    this.expect('}');
    const kind = start.text === 'error' ? 'error' : 'matchKind';
    return { kind, span: this.spanFrom(start), name: start.text, annotations, members };
  }

  private parseTypeParams(): string[] {
    const out: string[] = [];
    if (!this.accept('<')) return out;
    while (!this.is('>')) {
      const n = this.expectName('a type parameter');
      out.push(n.text);
      if (!this.accept(',')) break;
    }
    this.expect('>');
    return out;
  }

  /** Runs `f` with type parameters visible as type names, for casts and generic calls. */
  private withTypeParams<T>(params: readonly string[], f: () => T): T {
    const added = params.filter((p) => !this.typeNames.has(p));
    for (const p of added) this.typeNames.add(p);
    try {
      return f();
    } finally {
      for (const p of added) this.typeNames.delete(p);
    }
  }

  private parseExtern(annotations: Annotation[]): ExternDecl | ExternFunctionDecl {
    const start = this.expect('extern');
    // `extern Name {` or `extern Name<T> {` is an extern object; anything else a function.
    let isObject = false;
    if (this.isName() && this.is('{', 1)) isObject = true;
    else if (this.isName() && this.is('<', 1)) {
      let i = 2;
      while (!this.is('>', i) && this.peek(i).kind !== 'eof') i++;
      isObject = this.is('{', i + 1);
    }
    if (!isObject) {
      const fn = this.parseMethod([], undefined);
      return {
        kind: 'externFunction', span: this.spanFrom(start), name: fn.name, annotations: [...annotations, ...fn.annotations],
        returnType: fn.returnType!, typeParams: fn.typeParams, params: fn.params,
      };
    }
    const name = this.expectName();
    this.typeNames.add(name.text);
    const typeParams = this.parseTypeParams();
    this.expect('{');
    const constructors: MethodDecl[] = [];
    const methods: MethodDecl[] = [];
    this.withTypeParams(typeParams, () => {
      while (!this.accept('}')) {
        const ma = this.parseAnnotations();
        if (this.is(name.text) && this.is('(', 1)) constructors.push(this.parseMethod(ma, name.text));
        else methods.push(this.parseMethod(ma, undefined));
      }
    });
    return { kind: 'extern', span: this.spanFrom(start), name: name.text, annotations, typeParams, constructors, methods };
  }

  /** `RetType name<T>(params);` or, for constructors, `Name(params);`. */
  private parseMethod(annotations: Annotation[], ctorName: string | undefined): MethodDecl {
    const start = this.peek();
    const isAbstract = this.accept('abstract') !== undefined;
    let returnType: TypeRef | undefined;
    let typeParams: string[] = [];
    let nameTok: Token;
    if (ctorName !== undefined) {
      nameTok = this.next();
    } else {
      // The return type may mention the method's own type parameters (`T lookahead<T>()`).
      const save = this.pos;
      let guess: string[] = [];
      while (this.peek().kind !== 'eof' && !this.is('(')) this.next();
      // Find `name<T, U>(` just before the `(`: collect type params by scanning backwards.
      const parenPos = this.pos;
      if (this.tokens[parenPos - 1]?.text === '>') {
        let i = parenPos - 2;
        while (i > save && this.tokens[i]!.text !== '<') i--;
        guess = this.tokens.slice(i + 1, parenPos - 1).filter((t) => t.kind === 'ident').map((t) => t.text);
      }
      this.pos = save;
      returnType = this.withTypeParams(guess, () => this.parseType());
      nameTok = this.expectName('a method name');
      typeParams = this.parseTypeParams();
    }
    const params = this.withTypeParams(typeParams, () => this.parseParams());
    this.expect(';');
    return {
      kind: 'method', span: this.spanFrom(start), name: nameTok.text, annotations, returnType, typeParams, params, isAbstract,
    };
  }

  private parseParams(): Param[] {
    this.expect('(');
    const params: Param[] = [];
    while (!this.is(')')) {
      const annotations = this.parseAnnotations();
      const start = this.peek();
      let direction: Direction = 'none';
      if (this.is('in') || this.is('out') || this.is('inout')) direction = this.next().text as Direction;
      const typeRef = this.parseType();
      const name = this.expectMemberName();
      const defaultValue = this.accept('=') ? this.parseExpression() : undefined;
      params.push({ kind: 'param', span: this.spanFrom(start), annotations, direction, typeRef, name: name.text, defaultValue });
      if (!this.accept(',')) break;
    }
    this.expect(')');
    return params;
  }

  /**
   * `keyword Name<T>(params)`, the header that parser, control and package declarations share;
   * `rest` parses what follows with the type parameters in scope (casts and generic calls need them).
   */
  private parseBlockHeader<T>(rest: (header: BlockHeader) => T): T {
    const start = this.next();
    const name = this.expectName();
    this.typeNames.add(name.text);
    const typeParams = this.parseTypeParams();
    return this.withTypeParams(typeParams, () => rest({ start, name, typeParams, params: this.parseParams() }));
  }

  /** `package P<H>(...);`, or `parser`/`control` declared as a type only. */
  private parseBlockType(annotations: Annotation[], kind: BlockTypeDecl['kind']): BlockTypeDecl {
    return this.parseBlockHeader((h) => this.finishBlockType(annotations, kind, h));
  }

  private finishBlockType(annotations: Annotation[], kind: BlockTypeDecl['kind'], h: BlockHeader): BlockTypeDecl {
    this.expect(';');
    return { kind, span: this.spanFrom(h.start), name: h.name.text, annotations, typeParams: h.typeParams, params: h.params };
  }

  /**
   * A parser or control: the shared header, then `;` (a type only) or optional constructor
   * parameters and `{ ... }`, whose contents `parseBody` reads up to and including the `}`.
   */
  private parseBlockDecl<K extends 'parser' | 'control', B extends object>(
    annotations: Annotation[], kind: K, parseBody: (name: Token) => B,
  ): BlockDecl<K, B> | BlockTypeDecl {
    return this.parseBlockHeader((h) => {
      if (this.is(';')) return this.finishBlockType(annotations, `${kind}Type`, h);
      const ctorParams = this.is('(') ? this.parseParams() : [];
      this.expect('{');
      const body = parseBody(h.name);
      return {
        kind, span: this.spanFrom(h.start), name: h.name.text, annotations, typeParams: h.typeParams, params: h.params, ctorParams, ...body,
      };
    });
  }

  private parseParser(annotations: Annotation[]): ParserDecl | BlockTypeDecl {
    return this.parseBlockDecl(annotations, 'parser', () => {
      const locals: Statement[] = [];
      const states: ParserState[] = [];
      while (!this.accept('}')) {
        const la = this.parseAnnotations();
        if (this.is('state')) states.push(this.parseState(la));
        else locals.push(this.parseLocalDeclaration(la));
      }
      return { locals, states };
    });
  }

  private parseState(annotations: Annotation[]): ParserState {
    const start = this.expect('state');
    const name = this.expectName('a state name');
    this.expect('{');
    const statements: Statement[] = [];
    let transition: Transition | undefined;
    while (!this.accept('}')) {
      if (this.is('transition')) {
        transition = this.parseTransition();
        continue;
      }
      if (transition !== undefined) this.fail(`statements after the transition`);
      statements.push(this.parseStatement());
    }
    return { span: this.spanFrom(start), name: name.text, annotations, statements, transition };
  }

  private parseTransition(): Transition {
    const start = this.expect('transition');
    if (this.accept('select')) {
      this.expect('(');
      const exprs: Expression[] = [];
      while (!this.is(')')) {
        exprs.push(this.parseExpression());
        if (!this.accept(',')) break;
      }
      this.expect(')');
      this.expect('{');
      const cases: SelectCase[] = [];
      while (!this.accept('}')) {
        const cstart = this.peek();
        const keyset = this.parseKeyset();
        this.expect(':');
        const target = this.expectName('a state name');
        this.expect(';');
        cases.push({ span: this.spanFrom(cstart), keyset, target: target.text, targetSpan: target.span });
      }
      return { kind: 'select', span: this.spanFrom(start), exprs, cases };
    }
    const target = this.expectName('a state name');
    this.expect(';');
    return { kind: 'direct', span: this.spanFrom(start), target: target.text, targetSpan: target.span };
  }

  /** A keyset: `default`, `_`, `e`, `e &&& m`, `a .. b`, or a tuple `(k1, k2)`. */
  private parseKeyset(): Expression {
    const start = this.peek();
    if (this.is('(')) {
      // A tuple keyset if a comma follows the first element; else a parenthesised expression.
      const save = this.pos;
      this.next();
      const first = this.parseSimpleKeyset();
      if (this.is(',')) {
        const elements = [first];
        while (this.accept(',')) elements.push(this.parseSimpleKeyset());
        this.expect(')');
        return { kind: 'list', span: this.spanFrom(start), elements };
      }
      this.pos = save;
    }
    return this.parseSimpleKeyset();
  }

  private parseSimpleKeyset(): Expression {
    const start = this.peek();
    if (this.accept('default')) return { kind: 'default', span: start.span, dontCare: false };
    if (this.is('_') && (this.is(',', 1) || this.is(')', 1) || this.is(':', 1))) {
      this.next();
      return { kind: 'default', span: start.span, dontCare: true };
    }
    const value = this.parseExpression();
    if (this.accept('&&&')) {
      const mask = this.parseExpression();
      return { kind: 'mask', span: this.spanFrom(start), value, mask };
    }
    if (this.accept('..')) {
      const hi = this.parseExpression();
      return { kind: 'range', span: this.spanFrom(start), lo: value, hi };
    }
    return value;
  }

  private parseControl(annotations: Annotation[]): ControlDecl | BlockTypeDecl {
    return this.parseBlockDecl(annotations, 'control', (name) => {
      const locals: ControlDecl['locals'][number][] = [];
      let apply: BlockStmt | undefined;
      while (!this.accept('}')) {
        const la = this.parseAnnotations();
        if (this.is('apply') && this.is('{', 1)) {
          if (apply !== undefined) this.fail(`a control has one apply block`);
          this.next();
          apply = this.parseBlock(la);
          continue;
        }
        if (this.is('action')) locals.push(this.parseAction(la));
        else if (this.is('table')) locals.push(this.parseTable(la));
        else {
          const d = this.parseLocalDeclaration(la);
          if (d.kind !== 'var' && d.kind !== 'const' && d.kind !== 'instantiation') this.fail('expected a declaration');
          locals.push(d);
        }
      }
      if (apply === undefined) return this.fail(`control ${name.text} has no apply block`, name);
      return { locals, apply };
    });
  }

  private parseLocalDeclaration(annotations: Annotation[]): VarDecl | ConstDecl | Instantiation {
    if (this.is('const')) return this.parseConst(annotations);
    const d = this.parseInstantiationOrVar(annotations, false);
    return d;
  }

  /** `T name;`, `T name = e;` or `T(args) name;`. */
  private parseInstantiationOrVar(annotations: Annotation[], topLevel: boolean): VarDecl | Instantiation {
    const start = this.peek();
    const typeRef = this.parseType();
    if (this.is('(')) {
      const args = this.parseArgs();
      const name = this.expectName('an instance name');
      this.expect(';');
      return { kind: 'instantiation', span: this.spanFrom(start), name: name.text, annotations, typeRef, args };
    }
    const name = this.expectName('a variable name');
    if (topLevel) this.fail(`top-level variables are not allowed; use const`, name);
    const init = this.accept('=') ? this.parseExpression() : undefined;
    this.expect(';');
    return { kind: 'var', span: this.spanFrom(start), name: name.text, annotations, typeRef, init };
  }

  private parseAction(annotations: Annotation[]): ActionDecl {
    const start = this.expect('action');
    const name = this.expectName('an action name');
    const params = this.parseParams();
    const body = this.parseBlock([]);
    return { kind: 'action', span: this.spanFrom(start), name: name.text, annotations, params, body };
  }

  private parseTable(annotations: Annotation[]): TableDecl {
    const start = this.expect('table');
    const name = this.expectName('a table name');
    this.expect('{');
    const properties: TableProperty[] = [];
    while (!this.accept('}')) {
      const pa = this.parseAnnotations();
      const pstart = this.peek();
      const isConst = this.accept('const') !== undefined;
      const prop = this.expectMemberName();
      this.expect('=');
      switch (prop.text) {
        case 'key': {
          this.expect('{');
          const elements: KeyElement[] = [];
          while (!this.accept('}')) {
            const kstart = this.peek();
            const expr = this.parseExpression();
            this.expect(':');
            const mk = this.expectName('a match kind');
            const ka = this.parseAnnotations();
            this.expect(';');
            elements.push({ span: this.spanFrom(kstart), expr, matchKind: mk.text, matchKindSpan: mk.span, annotations: ka });
          }
          properties.push({ kind: 'key', span: this.spanFrom(pstart), elements });
          break;
        }
        case 'actions': {
          this.expect('{');
          const actions: ActionRef[] = [];
          while (!this.accept('}')) {
            const aa = this.parseAnnotations();
            const astart = this.peek();
            const nameExpr = this.parseNameExpr();
            const args = this.is('(') ? this.parseArgs() : [];
            this.expect(';');
            actions.push({ span: this.spanFrom(astart), annotations: aa, name: nameExpr, args });
          }
          properties.push({ kind: 'actions', span: this.spanFrom(pstart), actions });
          break;
        }
        case 'default_action': {
          const action = this.parseActionCall();
          this.expect(';');
          properties.push({ kind: 'defaultAction', span: this.spanFrom(pstart), isConst, action });
          break;
        }
        case 'entries': {
          this.expect('{');
          const entries: TableEntry[] = [];
          while (!this.accept('}')) {
            const ea = this.parseAnnotations();
            const estart = this.peek();
            let priority: Expression | undefined;
            if (this.accept('priority')) {
              this.expect('=');
              priority = this.parseExpression();
              this.expect(':');
            }
            const keyset = this.parseKeyset();
            this.expect(':');
            const action = this.parseActionCall();
            this.expect(';');
            const keys = keyset.kind === 'list' ? keyset.elements : [keyset];
            entries.push({ span: this.spanFrom(estart), annotations: ea, keys, action, priority });
          }
          properties.push({ kind: 'entries', span: this.spanFrom(pstart), isConst, entries });
          break;
        }
        default: {
          const value = this.parseExpression();
          this.expect(';');
          properties.push({ kind: 'other', span: this.spanFrom(pstart), isConst, annotations: pa, name: prop.text, value });
        }
      }
    }
    return { kind: 'table', span: this.spanFrom(start), name: name.text, annotations, properties };
  }

  private parseNameExpr(): NameExpr {
    const start = this.peek();
    const global = this.accept('.') !== undefined;
    const n = this.expectName('an action name');
    return { kind: 'name', span: this.spanFrom(start), name: n.text, global };
  }

  /** `a` or `a(args)`, normalised to a call. */
  private parseActionCall(): CallExpr {
    const start = this.peek();
    const callee = this.parseNameExpr();
    const args = this.is('(') ? this.parseArgs() : [];
    return { kind: 'call', span: this.spanFrom(start), callee, typeArgs: [], args };
  }

  // ------------------------------------------------------------------ types
  private parseType(): TypeRef {
    const start = this.peek();
    let t: TypeRef;
    const widthType = (kind: 'bitType' | 'intType' | 'varbitType'): TypeRef => {
      this.next();
      if (this.accept('<')) {
        const width = this.parseWidthExpr();
        this.expect('>');
        return { kind, span: this.spanFrom(start), width };
      }
      if (kind === 'intType') return { kind: 'infIntType', span: start.span };
      if (kind === 'varbitType') this.fail(`varbit needs a width`);
      return { kind, span: start.span, width: { kind: 'int', span: start.span, value: 1n, width: undefined, signed: false, text: '1' } };
    };
    if (this.is('bit')) t = widthType('bitType');
    else if (this.is('int')) t = widthType('intType');
    else if (this.is('varbit')) t = widthType('varbitType');
    else if (this.accept('bool')) t = { kind: 'boolType', span: start.span };
    else if (this.accept('error')) t = { kind: 'errorType', span: start.span };
    else if (this.accept('string')) t = { kind: 'stringType', span: start.span };
    else if (this.accept('void')) t = { kind: 'voidType', span: start.span };
    else if (this.is('_') && !this.isName(1)) { this.next(); t = { kind: 'dontCareType', span: start.span }; }
    else {
      this.accept('.');
      const name = this.expectName('a type');
      const typeArgs: TypeRef[] = [];
      if (this.is('<')) {
        this.next();
        while (!this.is('>')) {
          typeArgs.push(this.parseType());
          if (!this.accept(',')) break;
        }
        this.expect('>');
      }
      t = { kind: 'namedType', span: this.spanFrom(start), name: name.text, typeArgs };
    }
    while (this.is('[') && !this.is(']', 1)) {
      // Header stack `h_t[4]`: only when `[` directly follows a type and a name follows `]`.
      const save = this.pos;
      this.next();
      const size = this.parseExpression();
      if (!this.accept(']') || !this.isName()) {
        this.pos = save;
        break;
      }
      t = { kind: 'stackType', span: this.spanFrom(start), element: t, size };
    }
    return t;
  }

  /** The width inside `bit<...>`: a literal, a constant name, or a parenthesised expression. */
  private parseWidthExpr(): Expression {
    if (this.is('(')) {
      this.next();
      const e = this.parseExpression();
      this.expect(')');
      return e;
    }
    const t = this.peek();
    if (t.kind === 'int') {
      this.next();
      return { kind: 'int', span: t.span, value: t.value!, width: t.width, signed: t.signed ?? false, text: t.text };
    }
    return this.parseNameExpr();
  }

  // ------------------------------------------------------------------ statements
  private parseBlock(annotations: Annotation[]): BlockStmt {
    const start = this.expect('{');
    const statements: Statement[] = [];
    while (!this.accept('}')) {
      if (this.peek().kind === 'eof') this.fail(`expected '}'`);
      statements.push(this.parseStatement());
    }
    return { kind: 'block', span: this.spanFrom(start), annotations, statements };
  }

  private parseStatement(): Statement {
    const annotations = this.parseAnnotations();
    const start = this.peek();
    if (this.is('{')) return this.parseBlock(annotations);
    if (this.accept(';')) return { kind: 'empty', span: start.span };
    if (this.is('const')) return this.parseConst(annotations);
    if (this.accept('if')) {
      this.expect('(');
      const cond = this.parseExpression();
      this.expect(')');
      const then = this.parseStatement();
      const els = this.accept('else') ? this.parseStatement() : undefined;
      return { kind: 'if', span: this.spanFrom(start), cond, then, else: els };
    }
    if (this.accept('return')) {
      const value = this.is(';') ? undefined : this.parseExpression();
      this.expect(';');
      return { kind: 'return', span: this.spanFrom(start), value };
    }
    if (this.accept('exit')) {
      this.expect(';');
      return { kind: 'exit', span: this.spanFrom(start) };
    }
    if (this.accept('switch')) return this.parseSwitch(start);
    if (this.looksLikeDeclaration()) return this.parseInstantiationOrVar(annotations, false);
    const expr = this.parseExpression();
    if (this.accept('=')) {
      const right = this.parseExpression();
      this.expect(';');
      return { kind: 'assign', span: this.spanFrom(start), left: expr, right };
    }
    if (expr.kind !== 'call') this.fail(`expected '=' or a call, found ${describe(this.peek())}`);
    this.expect(';');
    return { kind: 'callStmt', span: this.spanFrom(start), call: expr as CallExpr };
  }

  private parseSwitch(start: Token): Statement {
    this.expect('(');
    const expr = this.parseExpression();
    this.expect(')');
    this.expect('{');
    const cases: SwitchCase[] = [];
    while (!this.accept('}')) {
      const cstart = this.peek();
      let label: Expression;
      if (this.accept('default')) label = { kind: 'default', span: cstart.span, dontCare: false };
      else label = this.parseExpression();
      this.expect(':');
      const body = this.is('{') ? this.parseBlock([]) : undefined;
      cases.push({ span: this.spanFrom(cstart), label, body });
    }
    return { kind: 'switch', span: this.spanFrom(start), expr, cases };
  }

  /** Whether a statement starts with a type (a local variable or instantiation). */
  private looksLikeDeclaration(): boolean {
    const t = this.peek();
    if (t.kind === 'keyword' && BASE_TYPE_KEYWORDS.has(t.text)) return !(t.text === 'error' && this.is('.', 1));
    if (!this.isName()) return false;
    if (this.isName(1)) return true;
    let i = 1;
    if (this.is('<', 1)) {
      if (!this.typeNames.has(t.text)) return false;
      let depth = 0;
      for (;; i++) {
        const x = this.peek(i);
        if (x.kind === 'eof') return false;
        if (x.text === '<') depth++;
        if (x.text === '>') { depth--; if (depth === 0) break; }
      }
      i++;
      if (this.isName(i)) return true;
    }
    if (this.is('[', i) && this.typeNames.has(t.text)) return true;
    if (this.is('(', i)) {
      // `T(args) name;` is an instantiation; `f(args);` a call.
      let depth = 0;
      for (;; i++) {
        const x = this.peek(i);
        if (x.kind === 'eof') return false;
        if (x.text === '(') depth++;
        if (x.text === ')') { depth--; if (depth === 0) break; }
      }
      return this.isName(i + 1);
    }
    return false;
  }

  // ------------------------------------------------------------------ expressions
  parseExpression(): Expression {
    const cond = this.parseBinary(1);
    if (this.accept('?')) {
      const then = this.parseExpression();
      this.expect(':');
      const els = this.parseExpression();
      return { kind: 'ternary', span: join(cond.span, els.span), cond, then, else: els };
    }
    return cond;
  }

  /** The binary operator at the cursor, joining two adjacent `>` into `>>`. */
  private peekBinaryOp(): { op: string; tokens: number } | undefined {
    const t = this.peek();
    if (t.kind !== 'punct') return undefined;
    if (t.text === '>' && this.is('>', 1) && this.peek(1).span.offset === t.span.end) return { op: '>>', tokens: 2 };
    return PRECEDENCE[t.text] !== undefined ? { op: t.text, tokens: 1 } : undefined;
  }

  private parseBinary(minPrec: number): Expression {
    let left = this.parseUnary();
    for (;;) {
      const op = this.peekBinaryOp();
      if (op === undefined) return left;
      const prec = PRECEDENCE[op.op]!;
      if (prec < minPrec) return left;
      this.pos += op.tokens;
      const right = this.parseBinary(prec + 1);
      left = { kind: 'binary', span: join(left.span, right.span), op: op.op as BinaryOp, left, right };
    }
  }

  private parseUnary(): Expression {
    const start = this.peek();
    if (this.is('!') || this.is('~') || this.is('-') || this.is('+')) {
      this.next();
      const operand = this.parseUnary();
      return { kind: 'unary', span: join(start.span, operand.span), op: start.text as '!', operand };
    }
    if (this.is('(') && this.isCastAhead()) {
      this.next();
      const target = this.parseType();
      this.expect(')');
      const expr = this.parseUnary();
      return { kind: 'cast', span: join(start.span, expr.span), target, expr };
    }
    return this.parsePostfix(this.parsePrimary());
  }

  private isCastAhead(): boolean {
    const t = this.peek(1);
    if (t.kind === 'keyword' && BASE_TYPE_KEYWORDS.has(t.text) && t.text !== 'error') return true;
    if (!this.isName(1) || !this.typeNames.has(t.text)) return false;
    return this.is(')', 2) || this.is('<', 2);
  }

  private parsePrimary(): Expression {
    const t = this.peek();
    if (t.kind === 'int') {
      this.next();
      return { kind: 'int', span: t.span, value: t.value!, width: t.width, signed: t.signed ?? false, text: t.text };
    }
    if (t.kind === 'string') { this.next(); return { kind: 'string', span: t.span, value: t.text }; }
    if (this.accept('true')) return { kind: 'bool', span: t.span, value: true };
    if (this.accept('false')) return { kind: 'bool', span: t.span, value: false };
    if (this.is('(')) {
      this.next();
      const e = this.parseExpression();
      this.expect(')');
      return e;
    }
    if (this.is('{')) {
      this.next();
      const elements: Expression[] = [];
      while (!this.is('}')) {
        elements.push(this.parseExpression());
        if (!this.accept(',')) break;
      }
      this.expect('}');
      return { kind: 'list', span: this.spanFrom(t), elements };
    }
    if (this.is('error') && this.is('.', 1)) {
      this.next();
      return { kind: 'typeName', span: t.span, typeRef: { kind: 'errorType', span: t.span } };
    }
    if (this.is('_') ) { this.next(); return { kind: 'default', span: t.span, dontCare: true }; }
    if (this.is('.') || this.isName()) return this.parseNameExpr();
    if (t.kind === 'keyword' && (t.text === 'bit' || t.text === 'int')) {
      // `bit<8>` used as a type argument-like expression is not supported; give a clear error.
      this.fail(`expected an expression, found type '${t.text}'`);
    }
    return this.fail(`expected an expression, found ${describe(t)}`);
  }

  private parsePostfix(e: Expression): Expression {
    for (;;) {
      if (this.accept('.')) {
        const m = this.expectMemberName();
        e = { kind: 'member', span: join(e.span, m.span), expr: e, member: m.text };
        continue;
      }
      if (this.is('[')) {
        this.next();
        const first = this.parseExpression();
        if (this.accept(':')) {
          const lo = this.parseExpression();
          const close = this.expect(']');
          e = { kind: 'slice', span: join(e.span, close.span), expr: e, hi: first, lo };
        } else {
          const close = this.expect(']');
          e = { kind: 'index', span: join(e.span, close.span), expr: e, index: first };
        }
        continue;
      }
      if (this.is('(')) {
        const args = this.parseArgs();
        e = { kind: 'call', span: this.spanFrom(this.tokenAt(e.span)), callee: e, typeArgs: [], args };
        continue;
      }
      if (this.is('<') && this.genericCallAhead()) {
        this.next();
        const typeArgs: TypeRef[] = [];
        while (!this.is('>')) {
          typeArgs.push(this.parseType());
          if (!this.accept(',')) break;
        }
        this.expect('>');
        const args = this.parseArgs();
        e = { kind: 'call', span: this.spanFrom(this.tokenAt(e.span)), callee: e, typeArgs, args };
        continue;
      }
      return e;
    }
  }

  private tokenAt(span: Span): Token {
    return this.tokens.find((t) => t.span.offset === span.offset && t.span.file === span.file) ?? this.peek();
  }

  /** `f<T, U>(`: a type argument list closes before a `(`, and its first entry is a type. */
  private genericCallAhead(): boolean {
    const first = this.peek(1);
    const isType = (first.kind === 'keyword' && BASE_TYPE_KEYWORDS.has(first.text)) || (this.isName(1) && this.typeNames.has(first.text));
    if (!isType) return false;
    let depth = 0;
    for (let i = 0; ; i++) {
      const x = this.peek(i);
      if (x.kind === 'eof' || x.text === ';' || x.text === '{') return false;
      if (x.text === '<') depth++;
      if (x.text === '>') { depth--; if (depth === 0) return this.is('(', i + 1); }
    }
  }

  private parseArgs(): Expression[] {
    this.expect('(');
    const args: Expression[] = [];
    while (!this.is(')')) {
      args.push(this.parseExpression());
      if (!this.accept(',')) break;
    }
    this.expect(')');
    return args;
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof': return 'end of file';
    case 'string': return `string "${t.text}"`;
    case 'int': return `'${t.text}'`;
    default: return `'${t.text}'`;
  }
}
