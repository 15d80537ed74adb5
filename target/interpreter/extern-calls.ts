/**
 * Calls of v1model and core externs: packet_in/packet_out, hash, checksums, registers,
 * counters, digest, random, mark_to_drop, verify, log_msg, truncate. Each call is compiled into
 * a closure with its arguments' getters and lvalues; semantics follow BMv2 (p4-facts.md,
 * behavioral-model src/bm_sim/calculations.cpp and targets/simple_switch/primitives.cpp).
 */
import type { CallExpr, Expression, MethodDecl, Param } from '../../p4-frontend/ast.ts';
import type { P4Type } from '../../p4-frontend/types.ts';
import {
  computeHash, crc16, crc32, csum16, packFields, parseHashAlgorithm, v1modelHashOfBytes, xor16, type V1ModelHashAlgorithm,
} from '../../core/hash/bmv2-hashes.ts';
import { writeBits, writeNumberBits } from '../../core/bits.ts';
import { type BitWriter, readBits, readFields, readFieldsInto, readNumberBits } from './bits.ts';
import { BlockCompiler, ParserReject, flattenValue, type FunctionScope, type Getter, type LValue } from './compile.ts';
import { TargetError, spanLocation, unsupported } from './errors.ts';
import { CounterArray, MeterArray, RegisterArray, Random, type DirectCounter } from './externs.ts';
import type { Frame } from './frame.ts';
import type { LookupResult, Table } from './tables.ts';
import {
  HeaderValue, StackValue, StructValue, TupleValue, coercerFor, headerBits, headerWidths, maskOf, normalise, numberWidth,
  represent, toBigint, type ExternObject, type Scalar, type Value,
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

const numericCache = new WeakMap<object, boolean[]>();
/** Which fields of a header type hold numbers (values.ts). */
function numericFieldsOf(t: Extract<P4Type, { kind: 'header' }>): boolean[] {
  let n = numericCache.get(t);
  if (n === undefined) {
    n = t.fields.map((f) => numberWidth(f.type) !== undefined);
    numericCache.set(t, n);
  }
  return n;
}

const signedCache = new WeakMap<object, boolean[]>();
/** Which fields of a header type may hold negative bigints (int<W>, or an enum over one). */
function signedFieldsOf(t: Extract<P4Type, { kind: 'header' }>): boolean[] {
  let n = signedCache.get(t);
  if (n === undefined) {
    n = t.fields.map((f) => f.type.kind === 'int' || (f.type.kind === 'enum' && f.type.underlying?.kind === 'int'));
    signedCache.set(t, n);
  }
  return n;
}

/** The unreduced hash as a number, for every algorithm but identity (up to 64 bits). */
function numberHash(algo: V1ModelHashAlgorithm): ((bytes: Uint8Array) => number) | undefined {
  switch (algo) {
    case 'crc32':
    case 'crc32_custom':
      return (b) => crc32(b);
    case 'crc16':
    case 'crc16_custom':
      return (b) => crc16(b);
    case 'csum16':
      return csum16;
    case 'xor16':
      return xor16;
    case 'identity':
      return undefined;
  }
}

/** A bigint or number below 2^53 as a number, else undefined. */
function smallNumber(v: Value): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return v >= 0n && v <= 9007199254740991n ? Number(v) : undefined;
  return undefined;
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

  traceTable(f: Frame, table: Table, key: readonly Scalar[], result: LookupResult): void {
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
        const st = argType(0);
        if (st.kind !== 'struct') throw unsupported('mark_to_drop of a non-struct', e.span);
        const egressSpec = fieldIndexOf(st, 'egress_spec');
        const mcast = fieldIndexOf(st, 'mcast_grp');
        const drop = represent(DROP_PORT, st.fields[egressSpec]?.type);
        const zero = mcast >= 0 ? represent(0n, st.fields[mcast]!.type) : undefined;
        return (f) => {
          const s = std(f) as StructValue;
          s.fields[egressSpec] = drop;
          if (mcast >= 0) s.fields[mcast] = zero;
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
        const fixedNumberHash = fixedAlgo === undefined ? undefined : numberHash(fixedAlgo);
        const resultIsNumber = numberWidth(argType(0)) !== undefined;
        const wrapResult = resultIsNumber ? 2 ** width : 0;
        return (f) => {
          const a = fixedAlgo ?? hashAlgorithm(algo(f), e);
          const hashNumber = fixedAlgo !== undefined ? fixedNumberHash : numberHash(a);
          const b = smallNumber(base(f));
          const m = smallNumber(max(f));
          // The common case in numbers: a hash below 2^32, base and max below 2^53.
          if (hashNumber !== undefined && b !== undefined && m !== undefined && b + m <= Number.MAX_SAFE_INTEGER && resultIsNumber) {
            const h = hashNumber(packed(f));
            const raw = m >= 1 ? b + (h % m) : b;
            result.set(f, raw % wrapResult);
            return undefined;
          }
          result.set(f, v1modelHashOfBytes(a, toBigint(base(f)), packed(f), toBigint(max(f)), width));
          return undefined;
        };
      }
      case 'verify_checksum':
      case 'verify_checksum_with_payload':
      case 'update_checksum':
      case 'update_checksum_with_payload': {
        // (condition, data, checksum, algorithm): verify compares, update writes the field.
        const cond = arg(0);
        const checksumWidth = bitWidth(argType(2));
        const numberCompute = numberWidth(argType(2)) === undefined ? undefined : this.compileNumberChecksum(c, e, name.endsWith('_with_payload'), fn);
        if (numberCompute !== undefined) {
          const modulus = 2 ** checksumWidth;
          if (name.startsWith('update')) {
            const checksum = out(2);
            return (f) => {
              if (cond(f) as boolean) checksum.set(f, numberCompute(f) % modulus);
              return undefined;
            };
          }
          const checksum = arg(2);
          return (f) => {
            if (!(cond(f) as boolean)) return undefined;
            const computed = numberCompute(f) % modulus;
            if (computed !== checksum(f)) this.checksumMismatch(f, name, computed);
            return undefined;
          };
        }
        const compute = this.compileChecksum(c, e, name.endsWith('_with_payload'), fn);
        const mask = maskOf(checksumWidth);
        const asField = coercerFor(argType(2));
        if (name.startsWith('update')) {
          const checksum = out(2);
          return (f) => {
            if (cond(f) as boolean) checksum.set(f, asField(compute(f) & mask));
            return undefined;
          };
        }
        const checksum = arg(2);
        return (f) => {
          if (!(cond(f) as boolean)) return undefined;
          const computed = asField(compute(f) & mask);
          if (computed !== checksum(f)) this.checksumMismatch(f, name, computed as Scalar);
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
          f.packet.digests.push({ typeName, receiver: toBigint(receiver(f)), members });
          this.trace(f, `digest ${typeName}`);
          return undefined;
        };
      }
      case 'random': {
        const result = out(0);
        const lo = arg(1);
        const hi = arg(2);
        return (f) => {
          result.set(f, this.options.random.between(toBigint(lo(f)), toBigint(hi(f))));
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
          f.packet.truncateTo = Number(length(f) as Scalar);
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

  /** The same checksum as a number, when the algorithm's value fits one (not identity). */
  private compileNumberChecksum(c: BlockCompiler, e: CallExpr, withPayload: boolean, fn: FunctionScope): ((f: Frame) => number) | undefined {
    const fixedAlgo = constantAlgorithm(e.args[3]!, e);
    const hash = fixedAlgo === undefined ? undefined : numberHash(fixedAlgo);
    if (hash === undefined || withPayload) return undefined;
    const dataExpr = e.args[1]!;
    const packed = packer(c, dataExpr, c.expr(dataExpr, fn), typeOf(dataExpr), fn);
    return (f) => hash(packed(f));
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

  /** A verify_checksum that failed: BMv2 sets standard_metadata.checksum_error. */
  private checksumMismatch(f: Frame, name: string, computed: Scalar): void {
    const std = f.packet.standardMetadata;
    const at = fieldIndexOf(std.type, 'checksum_error');
    std.fields[at] = represent(1n, std.type.fields[at]?.type);
    this.trace(f, `${name}: mismatch (computed 0x${computed.toString(16)})`);
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
        const numeric = numericFieldsOf(ht);
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
          readFieldsInto(h.fields, p.bytes, p.cursorBits, widths, numeric);
          h.valid = true;
          p.cursorBits += bits;
          if (stack !== undefined) (stack(f) as StackValue).nextIndex++;
          if (p.trace !== undefined) this.trace(f, `extract ${ht.name}`);
          return undefined;
        };
      }
      case 'packet_in.lookahead': {
        const t = typeOf(e);
        if (t.kind === 'header') {
          const widths = widthsOf(t);
          const numeric = numericFieldsOf(t);
          const bits = headerBits(t);
          return (f) => {
            const p = f.packet;
            if (p.cursorBits + bits > p.bytes.length * 8) throw new ParserReject('PacketTooShort');
            return new HeaderValue(t, true, readFields(p.bytes, p.cursorBits, widths, numeric));
          };
        }
        const bits = bitWidth(t);
        if (numberWidth(t) !== undefined) {
          return (f) => {
            const p = f.packet;
            if (p.cursorBits + bits > p.bytes.length * 8) throw new ParserReject('PacketTooShort');
            return bits === 0 ? 0 : readNumberBits(p.bytes, p.cursorBits, bits);
          };
        }
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
          const bits = Number(n(f) as Scalar);
          if (p.cursorBits + bits > p.bytes.length * 8) throw new ParserReject('PacketTooShort');
          p.cursorBits += bits;
          return undefined;
        };
      }
      case 'packet_in.length': {
        const asType = coercerFor(typeOf(e));
        return (f) => asType(f.packet.bytes.length);
      }
      case 'packet_out.emit': {
        const value = arg(0);
        const t = typeOf(e.args[0]!);
        if (t.kind === 'header') {
          // The usual case, prepared once: the header's widths and which fields are signed.
          const widths = widthsOf(t);
          const signed = signedFieldsOf(t);
          return (f) => {
            const h = value(f) as HeaderValue;
            if (h.valid) emitHeader(f.packet.emitted, h, widths, signed);
            return undefined;
          };
        }
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
          const i = index(f) as Scalar;
          result.set(f, typeof i === 'number' ? r.readAt(i) : r.read(i));
          return undefined;
        };
      }
      case 'register.write': {
        const index = arg(0);
        const value = arg(1);
        const vt = typeOf(e.args[1]!);
        // A bit<W> bigint of the register's own width needs no reduction.
        const register = receiverExtern(e);
        const inRange = vt.kind === 'bit' && numberWidth(vt) === undefined && register?.typeArgs[0]?.kind === 'bit' && register.typeArgs[0].width === vt.width;
        return (f) => {
          const r = receiver(f) as RegisterArray;
          const v = value(f);
          const i = index(f) as Scalar;
          const stored = inRange ? (v as bigint) : typeof v === 'boolean' ? (v ? 1n : 0n) : BigInt.asUintN(r.width, toBigint(v));
          if (typeof i === 'number') r.writeAt(i, stored);
          else r.write(i, stored);
          return undefined;
        };
      }
      case 'counter.count': {
        const index = arg(0);
        return (f) => {
          const c = receiver(f) as CounterArray;
          const i = index(f) as Scalar;
          if (typeof i === 'number') c.countAt(i, f.packet.ingressLength);
          else c.count(i, f.packet.ingressLength);
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

/** The extern type of a method call's receiver (`r` in `r.write(...)`), if known. */
function receiverExtern(e: CallExpr): Extract<P4Type, { kind: 'extern' }> | undefined {
  const t = e.callee.kind === 'member' ? e.callee.expr.type : undefined;
  return t?.kind === 'extern' ? t : undefined;
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
    // Each part writes itself: numbers straight, bigints through core/bits.ts, booleans as one bit.
    const parts = dataExpr.elements.map((x): ((out: Uint8Array, f: Frame, pos: number) => void) => {
      const g = c.expr(x, fn);
      const t = x.type!;
      const width = bitWidth(t);
      if (t.kind === 'bool') return (out, f, pos) => writeNumberBits(out, pos, g(f) ? 1 : 0, 1);
      if (numberWidth(t) !== undefined) return (out, f, pos) => writeNumberBits(out, pos, g(f) as number, width);
      return (out, f, pos) => writeBits(out, pos, toBigint(g(f)), width);
    });
    const widths = dataExpr.elements.map((x) => bitWidth(x.type!));
    const totalBits = widths.reduce((n, w) => n + w, 0);
    // One buffer per call site, refilled on every call: the hash is computed before the next.
    const out = new Uint8Array(Math.ceil(totalBits / 8));
    const n = parts.length;
    return (f) => {
      out.fill(0);
      let pos = 0;
      for (let i = 0; i < n; i++) {
        parts[i]!(out, f, pos);
        pos += widths[i]!;
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
      // The control plane sees integers as bigints, whatever the interpreter holds.
      return [{ value: typeof fv === 'number' ? BigInt(fv) : fv, width: bitWidth(f.type) }];
    });
  }
  if (v instanceof TupleValue) return flattenValue(v, t);
  return flattenValue(v, t);
}

/** Writes a header (when valid), every field of a struct, or every valid element of a stack. */
export function emitValue(w: BitWriter, v: Value, t: P4Type): void {
  if (v instanceof HeaderValue) {
    if (!v.valid) return;
    emitHeader(w, v, widthsOf(v.type), signedFieldsOf(v.type));
  } else if (v instanceof StructValue) {
    v.type.fields.forEach((f, i) => emitValue(w, v.fields[i], f.type));
  } else if (v instanceof StackValue) {
    for (const h of v.elements) emitValue(w, h, h.type);
  } else if (typeof v === 'bigint') {
    w.write(BigInt.asUintN(bitWidth(t), v), bitWidth(t));
  } else if (typeof v === 'number') {
    w.writeNumber(v, bitWidth(t));
  }
}

export { CounterArray, MeterArray, RegisterArray, Random };

function emitHeader(w: BitWriter, h: HeaderValue, widths: readonly number[], signed: readonly boolean[]): void {
  for (let i = 0; i < widths.length; i++) {
    const x = h.fields[i]!;
    if (typeof x === 'number') w.writeNumber(x, widths[i]!);
    else if (signed[i]!) w.write(BigInt.asUintN(widths[i]!, x), widths[i]!);
    else w.writeUnsigned(x, widths[i]!);
  }
}
