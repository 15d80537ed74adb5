/**
 * The packet-test target backed by the embedded v1model interpreter, in process. Names resolve
 * by control-plane name, full or by its last part when that is unambiguous; an unknown name is
 * an error with a "did you mean" hint.
 */
import { didYouMean } from '../../core/errors.ts';
import { compileP4, type CheckedProgram } from '../../p4-frontend/index.ts';
import type { ActionInfo, Table } from '../../target/interpreter/tables.ts';
import { V1ModelSwitch } from '../../target/interpreter/switch.ts';
import { PacketTestError } from './errors.ts';
import type {
  CounterValue, DigestMessage, KeyValue, OutputPacket, PacketTestTarget, ScalarValue,
} from './target.ts';
import { actionArgs, keyValuesToMatches } from './values.ts';

/** Compiling the gateway program takes a tenth of a second; scenarios load it many times. */
const compiled = new Map<string, CheckedProgram>();

function compileCached(text: string, fileName: string): CheckedProgram {
  const key = `${fileName}\n${text}`;
  let program = compiled.get(key);
  if (program === undefined) {
    program = compileP4(text, fileName);
    compiled.set(key, program);
  }
  return program;
}

/** `name` itself, else the one entry whose name ends with `.name`. */
export function resolveName<T>(kind: string, map: ReadonlyMap<string, T>, name: string): T {
  const exact = map.get(name);
  if (exact !== undefined) return exact;
  const bySuffix = [...map.keys()].filter((full) => full.endsWith(`.${name}`));
  if (bySuffix.length === 1) return map.get(bySuffix[0]!)!;
  if (bySuffix.length > 1) {
    throw new PacketTestError('PACKET_TEST_UNKNOWN_NAME', `${kind} '${name}' is ambiguous: ${bySuffix.join(', ')}`, {
      hint: 'use the full control-plane name',
    });
  }
  const candidates = [...map.keys()].flatMap((full) => [full, full.slice(full.lastIndexOf('.') + 1)]);
  throw new PacketTestError('PACKET_TEST_UNKNOWN_NAME', `no ${kind} '${name}' in the program`, {
    hint: didYouMean(name, candidates) ?? `the program has: ${[...map.keys()].join(', ')}`,
  });
}

/** Runs `f` so that what it throws becomes a rejection, as from a remote target. */
function settle<T>(f: () => T): Promise<T> {
  return new Promise((resolve) => resolve(f()));
}

export interface EmbeddedTargetOptions {
  /** Collect the interpreter's trace of each packet (shown when an expectation fails). */
  readonly trace?: boolean;
  /** The clock's start, in microseconds. */
  readonly startMicros?: bigint;
}

export class EmbeddedTarget implements PacketTestTarget {
  readonly name = 'embedded';
  private sw: V1ModelSwitch | undefined;
  private program: CheckedProgram | undefined;
  private micros: bigint;
  private pending: OutputPacket[] = [];
  private pendingDigests: DigestMessage[] = [];
  private trace: readonly string[] = [];
  private readonly tracing: boolean;
  private readonly actionsByTable = new WeakMap<Table, Map<string, ActionInfo>>();

  constructor(options: EmbeddedTargetOptions = {}) {
    this.tracing = options.trace ?? true;
    this.micros = options.startMicros ?? 0n;
  }

  /** The interpreter itself, for fuzzing and benchmarks that drive it without the DSL. */
  get interpreter(): V1ModelSwitch {
    return this.switch;
  }

  private get switch(): V1ModelSwitch {
    if (this.sw === undefined) throw new PacketTestError('PACKET_TEST_NOT_LOADED', 'no program loaded: call load() first');
    return this.sw;
  }

  load(p4Text: string, fileName: string): Promise<void> {
    return settle(() => {
      this.program = compileCached(p4Text, fileName);
      this.sw = new V1ModelSwitch(this.program, { clock: () => this.micros, trace: this.tracing });
      this.pending = [];
      this.pendingDigests = [];
    });
  }

  private entryData(table: Table, keys: Readonly<Record<string, KeyValue>>, priority: number | undefined) {
    return { matches: keyValuesToMatches(table.name, table.keys, keys), priority: priority ?? 0 };
  }

  private actionCall(table: Table, action: string, params: Readonly<Record<string, ScalarValue>>) {
    let refs = this.actionsByTable.get(table);
    if (refs === undefined) {
      refs = new Map(table.actions.map((r) => [r.action.name, r.action]));
      this.actionsByTable.set(table, refs);
    }
    const info = resolveName(`action of ${table.name}`, refs, action);
    return { action: info, args: actionArgs(info, params) };
  }

  /** Inserts or modifies an entry, names resolved and values checked against the table. */
  private writeEntry(
    how: 'insert' | 'modify',
    table: string,
    keys: Readonly<Record<string, KeyValue>>,
    action: string,
    params: Readonly<Record<string, ScalarValue>>,
    priority: number | undefined,
  ): Promise<void> {
    return settle(() => {
      const t = resolveName('table', this.switch.tables, table);
      t[how]({ ...this.entryData(t, keys, priority), action: this.actionCall(t, action, params) });
    });
  }

  insert(
    table: string,
    keys: Readonly<Record<string, KeyValue>>,
    action: string,
    params: Readonly<Record<string, ScalarValue>>,
    priority?: number,
  ): Promise<void> {
    return this.writeEntry('insert', table, keys, action, params, priority);
  }

  modify(
    table: string,
    keys: Readonly<Record<string, KeyValue>>,
    action: string,
    params: Readonly<Record<string, ScalarValue>>,
    priority?: number,
  ): Promise<void> {
    return this.writeEntry('modify', table, keys, action, params, priority);
  }

  delete(table: string, keys: Readonly<Record<string, KeyValue>>, priority?: number): Promise<void> {
    return settle(() => {
      const t = resolveName('table', this.switch.tables, table);
      t.delete(this.entryData(t, keys, priority));
    });
  }

  setDefault(table: string, action: string, params: Readonly<Record<string, ScalarValue>>): Promise<void> {
    return settle(() => {
      const t = resolveName('table', this.switch.tables, table);
      t.setDefault(this.actionCall(t, action, params));
    });
  }

  send(port: number, bytes: Uint8Array): Promise<void> {
    return settle(() => {
      const result = this.switch.process(port, bytes);
      this.trace = result.trace;
      if (result.output !== undefined) this.pending.push({ port: result.output.port, bytes: result.output.bytes });
      for (const d of result.digests) this.pendingDigests.push(this.digestMessage(d.typeName, d.members));
    });
  }

  private digestMessage(typeName: string, members: readonly { value: unknown; width: number }[]): DigestMessage {
    const type = this.program?.namedTypes.get(typeName);
    const names = type?.kind === 'struct' && type.fields.length === members.length ? type.fields.map((f) => f.name) : undefined;
    const fields: Record<string, bigint> = {};
    members.forEach((m, i) => {
      fields[names?.[i] ?? `field${i}`] = typeof m.value === 'bigint' ? m.value : m.value === true ? 1n : 0n;
    });
    return { name: typeName, fields };
  }

  outputs(): Promise<OutputPacket[]> {
    return settle(() => {
      const out = this.pending;
      this.pending = [];
      return out;
    });
  }

  counter(name: string, index: number): Promise<CounterValue> {
    return settle(() => {
      const c = resolveName('counter', this.switch.counters, name);
      c.checkIndex(index);
      return { packets: c.packets[index]!, bytes: c.bytes[index]! };
    });
  }

  register(name: string, index: number): Promise<bigint> {
    return settle(() => {
      const r = resolveName('register', this.switch.registers, name);
      r.checkIndex(index);
      return r.values[index]!;
    });
  }

  digests(): Promise<DigestMessage[]> {
    return settle(() => {
      const out = this.pendingDigests;
      this.pendingDigests = [];
      return out;
    });
  }

  advanceClock(micros: bigint | number): Promise<void> {
    return settle(() => {
      const step = BigInt(micros);
      if (step < 0n) throw new PacketTestError('PACKET_TEST_BAD_VALUE', `the clock only moves forward (got ${step} µs)`);
      this.micros += step;
    });
  }

  /** The interpreter's trace of the last packet sent (parser states, tables, actions, drops). */
  lastTrace(): readonly string[] {
    return this.trace;
  }

  close(): Promise<void> {
    return settle(() => {
      this.sw = undefined;
    });
  }
}
