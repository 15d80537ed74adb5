/**
 * The expression half of the checker: type resolution, expression typing with P4_16's width
 * rules (an unsized integer takes the width of the sized operand it meets; sized operands must
 * agree), implicit conversions, and calls of actions, extern functions and methods, with type
 * parameters inferred from the arguments. Declarations and statements are in checker.ts.
 */
import { didYouMean } from '../core/errors.ts';
import type { CallExpr, Declaration, Expression, ExternFunctionDecl, MethodDecl, NameExpr, Param, Span, TypeRef } from './ast.ts';
import { foldArith, retype, signedView, truncate } from './const-eval.ts';
import { P4TypeError } from './errors.ts';
import { Scope, type Context, type Entity } from './scope.ts';
import {
  BOOL, ERROR, INFINT, STRING, VOID, bit, isInteger, sameType, typeToString, type FieldType, type P4Type,
} from './types.ts';

export abstract class ExpressionChecker {
  protected readonly root = new Scope(undefined);
  protected readonly errorMembers: string[] = [];
  protected readonly matchKinds: string[] = [];
  private readonly declTypes = new Map<Declaration, P4Type>();
  private readonly resolving = new Set<Declaration>();

  protected fail(message: string, span: Span, hint?: string): never {
    throw new P4TypeError(message, span, hint);
  }

  protected typeOfDecl(d: Declaration, scope: Scope): P4Type {
    const cached = this.declTypes.get(d);
    if (cached !== undefined) return cached;
    if (this.resolving.has(d)) this.fail(`'${d.name}' refers to itself`, d.span);
    this.resolving.add(d);
    try {
      return this.typeOfDeclUncached(d, scope);
    } finally {
      this.resolving.delete(d);
    }
  }

  private typeOfDeclUncached(d: Declaration, scope: Scope): P4Type {
    let t: P4Type;
    switch (d.kind) {
      case 'typedef': t = this.resolveType(d.typeRef, scope); break;
      case 'header': case 'struct': case 'headerUnion': {
        const fields: FieldType[] = [];
        const seen = new Set<string>();
        for (const f of d.fields) {
          if (seen.has(f.name)) this.fail(`duplicate field '${f.name}' in ${d.name}`, f.span);
          seen.add(f.name);
          const ft = this.resolveType(f.typeRef, scope);
          if (d.kind === 'header' && !(ft.kind === 'bit' || ft.kind === 'int' || ft.kind === 'varbit' || ft.kind === 'bool' || (ft.kind === 'enum' && ft.underlying !== undefined))) {
            this.fail(`header field '${f.name}' cannot have type ${typeToString(ft)}`, f.span);
          }
          if (d.kind === 'headerUnion' && ft.kind !== 'header') this.fail(`header_union field '${f.name}' must be a header`, f.span);
          f.type = ft;
          fields.push({ name: f.name, type: ft });
        }
        t = d.kind === 'header' ? { kind: 'header', name: d.name, fields, decl: d }
          : d.kind === 'struct' ? { kind: 'struct', name: d.name, fields, decl: d }
          : { kind: 'headerUnion', name: d.name, fields, decl: d };
        break;
      }
      case 'enum': {
        const names = new Set<string>();
        for (const m of d.members) {
          if (names.has(m.name)) this.fail(`duplicate member '${m.name}' in enum ${d.name}`, m.span);
          names.add(m.name);
        }
        const underlying = d.underlying === undefined ? undefined : this.resolveType(d.underlying, scope);
        if (underlying !== undefined) {
          for (const m of d.members) {
            if (m.value === undefined) this.fail(`member '${m.name}' of serializable enum ${d.name} needs a value`, m.span);
            this.checkExpr(m.value, { kind: 'top', scope }, underlying);
            this.coerce(m.value, underlying, `enum member '${m.name}'`);
          }
        }
        t = { kind: 'enum', name: d.name, members: d.members.map((m) => m.name), decl: d, underlying };
        break;
      }
      default:
        return this.fail(`'${d.name}' is not a type`, d.span);
    }
    this.declTypes.set(d, t);
    return t;
  }

  protected resolveType(ref: TypeRef, scope: Scope): P4Type {
    switch (ref.kind) {
      case 'bitType': case 'intType': case 'varbitType': {
        const w = this.constInt(ref.width, scope, 'a width');
        if (w <= 0n && ref.kind !== 'bitType') this.fail(`width must be positive`, ref.width.span);
        if (w < 0n || w > 2048n) this.fail(`invalid width ${w}`, ref.width.span);
        return { kind: ref.kind === 'bitType' ? 'bit' : ref.kind === 'intType' ? 'int' : 'varbit', width: Number(w) };
      }
      case 'boolType': return BOOL;
      case 'errorType': return ERROR;
      case 'stringType': return STRING;
      case 'voidType': return VOID;
      case 'infIntType': return INFINT;
      case 'dontCareType': return { kind: 'dontCare' };
      case 'stackType': {
        const element = this.resolveType(ref.element, scope);
        if (element.kind !== 'header' && element.kind !== 'headerUnion') this.fail(`a stack element must be a header`, ref.span);
        const size = this.constInt(ref.size, scope, 'a stack size');
        return { kind: 'stack', element, size: Number(size) };
      }
      case 'namedType': {
        const found = scope.lookup(ref.name);
        if (found === undefined) this.fail(`unknown type '${ref.name}'`, ref.span, didYouMean(ref.name, this.typeNamesIn(scope)));
        const d = found[0]!;
        const args = ref.typeArgs.map((a) => this.resolveType(a, scope));
        switch (d.kind) {
          case 'typeParam': return { kind: 'typeVar', name: d.name };
          case 'typedef': case 'header': case 'struct': case 'headerUnion': case 'enum': return this.typeOfDecl(d, this.root);
          case 'extern':
            if (args.length !== 0 && args.length !== d.typeParams.length) this.fail(`${d.name} takes ${d.typeParams.length} type arguments`, ref.span);
            return { kind: 'extern', name: d.name, decl: d, typeArgs: args };
          case 'parserType': case 'parser': return { kind: 'parser', name: d.name, decl: d, typeArgs: args };
          case 'controlType': case 'control': return { kind: 'control', name: d.name, decl: d, typeArgs: args };
          case 'packageType': return { kind: 'package', name: d.name, decl: d, typeArgs: args };
          default: return this.fail(`'${ref.name}' is not a type`, ref.span);
        }
      }
    }
  }

  protected typeNamesIn(scope: Scope): string[] {
    return scope.allNames().filter((n) => {
      const k = scope.lookup(n)?.[0]?.kind;
      return k === 'typedef' || k === 'header' || k === 'struct' || k === 'headerUnion' || k === 'enum' || k === 'extern';
    });
  }

  protected constInt(e: Expression, scope: Scope, what: string): bigint {
    this.checkExpr(e, { kind: 'top', scope }, undefined);
    if (typeof e.constValue !== 'bigint') this.fail(`expected a compile-time integer for ${what}`, e.span);
    return e.constValue;
  }

  protected withTypeParams(names: readonly string[], span: Span, outer: Scope): Scope {
    const scope = new Scope(outer);
    for (const n of names) scope.declare(n, { kind: 'typeParam', name: n, span });
    return scope;
  }

  protected externSubst(t: P4Type & { kind: 'extern' }, span: Span): Map<string, P4Type> {
    const subst = new Map<string, P4Type>();
    if (t.typeArgs.length === 0 && t.decl.typeParams.length > 0) this.fail(`${t.name} needs type arguments`, span);
    t.decl.typeParams.forEach((p, i) => subst.set(p, t.typeArgs[i]!));
    return subst;
  }

  /** `V1Switch(P(), VC(), I(), E(), CC(), D()) main;`: each argument a parser/control of the right shape. */
  protected requireLvalue(e: Expression, ctx: Context, what: string): void {
    switch (e.kind) {
      case 'name': {
        const d = e.decl;
        if (d?.kind === 'var') return;
        if (d?.kind === 'param') {
          if (d.direction === 'out' || d.direction === 'inout') return;
          this.fail(`${what} cannot be '${e.name}': parameter '${e.name}' is read-only (${d.direction === 'none' ? 'directionless' : d.direction})`, e.span);
        }
        return this.fail(`${what} cannot be '${e.name}'`, e.span);
      }
      case 'member':
        if (e.resolution?.kind !== 'field' && !(e.resolution?.kind === 'stackProperty' && (e.member === 'next' || e.member === 'last'))) {
          this.fail(`${what} cannot be '${e.member}'`, e.span);
        }
        this.requireLvalue(e.expr, ctx, what);
        return;
      case 'slice': case 'index':
        this.requireLvalue(e.expr, ctx, what);
        return;
      default:
        this.fail(`${what} must be a variable, field or slice`, e.span);
    }
  }

  // ------------------------------------------------------------------ expressions
  protected lookupName(n: NameExpr, scope: Scope): Entity[] {
    const found = (n.global ? scope.root() : scope).lookup(n.name);
    if (found === undefined) this.fail(`unknown name '${n.name}'`, n.span, didYouMean(n.name, scope.allNames()));
    return found;
  }

  /** Types `e` (annotating it) and returns its type. `expected` only guides list expressions. */
  protected checkExpr(e: Expression, ctx: Context, expected: P4Type | undefined): P4Type {
    const t = this.typeExpr(e, ctx, expected);
    e.type = t;
    return t;
  }

  protected typeExpr(e: Expression, ctx: Context, expected: P4Type | undefined): P4Type {
    switch (e.kind) {
      case 'int': {
        if (e.width === undefined) {
          e.constValue = e.value;
          return INFINT;
        }
        const t: P4Type = e.signed ? { kind: 'int', width: e.width } : bit(e.width);
        e.constValue = truncate(e.value, t);
        return t;
      }
      case 'bool': e.constValue = e.value; return BOOL;
      case 'string': return STRING;
      case 'default': return { kind: 'dontCare' };
      case 'typeName': return { kind: 'typeName', type: this.resolveType(e.typeRef, ctx.scope) };
      case 'name': return this.typeName(e, ctx);
      case 'member': return this.typeMember(e, ctx);
      case 'index': {
        const bt = this.checkExpr(e.expr, ctx, undefined);
        if (bt.kind !== 'stack') this.fail(`cannot index ${typeToString(bt)}`, e.span);
        const it = this.checkExpr(e.index, ctx, undefined);
        if (!isInteger(it)) this.fail(`a stack index must be an integer`, e.index.span);
        return bt.element;
      }
      case 'slice': {
        const bt = this.checkExpr(e.expr, ctx, undefined);
        if (bt.kind !== 'bit' && bt.kind !== 'int') this.fail(`cannot slice ${typeToString(bt)}`, e.span);
        const hi = this.constInt(e.hi, ctx.scope, 'a slice bound');
        const lo = this.constInt(e.lo, ctx.scope, 'a slice bound');
        if (lo < 0n || hi < lo) this.fail(`invalid slice [${hi}:${lo}]`, e.span);
        if (hi >= BigInt(bt.width)) this.fail(`slice [${hi}:${lo}] is out of range for ${typeToString(bt)}`, e.span);
        e.hiValue = Number(hi);
        e.loValue = Number(lo);
        const rt = bit(Number(hi - lo) + 1);
        if (typeof e.expr.constValue === 'bigint') e.constValue = truncate(e.expr.constValue >> lo, rt);
        return rt;
      }
      case 'call': return this.checkCall(e, ctx);
      case 'unary': return this.typeUnary(e, ctx);
      case 'binary': return this.typeBinary(e, ctx);
      case 'ternary': {
        const ct = this.checkExpr(e.cond, ctx, BOOL);
        if (ct.kind !== 'bool') this.fail(`condition must be bool, not ${typeToString(ct)}`, e.cond.span);
        let a = this.checkExpr(e.then, ctx, expected);
        let b = this.checkExpr(e.else, ctx, expected);
        if (a.kind === 'infint' && b.kind !== 'infint') a = this.coerce(e.then, b, 'the true branch');
        else if (b.kind === 'infint' && a.kind !== 'infint') b = this.coerce(e.else, a, 'the false branch');
        if (!sameType(a, b)) this.fail(`the branches of ?: have different types ${typeToString(a)} and ${typeToString(b)}`, e.span);
        if (a.kind === 'infint' && e.cond.constValue === undefined) {
          if (expected !== undefined && isInteger(expected) && expected.kind !== 'infint') {
            this.coerce(e.then, expected, 'the true branch');
            this.coerce(e.else, expected, 'the false branch');
            return expected;
          }
          this.fail(`cannot infer the width of ?: with integer branches; give one a width`, e.span);
        }
        if (e.cond.constValue !== undefined) {
          const pick = e.cond.constValue === true ? e.then : e.else;
          if (pick.constValue !== undefined) e.constValue = pick.constValue;
        }
        return a;
      }
      case 'cast': return this.typeCast(e, ctx);
      case 'list': {
        const elements = e.elements.map((x, i) => {
          const want = expected !== undefined ? elementExpectation(expected, i) : undefined;
          return this.checkExpr(x, ctx, want);
        });
        return { kind: 'tuple', elements };
      }
      case 'mask': case 'range':
        return this.fail(`'${e.kind === 'mask' ? '&&&' : '..'}' is only allowed in keysets`, e.span);
    }
  }

  protected typeName(e: NameExpr, ctx: Context): P4Type {
    const found = this.lookupName(e, ctx.scope);
    const d = found[0]!;
    if (d.kind !== 'externFunction' && d.kind !== 'method') e.decl = d as Declaration | Param;
    switch (d.kind) {
      case 'param': case 'var': case 'const': case 'instantiation':
        // No type means its declaration failed to check; that error is already reported.
        if (d.type === undefined) this.fail(`'${e.name}' cannot be used: its declaration has errors`, e.span);
        if (d.kind === 'const') e.constValue = d.constValue;
        return d.type;
      case 'typedef': case 'header': case 'struct': case 'headerUnion': case 'enum':
        return { kind: 'typeName', type: this.typeOfDecl(d, this.root) };
      case 'action': return { kind: 'action' };
      case 'table': return { kind: 'table', decl: d };
      case 'parser': return { kind: 'parser', name: d.name, decl: d, typeArgs: [] };
      case 'control': return { kind: 'control', name: d.name, decl: d, typeArgs: [] };
      case 'externFunction': return VOID;
      case 'typeParam': return { kind: 'typeName', type: { kind: 'typeVar', name: d.name } };
      default: return this.fail(`'${e.name}' cannot be used as a value`, e.span);
    }
  }

  protected typeMember(e: Expression & { kind: 'member' }, ctx: Context): P4Type {
    const bt = this.checkExpr(e.expr, ctx, undefined);
    if (bt.kind === 'typeName') {
      const inner = bt.type;
      if (inner.kind === 'enum') {
        if (!inner.members.includes(e.member)) this.fail(`enum ${inner.name} has no member '${e.member}'`, e.span, didYouMean(e.member, inner.members));
        e.resolution = { kind: 'enumMember', enumName: inner.name };
        const m = inner.decl.members.find((x) => x.name === e.member);
        if (m?.value?.constValue !== undefined) e.constValue = m.value.constValue;
        return inner;
      }
      if (inner.kind === 'error') {
        if (!this.errorMembers.includes(e.member)) this.fail(`unknown error '${e.member}'`, e.span, didYouMean(e.member, this.errorMembers));
        e.resolution = { kind: 'errorMember' };
        return ERROR;
      }
      return this.fail(`${typeToString(inner)} has no member '${e.member}'`, e.span);
    }
    switch (bt.kind) {
      case 'header': case 'struct': case 'headerUnion': {
        const f = bt.fields.find((x) => x.name === e.member);
        if (f !== undefined) {
          e.resolution = { kind: 'field' };
          return f.type;
        }
        if ((bt.kind === 'header' || bt.kind === 'headerUnion') && (e.member === 'isValid' || e.member === 'setValid' || e.member === 'setInvalid')) {
          e.resolution = { kind: 'method' };
          return VOID;
        }
        return this.fail(`${typeToString(bt)} has no field '${e.member}'`, e.span, didYouMean(e.member, bt.fields.map((x) => x.name)));
      }
      case 'stack':
        if (e.member === 'size' || e.member === 'lastIndex') {
          e.resolution = { kind: 'stackProperty', property: e.member };
          if (e.member === 'size') e.constValue = BigInt(bt.size);
          return bit(32);
        }
        if (e.member === 'next' || e.member === 'last') {
          e.resolution = { kind: 'stackProperty', property: e.member };
          return bt.element;
        }
        if (e.member === 'push_front' || e.member === 'pop_front') {
          e.resolution = { kind: 'method' };
          return VOID;
        }
        return this.fail(`a header stack has no member '${e.member}'`, e.span);
      case 'applyResult':
        if (e.member === 'hit' || e.member === 'miss') {
          e.resolution = { kind: 'applyResult', field: e.member };
          return BOOL;
        }
        if (e.member === 'action_run') {
          e.resolution = { kind: 'applyResult', field: 'action_run' };
          return { kind: 'actionEnum', table: bt.table };
        }
        return this.fail(`a table apply result has no member '${e.member}'`, e.span);
      case 'extern': case 'table': case 'parser': case 'control':
        e.resolution = { kind: 'method' };
        return VOID;
      default:
        return this.fail(`${typeToString(bt)} has no member '${e.member}'`, e.span);
    }
  }

  protected typeUnary(e: Expression & { kind: 'unary' }, ctx: Context): P4Type {
    const t = this.checkExpr(e.operand, ctx, undefined);
    const c = e.operand.constValue;
    switch (e.op) {
      case '!':
        if (t.kind !== 'bool') this.fail(`'!' needs a bool, not ${typeToString(t)}`, e.span);
        if (typeof c === 'boolean') e.constValue = !c;
        return BOOL;
      case '~':
        if (t.kind !== 'bit' && t.kind !== 'int') this.fail(`'~' needs bit<W> or int<W>, not ${typeToString(t)}`, e.span);
        if (typeof c === 'bigint') e.constValue = truncate(~c, t);
        return t;
      case '-': case '+':
        if (!isInteger(t)) this.fail(`'${e.op}' needs an integer, not ${typeToString(t)}`, e.span);
        if (typeof c === 'bigint') e.constValue = e.op === '-' ? truncate(-c, t) : c;
        return t;
    }
  }

  protected typeBinary(e: Expression & { kind: 'binary' }, ctx: Context): P4Type {
    const op = e.op;
    let l = this.checkExpr(e.left, ctx, undefined);
    let r = this.checkExpr(e.right, ctx, undefined);
    const mismatch = (): never => this.fail(`cannot apply '${op}' to ${typeToString(l)} and ${typeToString(r)}`, e.span);
    const unify = (): P4Type => {
      if (l.kind === 'infint' && (r.kind === 'bit' || r.kind === 'int')) l = this.coerce(e.left, r, `operand of '${op}'`);
      else if (r.kind === 'infint' && (l.kind === 'bit' || l.kind === 'int')) r = this.coerce(e.right, l, `operand of '${op}'`);
      if (!sameType(l, r)) mismatch();
      return l;
    };
    const lc = e.left.constValue;
    const rc = e.right.constValue;
    switch (op) {
      case '&&': case '||':
        if (l.kind !== 'bool' || r.kind !== 'bool') mismatch();
        if (typeof lc === 'boolean' && typeof rc === 'boolean') e.constValue = op === '&&' ? lc && rc : lc || rc;
        return BOOL;
      case '==': case '!=': {
        const t = unify();
        if (!(isInteger(t) || t.kind === 'bool' || t.kind === 'enum' || t.kind === 'error' || t.kind === 'header' || t.kind === 'struct' || t.kind === 'varbit')) mismatch();
        if (lc !== undefined && rc !== undefined) e.constValue = op === '==' ? lc === rc : lc !== rc;
        return BOOL;
      }
      case '<': case '>': case '<=': case '>=': {
        const t = unify();
        if (!isInteger(t)) mismatch();
        if (typeof lc === 'bigint' && typeof rc === 'bigint') {
          const [a, b] = [signedView(lc, t), signedView(rc, t)];
          e.constValue = op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
        }
        return BOOL;
      }
      case '<<': case '>>': {
        if (!isInteger(l) || !(r.kind === 'bit' || r.kind === 'infint')) mismatch();
        if (typeof rc === 'bigint' && rc < 0n) this.fail(`shift amount must not be negative`, e.right.span);
        if (l.kind === 'infint' && rc === undefined) this.fail(`shifting an integer of unknown width by a run-time amount; give it a width`, e.left.span);
        if (typeof lc === 'bigint' && typeof rc === 'bigint') {
          e.constValue = truncate(op === '<<' ? lc << rc : signedView(lc, l) >> rc, l);
        }
        return l;
      }
      case '++': {
        if ((l.kind !== 'bit' && l.kind !== 'int') || (r.kind !== 'bit' && r.kind !== 'int')) {
          if (l.kind === 'infint' || r.kind === 'infint') this.fail(`cannot concatenate an integer of unknown width; give it a width`, e.span);
          mismatch();
        }
        const lw = (l as { width: number }).width;
        const rw = (r as { width: number }).width;
        const t: P4Type = { kind: l.kind as 'bit', width: lw + rw };
        if (typeof lc === 'bigint' && typeof rc === 'bigint') e.constValue = truncate((truncate(lc, bit(lw)) << BigInt(rw)) | truncate(rc, bit(rw)), t);
        return t;
      }
      default: {
        const t = unify();
        if (!isInteger(t)) mismatch();
        if ((op === '/' || op === '%') && typeof rc === 'bigint' && rc === 0n) this.fail(`division by zero`, e.right.span);
        if ((op === '/' || op === '%') && ((typeof lc === 'bigint' && lc < 0n) || (typeof rc === 'bigint' && rc < 0n))) {
          this.fail(`'${op}' is not defined on negative numbers`, e.span);
        }
        if (t.kind === 'int' && (op === '/' || op === '%')) this.fail(`'${op}' is not defined on signed int<W>`, e.span);
        if (typeof lc === 'bigint' && typeof rc === 'bigint') e.constValue = foldArith(op, lc, rc, t);
        return t;
      }
    }
  }

  protected typeCast(e: Expression & { kind: 'cast' }, ctx: Context): P4Type {
    const to = this.resolveType(e.target, ctx.scope);
    const from = this.checkExpr(e.expr, ctx, to);
    const c = e.expr.constValue;
    const bad = (): never => this.fail(`cannot cast ${typeToString(from)} to ${typeToString(to)}`, e.span);
    if (sameType(from, to)) {
      if (c !== undefined) e.constValue = c;
      return to;
    }
    if (to.kind === 'bit' || to.kind === 'int') {
      if ((from.kind === 'bit' || from.kind === 'int') && from.kind !== to.kind && from.width !== to.width) {
        this.fail(`cannot cast ${typeToString(from)} to ${typeToString(to)}: change the width and the signedness in two casts`, e.span);
      }
      if (from.kind === 'bit' || from.kind === 'int' || from.kind === 'infint') {
        if (typeof c === 'bigint') e.constValue = truncate(c, to);
        return to;
      }
      if (from.kind === 'bool') {
        if (to.width !== 1 || to.kind !== 'bit') bad();
        if (typeof c === 'boolean') e.constValue = c ? 1n : 0n;
        return to;
      }
      if (from.kind === 'enum' && from.underlying !== undefined) return to;
      return bad();
    }
    if (to.kind === 'bool') {
      if (from.kind === 'bit' && from.width === 1) {
        if (typeof c === 'bigint') e.constValue = c === 1n;
        return to;
      }
      if (from.kind === 'infint' && (c === 0n || c === 1n)) {
        e.constValue = c === 1n;
        return to;
      }
      return bad();
    }
    if (to.kind === 'enum' && to.underlying !== undefined && isInteger(from)) return to;
    if ((to.kind === 'struct' || to.kind === 'header') && from.kind === 'tuple') {
      this.coerce(e.expr, to, 'cast');
      return to;
    }
    return bad();
  }

  /**
   * Makes `e` (already typed) usable where `to` is expected: unsized integers take `to`'s width,
   * list expressions become the struct or header they initialise. Returns the final type.
   */
  protected coerce(e: Expression, to: P4Type, what: string, at: Span = e.span): P4Type {
    const from = e.type!;
    if (sameType(from, to) || to.kind === 'dontCare') return from;
    if (from.kind === 'infint' && (to.kind === 'bit' || to.kind === 'int')) {
      retype(e, to);
      return to;
    }
    if (from.kind === 'tuple' && e.kind === 'list') {
      const fields = to.kind === 'struct' || to.kind === 'header' ? to.fields.map((f) => f.type) : to.kind === 'tuple' ? to.elements : undefined;
      if (fields !== undefined) {
        if (fields.length !== e.elements.length) {
          this.fail(`cannot use a list of ${e.elements.length} elements as ${typeToString(to)} with ${fields.length} fields`, e.span);
        }
        e.elements.forEach((x, i) => this.coerce(x, fields[i]!, `element ${i + 1} of the list`));
        e.type = to;
        return to;
      }
    }
    if (from.kind === 'dontCare' && e.kind === 'default') return to;
    return this.fail(`cannot assign ${typeToString(from)} to ${typeToString(to)} ${what}`, at);
  }

  // ------------------------------------------------------------------ calls
  protected checkCall(call: CallExpr, ctx: Context): P4Type {
    const t = this.typeCall(call, ctx);
    call.type = t;
    return t;
  }

  protected typeCall(call: CallExpr, ctx: Context): P4Type {
    const callee = call.callee;
    if (callee.kind === 'member') {
      const bt = this.checkExpr(callee.expr, ctx, undefined);
      const m = callee.member;
      if ((bt.kind === 'header' || bt.kind === 'headerUnion') && (m === 'isValid' || m === 'setValid' || m === 'setInvalid')) {
        callee.resolution = { kind: 'method' };
        callee.type = VOID;
        if (call.args.length !== 0) this.fail(`${m}() takes no arguments`, call.span);
        if (m !== 'isValid') this.requireLvalue(callee.expr, ctx, `the target of ${m}()`);
        call.target = { kind: 'headerMethod', method: m };
        return m === 'isValid' ? BOOL : VOID;
      }
      if (bt.kind === 'stack' && (m === 'push_front' || m === 'pop_front')) {
        callee.resolution = { kind: 'method' };
        callee.type = VOID;
        if (call.args.length !== 1) this.fail(`${m}() takes one argument`, call.span);
        this.constInt(call.args[0]!, ctx.scope, `the count of ${m}()`);
        this.requireLvalue(callee.expr, ctx, `the target of ${m}()`);
        call.target = { kind: 'stackMethod', method: m };
        return VOID;
      }
      if (bt.kind === 'table') {
        if (m !== 'apply') this.fail(`a table has no method '${m}'`, callee.span);
        if (ctx.kind === 'action') this.fail(`tables cannot be applied inside actions`, call.span);
        if (call.args.length !== 0) this.fail(`apply() takes no arguments`, call.span);
        callee.resolution = { kind: 'method' };
        callee.type = VOID;
        call.target = { kind: 'tableApply', table: bt.decl };
        return { kind: 'applyResult', table: bt.decl };
      }
      if ((bt.kind === 'parser' || bt.kind === 'control') && m === 'apply') {
        const decl = bt.decl;
        if (decl.kind !== 'parser' && decl.kind !== 'control') this.fail(`cannot apply ${bt.name}`, call.span);
        callee.resolution = { kind: 'method' };
        callee.type = VOID;
        this.checkCallArgs(call, decl.params, new Map(), ctx, `${bt.name}.apply`);
        call.target = { kind: 'blockApply', decl };
        return VOID;
      }
      if (bt.kind === 'extern') {
        const methods = bt.decl.methods.filter((x) => x.name === m);
        if (methods.length === 0) this.fail(`${bt.name} has no method '${m}'`, callee.span, didYouMean(m, bt.decl.methods.map((x) => x.name)));
        const method = this.pickOverload(methods, call, `${bt.name}.${m}`);
        callee.resolution = { kind: 'method' };
        callee.type = VOID;
        const subst = this.externSubst(bt, call.span);
        const rt = this.checkGenericCall(call, method, subst, ctx, `${bt.name}.${m}`);
        call.target = { kind: 'externMethod', extern: bt.decl, method };
        return rt;
      }
      this.checkExpr(callee, ctx, undefined);
      return this.fail(`'${m}' is not a method of ${typeToString(bt)}`, callee.span);
    }
    if (callee.kind !== 'name') return this.fail(`this expression cannot be called`, call.span);
    const found = this.lookupName(callee, ctx.scope);
    const d = found[0]!;
    if (d.kind === 'action') {
      callee.decl = d;
      callee.type = { kind: 'action' };
      if (ctx.kind === 'parser') this.fail(`actions cannot be called from a parser`, call.span);
      call.target = { kind: 'action', decl: d };
      this.checkCallArgs(call, d.params, new Map(), ctx, d.name);
      return VOID;
    }
    if (d.kind === 'externFunction') {
      const fns = found.filter((x): x is ExternFunctionDecl => x.kind === 'externFunction');
      const fn = this.pickOverload(fns, call, callee.name);
      callee.decl = fn;
      callee.type = VOID;
      call.target = { kind: 'externFunction', decl: fn };
      return this.checkGenericCall(call, fn, new Map(), ctx, fn.name);
    }
    this.checkExpr(callee, ctx, undefined);
    return this.fail(`'${callee.name}' is not an action or function`, callee.span);
  }

  protected pickOverload<T extends MethodDecl | ExternFunctionDecl>(options: readonly T[], call: CallExpr, name: string): T {
    const fits = options.filter((o) => call.args.length <= o.params.length && call.args.length >= o.params.filter((p) => p.defaultValue === undefined).length);
    if (fits.length === 0) {
      const counts = [...new Set(options.map((o) => o.params.length))].join(' or ');
      this.fail(`'${name}' takes ${counts} arguments, got ${call.args.length}`, call.span);
    }
    return fits[0]!;
  }

  /** Checks a call of a generic function/method: binds type parameters from explicit type arguments and argument types. */
  protected checkGenericCall(call: CallExpr, fn: MethodDecl | ExternFunctionDecl, outer: Map<string, P4Type>, ctx: Context, name: string): P4Type {
    const subst = new Map(outer);
    const tscope = this.withTypeParams([...fn.typeParams, ...outer.keys()], fn.span, this.root);
    if (call.typeArgs.length > 0) {
      if (call.typeArgs.length !== fn.typeParams.length) this.fail(`'${name}' takes ${fn.typeParams.length} type arguments`, call.span);
      call.typeArgs.forEach((a, i) => subst.set(fn.typeParams[i]!, this.resolveType(a, ctx.scope)));
    }
    const paramTypes = fn.params.map((p) => this.resolveType(p.typeRef, tscope));
    // First pass: bind type variables from arguments of known type.
    call.args.forEach((arg, i) => {
      const pt = this.substitute(paramTypes[i]!, subst);
      const at = this.checkExpr(arg, ctx, pt.kind === 'typeVar' ? undefined : pt);
      if (pt.kind === 'typeVar' && !subst.has(pt.name) && at.kind !== 'infint') subst.set(pt.name, at);
    });
    call.args.forEach((arg, i) => {
      const param = fn.params[i]!;
      const pt = this.substitute(paramTypes[i]!, subst);
      if (pt.kind === 'typeVar') {
        this.fail(`cannot infer a width for argument '${param.name}' of '${name}'; give the integer a width (e.g. 32w${String(arg.constValue ?? 0)})`, arg.span);
      }
      this.checkArgumentTyped(arg, param, pt, ctx, name);
    });
    const rt = fn.kind === 'method' ? fn.returnType : fn.returnType;
    if (rt === undefined) return VOID;
    const r = this.substitute(this.resolveType(rt, tscope), subst);
    if (r.kind === 'typeVar') this.fail(`cannot infer the type '${r.name}' returned by '${name}'; give it as a type argument`, call.span);
    return r;
  }

  protected substitute(t: P4Type, subst: ReadonlyMap<string, P4Type>): P4Type {
    if (t.kind === 'typeVar') return subst.get(t.name) ?? t;
    if (t.kind === 'extern' || t.kind === 'parser' || t.kind === 'control' || t.kind === 'package') {
      return { ...t, typeArgs: t.typeArgs.map((a) => this.substitute(a, subst)) } as P4Type;
    }
    return t;
  }

  /** Checks the arguments of a non-generic call against parameters. */
  protected checkCallArgs(call: { readonly args: readonly Expression[]; readonly span: Span }, params: readonly Param[], subst: Map<string, P4Type>, ctx: Context, name: string): void {
    const required = params.filter((p) => p.defaultValue === undefined).length;
    if (call.args.length < required || call.args.length > params.length) {
      this.fail(`'${name}' takes ${params.length} arguments, got ${call.args.length}`, call.span);
    }
    call.args.forEach((arg, i) => {
      const param = params[i]!;
      const pt = this.substitute(param.type ?? this.resolveType(param.typeRef, this.withTypeParams([...subst.keys()], param.span, this.root)), subst);
      this.checkArgument(arg, param, pt, ctx, name);
    });
  }

  protected checkArgument(arg: Expression, param: Param, pt: P4Type, ctx: Context, name: string): void {
    this.checkExpr(arg, ctx, pt);
    this.checkArgumentTyped(arg, param, pt, ctx, name);
  }

  protected checkArgumentTyped(arg: Expression, param: Param, pt: P4Type, ctx: Context, name: string): void {
    if (arg.kind === 'default' && arg.dontCare) {
      if (param.direction !== 'out') this.fail(`'_' can only be passed to an out parameter`, arg.span);
      arg.type = pt;
      return;
    }
    this.coerce(arg, pt, `parameter '${param.name}' of '${name}'`);
    if (param.direction === 'out' || param.direction === 'inout') {
      this.requireLvalue(arg, ctx, `argument '${param.name}' of '${name}' (${param.direction})`);
    }
  }}

function elementExpectation(t: P4Type, i: number): P4Type | undefined {
  if (t.kind === 'struct' || t.kind === 'header') return t.fields[i]?.type;
  if (t.kind === 'tuple') return t.elements[i];
  return undefined;
}
