/**
 * Compiles expressions into getters and lvalues: literals and constants, names resolved to
 * local or block slots, field and stack accesses, slices, list expressions; operators come from
 * compile-operators.ts, calls from the subclass (compile-calls.ts).
 */
import type { CallExpr, Expression, MemberExpr, NameExpr } from '../../p4-frontend/ast.ts';
import type { P4Type } from '../../p4-frontend/types.ts';
import {
  ParserReject, type ApplyResult, type BlockEnvironment, type FunctionScope, type Getter, type LValue,
} from './compile-context.ts';
import { OperatorCompiler } from './compile-operators.ts';
import { assignable, fieldIndex, identity, sliceReader, typeOf, widthOf } from './compile-support.ts';
import { TargetError, spanLocation, unsupported } from './errors.ts';
import type { Frame } from './frame.ts';
import {
  HeaderValue, StackValue, StructValue, TupleValue, cloneValue, coercerFor, maskOf, numberWidth, numberWrapper,
  represent, toBigint, type Scalar, type Value,
} from './values.ts';

export abstract class ExpressionCompiler extends OperatorCompiler {
  constructor(protected readonly env: BlockEnvironment) {
    super();
  }

  protected abstract call(e: CallExpr, fn: FunctionScope): Getter;

  override expr(e: Expression, fn: FunctionScope): Getter {
    const t = e.type;
    if (e.constValue !== undefined && e.kind !== 'call') {
      const c: Value = typeof e.constValue === 'bigint' ? represent(e.constValue, t) : e.constValue;
      return () => c;
    }
    switch (e.kind) {
      case 'int': {
        const c = represent(e.value, t);
        return () => c;
      }
      case 'bool': {
        const c = e.value;
        return () => c;
      }
      case 'string': {
        const c = e.value;
        return () => c;
      }
      case 'name':
        return this.nameGetter(e, fn);
      case 'member':
        return this.memberGetter(e, fn);
      case 'index': {
        const base = this.expr(e.expr, fn);
        const index = this.expr(e.index, fn);
        return (f) => {
          const s = base(f) as StackValue;
          const i = Number(index(f) as Scalar);
          const h = s.elements[i];
          if (h === undefined) throw new ParserReject('StackOutOfBounds');
          return h;
        };
      }
      case 'slice':
        return sliceReader(this.expr(e.expr, fn), typeOf(e.expr), e.loValue ?? 0, e.hiValue ?? 0);
      case 'call':
        return this.call(e, fn);
      case 'unary':
        return this.unary(e.op, e.operand, typeOf(e), fn);
      case 'binary':
        return this.binary(e, fn);
      case 'ternary': {
        const c = this.expr(e.cond, fn);
        const a = this.exprAs(e.then, typeOf(e), fn);
        const b = this.exprAs(e.else, typeOf(e), fn);
        return (f) => (c(f) ? a(f) : b(f));
      }
      case 'cast':
        return this.cast(this.expr(e.expr, fn), typeOf(e.expr), typeOf(e));
      case 'list': {
        const items = e.elements.map((x) => this.expr(x, fn));
        const types = e.elements.map(typeOf);
        const lt = typeOf(e);
        if (lt.kind === 'struct' || lt.kind === 'headerUnion') {
          const conv = lt.fields.map((x) => coercerFor(x.type));
          return (f) => new StructValue(lt, items.map((g, i) => (conv[i] ?? identity)(cloneValue(g(f)))));
        }
        if (lt.kind === 'header') {
          const conv = lt.fields.map((x) => coercerFor(x.type));
          return (f) => new HeaderValue(lt, true, items.map((g, i) => (conv[i] ?? identity)(g(f)) as Scalar));
        }
        return (f) => new TupleValue(types, items.map((g) => g(f)));
      }
      case 'typeName':
      case 'mask':
      case 'range':
      case 'default':
        throw new TargetError('TARGET_RUNTIME', `a ${e.kind} expression has no value here`, { location: spanLocation(e.span) });
    }
  }

  /**
   * `e` in the representation of `t` (a number or a bigint): most expressions already have it;
   * an unsized literal or an operand of another type is converted.
   */
  exprAs(e: Expression, t: P4Type, fn: FunctionScope): Getter {
    if (typeof e.constValue === 'bigint' && e.kind !== 'call') {
      const c = represent(e.constValue, t);
      return () => c;
    }
    const et = typeOf(e);
    const g = this.expr(e, fn);
    const isInteger = (x: P4Type): boolean => x.kind === 'bit' || x.kind === 'int' || x.kind === 'infint' || (x.kind === 'enum' && x.underlying !== undefined);
    if (!isInteger(t) || !isInteger(et)) return g;
    if ((numberWidth(et) === undefined) === (numberWidth(t) === undefined)) return g;
    const conv = coercerFor(t);
    return (f) => conv(g(f));
  }

  private nameGetter(e: NameExpr, fn: FunctionScope): Getter {
    const d = e.decl;
    if (d === undefined) throw new TargetError('TARGET_RUNTIME', `unresolved name '${e.name}'`, { location: spanLocation(e.span) });
    const local = fn.slots.get(d);
    if (local !== undefined) return (f) => f.local[local];
    const block = this.env.blockSlots.get(d);
    if (block !== undefined) return (f) => f.block[block];
    if (d.kind === 'const') {
      const v = d.constValue;
      if (v === undefined) throw new TargetError('TARGET_RUNTIME', `constant '${d.name}' has no value`, { location: spanLocation(e.span) });
      const c: Value = typeof v === 'bigint' ? represent(v, d.type) : v;
      return () => c;
    }
    const ext = this.env.externs.get(d);
    if (ext !== undefined) return () => ext;
    throw unsupported(`the name '${e.name}' (${d.kind}) used as a value`, e.span);
  }

  private memberGetter(e: MemberExpr, fn: FunctionScope): Getter {
    const r = e.resolution;
    switch (r?.kind) {
      case 'field': {
        const base = this.expr(e.expr, fn);
        const bt = typeOf(e.expr);
        const i = fieldIndex(bt, e.member, e.span);
        // The static type says which class the base is: no test per access.
        if (bt.kind === 'header') return (f) => (base(f) as HeaderValue).fields[i];
        return (f) => (base(f) as StructValue).fields[i];
      }
      case 'enumMember': {
        const t = typeOf(e);
        if (t.kind === 'enum' && t.underlying !== undefined) {
          const member = t.decl.members.find((m) => m.name === e.member);
          const v = member?.value?.constValue;
          const c = represent(typeof v === 'bigint' ? v : 0n, t.underlying);
          return () => c;
        }
        const name = e.member;
        return () => name;
      }
      case 'errorMember': {
        const name = e.member;
        return () => name;
      }
      case 'applyResult': {
        const base = this.expr(e.expr, fn);
        if (r.field === 'hit') return (f) => (base(f) as unknown as ApplyResult).hit;
        if (r.field === 'miss') return (f) => !(base(f) as unknown as ApplyResult).hit;
        return (f) => (base(f) as unknown as ApplyResult).call.action.decl as unknown as Value;
      }
      case 'stackProperty': {
        const base = this.expr(e.expr, fn);
        const asType = coercerFor(typeOf(e));
        switch (r.property) {
          case 'size':
            return (f) => asType(BigInt((base(f) as StackValue).elements.length));
          case 'lastIndex':
            return (f) => asType(BigInt((base(f) as StackValue).nextIndex - 1) & maskOf(32));
          case 'next':
            return (f) => {
              const s = base(f) as StackValue;
              const h = s.elements[s.nextIndex];
              if (h === undefined) throw new ParserReject('StackOutOfBounds');
              return h;
            };
          case 'last':
            return (f) => {
              const s = base(f) as StackValue;
              const h = s.elements[s.nextIndex - 1];
              if (h === undefined) throw new ParserReject('StackOutOfBounds');
              return h;
            };
        }
        break;
      }
      default:
        break;
    }
    throw unsupported(`the member access '.${e.member}'`, e.span);
  }

  lvalue(e: Expression, fn: FunctionScope): LValue {
    const t = e.type;
    switch (e.kind) {
      case 'name': {
        const d = e.decl;
        if (d === undefined) throw new TargetError('TARGET_RUNTIME', `unresolved name '${e.name}'`, { location: spanLocation(e.span) });
        const wrap = coercerFor(t);
        const local = fn.slots.get(d);
        if (local !== undefined) {
          return { get: (f) => f.local[local], set: (f, v) => void (f.local[local] = assignable(f.local[local], v, wrap)) };
        }
        const block = this.env.blockSlots.get(d);
        if (block !== undefined) {
          return { get: (f) => f.block[block], set: (f, v) => void (f.block[block] = assignable(f.block[block], v, wrap)) };
        }
        throw unsupported(`assignment to '${e.name}'`, e.span);
      }
      case 'member': {
        if (e.resolution?.kind === 'stackProperty') {
          const get = this.memberGetter(e, fn);
          return { get, set: (f, v) => (get(f) as HeaderValue).copyFrom(v as HeaderValue) };
        }
        const base = this.expr(e.expr, fn);
        const bt = typeOf(e.expr);
        const i = fieldIndex(bt, e.member, e.span);
        const wrap = coercerFor(t);
        // Header fields hold integers only: a boolean is stored as 1/0 in the field's representation.
        const one = represent(1n, numberWidth(t) === undefined ? undefined : t);
        const zero = represent(0n, numberWidth(t) === undefined ? undefined : t);
        const get = (f: Frame): Value => {
          const o = base(f);
          return o instanceof HeaderValue ? o.fields[i] : (o as StructValue).fields[i];
        };
        if (bt.kind === 'header') {
          return {
            get: (f) => (base(f) as HeaderValue).fields[i],
            set: (f, v) => {
              (base(f) as HeaderValue).fields[i] = (typeof v === 'boolean' ? (v ? one : zero) : wrap(v)) as Scalar;
            },
          };
        }
        return {
          get,
          set: (f, v) => {
            const o = base(f);
            if (o instanceof HeaderValue) o.fields[i] = (typeof v === 'boolean' ? (v ? one : zero) : wrap(v)) as Scalar;
            else {
              const s = o as StructValue;
              s.fields[i] = assignable(s.fields[i], v, wrap);
            }
          },
        };
      }
      case 'index': {
        const get = this.expr(e, fn);
        return { get, set: (f, v) => (get(f) as HeaderValue).copyFrom(v as HeaderValue) };
      }
      case 'slice': {
        const base = this.lvalue(e.expr, fn);
        const loValue = e.loValue ?? 0;
        const hiValue = e.hiValue ?? 0;
        const bt = typeOf(e.expr);
        const bw = widthOf(bt);
        const get = sliceReader(base.get, bt, loValue, hiValue);
        const sliceWidth = hiValue - loValue + 1;
        if (numberWidth(bt) !== undefined) {
          const field = sliceWidth >= 32 ? 0xffffffff : (2 ** sliceWidth - 1) * 2 ** loValue;
          const sliceWrap = numberWrapper(sliceWidth);
          return {
            get,
            set: (f, v) => {
              const old = base.get(f) as number;
              const nv = sliceWrap(typeof v === 'number' ? v : Number(BigInt.asUintN(sliceWidth, toBigint(v))));
              base.set(f, ((old & ~field) | (nv * 2 ** loValue)) >>> 0);
            },
          };
        }
        const lo = BigInt(loValue);
        const mask = maskOf(sliceWidth);
        return {
          get,
          set: (f, v) => {
            const old = BigInt.asUintN(bw, base.get(f) as bigint);
            base.set(f, (old & ~(mask << lo)) | ((toBigint(v) & mask) << lo));
          },
        };
      }
      default:
        throw unsupported(`assignment to a ${e.kind} expression`, e.span);
    }
  }

}
