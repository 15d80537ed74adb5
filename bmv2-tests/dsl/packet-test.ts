/**
 * A scenario's view of a switch, in the spirit of p4c's STF: install entries, send packets, and
 * expect packets, silence, counters and digests. Expectations throw PacketExpectationError with
 * expected versus received, decoded, so any test runner shows a readable failure.
 */
import { P4lbError } from '../../core/errors.ts';
import type { DecodeOptions } from '../../core/packet/packet.ts';
import { scalarToBigInt } from './values.ts';
import { asPattern, describePacket, explainMismatch, matches, type PacketPattern } from './packet-diff.ts';
import type {
  CounterValue, DefaultAction, DigestMessage, KeyValue, OutputPacket, PacketTestTarget, ScalarValue, TableEntry,
} from './target.ts';

export class PacketExpectationError extends P4lbError {
  constructor(message: string) {
    super('PACKET_TEST_EXPECTATION', message);
  }
}

export interface PacketTestOptions {
  /** How to decode packets in failure messages (which UDP ports carry a tunnel). */
  readonly decode?: DecodeOptions;
}

export class PacketTest {
  /** Outputs drained from the target and not yet matched by an expectation. */
  private queue: OutputPacket[] = [];
  private digestQueue: DigestMessage[] = [];
  private readonly decode: DecodeOptions;

  constructor(
    readonly target: PacketTestTarget,
    options: PacketTestOptions = {},
  ) {
    this.decode = options.decode ?? {};
  }

  insert(table: string, keys: Readonly<Record<string, KeyValue>>, action: string, params: Readonly<Record<string, ScalarValue>> = {}, priority?: number): Promise<void> {
    return this.target.insert(table, keys, action, params, priority);
  }

  modify(table: string, keys: Readonly<Record<string, KeyValue>>, action: string, params: Readonly<Record<string, ScalarValue>> = {}, priority?: number): Promise<void> {
    return this.target.modify(table, keys, action, params, priority);
  }

  delete(table: string, keys: Readonly<Record<string, KeyValue>>, priority?: number): Promise<void> {
    return this.target.delete(table, keys, priority);
  }

  setDefault(table: string, action: string, params: Readonly<Record<string, ScalarValue>> = {}): Promise<void> {
    return this.target.setDefault(table, action, params);
  }

  async install(entries: { readonly defaults: readonly DefaultAction[]; readonly entries: readonly TableEntry[] }): Promise<void> {
    for (const d of entries.defaults) await this.target.setDefault(d.table, d.action, d.params);
    for (const e of entries.entries) await this.target.insert(e.table, e.keys, e.action, e.params, e.priority);
  }

  send(port: number, bytes: Uint8Array): Promise<void> {
    return this.target.send(port, bytes);
  }

  advanceClock(micros: bigint | number): Promise<void> {
    return this.target.advanceClock(micros);
  }

  register(name: string, index: number): Promise<bigint> {
    return this.target.register(name, index);
  }

  counter(name: string, index: number): Promise<CounterValue> {
    return this.target.counter(name, index);
  }

  private async drain(): Promise<void> {
    this.queue.push(...(await this.target.outputs()));
  }

  private traceText(): string {
    const trace = this.target.lastTrace?.() ?? [];
    return trace.length === 0 ? '' : `\ntrace of the last packet sent:\n  ${trace.join('\n  ')}`;
  }

  /** Drains and returns every packet that left and no expectation has taken yet. */
  async received(): Promise<OutputPacket[]> {
    await this.drain();
    const out = this.queue;
    this.queue = [];
    return out;
  }

  /**
   * Takes the first pending output on `port` that matches; fails, showing the closest candidate
   * decoded, when there is none. Other outputs stay pending (a switch may reorder).
   */
  async expectPacket(port: number, expected: Uint8Array | PacketPattern): Promise<OutputPacket> {
    await this.drain();
    const want = asPattern(expected);
    const index = this.queue.findIndex((o) => o.port === port && matches(want, o.bytes));
    if (index >= 0) return this.queue.splice(index, 1)[0]!;
    // A failed expectation reports what is pending and clears it, so that the next one starts clean.
    const pending = this.queue;
    this.queue = [];
    if (pending.length === 0) {
      throw new PacketExpectationError(
        `expected a packet on port ${port}, but the switch sent nothing\nexpected:\n${describePacket(want.bytes, this.decode)}${this.traceText()}`,
      );
    }
    const samePort = pending.find((o) => o.port === port);
    if (samePort === undefined) {
      const got = pending.map((o) => `port ${o.port}:\n${describePacket(o.bytes, this.decode)}`).join('\n');
      throw new PacketExpectationError(`expected a packet on port ${port}; the switch sent only:\n${got}${this.traceText()}`);
    }
    throw new PacketExpectationError(`the packet on port ${port} is not the expected one\n${explainMismatch(want, samePort.bytes, this.decode)}${this.traceText()}`);
  }

  /** Fails when any packet left that no expectation took. */
  async expectNoPacket(): Promise<void> {
    await this.drain();
    if (this.queue.length === 0) return;
    const got = this.queue.map((o) => `port ${o.port}:\n${describePacket(o.bytes, this.decode)}`).join('\n');
    this.queue = [];
    throw new PacketExpectationError(`expected no packet, the switch sent:\n${got}${this.traceText()}`);
  }

  async expectCounter(name: string, index: number, expected: { packets: bigint | number; bytes?: bigint | number }): Promise<void> {
    const got = await this.target.counter(name, index);
    const packetsOk = got.packets === BigInt(expected.packets);
    const bytesOk = expected.bytes === undefined || got.bytes === BigInt(expected.bytes);
    if (packetsOk && bytesOk) return;
    const want = `${expected.packets} packets${expected.bytes === undefined ? '' : `, ${expected.bytes} bytes`}`;
    throw new PacketExpectationError(`counter ${name}[${index}]: expected ${want}, found ${got.packets} packets, ${got.bytes} bytes`);
  }

  /** Drains the digests raised so far. */
  async digests(): Promise<DigestMessage[]> {
    this.digestQueue.push(...(await this.target.digests()));
    const out = this.digestQueue;
    this.digestQueue = [];
    return out;
  }

  /** Takes the first pending digest of this type whose listed fields all have these values. */
  async expectDigest(name: string, fields: Readonly<Record<string, ScalarValue>>): Promise<DigestMessage> {
    this.digestQueue.push(...(await this.target.digests()));
    const want = Object.entries(fields).map(([k, v]) => [k, scalarToBigInt(v, `digest field ${k}`)] as const);
    const index = this.digestQueue.findIndex((d) => d.name === name && want.every(([k, v]) => d.fields[k] === v));
    if (index >= 0) return this.digestQueue.splice(index, 1)[0]!;
    const show = (d: DigestMessage): string => `${d.name} { ${Object.entries(d.fields).map(([k, v]) => `${k}: ${v}`).join(', ')} }`;
    const wantText = `${name} { ${want.map(([k, v]) => `${k}: ${v}`).join(', ')} }`;
    const got = this.digestQueue.length === 0 ? 'none' : this.digestQueue.map(show).join('\n  ');
    throw new PacketExpectationError(`expected digest ${wantText}\nreceived:\n  ${got}`);
  }

  /** Fails when a digest was raised that no expectation took. */
  async expectNoDigest(): Promise<void> {
    const pending = await this.digests();
    if (pending.length > 0) {
      throw new PacketExpectationError(`expected no digest, received ${pending.map((d) => d.name).join(', ')}`);
    }
  }
}
