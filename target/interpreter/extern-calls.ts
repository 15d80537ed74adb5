/**
 * Calls of v1model and core externs: packet_in/packet_out, hash, checksums, registers,
 * counters, digest, random, mark_to_drop, verify, log_msg, truncate. Each call is compiled into
 * a closure with its arguments' getters and lvalues; semantics follow BMv2 (p4-facts.md,
 * behavioral-model src/bm_sim/calculations.cpp and targets/simple_switch/primitives.cpp).
 */
import type { CallExpr, Expression, MethodDecl, Param } from '../../p4-frontend/ast.ts';
import type { P4Type } from '../../p4-frontend/types.ts';
import { computeHash, packFields, parseHashAlgorithm, v1modelHashOfBytes, type V1ModelHashAlgorithm } from '../../core/hash/bmv2-hashes.ts';
import { writeBits } from '../../core/bits.ts';
import { type BitWriter, readBits, readFields, readFieldsInto } from './bits.ts';
import { BlockCompiler, ParserReject, flattenValue, type FunctionScope, type Getter, type LValue } from './compile.ts';
import { TargetError, spanLocation, unsupported } from './errors.ts';
import { CounterArray, MeterArray, RegisterArray, Random, type DirectCounter } from './externs.ts';
import type { Frame } from './frame.ts';
import type { LookupResult, Table } from './tables.ts';
import {
  HeaderValue, StackValue, StructValue, TupleValue, headerBits, headerWidths, maskOf, normalise, type ExternObject,
  type Value,
} from './values.ts';

/** BMv2's drop port: egress_spec 511 (9 bits all ones). */
export const DROP_PORT = 511n;

const widthsCache = new WeakMap<object, number[]>();
function widthsOf(t: Extract<P4Type, { kind: 'header' }>): number[] {
  let w = widthsCache.get(t);
  if (w === undefined) {
    w = headerWidths(t);
    widthsCache.set(t, w);
  }
  return w;
}

function typeOf(e: { type?: P4Type | undefined; span: CallExpr['span'] }): P4Type {
  if (e.type === undefined) throw new TargetError('TARGET_RUNTIME', 'expression was not type-checked', { location: spanLocation(e.span) });
  return e.type;
}

function bitWidth(t: P4Type): number {
  if (t.kind === 'bit' || t.kind === 'int') return t.width;
  if (t.kind === 'bool') return 1;
  return 0;
}

function fieldIndexOf(t: StructValue['type'], name: string): number {
  return t.fields.findIndex((f) => f.name === name);
}

export interface ExternRuntimeOptions {
  readonly random: Random;
  /** Hash algorithm names of the program's HashAlgorithm enum, resolved at call time. */
  readonly log: (frame: Frame, line: string) => void;
}

/** Packet I/O objects bound to the parser's and deparser's `packet` parameters. */
export const PACKET_IN: ExternObject = { externName: 'packet_in' };
export const PACKET_OUT: ExternObject = { externName: 'packet_out' };

export class ExternRuntime {
  constructor(private readonly options: ExternRuntimeOptions) {}

  trace(f: Frame, line: string): void {
    if (f.packet.trace !== undefined) this.options.log(f, line);
  }

  traceTable(f: Frame, table: Table, key: readonly bigint[], result: LookupResult): void {
    if (f.packet.trace === undefined) return;
    const k = key.map((v, i) => `${table.keys[i]?.name ?? i}=0x${v.toString(16)}`).join(' ');
    const what = result.hit ? 'hit' : 'miss';
    const args = result.call.args.map((a) => `0x${a.toString(16)}`).join(', ');
    this.options.log(f, `table ${table.name} [${k}] ${what} -> ${result.call.action.name}(${args})`);
  }

  // ------------------------------------------------------------------ extern functions
  compileFunctionCall(c: BlockCompiler, e: CallExpr, name: string, params: readonly Param[], fn: FunctionScope): Getter {
    const arg = (i: number): Getter => {
      const a = e.args[i];
      if (a === undefined) throw new TargetError('TARGET_RUNTIME', `${name}: missing argument ${i + 1}`, { location: spanLocation(e.span) });
      return c.expr(a, fn);
    };
    const out = (i: number): LValue => c.lvalue(e.args[i]!, fn);
    const argType = (i: number): P4Type => typeOf(e.args[i]!);
    switch (name) {
      case 'mark_to_drop': {
        const std = arg(0);
        return (f) => {
          const s = std(f) as StructValue;
          s.fields[fieldIndexOf(s.type, 'egress_spec')] = DROP_PORT;
          const mcast = fieldIndexOf(s.type, 'mcast_grp');
          if (mcast >= 0) s.fields[mcast] = 0n;
          this.trace(f, 'mark_to_drop');
          return undefined;
        };
      }
      case 'verify': {
        const cond = arg(0);
        const err = arg(1);
        return (f) => {
          if (!(cond(f) as boolean)) throw new ParserReject(err(f) as string);
          return undefined;
        };
      }
      case 'hash': {
        const result = out(0);
        const algo = arg(1);
        const base = arg(2);
        const data = arg(3);
        const dataType = argType(3);
        const max = arg(4);
        const width = bitWidth(argType(0));
        const packed = packer(c, e.args[3]!, data, dataType, fn);
        const fixedAlgo = constantAlgorithm(e.args[1]!, e);
        return (f) => {
          const a = fixedAlgo ?? hashAlgorithm(algo(f), e);
          result.set(f, v1modelHashOfBytes(a, base(f) as bigint, packed(f), max(f) as bigint, width));
          return undefined;
        };
      }
      case 'verify_checksum':
      case 'verify_checksum_with_payload':
      case 'update_checksum':
      case 'update_checksum_with_payload': {
        // (condition, data, checksum, algorithm): verify compares, update writes the field.
        const cond = arg(0);
        const compute = this.compileChecksum(c, e, name.endsWith('_with_payload'), fn);
        const mask = maskOf(bitWidth(argType(2)));
        if (name.startsWith('update')) {
          const checksum = out(2);
          return (f) => {
            if (cond(f) as boolean) checksum.set(f, compute(f) & mask);
            return undefined;
          };
        }
        const checksum = arg(2);
        return (f) => {
          if (!(cond(f) as boolean)) return undefined;
          const computed = compute(f) & mask;
          if (computed !== (checksum(f) as bigint)) {
            const std = f.packet.standardMetadata;
            std.fields[fieldIndexOf(std.type, 'checksum_error')] = 1n;
            this.trace(f, `${name}: mismatch (computed 0x${computed.toString(16)})`);
          }
          return undefined;
        };
      }
      case 'digest': {
        const receiver = arg(0);
        const data = arg(1);
        const dataType = argType(1);
        const typeArg = e.typeArgs[0];
        const typeName =
          dataType.kind === 'struct' || dataType.kind === 'header'
            ? dataType.name
            : typeArg?.kind === 'namedType'
              ? typeArg.name
              : 'digest';
        return (f) => {
          const v = data(f);
          const members = membersOf(v, dataType);
          f.packet.digests.push({ typeName, receiver: receiver(f) as bigint, members });
          this.trace(f, `digest ${typeName}`);
          return undefined;
        };
      }
      case 'random': {
        const result = out(0);
        const lo = arg(1);
        const hi = arg(2);
        return (f) => {
          result.set(f, this.options.random.between(lo(f) as bigint, hi(f) as bigint));
          return undefined;
        };
      }
      case 'log_msg': {
        const msg = arg(0);
        const data = e.args.length > 1 ? arg(1) : undefined;
        const dataType = e.args.length > 1 ? argType(1) : undefined;
        return (f) => {
          if (f.packet.trace === undefined) return undefined;
          let text = msg(f) as string;
          if (data !== undefined && dataType !== undefined) {
            const values = flattenValue(data(f), dataType).map((x) => x.value.toString());
            let k = 0;
            text = text.replace(/\{\}/g, () => values[k++] ?? '{}');
          }
          this.options.log(f, `log_msg: ${text}`);
          return undefined;
        };
      }
      case 'truncate': {
        const length = arg(0);
        return (f) => {
          f.packet.truncateTo = Number(length(f) as bigint);
          return undefined;
        };
      }
      case 'assert':
      case 'assume': {
        const cond = arg(0);
        return (f) => {
          if (!(cond(f) as boolean)) {
            throw new TargetError('TARGET_RUNTIME', `${name} failed`, { location: spanLocation(e.span) });
          }
          return undefined;
        };
      }
      default:
        // clone, resubmit, recirculate: replication is outside the embedded target's scope.
        return () => {
          throw unsupported(`${name}()`, e.span);
        };
    }
  }

  /** The checksum of a verify/update call's data (argument 1) with its algorithm (argument 3). */
  private compileChecksum(c: BlockCompiler, e: CallExpr, withPayload: boolean, fn: FunctionScope): (f: Frame) => bigint {
    const dataExpr = e.args[1]!;
    const packed = packer(c, dataExpr, c.expr(dataExpr, fn), typeOf(dataExpr), fn);
    const algo = c.expr(e.args[3]!, fn);
    const fixedAlgo = constantAlgorithm(e.args[3]!, e);
    return (f) => this.checksum(f, fixedAlgo ?? hashAlgorithm(algo(f), e), packed(f), withPayload);
  }

  private checksum(f: Frame, algo: V1ModelHashAlgorithm, packed: Uint8Array, withPayload: boolean): bigint {
    let bytes = packed;
    if (withPayload) {
      const payload = f.packet.bytes.subarray(f.packet.cursorBits >> 3);
      const joined = new Uint8Array(bytes.length + payload.length);
      joined.set(bytes);
      joined.set(payload, bytes.length);
      bytes = joined;
    }
    return computeHash(algo, bytes);
  }

  // ------------------------------------------------------------------ extern methods
  compileMethodCall(c: BlockCompiler, e: CallExpr, externName: string, method: MethodDecl, receiver: Getter, fn: FunctionScope): Getter {
    const arg = (i: number): Getter => c.expr(e.args[i]!, fn);
    const out = (i: number): LValue => c.lvalue(e.args[i]!, fn);
    const m = method.name;
    switch (`${externName}.${m}`) {
      case 'packet_in.extract': {
        if (e.args.length > 1) throw unsupported('extract of a variable-size header', e.span);
        const target = e.args[0]!;
        const ht = typeOf(target);
        if (ht.kind !== 'header') throw unsupported(`extract into a ${ht.kind}`, e.span);
        const widths = widthsOf(ht);
        const bits = headerBits(ht);
        const isNext = target.kind === 'member' && target.resolution?.kind === 'stackProperty' && target.member === 'next';
        const stack = isNext && target.kind === 'member' ? c.expr(target.expr, fn) : undefined;
        const header = c.expr(target, fn);
        return (f) => {
          const p = f.packet;
          if (p.cursorBits + bits > p.bytes.length * 8) {
            this.trace(f, `extract ${ht.name}: packet too short`);
            throw new ParserReject('PacketTooShort');
          }
          const h = header(f) as HeaderValue;
          readFieldsInto(h.fields, p.bytes, p.cursorBits, widths);
          h.valid = true;
          p.cursorBits += bits;
          if (stack !== undefined) (stack(f) as StackValue).nextIndex++;
          this.trace(f, `extract ${ht.name}`);
          return undefined;
        };
      }
      case 'packet_in.lookahead': {
        const t = typeOf(e);
        if (t.kind === 'header') {
          const widths = widthsOf(t);
          const bits = headerBits(t);
          return (f) => {
            const p = f.packet;
            if (p.cursorBits + bits > p.bytes.length * 8) throw new ParserReject('PacketTooShort');
            return new HeaderValue(t, true, readFields(p.bytes, p.cursorBits, widths));
          };
        }
        const bits = bitWidth(t);
        return (f) => {
          const p = f.packet;
          if (p.cursorBits + bits > p.bytes.length * 8) throw new ParserReject('PacketTooShort');
          return normalise(readBits(p.bytes, p.cursorBits, bits), t);
        };
      }
      case 'packet_in.advance': {
        const n = arg(0);
        return (f) => {
          const p = f.packet;
          const bits = Number(n(f) as bigint);
          if (p.cursorBits + bits > p.bytes.length * 8) throw new ParserReject('PacketTooShort');
          p.cursorBits += bits;
          return undefined;
        };
      }
      case 'packet_in.length':
        return (f) => BigInt(f.packet.bytes.length);
      case 'packet_out.emit': {
        const value = arg(0);
        const t = typeOf(e.args[0]!);
        return (f) => {
          emitValue(f.packet.emitted, value(f), t);
          return undefined;
        };
      }
      case 'register.read': {
        const result = out(0);
        const index = arg(1);
        return (f) => {
          const r = receiver(f) as RegisterArray;
          result.set(f, r.read(index(f) as bigint));
          return undefined;
        };
      }
      case 'register.write': {
        const index = arg(0);
        const value = arg(1);
        return (f) => {
          const r = receiver(f) as RegisterArray;
          const v = value(f);
          r.write(index(f) as bigint, typeof v === 'boolean' ? (v ? 1n : 0n) : BigInt.asUintN(r.width, v as bigint));
          return undefined;
        };
      }
      case 'counter.count': {
        const index = arg(0);
        return (f) => {
          (receiver(f) as CounterArray).count(index(f) as bigint, f.packet.ingressLength);
          return undefined;
        };
      }
      case 'direct_counter.count':
        // Direct counters are counted by the table on a hit (BMv2 does the same).
        return (f) => {
          void (receiver(f) as DirectCounter);
          return undefined;
        };
      case 'meter.execute_meter': {
        const result = out(1);
        return (f) => {
          result.set(f, (receiver(f) as MeterArray).execute());
          return undefined;
        };
      }
      case 'direct_meter.read': {
        const result = out(0);
        return (f) => {
          result.set(f, 0n);
          return undefined;
        };
      }
      default:
        throw unsupported(`${externName}.${m}()`, e.span);
    }
  }
}

/** The algorithm when the argument is a constant enum member (it always is in practice). */
function constantAlgorithm(arg: Expression, e: CallExpr): V1ModelHashAlgorithm | undefined {
  return arg.kind === 'member' && arg.resolution?.kind === 'enumMember' ? hashAlgorithm(arg.member, e) : undefined;
}

/**
 * Packs hash or checksum data into bytes (BMv2's input packing, core/bits.ts). A list of scalars,
 * the usual case, is packed straight from its elements' getters without building a tuple.
 */
function packer(c: BlockCompiler, dataExpr: Expression, data: Getter, dataType: P4Type, fn: FunctionScope): (f: Frame) => Uint8Array {
  if (dataExpr.kind === 'list' && dataExpr.elements.every((x) => x.type !== undefined && (x.type.kind === 'bit' || x.type.kind === 'int' || x.type.kind === 'bool'))) {
    const parts = dataExpr.elements.map((x) => ({ get: c.expr(x, fn), width: bitWidth(x.type!), isBool: x.type!.kind === 'bool' }));
    const totalBits = parts.reduce((n, p) => n + p.width, 0);
    const size = Math.ceil(totalBits / 8);
    return (f) => {
      const out = new Uint8Array(size);
      let pos = 0;
      for (const p of parts) {
        const v = p.get(f);
        writeBits(out, pos, p.isBool ? (v ? 1n : 0n) : (v as bigint), p.width);
        pos += p.width;
      }
      return out;
    };
  }
  return (f) => packFields(flattenValue(data(f), dataType));
}

function hashAlgorithm(v: Value, e: CallExpr): V1ModelHashAlgorithm {
  try {
    return parseHashAlgorithm(v as string);
  } catch (err) {
    throw new TargetError('TARGET_UNSUPPORTED', `hash algorithm '${String(v)}' is not available`, {
      location: spanLocation(e.span),
      cause: err,
    });
  }
}

/** The digest's top-level members (nested aggregates flattened into their fields). */
function membersOf(v: Value, t: P4Type): { value: Value; width: number }[] {
  if (v instanceof StructValue) {
    return v.type.fields.flatMap((f, i) => {
      const fv = v.fields[i];
      if (fv instanceof StructValue || fv instanceof HeaderValue) return flattenValue(fv, f.type);
      return [{ value: fv, width: bitWidth(f.type) }];
    });
  }
  if (v instanceof TupleValue) return flattenValue(v, t);
  return flattenValue(v, t);
}

/** Writes a header (when valid), every field of a struct, or every valid element of a stack. */
export function emitValue(w: BitWriter, v: Value, t: P4Type): void {
  if (v instanceof HeaderValue) {
    if (!v.valid) return;
    const widths = widthsOf(v.type);
    for (let i = 0; i < widths.length; i++) w.write(BigInt.asUintN(widths[i]!, v.fields[i]!), widths[i]!);
  } else if (v instanceof StructValue) {
    v.type.fields.forEach((f, i) => emitValue(w, v.fields[i], f.type));
  } else if (v instanceof StackValue) {
    for (const h of v.elements) emitValue(w, h, h.type);
  } else if (typeof v === 'bigint') {
    w.write(BigInt.asUintN(bitWidth(t), v), bitWidth(t));
  }
}

export { CounterArray, MeterArray, RegisterArray, Random };
