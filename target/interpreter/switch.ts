/**
 * A v1model switch running a checked P4 program the way BMv2's simple_switch does:
 * parser → verifyChecksum → ingress → (drop when egress_spec is 511) → egress → (drop when
 * egress_spec is 511) → computeChecksum → deparser. A parser error does not drop the packet:
 * ingress sees it in standard_metadata.parser_error, as on BMv2. Packet replication (clone,
 * multicast, resubmit, recirculate) is outside this target's scope.
 */
import type {
  ActionDecl, ControlDecl, Declaration, Expression, Instantiation, KeyElement, ParserDecl, Statement, TableDecl,
} from '../../p4-frontend/ast.ts';
import { findAnnotation } from '../../p4-frontend/ast.ts';
import type { CheckedProgram } from '../../p4-frontend/checker.ts';
import type { P4Type } from '../../p4-frontend/types.ts';
import {
  BlockCompiler, ExitSignal, FunctionScope, ParserReject, controlPlaneName, type BlockEnvironment, type Exec, type Getter,
} from './compile.ts';
import { TargetError, spanLocation, unsupported } from './errors.ts';
import { DROP_PORT, ExternRuntime, PACKET_IN, PACKET_OUT } from './extern-calls.ts';
import { CounterArray, DirectCounter, MeterArray, RegisterArray, Random, type CounterUnit } from './externs.ts';
import { BitWriter } from './bits.ts';
import { Flow, type DigestRecord, type Frame, type PacketState } from './frame.ts';
import {
  Table, type ActionCall, type ActionInfo, type FieldMatch, type KeyField, type MatchKind, type TableActionRef,
  type TableEntryData,
} from './tables.ts';
import {
  StructValue, coercerFor, maskOf, numberWidth, represent, resetterFor, zeroFactory, type ExternObject, type Value,
} from './values.ts';

/** The locals of the frame `invoke` passes: each block keeps its own locals array. */
const NO_LOCALS: Value[] = [];

function processResult(packet: PacketState, dropReason: string | undefined, output: PacketOutput | undefined): ProcessResult {
  return { output, dropReason, digests: packet.digests, trace: packet.trace ?? [] };
}

/** BMv2's default table size when a table declares none. */
const DEFAULT_TABLE_SIZE = 1024;
/** A parser that visits more states than this is looping: BMv2 would spin; we stop. */
const MAX_PARSER_STEPS = 10_000;

export interface SwitchOptions {
  /** Microseconds since the switch started, for ingress_global_timestamp (injectable for tests). */
  readonly clock?: () => bigint;
  readonly randomSeed?: bigint;
  /** Collect a trace of each packet's path, like BMv2's log. */
  readonly trace?: boolean;
}

export interface PacketOutput {
  readonly port: number;
  readonly bytes: Uint8Array;
}

export interface ProcessResult {
  /** The packet that left, if it was not dropped. */
  readonly output: PacketOutput | undefined;
  /** Why it was dropped, when it was. */
  readonly dropReason: string | undefined;
  readonly digests: readonly DigestRecord[];
  readonly trace: readonly string[];
}

interface CompiledBlock {
  readonly kind: 'parser' | 'control';
  readonly name: string;
  readonly block: Value[];
  /** Slots of the block's parameters, in order. */
  readonly paramSlots: readonly number[];
  readonly run: (frame: Frame) => void;
}

/** A control-plane view of a direct counter: its cells live in the table's entries. */
export interface DirectCounterBinding {
  readonly counter: DirectCounter;
  readonly table: Table;
}

export class V1ModelSwitch {
  readonly tables = new Map<string, Table>();
  readonly registers = new Map<string, RegisterArray>();
  readonly counters = new Map<string, CounterArray>();
  readonly directCounters = new Map<string, DirectCounterBinding>();
  readonly meters = new Map<string, MeterArray>();
  /** Every action by control-plane name (a top-level action used by several controls appears once). */
  readonly actions = new Map<string, ActionInfo>();
  private readonly blocks: CompiledBlock[];
  /** The deparser's output buffer, reset for every packet (process copies what it needs). */
  private readonly writer = new BitWriter();
  private readonly standardMetadataType: Extract<P4Type, { kind: 'struct' }>;
  // One set of headers and metadata, reset for every packet: nothing keeps them past process().
  private readonly headers: Value;
  private readonly metadata: Value;
  private readonly standardMetadata: StructValue;
  private readonly resetHeaders: (v: Value) => void;
  private readonly resetMetadata: (v: Value) => void;
  private readonly resetStandardMetadata: (v: Value) => void;
  private readonly clock: () => bigint;
  private readonly tracing: boolean;
  private readonly runtime: ExternRuntime;
  private readonly stdIndex: Readonly<Record<'ingress_port' | 'egress_spec' | 'egress_port' | 'packet_length' | 'ingress_global_timestamp', number>>;
  /** Standard metadata values in their fields' representations (values.ts). */
  private readonly stdRep: {
    readonly ingressPortIsNumber: boolean;
    readonly packetLengthIsNumber: boolean;
    readonly timestamp: (v: Value) => Value;
    readonly egressPort: (v: Value) => Value;
    readonly dropPort: Value;
  };

  constructor(
    readonly program: CheckedProgram,
    options: SwitchOptions = {},
  ) {
    const started = process.hrtime.bigint();
    this.clock = options.clock ?? (() => (process.hrtime.bigint() - started) / 1000n);
    this.tracing = options.trace ?? false;
    this.runtime = new ExternRuntime({
      random: new Random(options.randomSeed ?? 1n),
      log: (f, line) => f.packet.trace?.push(line),
    });
    const pipeline = program.pipeline;
    if (pipeline.length !== 6 || program.main?.type?.kind !== 'package' || program.main.type.name !== 'V1Switch') {
      throw new TargetError('TARGET_UNSUPPORTED', 'the program has no V1Switch main: the embedded target runs v1model programs', {
        location: spanLocation(program.main?.span ?? program.program.span),
      });
    }
    const parser = pipeline[0]!.decl;
    if (parser.kind !== 'parser') throw new TargetError('TARGET_UNSUPPORTED', 'V1Switch\'s first argument must be a parser');
    const [, hdrParam, metaParam, stdParam] = parser.params;
    if (hdrParam?.type === undefined || metaParam?.type === undefined || stdParam?.type?.kind !== 'struct') {
      throw new TargetError('TARGET_UNSUPPORTED', 'the parser must take (packet_in, out H, inout M, inout standard_metadata_t)');
    }
    this.headers = zeroFactory(hdrParam.type)();
    this.metadata = zeroFactory(metaParam.type)();
    this.standardMetadata = zeroFactory(stdParam.type)() as StructValue;
    this.resetHeaders = resetterFor(hdrParam.type);
    this.resetMetadata = resetterFor(metaParam.type);
    this.resetStandardMetadata = resetterFor(stdParam.type);
    this.standardMetadataType = stdParam.type;
    const index = (name: string): number => {
      const i = stdParam.type!.kind === 'struct' ? stdParam.type!.fields.findIndex((f) => f.name === name) : -1;
      if (i < 0) throw new TargetError('TARGET_UNSUPPORTED', `standard_metadata_t has no field '${name}'`);
      return i;
    };
    this.stdIndex = {
      ingress_port: index('ingress_port'),
      egress_spec: index('egress_spec'),
      egress_port: index('egress_port'),
      packet_length: index('packet_length'),
      ingress_global_timestamp: index('ingress_global_timestamp'),
    };
    const stdField = (i: number): P4Type => (stdParam.type as Extract<P4Type, { kind: 'struct' }>).fields[i]!.type;
    this.stdRep = {
      ingressPortIsNumber: numberWidth(stdField(this.stdIndex.ingress_port)) !== undefined,
      packetLengthIsNumber: numberWidth(stdField(this.stdIndex.packet_length)) !== undefined,
      timestamp: coercerFor(stdField(this.stdIndex.ingress_global_timestamp)),
      egressPort: coercerFor(stdField(this.stdIndex.egress_port)),
      dropPort: represent(DROP_PORT, stdField(this.stdIndex.egress_spec)),
    };
    const topLevelActions = new Set(
      program.program.declarations.filter((d): d is ActionDecl => d.kind === 'action'),
    );
    this.blocks = pipeline.map((p) => this.compileBlock(p.decl, topLevelActions));
  }

  // ------------------------------------------------------------------ packets
  process(ingressPort: number, bytes: Uint8Array): ProcessResult {
    const std = this.standardMetadata;
    this.resetStandardMetadata(std);
    const at = this.stdIndex;
    const rep = this.stdRep;
    std.fields[at.ingress_port] = rep.ingressPortIsNumber ? ingressPort : BigInt(ingressPort);
    std.fields[at.packet_length] = rep.packetLengthIsNumber ? bytes.length : BigInt(bytes.length);
    std.fields[at.ingress_global_timestamp] = rep.timestamp(this.clock() & maskOf(48));
    const emitted = this.writer;
    emitted.reset();
    const packet: PacketState = {
      bytes,
      cursorBits: 0,
      emitted,
      truncateTo: undefined,
      digests: [],
      trace: this.tracing ? [] : undefined,
      ingressLength: bytes.length,
      standardMetadata: std,
    };
    const hdr = this.headers;
    this.resetHeaders(hdr);
    const meta = this.metadata;
    this.resetMetadata(meta);
    const [parser, verify, ingress, egress, compute, deparser] = this.blocks as [
      CompiledBlock, CompiledBlock, CompiledBlock, CompiledBlock, CompiledBlock, CompiledBlock,
    ];
    try {
      this.invoke4(parser, packet, PACKET_IN, hdr, meta, std);
      this.invoke2(verify, packet, hdr, meta);
      this.invoke3(ingress, packet, hdr, meta, std);
      if (std.fields[at.egress_spec] === rep.dropPort) {
        packet.trace?.push('ingress: dropped (egress_spec 511)');
        return processResult(packet, 'ingress: egress_spec is the drop port', undefined);
      }
      std.fields[at.egress_port] = rep.egressPort(std.fields[at.egress_spec]);
      this.invoke3(egress, packet, hdr, meta, std);
      if (std.fields[at.egress_spec] === rep.dropPort) {
        packet.trace?.push('egress: dropped (egress_spec 511)');
        return processResult(packet, 'egress: egress_spec is the drop port', undefined);
      }
      this.invoke2(compute, packet, hdr, meta);
      this.invoke2(deparser, packet, PACKET_OUT, hdr);
    } catch (err) {
      if (err instanceof TargetError) {
        packet.trace?.push(`error: ${err.describe()}`);
        return processResult(packet, `error: ${err.message}`, undefined);
      }
      throw err;
    }
    const payload = bytes.subarray(Math.min(bytes.length, packet.cursorBits >> 3));
    const headers = emitted.view();
    let out = new Uint8Array(headers.length + payload.length);
    out.set(headers, 0);
    out.set(payload, headers.length);
    if (packet.truncateTo !== undefined && packet.truncateTo < out.length) out = out.slice(0, packet.truncateTo);
    const port = Number(std.fields[at.egress_port] as number | bigint);
    packet.trace?.push(`deparser: ${out.length} bytes out of port ${port}`);
    return processResult(packet, undefined, { port, bytes: out });
  }

  // Blocks take two to four arguments: one method per count, so that no argument array is built.
  private invoke2(block: CompiledBlock, packet: PacketState, a: Value, b: Value): void {
    const slots = block.paramSlots;
    block.block[slots[0]!] = a;
    block.block[slots[1]!] = b;
    block.run({ block: block.block, local: NO_LOCALS, packet });
  }

  private invoke3(block: CompiledBlock, packet: PacketState, a: Value, b: Value, c: Value): void {
    const slots = block.paramSlots;
    block.block[slots[0]!] = a;
    block.block[slots[1]!] = b;
    block.block[slots[2]!] = c;
    block.run({ block: block.block, local: NO_LOCALS, packet });
  }

  private invoke4(block: CompiledBlock, packet: PacketState, a: Value, b: Value, c: Value, d: Value): void {
    const slots = block.paramSlots;
    block.block[slots[0]!] = a;
    block.block[slots[1]!] = b;
    block.block[slots[2]!] = c;
    block.block[slots[3]!] = d;
    block.run({ block: block.block, local: NO_LOCALS, packet });
  }

  /** Clears every table, register and counter: a fresh pipeline. */
  reset(): void {
    for (const t of this.tables.values()) t.clear();
    for (const r of this.registers.values()) r.reset();
    for (const c of this.counters.values()) c.reset();
  }

  // ------------------------------------------------------------------ compilation
  private compileBlock(decl: ParserDecl | ControlDecl, topLevelActions: ReadonlySet<ActionDecl>): CompiledBlock {
    const blockSlots = new Map<object, number>();
    decl.params.forEach((p, i) => blockSlots.set(p, i));
    const env: BlockEnvironment = {
      prefix: decl.name,
      blockSlots,
      externs: new Map(),
      tables: new Map(),
      actions: new Map(),
      runtime: this.runtime,
      topLevelActions,
    };
    const compiler = new BlockCompiler(env);
    const block: Value[] = new Array(decl.params.length);
    const paramSlots = decl.params.map((_, i) => i);
    if (decl.kind === 'parser') {
      return { kind: 'parser', name: decl.name, block, paramSlots, run: this.compileParser(decl, compiler, env) };
    }
    // Locals: externs and tables first (tables refer to actions and direct counters by name).
    const prelude: Statement[] = [];
    for (const local of decl.locals) {
      if (local.kind === 'instantiation') env.externs.set(local, this.instantiate(local, decl.name));
      else if (local.kind === 'var' || local.kind === 'const') prelude.push(local);
    }
    for (const local of decl.locals) if (local.kind === 'action') this.registerAction(compiler.compileAction(local));
    for (const local of decl.locals) {
      if (local.kind === 'table') env.tables.set(local, this.compileTable(local, decl.name, compiler, env));
    }
    const fn = new FunctionScope();
    const init = compiler.sequence(prelude, fn);
    const body = compiler.block(decl.apply, fn);
    const traceName = decl.name;
    const runtime = this.runtime;
    // A control runs once per packet and never re-enters itself: its locals array is reused.
    const local: Value[] = new Array(fn.size);
    const run = (frame: Frame): void => {
      const f: Frame = { block: frame.block, local, packet: frame.packet };
      if (f.packet.trace !== undefined) runtime.trace(f, `control ${traceName}`);
      try {
        if (init(f) === Flow.Normal) body(f);
      } catch (err) {
        if (!(err instanceof ExitSignal)) throw err;
        runtime.trace(f, `exit from ${traceName}`);
      }
    };
    return { kind: 'control', name: decl.name, block, paramSlots, run };
  }

  private registerAction(info: ActionInfo): void {
    if (!this.actions.has(info.name)) this.actions.set(info.name, info);
  }

  private instantiate(inst: Instantiation, prefix: string): ExternObject {
    const t = inst.type;
    const name = controlPlaneName(prefix, inst);
    const constArg = (i: number): bigint => {
      const v = inst.args[i]?.constValue;
      if (typeof v !== 'bigint') throw new TargetError('TARGET_UNSUPPORTED', `${name}: argument ${i + 1} must be a constant`, { location: spanLocation(inst.span) });
      return v;
    };
    const enumArg = (i: number): string => {
      const a = inst.args[i];
      if (a?.kind === 'member') return a.member;
      throw new TargetError('TARGET_UNSUPPORTED', `${name}: argument ${i + 1} must be an enum member`, { location: spanLocation(inst.span) });
    };
    const externName = t?.kind === 'extern' ? t.name : undefined;
    switch (externName) {
      case 'register': {
        const elem = t?.kind === 'extern' ? t.typeArgs[0] : undefined;
        const width = elem?.kind === 'bit' || elem?.kind === 'int' ? elem.width : elem?.kind === 'bool' ? 1 : 0;
        if (width === 0) throw unsupported('a register of a non-integer type', inst.span);
        const r = new RegisterArray(name, Number(constArg(0)), width);
        this.registers.set(name, r);
        return r;
      }
      case 'counter': {
        const c = new CounterArray(name, Number(constArg(0)), enumArg(1) as CounterUnit);
        this.counters.set(name, c);
        return c;
      }
      case 'direct_counter':
        return new DirectCounter(name, enumArg(0) as CounterUnit);
      case 'meter': {
        const m = new MeterArray(name, Number(constArg(0)));
        this.meters.set(name, m);
        return m;
      }
      case 'direct_meter':
        return new MeterArray(name, 0);
      default:
        throw unsupported(`instantiating ${externName ?? 'this type'}`, inst.span);
    }
  }

  private compileTable(decl: TableDecl, prefix: string, compiler: BlockCompiler, env: BlockEnvironment): Table {
    const name = controlPlaneName(prefix, decl);
    const keyProp = decl.properties.find((p) => p.kind === 'key');
    const keyElements: readonly KeyElement[] = keyProp?.kind === 'key' ? keyProp.elements : [];
    const keys: KeyField[] = keyElements.map((k) => ({
      name: keyName(k),
      matchKind: checkMatchKind(k),
      width: keyWidth(k.expr),
    }));
    const actionsProp = decl.properties.find((p) => p.kind === 'actions');
    const refs: TableActionRef[] = (actionsProp?.kind === 'actions' ? actionsProp.actions : []).map((a) => {
      if (a.decl === undefined) throw new TargetError('TARGET_RUNTIME', `unresolved action in table ${name}`, { location: spanLocation(a.span) });
      return {
        action: env.actions.get(a.decl) ?? compiler.compileAction(a.decl),
        defaultOnly: findAnnotation(a.annotations, 'defaultonly') !== undefined,
        tableOnly: findAnnotation(a.annotations, 'tableonly') !== undefined,
      };
    });
    for (const r of refs) this.registerAction(r.action);
    const callOf = (call: Expression): ActionCall => {
      if (call.kind !== 'call' || call.callee.kind !== 'name') throw unsupported('this action call', call.span);
      const d = call.callee.decl as ActionDecl | undefined;
      const ref = refs.find((r) => r.action.decl === d);
      if (d === undefined || ref === undefined) throw new TargetError('TARGET_RUNTIME', `unknown action in table ${name}`, { location: spanLocation(call.span) });
      const args = call.args.map((a) => {
        const v = a.constValue;
        if (typeof v === 'boolean') return v ? 1n : 0n;
        if (typeof v !== 'bigint') throw unsupported('a non-constant action argument in a table property', a.span);
        return BigInt.asUintN(keyWidth(a) || 64, v);
      });
      return { action: ref.action, args };
    };
    const defaultProp = decl.properties.find((p) => p.kind === 'defaultAction');
    let defaultAction: ActionCall;
    if (defaultProp?.kind === 'defaultAction') {
      defaultAction = callOf(defaultProp.action);
    } else {
      const noAction = refs.find((r) => r.action.decl.name === 'NoAction') ?? this.noActionRef(compiler);
      defaultAction = { action: noAction.action, args: [] };
    }
    const entriesProp = decl.properties.find((p) => p.kind === 'entries');
    const entries = entriesProp?.kind === 'entries' ? entriesProp.entries : [];
    const needsPriority = keys.some((k) => k.matchKind === 'ternary' || k.matchKind === 'range' || k.matchKind === 'optional');
    const constEntries: TableEntryData[] = entries.map((entry, index) => {
      const explicit = entry.priority?.constValue;
      return {
        matches: entry.keys.length === 1 && keys.length > 1 && entry.keys[0]?.kind === 'list'
          ? (entry.keys[0].elements.map((k, i) => constMatch(k, keys[i]!)))
          : entry.keys.map((k, i) => constMatch(k, keys[i]!)),
        // Program order decides among const entries: the first listed wins (P4_16 §14.2.1.4).
        priority: typeof explicit === 'bigint' ? Number(explicit) : needsPriority ? entries.length - index : 0,
        action: callOf(entry.action),
      };
    });
    const sizeProp = decl.properties.find((p) => p.kind === 'other' && p.name === 'size');
    const size = sizeProp?.kind === 'other' && typeof sizeProp.value.constValue === 'bigint' ? Number(sizeProp.value.constValue) : DEFAULT_TABLE_SIZE;
    const countersProp = decl.properties.find((p) => p.kind === 'other' && p.name === 'counters');
    let direct: DirectCounter | undefined;
    if (countersProp?.kind === 'other') {
      const v = countersProp.value;
      const d = v.kind === 'name' ? v.decl : undefined;
      const ext = d === undefined ? undefined : env.externs.get(d);
      if (!(ext instanceof DirectCounter)) throw unsupported('a counters property that is not a direct_counter', v.span);
      direct = ext;
    }
    const implementation = decl.properties.find((p) => p.kind === 'other' && p.name === 'implementation');
    if (implementation !== undefined) throw unsupported('action profiles and selectors', implementation.span);
    const table = new Table({
      name,
      span: decl.span,
      keys,
      actions: refs,
      defaultAction,
      defaultIsConst: defaultProp?.kind === 'defaultAction' && defaultProp.isConst,
      size,
      constEntries,
      entriesAreConst: entriesProp?.kind === 'entries' && entriesProp.isConst,
      hasDirectCounter: direct !== undefined,
    });
    this.tables.set(name, table);
    if (direct !== undefined) this.directCounters.set(direct.name, { counter: direct, table });
    return table;
  }

  private noActionRef(compiler: BlockCompiler): TableActionRef {
    const decl = this.program.program.declarations.find((d: Declaration): d is ActionDecl => d.kind === 'action' && d.name === 'NoAction');
    if (decl === undefined) throw new TargetError('TARGET_RUNTIME', 'NoAction is not declared (include core.p4)');
    return { action: compiler.compileAction(decl), defaultOnly: false, tableOnly: false };
  }

  private compileParser(decl: ParserDecl, compiler: BlockCompiler, env: BlockEnvironment): (frame: Frame) => void {
    const fn = new FunctionScope();
    for (const local of decl.locals) {
      if (local.kind === 'instantiation') env.externs.set(local, this.instantiate(local, decl.name));
    }
    const prelude = compiler.sequence(decl.locals.filter((l) => l.kind === 'var' || l.kind === 'const'), fn);
    const stdParam = decl.params[3]!;
    const stdSlot = env.blockSlots.get(stdParam)!;
    const states = new Map<string, { exec: Exec; next: (f: Frame) => string }>();
    for (const state of decl.states) {
      const exec = compiler.sequence(state.statements, fn);
      const t = state.transition;
      let next: (f: Frame) => string;
      if (t === undefined) next = () => 'reject';
      else if (t.kind === 'direct') {
        const target = t.target;
        next = () => target;
      } else {
        const getters: Getter[] = t.exprs.map((x) => compiler.expr(x, fn));
        const types = t.exprs.map((x) => x.type!);
        const cases = t.cases.map((c) => ({ match: compiler.keyset(c, types, fn), target: c.target }));
        // One array per select, refilled on every visit: the keyset predicates do not keep it.
        const values: Value[] = new Array(getters.length);
        next = (f) => {
          for (let i = 0; i < getters.length; i++) values[i] = getters[i]!(f);
          for (const c of cases) if (c.match(values)) return c.target;
          throw new ParserReject('NoMatch');
        };
      }
      states.set(state.name, { exec, next });
    }
    const runtime = this.runtime;
    const local: Value[] = new Array(fn.size);
    return (frame) => {
      const f: Frame = { block: frame.block, local, packet: frame.packet };
      let state = 'start';
      try {
        prelude(f);
        for (let steps = 0; state !== 'accept' && state !== 'reject'; steps++) {
          if (steps > MAX_PARSER_STEPS) throw new ParserReject('ParserTimeout');
          const s = states.get(state);
          if (s === undefined) throw new TargetError('TARGET_RUNTIME', `unknown parser state '${state}'`);
          if (f.packet.trace !== undefined) runtime.trace(f, `parser state ${state}`);
          s.exec(f);
          state = s.next(f);
        }
        runtime.trace(f, `parser ${state}`);
      } catch (err) {
        if (!(err instanceof ParserReject)) throw err;
        const std = f.block[stdSlot] as StructValue;
        std.fields[std.type.fields.findIndex((x) => x.name === 'parser_error')] = err.error;
        runtime.trace(f, `parser error ${err.error} in state ${state}`);
      }
    };
  }
}

function checkMatchKind(k: KeyElement): MatchKind {
  const m = k.matchKind;
  if (m === 'exact' || m === 'lpm' || m === 'ternary' || m === 'range' || m === 'optional') return m;
  throw unsupported(`match kind '${m}'`, k.matchKindSpan);
}

function keyWidth(e: Expression): number {
  const t = e.type;
  if (t?.kind === 'bit' || t?.kind === 'int') return t.width;
  if (t?.kind === 'bool') return 1;
  if (t?.kind === 'enum' && t.underlying?.kind === 'bit') return t.underlying.width;
  return 0;
}

/** The key's control-plane name: `@name`, else the expression as written (p4c's rule). */
export function keyName(k: KeyElement): string {
  const named = findAnnotation(k.annotations, 'name');
  if (typeof named?.args[0] === 'string') return named.args[0];
  return expressionText(k.expr);
}

export function expressionText(e: Expression): string {
  switch (e.kind) {
    case 'name':
      return e.name;
    case 'member':
      return `${expressionText(e.expr)}.${e.member}`;
    case 'slice':
      return `${expressionText(e.expr)}[${e.hiValue ?? ''}:${e.loValue ?? ''}]`;
    case 'index':
      return `${expressionText(e.expr)}[${expressionText(e.index)}]`;
    case 'call':
      return `${expressionText(e.callee)}(${e.args.map(expressionText).join(', ')})`;
    case 'int':
      return e.text;
    default:
      return e.kind;
  }
}

function constValueOf(e: Expression, width: number): bigint {
  const v = e.constValue;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v !== 'bigint') throw unsupported('a non-constant key in a table entry', e.span);
  return BigInt.asUintN(width, v);
}

function constMatch(e: Expression, key: KeyField): FieldMatch | undefined {
  const w = key.width;
  if (e.kind === 'default') return key.matchKind === 'exact' ? undefined : undefined;
  switch (key.matchKind) {
    case 'exact':
      return { kind: 'exact', value: constValueOf(e, w) };
    case 'optional':
      return { kind: 'optional', value: constValueOf(e, w) };
    case 'ternary':
      if (e.kind === 'mask') {
        const mask = constValueOf(e.mask, w);
        return { kind: 'ternary', value: constValueOf(e.value, w) & mask, mask };
      }
      return { kind: 'ternary', value: constValueOf(e, w), mask: maskOf(w) };
    case 'lpm': {
      if (e.kind === 'mask') {
        const mask = constValueOf(e.mask, w);
        let prefix = 0;
        while (prefix < w && ((mask >> BigInt(w - 1 - prefix)) & 1n) === 1n) prefix++;
        return { kind: 'lpm', value: constValueOf(e.value, w) & mask, prefixLength: prefix };
      }
      return { kind: 'lpm', value: constValueOf(e, w), prefixLength: w };
    }
    case 'range':
      if (e.kind === 'range') return { kind: 'range', low: constValueOf(e.lo, w), high: constValueOf(e.hi, w) };
      return { kind: 'range', low: constValueOf(e, w), high: constValueOf(e, w) };
  }
}
