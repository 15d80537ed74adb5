/**
 * The packet-test target on the real BMv2 (simple_switch_grpc): the program compiled by p4c,
 * entries written over P4Runtime by name through p4c's P4Info, frames sent and received on veth
 * pairs, counters read over P4Runtime, registers over Thrift, digests from the stream (acked).
 * BMv2 runs on real time, so `advanceClock` is refused.
 */
import { decodeCounterEntry, encodeCounterEntry, type TableInfo } from '../../runtime-controller/schema/index.ts';
import { resolveName as resolveDslName } from '../dsl/embedded-target.ts';
import { PacketTestError } from '../dsl/errors.ts';
import type { Bmv2Tools } from '../dsl/runner.ts';
import type { CounterValue, DigestMessage, KeyValue, OutputPacket, PacketTestTarget, ScalarValue } from '../dsl/target.ts';
import { actionArgs, keyValuesToMatches } from '../dsl/values.ts';
import { Bmv2Switch, WRITE_BATCH, type WriteUpdates } from './bmv2-switch.ts';
import { compileForBmv2 } from './compile.ts';
import { Update_Type, type TableEntry } from '../../core/p4runtime/gen/p4/v1/p4runtime_pb.ts';
import {
  actionParamsOf, defaultEntryOf, keyFieldsOf, resolveAction, resolveTable, tableEntryOf, type EntryParts,
} from './schema-entries.ts';

export interface Bmv2TargetOptions {
  readonly tools: Bmv2Tools;
  /** Every switch port a scenario sends on or expects on: one veth pair each. */
  readonly ports: readonly number[];
  readonly cpuPort?: number;
  /** See Bmv2SwitchOptions.quietMs. */
  readonly quietMs?: number;
}

export class Bmv2Target implements PacketTestTarget {
  readonly name = 'bmv2';
  private sw: Bmv2Switch | undefined;
  private starting: Promise<Bmv2Switch> | undefined;
  /** Inserts not yet sent, with what each was for error messages. */
  private pendingInserts: { update: WriteUpdates[number]; what: string }[] = [];

  constructor(private readonly options: Bmv2TargetOptions) {}

  /** The switch, started on first use and kept across loads (a load re-pushes the pipeline). */
  private switch(): Bmv2Switch {
    if (this.sw === undefined) throw new PacketTestError('PACKET_TEST_NOT_LOADED', 'no program loaded: call load() first');
    return this.sw;
  }

  async load(p4Text: string, fileName: string): Promise<void> {
    const program = await compileForBmv2(this.options.tools.p4c, p4Text, fileName);
    this.starting ??= Bmv2Switch.start({
      tools: this.options.tools,
      ports: this.options.ports,
      ...(this.options.cpuPort === undefined ? {} : { cpuPort: this.options.cpuPort }),
      ...(this.options.quietMs === undefined ? {} : { quietMs: this.options.quietMs }),
    });
    this.sw = await this.starting;
    this.pendingInserts = [];
    await this.sw.pushPipeline(program);
  }

  private entry(table: TableInfo, keys: Readonly<Record<string, KeyValue>>, action: EntryParts['action'], priority: number | undefined): TableEntry {
    const matches = keyValuesToMatches(table.name, keyFieldsOf(table), keys);
    return tableEntryOf(this.switch().schema, { table, matches, ...(action === undefined ? {} : { action }), ...(priority === undefined ? {} : { priority }) });
  }

  private call(table: TableInfo, action: string, params: Readonly<Record<string, ScalarValue>>): NonNullable<EntryParts['action']> {
    const info = resolveAction(table, action);
    return { action: info, args: actionArgs(actionParamsOf(info), params) };
  }

  private table(name: string): TableInfo {
    return resolveTable(this.switch().schema, name);
  }

  /** Sends the queued inserts; a rejected one is reported with the table and keys it was for. */
  private async flush(): Promise<void> {
    while (this.pendingInserts.length > 0) {
      const batch = this.pendingInserts.splice(0, WRITE_BATCH);
      try {
        await this.switch().write(batch.map((b) => b.update), `insert of ${batch.length} entries`);
      } catch (err) {
        this.pendingInserts = [];
        const failed = (err as { cause?: { updates?: readonly { index: number; codeName: string; message: string }[] } }).cause?.updates ?? [];
        const which = failed.slice(0, 5).map((u) => `${batch[u.index]?.what ?? `#${u.index}`}: ${u.codeName} ${u.message}`);
        throw new PacketTestError('PACKET_TEST_TARGET', `BMv2 rejected ${failed.length || 'some'} of ${batch.length} inserts${which.length === 0 ? '' : `:\n  ${which.join('\n  ')}`}`, { cause: err });
      }
    }
  }

  /**
   * Queued and sent in batches (at the latest before any other operation): a failed insert is
   * reported by the operation that sends it, naming the entry.
   */
  async insert(table: string, keys: Readonly<Record<string, KeyValue>>, action: string, params: Readonly<Record<string, ScalarValue>>, priority?: number): Promise<void> {
    const t = this.table(table);
    const entry = this.entry(t, keys, this.call(t, action, params), priority);
    this.pendingInserts.push({ update: { type: Update_Type.INSERT, entity: { entity: { case: 'tableEntry', value: entry } } }, what: `${t.name} ${JSON.stringify(keys, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}` });
    if (this.pendingInserts.length >= WRITE_BATCH) await this.flush();
  }

  async modify(table: string, keys: Readonly<Record<string, KeyValue>>, action: string, params: Readonly<Record<string, ScalarValue>>, priority?: number): Promise<void> {
    await this.flush();
    const t = this.table(table);
    const entry = this.entry(t, keys, this.call(t, action, params), priority);
    await this.switch().write([{ type: Update_Type.MODIFY, entity: { entity: { case: 'tableEntry', value: entry } } }], `modify ${t.name}`);
  }

  async delete(table: string, keys: Readonly<Record<string, KeyValue>>, priority?: number): Promise<void> {
    await this.flush();
    const t = this.table(table);
    const entry = this.entry(t, keys, undefined, priority);
    await this.switch().write([{ type: Update_Type.DELETE, entity: { entity: { case: 'tableEntry', value: entry } } }], `delete from ${t.name}`);
  }

  async setDefault(table: string, action: string, params: Readonly<Record<string, ScalarValue>>): Promise<void> {
    await this.flush();
    const t = this.table(table);
    const entry = defaultEntryOf(this.switch().schema, t, this.call(t, action, params));
    await this.switch().write([{ type: Update_Type.MODIFY, entity: { entity: { case: 'tableEntry', value: entry } } }], `default action of ${t.name}`);
  }

  async send(port: number, bytes: Uint8Array): Promise<void> {
    await this.flush();
    this.switch().send(port, bytes);
  }

  async outputs(): Promise<OutputPacket[]> {
    await this.flush();
    return this.switch().outputs();
  }

  async counter(name: string, index: number): Promise<CounterValue> {
    await this.flush();
    const sw = this.switch();
    const counters = new Map<string, { name: string; size: number; direct: boolean }>();
    for (const c of sw.schema.counters) counters.set(c.name, { name: c.name, size: c.size, direct: false });
    for (const c of sw.schema.directCounters) counters.set(c.name, { name: c.name, size: 0, direct: true });
    const c = resolveDslName('counter', counters, name);
    if (c.direct) throw new PacketTestError('PACKET_TEST_TARGET', `${c.name} is a direct counter: read it through its table entry`);
    if (!Number.isInteger(index) || index < 0 || index >= c.size) {
      throw new PacketTestError('PACKET_TEST_BAD_VALUE', `counter ${c.name} has ${c.size} cells, index ${index}`);
    }
    await sw.settle();
    const [e] = await sw.read([{ entity: { case: 'counterEntry', value: encodeCounterEntry(sw.schema, { counter: c.name, index }) } }], `read ${c.name}[${index}]`);
    const read = e?.entity.case === 'counterEntry' ? decodeCounterEntry(sw.schema, e.entity.value) : undefined;
    return { packets: read?.packets ?? 0n, bytes: read?.bytes ?? 0n };
  }

  async register(name: string, index: number): Promise<bigint> {
    await this.flush();
    return this.switch().readRegister(name, index);
  }

  async digests(): Promise<DigestMessage[]> {
    await this.flush();
    return this.switch().digests();
  }

  advanceClock(): Promise<void> {
    return Promise.reject(
      new PacketTestError('PACKET_TEST_TARGET', 'BMv2 runs on real time: its clock (ingress_global_timestamp) cannot be advanced', {
        hint: 'run clock-dependent scenarios on the embedded target',
      }),
    );
  }

  /** Stops the switch, removes its veth pairs, closes the client; also after a failed load. */
  async close(): Promise<void> {
    this.pendingInserts = [];
    const starting = this.starting;
    this.starting = undefined;
    this.sw = undefined;
    if (starting === undefined) return;
    const sw = await starting.catch(() => undefined);
    await sw?.close();
  }
}
