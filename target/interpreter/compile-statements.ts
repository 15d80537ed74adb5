/**
 * Compiles statements and blocks into closures that return a Flow code (frame.ts): assignments
 * (a direct store where the value is already in the field's representation), calls, if and
 * switch, local variables and constants, return and exit; and parser select keysets into
 * predicates. Expressions come from compile-expressions.ts, calls from BlockCompiler (compile.ts).
 */
import type { BlockStmt, Expression, NameExpr, SelectCase, Statement } from '../../p4-frontend/ast.ts';
import type { P4Type } from '../../p4-frontend/types.ts';
import { ExitSignal, type Exec, type FunctionScope } from './compile-context.ts';
import { ExpressionCompiler } from './compile-expressions.ts';
import { assignable, fieldIndex, typeOf } from './compile-support.ts';
import { unsupported } from './errors.ts';
import { Flow } from './frame.ts';
import {
  HeaderValue, StructValue, coercerFor, defaultValue, numberWidth, represent, toBigint, type Scalar, type Value,
} from './values.ts';

export abstract class StatementCompiler extends ExpressionCompiler {
  block(b: BlockStmt, fn: FunctionScope): Exec {
    return this.sequence(b.statements, fn);
  }

  sequence(statements: readonly Statement[], fn: FunctionScope): Exec {
    const steps = statements.map((s) => this.statement(s, fn));
    if (steps.length === 1) return steps[0]!;
    return (f) => {
      for (const step of steps) {
        const r = step(f);
        if (r !== Flow.Normal) return r;
      }
      return Flow.Normal;
    };
  }

  statement(s: Statement, fn: FunctionScope): Exec {
    switch (s.kind) {
      case 'assign': {
        const direct = this.directAssignment(s.left, s.right, fn);
        if (direct !== undefined) return direct;
        const lv = this.lvalue(s.left, fn);
        const rv = this.expr(s.right, fn);
        return (f) => {
          lv.set(f, rv(f));
          return Flow.Normal;
        };
      }
      case 'callStmt': {
        const c = this.expr(s.call, fn);
        return (f) => {
          c(f);
          return Flow.Normal;
        };
      }
      case 'if': {
        const c = this.expr(s.cond, fn);
        const a = this.statement(s.then, fn);
        const b = s.else === undefined ? undefined : this.statement(s.else, fn);
        return b === undefined ? (f) => (c(f) ? a(f) : Flow.Normal) : (f) => (c(f) ? a(f) : b(f));
      }
      case 'block':
        return this.block(s, fn);
      case 'switch':
        return this.switchStatement(s, fn);
      case 'return':
        return () => Flow.Return;
      case 'exit':
        return () => {
          throw new ExitSignal();
        };
      case 'empty':
        return () => Flow.Normal;
      case 'var': {
        const slot = fn.allocate(s);
        const t = s.type!;
        const init = s.init === undefined ? undefined : this.expr(s.init, fn);
        const wrap = coercerFor(t);
        return (f) => {
          f.local[slot] = init === undefined ? defaultValue(t) : assignable(undefined, init(f), wrap);
          return Flow.Normal;
        };
      }
      case 'const': {
        const slot = fn.allocate(s);
        const v = s.constValue;
        const c: Value = typeof v === 'bigint' ? represent(v, s.type) : v;
        return (f) => {
          f.local[slot] = c;
          return Flow.Normal;
        };
      }
      case 'instantiation':
        throw unsupported('an instantiation inside a block', s.span);
    }
  }

  /**
   * An integer assignment to a field whose right side is already in the field's representation
   * and range (a constant, or a number no wider than the field, or a bigint of the same type):
   * stored as is, without the conversion a general assignment does.
   */
  private directAssignment(left: Expression, right: Expression, fn: FunctionScope): Exec | undefined {
    if (left.kind !== 'member' || left.resolution?.kind !== 'field') return undefined;
    const t = typeOf(left);
    const rt = typeOf(right);
    const nw = numberWidth(t);
    const rnw = numberWidth(rt);
    const isConstant = typeof right.constValue === 'bigint' && right.kind !== 'call';
    const inRange =
      (isConstant && (nw !== undefined || t.kind === 'bit' || t.kind === 'int')) ||
      (nw !== undefined && rnw !== undefined && rnw <= nw) ||
      (nw === undefined && (t.kind === 'bit' || t.kind === 'int') && rt.kind === t.kind && rt.width === t.width);
    if (!inRange) return undefined;
    const bt = typeOf(left.expr);
    if (bt.kind !== 'header' && bt.kind !== 'struct') return undefined;
    const base = this.expr(left.expr, fn);
    const i = fieldIndex(bt, left.member, left.span);
    const rv = this.exprAs(right, t, fn);
    return (f) => {
      (base(f) as HeaderValue | StructValue).fields[i] = rv(f) as Scalar;
      return Flow.Normal;
    };
  }

  private switchStatement(s: Extract<Statement, { kind: 'switch' }>, fn: FunctionScope): Exec {
    const subject = this.expr(s.expr, fn);
    const st = typeOf(s.expr);
    // Fall-through labels (`a: b: {...}`) share the next body.
    const cases: { match: (v: Value) => boolean; body: Exec }[] = [];
    let pending: ((v: Value) => boolean)[] = [];
    for (const c of s.cases) {
      let m: (v: Value) => boolean;
      if (c.label.kind === 'default') m = () => true;
      else if (st.kind === 'actionEnum') {
        const decl = (c.label as NameExpr).decl;
        m = (v) => v === (decl as unknown as Value);
      } else {
        const label = this.expr(c.label, fn);
        const dummy = { block: [], local: [], packet: undefined as never };
        const raw = label(dummy);
        const lv = typeof raw === 'bigint' || typeof raw === 'number' ? represent(raw, st) : raw;
        m = (v) => v === lv;
      }
      pending.push(m);
      if (c.body !== undefined) {
        const ms = pending;
        cases.push({ match: (v) => ms.some((x) => x(v)), body: this.block(c.body, fn) });
        pending = [];
      }
    }
    return (f) => {
      const v = subject(f);
      for (const c of cases) if (c.match(v)) return c.body(f);
      return Flow.Normal;
    };
  }

  // ================================================================== parser selects
  /** A select case's keyset as a predicate over the select values. */
  keyset(c: SelectCase, selectTypes: readonly P4Type[], fn: FunctionScope): (values: readonly Value[]) => boolean {
    const k = c.keyset;
    if (k.kind === 'default') return () => true;
    const parts = k.kind === 'list' && selectTypes.length > 1 ? k.elements : [k];
    const preds = parts.map((p, i) => this.keysetElement(p, selectTypes[i] ?? typeOf(p), fn));
    if (preds.length === 1) {
      const p0 = preds[0]!;
      return (values) => p0(values[0]);
    }
    const n = preds.length;
    return (values) => {
      for (let i = 0; i < n; i++) if (!preds[i]!(values[i])) return false;
      return true;
    };
  }

  private keysetElement(e: Expression, t: P4Type, fn: FunctionScope): (v: Value) => boolean {
    const dummy = { block: [], local: [], packet: undefined as never };
    const constant = (x: Expression): Value => represent(toBigint(this.expr(x, fn)(dummy)), t);
    switch (e.kind) {
      case 'default':
        return () => true;
      case 'mask': {
        if (numberWidth(t) !== undefined) {
          const mask = constant(e.mask) as number;
          const value = ((constant(e.value) as number) & mask) >>> 0;
          return (v) => (((v as number) & mask) >>> 0) === value;
        }
        const mask = toBigint(constant(e.mask));
        const value = toBigint(constant(e.value)) & mask;
        return (v) => ((v as bigint) & mask) === value;
      }
      case 'range': {
        const lo = constant(e.lo) as Scalar;
        const hi = constant(e.hi) as Scalar;
        return (v) => (v as Scalar) >= lo && (v as Scalar) <= hi;
      }
      default: {
        const g = this.expr(e, fn);
        const c = g(dummy);
        if (typeof c === 'bigint' || typeof c === 'number') {
          const value = represent(c, t);
          return (v) => v === value;
        }
        return (v) => v === c;
      }
    }
  }
}
