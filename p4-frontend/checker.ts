/**
 * Name resolution and type checking. Annotates the AST in place: every expression gets its
 * `type` (and `constValue` when it is a compile-time constant), every name its `decl`, every
 * call its `target`, every member access its `resolution`. Width rules follow the P4_16 spec:
 * an unsized integer takes the width of the sized operand it meets; sized operands must agree.
 * Collects the first error of each statement and declaration; throws them together at the end.
 */
import type {
  ActionDecl, BlockStmt, CallExpr, ConstDecl, ControlDecl, Declaration, Expression, Instantiation, NameExpr,
  Param, ParserDecl, Program, Span, Statement, TableDecl, VarDecl,
} from './ast.ts';
import { didYouMean } from '../core/errors.ts';
import { ExpressionChecker } from './check-expressions.ts';
import { P4CheckErrors, P4TypeError } from './errors.ts';
import { Scope, type Context, type Entity } from './scope.ts';
import { BOOL, VOID, isInteger, sameType, typeToString, type P4Type } from './types.ts';

export { truncate } from './const-eval.ts';

/** One of main's package arguments: the V1Switch parameter name and the block bound to it. */
export interface PipelineBlock {
  readonly paramName: string;
  readonly decl: ParserDecl | ControlDecl;
}

/** The checked program: the annotated AST plus program-wide facts the back ends need. */
export interface CheckedProgram {
  readonly program: Program;
  /** The `main` package instantiation, if any. */
  readonly main: Instantiation | undefined;
  /** main's arguments in order (parser, verify checksum, ingress, egress, compute checksum, deparser for V1Switch). */
  readonly pipeline: readonly PipelineBlock[];
  /** All error members in declaration order (core's first). */
  readonly errorMembers: readonly string[];
  readonly matchKinds: readonly string[];
  /** The type of a struct/header/enum declaration by name, for bindings. */
  readonly namedTypes: ReadonlyMap<string, P4Type>;
}

/** Checks `program`; throws P4CheckErrors listing every error found. */
export function checkProgram(program: Program): CheckedProgram {
  return new Checker(program).run();
}

class Checker extends ExpressionChecker {
  private readonly errors: P4TypeError[] = [];
  private readonly namedTypes = new Map<string, P4Type>();

  constructor(private readonly program: Program) {
    super();
  }

  run(): CheckedProgram {
    let main: Instantiation | undefined;
    let pipeline: PipelineBlock[] = [];
    for (const d of this.program.declarations) {
      this.guard(() => {
        this.checkTopLevel(d);
        if (d.kind === 'instantiation' && d.name === 'main') {
          main = d;
          pipeline = this.pipelineOf(d);
        }
      });
    }
    if (this.errors.length > 0) throw new P4CheckErrors(this.errors);
    return { program: this.program, main, pipeline, errorMembers: this.errorMembers, matchKinds: this.matchKinds, namedTypes: this.namedTypes };
  }

  protected guard(f: () => void): void {
    try {
      f();
    } catch (e) {
      if (e instanceof P4TypeError) this.errors.push(e);
      else throw e;
    }
  }

  protected declare(scope: Scope, name: string, e: Entity, span: Span): void {
    const existing = scope.own(name);
    const overloadable = (x: Entity): boolean => x.kind === 'externFunction' || x.kind === 'method';
    if (existing !== undefined && !(overloadable(e) && existing.every(overloadable))) {
      this.fail(`'${name}' is already declared`, span);
    }
    scope.declare(name, e);
  }

  protected checkTopLevel(d: Declaration): void {
    const scope = this.root;
    switch (d.kind) {
      case 'error':
      case 'matchKind': {
        const list = d.kind === 'error' ? this.errorMembers : this.matchKinds;
        for (const m of d.members) {
          if (list.includes(m)) this.fail(`duplicate ${d.kind === 'error' ? 'error' : 'match_kind'} member '${m}'`, d.span);
          list.push(m);
        }
        return;
      }
      case 'const': this.checkConst(d, scope); return;
      case 'typedef': case 'header': case 'headerUnion': case 'struct': case 'enum':
        this.declare(scope, d.name, d, d.span);
        this.namedTypes.set(d.name, this.typeOfDecl(d, scope));
        return;
      case 'extern': case 'externFunction': case 'parserType': case 'controlType': case 'packageType':
        this.declare(scope, d.name, d, d.span);
        return;
      case 'action':
        this.declare(scope, d.name, d, d.span);
        this.checkAction(d, scope);
        return;
      case 'parser':
        this.declare(scope, d.name, d, d.span);
        this.checkParser(d);
        return;
      case 'control':
        this.declare(scope, d.name, d, d.span);
        this.checkControl(d);
        return;
      case 'instantiation':
        this.declare(scope, d.name, d, d.span);
        this.checkInstantiation(d, { kind: 'top', scope });
        return;
      default:
        this.fail(`unexpected ${d.kind} declaration at top level`, d.span);
    }
  }

  protected checkConst(d: ConstDecl, scope: Scope): void {
    const t = this.resolveType(d.typeRef, scope);
    d.type = t;
    this.checkExpr(d.value, { kind: 'top', scope }, t);
    this.coerce(d.value, t, `constant '${d.name}'`);
    if (d.value.constValue === undefined) this.fail(`the value of constant '${d.name}' is not a compile-time constant`, d.value.span);
    d.constValue = d.value.constValue;
    this.declare(scope, d.name, d, d.span);
  }

  /** The type a type declaration stands for (cached so struct identity is stable). */
  protected declareParams(params: readonly Param[], scope: Scope): void {
    for (const p of params) {
      p.type = this.resolveType(p.typeRef, scope);
      this.declare(scope, p.name, p, p.span);
    }
  }

  protected checkAction(d: ActionDecl, outer: Scope): void {
    const scope = new Scope(outer);
    this.declareParams(d.params, scope);
    let seenDirectionless = false;
    for (const p of d.params) {
      if (p.direction === 'none') seenDirectionless = true;
      else if (seenDirectionless) this.fail(`parameter '${p.name}' with a direction follows directionless parameters`, p.span);
    }
    this.checkBlock(d.body, { kind: 'action', scope });
  }

  protected checkParser(d: ParserDecl): void {
    const scope = this.withTypeParams(d.typeParams, d.span, this.root);
    this.declareParams(d.params, scope);
    this.declareParams(d.ctorParams, scope);
    const ctx: Context = { kind: 'parser', scope };
    for (const l of d.locals) this.guard(() => this.checkStatement(l, ctx));
    const states = new Set(['accept', 'reject']);
    for (const s of d.states) {
      if (states.has(s.name)) this.errors.push(new P4TypeError(`state '${s.name}' is already declared`, s.span));
      states.add(s.name);
    }
    if (!d.states.some((s) => s.name === 'start')) this.errors.push(new P4TypeError(`parser ${d.name} has no 'start' state`, d.span));
    for (const s of d.states) {
      const sscope = new Scope(scope);
      const sctx: Context = { kind: 'parser', scope: sscope };
      for (const st of s.statements) this.guard(() => this.checkStatement(st, sctx));
      const tr = s.transition;
      if (tr === undefined) {
        this.errors.push(new P4TypeError(`state '${s.name}' has no transition`, s.span));
        continue;
      }
      this.guard(() => {
        const checkTarget = (name: string, span: Span): void => {
          if (!states.has(name)) this.fail(`unknown state '${name}'`, span, didYouMean(name, states));
        };
        if (tr.kind === 'direct') {
          checkTarget(tr.target, tr.targetSpan);
          return;
        }
        const types = tr.exprs.map((e) => {
          const t = this.checkExpr(e, sctx, undefined);
          if (!(isInteger(t) || t.kind === 'bool' || t.kind === 'enum' || t.kind === 'error')) {
            this.fail(`cannot select on ${typeToString(t)}`, e.span);
          }
          return t;
        });
        for (const c of tr.cases) {
          this.guard(() => {
            checkTarget(c.target, c.targetSpan);
            this.checkKeyset(c.keyset, types, sctx);
          });
        }
      });
    }
  }

  /** A select case or table entry key list against the key types. */
  protected checkKeyset(keyset: Expression, types: readonly P4Type[], ctx: Context): void {
    if (keyset.kind === 'default') {
      keyset.type = { kind: 'dontCare' };
      return;
    }
    if (types.length === 1) {
      this.checkKeysetElement(keyset, types[0]!, ctx);
      return;
    }
    if (keyset.kind !== 'list' || keyset.elements.length !== types.length) {
      this.fail(`expected a keyset of ${types.length} elements`, keyset.span);
    }
    keyset.elements.forEach((e, i) => this.checkKeysetElement(e, types[i]!, ctx));
    keyset.type = { kind: 'tuple', elements: types };
  }

  protected checkKeysetElement(e: Expression, t: P4Type, ctx: Context): void {
    if (e.kind === 'default') {
      e.type = { kind: 'dontCare' };
      return;
    }
    if (e.kind === 'mask') {
      this.checkExpr(e.value, ctx, t);
      this.coerce(e.value, t, 'keyset value');
      this.checkExpr(e.mask, ctx, t);
      this.coerce(e.mask, t, 'keyset mask');
      e.type = t;
      return;
    }
    if (e.kind === 'range') {
      this.checkExpr(e.lo, ctx, t);
      this.coerce(e.lo, t, 'range start');
      this.checkExpr(e.hi, ctx, t);
      this.coerce(e.hi, t, 'range end');
      e.type = t;
      return;
    }
    this.checkExpr(e, ctx, t);
    this.coerce(e, t, 'keyset value');
  }

  protected checkControl(d: ControlDecl): void {
    const scope = this.withTypeParams(d.typeParams, d.span, this.root);
    this.declareParams(d.params, scope);
    this.declareParams(d.ctorParams, scope);
    const ctx: Context = { kind: 'control', scope };
    for (const l of d.locals) {
      this.guard(() => {
        switch (l.kind) {
          case 'action':
            this.declare(scope, l.name, l, l.span);
            this.checkAction(l, scope);
            return;
          case 'table':
            this.declare(scope, l.name, l, l.span);
            this.checkTable(l, ctx);
            return;
          default:
            this.checkStatement(l, ctx);
        }
      });
    }
    this.checkBlock(d.apply, ctx);
  }

  protected checkTable(t: TableDecl, ctx: Context): void {
    if (!t.properties.some((p) => p.kind === 'actions')) this.errors.push(new P4TypeError(`table '${t.name}' has no actions property`, t.span));
    const keyTypes: P4Type[] = [];
    let actionDecls: ActionDecl[] = [];
    const seen = new Set<string>();
    for (const p of t.properties) {
      this.guard(() => {
        if (p.kind !== 'other') {
          if (seen.has(p.kind)) this.fail(`duplicate table property`, p.span);
          seen.add(p.kind);
        }
        switch (p.kind) {
          case 'key':
            for (const k of p.elements) {
              const kt = this.checkExpr(k.expr, ctx, undefined);
              if (!(kt.kind === 'bit' || kt.kind === 'int' || kt.kind === 'bool' || kt.kind === 'enum' || kt.kind === 'error')) {
                this.fail(`a table key cannot have type ${typeToString(kt)}`, k.expr.span);
              }
              if (!this.matchKinds.includes(k.matchKind)) {
                this.fail(`unknown match kind '${k.matchKind}'`, k.matchKindSpan, didYouMean(k.matchKind, this.matchKinds));
              }
              keyTypes.push(kt);
            }
            return;
          case 'actions':
            actionDecls = p.actions.map((a) => {
              const decl = this.lookupAction(a.name, ctx.scope);
              if (actionDecls.includes(decl)) this.fail(`action '${decl.name}' is listed twice in table '${t.name}'`, a.span);
              actionDecls.push(decl);
              a.decl = decl;
              a.name.type = { kind: 'action' };
              if (a.args.length > decl.params.length) this.fail(`too many arguments for action '${decl.name}'`, a.span);
              a.args.forEach((arg, i) => {
                const param = decl.params[i]!;
                this.checkArgument(arg, param, param.type!, ctx, decl.name);
              });
              for (const param of decl.params.slice(a.args.length)) {
                if (param.direction !== 'none') this.fail(`action '${decl.name}' needs an argument for '${param.name}' in the actions list`, a.span);
              }
              return decl;
            });
            return;
          case 'defaultAction':
            this.checkTableActionCall(p.action, actionDecls, t, ctx, 'default action');
            return;
          case 'entries':
            if (!p.isConst) this.fail(`table entries must be const`, p.span);
            for (const e of p.entries) {
              this.guard(() => {
                if (e.keys.length !== keyTypes.length) this.fail(`entry has ${e.keys.length} keys, table ${t.name} has ${keyTypes.length}`, e.span);
                e.keys.forEach((k, i) => this.checkKeysetElement(k, keyTypes[i]!, ctx));
                if (e.priority !== undefined) this.constInt(e.priority, ctx.scope, 'a priority');
                this.checkTableActionCall(e.action, actionDecls, t, ctx, 'entry action');
              });
            }
            return;
          case 'other':
            if (p.name === 'size') {
              const v = this.constInt(p.value, ctx.scope, 'the table size');
              if (v < 0n) this.fail(`table size must not be negative`, p.value.span);
              return;
            }
            this.checkExpr(p.value, ctx, undefined);
            return;
        }
      });
    }
  }

  protected lookupAction(n: NameExpr, scope: Scope): ActionDecl {
    const found = (n.global ? scope.root() : scope).lookup(n.name);
    const d = found?.[0];
    if (d === undefined) {
      const actions = scope.allNames().filter((x) => scope.lookup(x)?.[0]?.kind === 'action');
      this.fail(`unknown action '${n.name}'`, n.span, didYouMean(n.name, actions));
    }
    if (d.kind !== 'action') this.fail(`'${n.name}' is not an action`, n.span);
    n.decl = d;
    return d;
  }

  /** `default_action = a(args)` or an entry's action: an action of the list, all arguments given. */
  protected checkTableActionCall(call: CallExpr, list: readonly ActionDecl[], t: TableDecl, ctx: Context, what: string): void {
    const callee = call.callee as NameExpr;
    const decl = this.lookupAction(callee, ctx.scope);
    if (!list.includes(decl)) this.fail(`${what} '${decl.name}' is not in the actions list of table '${t.name}'`, call.span);
    const ref = t.properties.flatMap((p) => (p.kind === 'actions' ? p.actions : [])).find((a) => a.decl === decl);
    const forbidden = what === 'default action' ? 'tableonly' : 'defaultonly';
    if (ref !== undefined && ref.annotations.some((a) => a.name === forbidden)) {
      this.fail(`${what} '${decl.name}' is marked @${forbidden} in table '${t.name}'`, call.span);
    }
    callee.type = { kind: 'action' };
    call.target = { kind: 'action', decl };
    this.checkCallArgs(call, decl.params, new Map(), ctx, decl.name);
    call.type = VOID;
  }

  protected checkInstantiation(d: Instantiation, ctx: Context): void {
    const t = this.resolveType(d.typeRef, ctx.scope);
    d.type = t;
    if (t.kind === 'extern') {
      const ctors = t.decl.constructors.filter((c) => c.params.length === d.args.length);
      if (ctors.length === 0) this.fail(`no constructor of ${t.name} takes ${d.args.length} arguments`, d.span);
      const subst = this.externSubst(t, d.span);
      this.checkCallArgs({ args: d.args, span: d.span }, ctors[0]!.params, subst, ctx, t.name);
      return;
    }
    if (t.kind === 'package') {
      this.checkPackageArgs(d, t, ctx);
      return;
    }
    if (t.kind === 'parser' || t.kind === 'control') {
      const decl = t.decl;
      const ctorParams = decl.kind === 'parser' || decl.kind === 'control' ? decl.ctorParams : [];
      this.checkCallArgs({ args: d.args, span: d.span }, ctorParams, new Map(), ctx, t.name);
      return;
    }
    this.fail(`cannot instantiate ${typeToString(t)}`, d.span);
  }

  /** Type-parameter bindings of an extern instance (`register<bit<32>>` binds T). */
  protected checkPackageArgs(d: Instantiation, t: P4Type & { kind: 'package' }, ctx: Context): void {
    const params = t.decl.params;
    if (d.args.length !== params.length) this.fail(`${t.name} takes ${params.length} arguments, got ${d.args.length}`, d.span);
    const subst = new Map<string, P4Type>();
    t.decl.typeParams.forEach((p, i) => {
      if (t.typeArgs[i] !== undefined) subst.set(p, t.typeArgs[i]!);
    });
    d.args.forEach((arg, i) => {
      const param = params[i]!;
      const pscope = this.withTypeParams(t.decl.typeParams, t.decl.span, this.root);
      const pt = this.resolveType(param.typeRef, pscope);
      if (arg.kind !== 'call' || arg.callee.kind !== 'name' || arg.args.length !== 0) {
        this.fail(`argument '${param.name}' of ${t.name} must be an instance such as P()`, arg.span);
      }
      const decl = this.lookupName(arg.callee, ctx.scope)[0]!;
      if (decl.kind !== 'parser' && decl.kind !== 'control') this.fail(`'${arg.callee.name}' is not a parser or control`, arg.span);
      if ((pt.kind !== 'parser' && pt.kind !== 'control') || pt.kind !== decl.kind) {
        this.fail(`argument '${param.name}' of ${t.name} must be a ${pt.kind}, '${decl.name}' is a ${decl.kind}`, arg.span);
      }
      const expected = pt.decl;
      // The expected block type's own type parameters map to the package's type arguments.
      const inner = new Map<string, P4Type>();
      expected.typeParams.forEach((p, j) => {
        const a = pt.typeArgs[j];
        if (a !== undefined) inner.set(p, a);
      });
      if (expected.params.length !== decl.params.length) {
        this.fail(`${decl.kind} ${decl.name} has ${decl.params.length} parameters, ${t.name} expects ${expected.params.length} for '${param.name}'`, arg.span);
      }
      expected.params.forEach((ep, j) => {
        const ap = decl.params[j]!;
        if (ap.type === undefined) this.fail(`${decl.kind} ${decl.name} has errors in its parameters`, ap.span);
        const ept = this.substitute(this.resolveType(ep.typeRef, this.withTypeParams(expected.typeParams, expected.span, this.root)), inner);
        const bound = this.substitute(ept, subst);
        if (ep.direction !== ap.direction) {
          this.fail(`parameter '${ap.name}' of ${decl.name} must be ${ep.direction === 'none' ? 'directionless' : ep.direction}`, ap.span);
        }
        if (bound.kind === 'typeVar') {
          subst.set(bound.name, ap.type!);
        } else if (!sameType(bound, ap.type!)) {
          this.fail(`parameter '${ap.name}' of ${decl.name} has type ${typeToString(ap.type!)}, ${t.name} expects ${typeToString(bound)}`, ap.span);
        }
      });
      arg.callee.decl = decl;
      arg.callee.type = pt;
      arg.type = pt;
    });
  }

  protected pipelineOf(main: Instantiation): PipelineBlock[] {
    if (main.type?.kind !== 'package') return [];
    const params = main.type.decl.params;
    return main.args.map((a, i) => {
      const decl = a.kind === 'call' && a.callee.kind === 'name' ? a.callee.decl : undefined;
      return { paramName: params[i]!.name, decl: decl as ParserDecl | ControlDecl };
    });
  }

  protected checkBlock(b: BlockStmt, ctx: Context): void {
    const scope = new Scope(ctx.scope);
    const inner: Context = { kind: ctx.kind, scope };
    for (const s of b.statements) this.guard(() => this.checkStatement(s, inner));
  }

  protected checkStatement(s: Statement, ctx: Context): void {
    switch (s.kind) {
      case 'block': this.checkBlock(s, ctx); return;
      case 'empty': return;
      case 'exit':
        if (ctx.kind === 'parser') this.fail(`exit is not allowed in a parser`, s.span);
        return;
      case 'return':
        if (ctx.kind === 'parser') this.fail(`return is not allowed in a parser`, s.span);
        if (s.value !== undefined) this.fail(`return with a value is only allowed in functions`, s.value.span);
        return;
      case 'const': this.checkConst(s, ctx.scope); return;
      case 'var': this.checkVar(s, ctx); return;
      case 'instantiation':
        if (ctx.kind === 'action') this.fail(`instantiations are not allowed in actions`, s.span);
        this.declare(ctx.scope, s.name, s, s.span);
        this.checkInstantiation(s, ctx);
        return;
      case 'assign': {
        const lt = this.checkExpr(s.left, ctx, undefined);
        this.requireLvalue(s.left, ctx, 'the left side of an assignment');
        this.checkExpr(s.right, ctx, lt);
        // A mismatch is reported at the statement, where the reader looks for the assignment.
        this.coerce(s.right, lt, describeTarget(s.left), s.span);
        return;
      }
      case 'callStmt': {
        this.checkCall(s.call, ctx);
        return;
      }
      case 'if': {
        const ct = this.checkExpr(s.cond, ctx, BOOL);
        if (ct.kind !== 'bool') this.fail(`condition must be bool, not ${typeToString(ct)}`, s.cond.span);
        this.guard(() => this.checkStatement(s.then, ctx));
        if (s.else !== undefined) {
          const e = s.else;
          this.guard(() => this.checkStatement(e, ctx));
        }
        return;
      }
      case 'switch': {
        const t = this.checkExpr(s.expr, ctx, undefined);
        const seen = new Set<string>();
        for (const [i, c] of s.cases.entries()) {
          this.guard(() => {
            if (c.label.kind === 'default') {
              if (i !== s.cases.length - 1) this.fail(`'default' must be the last switch label`, c.label.span);
              c.label.type = { kind: 'dontCare' };
            } else if (t.kind === 'actionEnum') {
              if (c.label.kind !== 'name') this.fail(`a switch on action_run takes action names`, c.label.span);
              const decl = this.lookupAction(c.label, ctx.scope);
              const list = t.table.properties.find((p) => p.kind === 'actions');
              if (list === undefined || !list.actions.some((a) => a.decl === decl)) {
                this.fail(`action '${decl.name}' is not in the actions list of table '${t.table.name}'`, c.label.span);
              }
              if (seen.has(decl.name)) this.fail(`duplicate switch label '${decl.name}'`, c.label.span);
              seen.add(decl.name);
              c.label.type = t;
            } else if (isInteger(t) || t.kind === 'enum' || t.kind === 'error') {
              this.checkExpr(c.label, ctx, t);
              this.coerce(c.label, t, 'switch label');
              if (c.label.constValue === undefined && c.label.kind !== 'member') this.fail(`switch labels must be constants`, c.label.span);
              const key = c.label.constValue !== undefined ? String(c.label.constValue) : c.label.kind === 'member' ? c.label.member : '';
              if (seen.has(key)) this.fail(`duplicate switch label`, c.label.span);
              seen.add(key);
            } else {
              this.fail(`cannot switch on ${typeToString(t)}`, s.expr.span);
            }
            if (c.body !== undefined) this.checkBlock(c.body, ctx);
          });
        }
        return;
      }
    }
  }

  protected checkVar(s: VarDecl, ctx: Context): void {
    const t = this.resolveType(s.typeRef, ctx.scope);
    s.type = t;
    if (s.init !== undefined) {
      this.checkExpr(s.init, ctx, t);
      this.coerce(s.init, t, `variable '${s.name}'`);
    }
    this.declare(ctx.scope, s.name, s, s.span);
  }
}

function describeTarget(e: Expression): string {
  switch (e.kind) {
    case 'member': return `field '${e.member}'`;
    case 'name': return e.decl?.kind === 'param' ? `parameter '${e.name}'` : `variable '${e.name}'`;
    case 'slice': return 'slice';
    case 'index': return 'stack element';
    default: return 'target';
  }
}
