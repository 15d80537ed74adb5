/**
 * Compiles a checked block (parser or control) of a v1model program into JavaScript closures:
 * one closure per expression and statement, with names resolved to slots and field names to
 * indexes once, so that running a packet does no lookup by name. Semantics follow the P4_16
 * specification and BMv2 (behavioral-model docs/simple_switch.md; p4c's v1model.p4):
 * bit<W> arithmetic wraps, int<W> is two's complement, headers start invalid, metadata zero.
 *
 * The compiler is layered by responsibility, each layer a class extending the one before:
 * compile-operators.ts (operators, casts) ← compile-expressions.ts (values, lvalues) ←
 * compile-statements.ts (statements, blocks, select keysets) ← BlockCompiler here: calls,
 * actions and table applies, which need the whole compiler (externs compile their arguments
 * with it). compile-context.ts has the closure types and signals, compile-support.ts the
 * representation conversions; this module re-exports what the pipeline and externs use.
 */
import type { ActionDecl, CallExpr, ControlDecl, KeyElement, MemberExpr, ParserDecl, TableDecl } from '../../p4-frontend/ast.ts';
import { FunctionScope, controlPlaneName, type Exec, type Getter } from './compile-context.ts';
import { StatementCompiler } from './compile-statements.ts';
import { bigGetter, identity, numberGetter, typeOf, widthOf } from './compile-support.ts';
import { TargetError, spanLocation, unsupported } from './errors.ts';
import type { Frame } from './frame.ts';
import { HeaderValue, StackValue, cloneValue, defaultValue, numberWidth, type Scalar, type Value } from './values.ts';
import type { ActionInfo, LookupResult, Table } from './tables.ts';

export {
  ExitSignal, FunctionScope, ParserReject, controlPlaneName,
  type ApplyResult, type BlockEnvironment, type Exec, type Getter, type LValue, type Setter,
} from './compile-context.ts';
export { flattenValue } from './compile-support.ts';

export class BlockCompiler extends StatementCompiler {
  protected override call(e: CallExpr, fn: FunctionScope): Getter {
    const target = e.target;
    if (target === undefined) throw new TargetError('TARGET_RUNTIME', 'unresolved call', { location: spanLocation(e.span) });
    switch (target.kind) {
      case 'headerMethod': {
        const callee = e.callee as MemberExpr;
        const header = this.expr(callee.expr, fn);
        switch (target.method) {
          case 'isValid':
            return (f) => (header(f) as HeaderValue).valid;
          case 'setValid':
            return (f) => {
              (header(f) as HeaderValue).valid = true;
              return undefined;
            };
          case 'setInvalid':
            return (f) => {
              (header(f) as HeaderValue).valid = false;
              return undefined;
            };
        }
        break;
      }
      case 'stackMethod': {
        const callee = e.callee as MemberExpr;
        const stack = this.expr(callee.expr, fn);
        const count = e.args[0] === undefined ? () => 1n : this.expr(e.args[0], fn);
        const push = target.method === 'push_front';
        return (f) => {
          const s = stack(f) as StackValue;
          const n = Number(count(f) as Scalar);
          const els = s.elements;
          if (push) {
            for (let i = els.length - 1; i >= 0; i--) {
              if (i >= n) els[i]!.copyFrom(els[i - n]!);
              else els[i]!.valid = false;
            }
            s.nextIndex = Math.min(els.length, s.nextIndex + n);
          } else {
            for (let i = 0; i < els.length; i++) {
              if (i + n < els.length) els[i]!.copyFrom(els[i + n]!);
              else els[i]!.valid = false;
            }
            s.nextIndex = Math.max(0, s.nextIndex - n);
          }
          return undefined;
        };
      }
      case 'tableApply': {
        const table = this.env.tables.get(target.table);
        if (table === undefined) throw new TargetError('TARGET_RUNTIME', `table ${target.table.name} is not instantiated`);
        return this.tableApply(target.table, table, fn);
      }
      case 'action': {
        const info = this.env.actions.get(target.decl) ?? this.compileAction(target.decl);
        return this.directActionCall(info, target.decl, e, fn);
      }
      case 'externFunction':
        return this.env.runtime.compileFunctionCall(this, e, target.decl.name, target.decl.params, fn);
      case 'externMethod': {
        const callee = e.callee as MemberExpr;
        const receiver = this.expr(callee.expr, fn);
        return this.env.runtime.compileMethodCall(this, e, target.extern.name, target.method, receiver, fn);
      }
      case 'blockApply':
        throw unsupported('applying a sub-parser or sub-control', e.span);
    }
    throw unsupported('this call', e.span);
  }

  private directActionCall(info: ActionInfo, decl: ActionDecl, e: CallExpr, fn: FunctionScope): Getter {
    // Directionless and `in` arguments are values; `out`/`inout` are copied back after the body.
    const args = decl.params.map((p, i) => {
      const a = e.args[i];
      if (a === undefined) throw new TargetError('TARGET_RUNTIME', `missing argument '${p.name}'`, { location: spanLocation(e.span) });
      if (p.direction === 'out' || p.direction === 'inout') return { param: p, lv: this.lvalue(a, fn), get: undefined };
      // An argument takes the parameter's type (an unsized literal becomes a bit<W> value).
      return { param: p, lv: undefined, get: this.exprAs(a, p.type!, fn) };
    });
    const body = this.actionBodies.get(decl)!;
    const n = args.length;
    return (f) => {
      const local: Value[] = new Array(body.scope.size);
      for (let i = 0; i < n; i++) {
        const a = args[i]!;
        const slot = body.paramSlots[i]!;
        if (a.get !== undefined) local[slot] = cloneValue(a.get(f));
        else local[slot] = a.param.direction === 'inout' ? cloneValue(a.lv!.get(f)) : defaultValue(a.param.type!);
      }
      body.run({ block: f.block, local, packet: f.packet });
      for (let i = 0; i < n; i++) {
        const a = args[i]!;
        if (a.lv !== undefined) a.lv.set(f, local[body.paramSlots[i]!]);
      }
      return undefined;
    };
  }

  private readonly actionBodies = new Map<ActionDecl, { scope: FunctionScope; paramSlots: number[]; run: (f: Frame) => void }>();

  /** Compiles an action once; tables and direct calls share it. */
  compileAction(decl: ActionDecl): ActionInfo {
    const existing = this.env.actions.get(decl);
    if (existing !== undefined) return existing;
    const scope = new FunctionScope();
    const paramSlots = decl.params.map((p) => scope.allocate(p));
    // Register before compiling the body so that a recursive lookup finds it.
    const holder: { exec?: Exec } = {};
    const run = (f: Frame): void => {
      holder.exec!(f);
    };
    this.actionBodies.set(decl, { scope, paramSlots, run });
    // Actions do not recurse (P4_16 §6.8): one frame and locals array per action serve every run;
    // parameters are bound and variables initialised before they are read.
    const local: Value[] = new Array(scope.size);
    let frame: { block: Value[]; local: Value[]; packet: Frame['packet'] } | undefined;
    const controlPlane = decl.params.filter((p) => p.direction === 'none');
    // Control-plane arguments are bigints, checked against the parameter widths when the entry was
    // written: a bit<W ≤ 32> parameter takes the number, any other the bigint as it is.
    const binders = decl.params.map((p, i) => ({
      slot: paramSlots[i]!,
      type: p.type!,
      fromControlPlane: p.direction === 'none',
      conv: numberWidth(p.type) === undefined ? identity : (v: Value): Value => (typeof v === 'bigint' ? Number(v) : v),
    }));
    const info: ActionInfo = {
      name: controlPlaneName(this.env.topLevelActions.has(decl) ? '' : this.env.prefix, decl),
      decl,
      params: controlPlane.map((p) => ({ name: p.name, width: widthOf(p.type!) })),
      run: (f, args) => {
        let k = 0;
        for (const b of binders) local[b.slot] = b.fromControlPlane ? b.conv(args[k++]) : defaultValue(b.type);
        if (frame === undefined || frame.block !== f.block) frame = { block: f.block, local, packet: f.packet };
        else frame.packet = f.packet;
        holder.exec!(frame);
      },
    };
    this.env.actions.set(decl, info);
    holder.exec = this.block(decl.body, scope);
    return info;
  }

  private tableApply(decl: TableDecl, table: Table, fn: FunctionScope): Getter {
    const keyProp = decl.properties.find((p) => p.kind === 'key');
    // Key values as the table looks them up: numbers for fields of 32 bits or less, else bigints.
    const keys = (keyProp?.kind === 'key' ? keyProp.elements : []).map((k: KeyElement, i): ((f: Frame) => Scalar) => {
      const g = this.expr(k.expr, fn);
      const kt = typeOf(k.expr);
      const width = table.keys[i]!.width;
      if (table.numberKeys[i]!) {
        if (kt.kind === 'bool') return (f) => ((g(f) as boolean) ? 1 : 0);
        return numberGetter(g, kt, width);
      }
      if (kt.kind === 'bool') return (f) => ((g(f) as boolean) ? 1n : 0n);
      if (kt.kind === 'int') return (f) => BigInt.asUintN(kt.width, g(f) as bigint);
      return bigGetter(g, kt);
    });
    const runtime = this.env.runtime;
    const n = keys.length;
    // One key array per call site, refilled on every apply: lookups do not keep it.
    const key: Scalar[] = new Array(n);
    return (f) => {
      for (let i = 0; i < n; i++) key[i] = keys[i]!(f);
      const result: LookupResult = table.lookupScalars(key);
      if (result.entry !== undefined && table.hasDirectCounter) {
        result.entry.packets += 1n;
        result.entry.bytes += BigInt(f.packet.ingressLength);
      }
      if (f.packet.trace !== undefined) runtime.traceTable(f, table, key, result);
      result.call.action.run(f, result.call.args);
      return result as unknown as Value;
    };
  }
}

export type { ControlDecl, ParserDecl };
