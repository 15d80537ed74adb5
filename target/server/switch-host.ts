/**
 * The embedded switch as a device: the forwarding pipeline (program + P4Info binding), its data
 * ports and the packet loop, PacketOut/PacketIn through the CPU port, and digest delivery. The
 * gRPC server drives it; it knows nothing of gRPC, so a harness can also use it directly.
 */
import { compileP4 } from '../../p4-frontend/index.ts';
import type { ForwardingPipelineConfig } from '../../core/p4runtime/gen/p4/v1/p4runtime_pb.ts';
import type { P4Info } from '../../core/p4runtime/gen/p4/config/v1/p4info_pb.ts';
import { P4lbError } from '../../core/errors.ts';
import { V1ModelSwitch } from '../interpreter/switch.ts';
import type { Port } from '../ports/port.ts';
import { DigestEngine, realScheduler, type DigestMember, type DigestScheduler, type OutgoingDigestList } from './digests.ts';
import { ServerError, invalidArgument } from './errors.ts';
import { buildPacketOut, splitPacketIn, type MetadataValue } from './packet-io.ts';
import { bindPipeline, type Pipeline } from './pipeline.ts';

/** Name the device config is compiled under (appears in P4 error locations). */
export const DEVICE_CONFIG_FILE = 'p4_device_config.p4';

export interface SwitchHostOptions {
  readonly deviceId: bigint;
  /** Port that connects to the controller (simple_switch_grpc --cpu-port); none = no PacketIn/Out. */
  readonly cpuPort?: number | undefined;
  /** Collect each packet's trace and hand it to `onTrace`. */
  readonly trace?: boolean;
  readonly onTrace?: (event: TraceEvent) => void;
  readonly scheduler?: DigestScheduler;
  /** Microseconds for ingress_global_timestamp (tests inject one). */
  readonly clock?: () => bigint;
}

export interface TraceEvent {
  readonly ingressPort: number;
  readonly lines: readonly string[];
  readonly outcome: string;
}

export interface PacketInMessage {
  readonly payload: Uint8Array;
  readonly metadata: readonly MetadataValue[];
}

export interface HostCounters {
  /** Frames received on data ports and injected by PacketOut. */
  received: number;
  /** Frames sent out of data ports. */
  sent: number;
  /** Dropped by the program (egress_spec 511, mark_to_drop, run-time faults). */
  dropped: number;
  /** Sent by the program to a port number with no port attached. */
  noSuchPort: number;
  /** Frames that arrived while no pipeline was installed. */
  noPipeline: number;
  /** Packets delivered to the controller as PacketIn. */
  packetIns: number;
  /** Packets lost to a fault of the interpreter (a bug: reported through onTrace). */
  internalErrors: number;
}

/** A verified pipeline, ready to commit. */
export interface PreparedPipeline {
  readonly sw: V1ModelSwitch;
  readonly pipeline: Pipeline;
  readonly config: ForwardingPipelineConfig;
  readonly source: string;
}

export class SwitchHost {
  readonly deviceId: bigint;
  readonly cpuPort: number | undefined;
  readonly counters: HostCounters = { received: 0, sent: 0, dropped: 0, noSuchPort: 0, noPipeline: 0, packetIns: 0, internalErrors: 0 };
  readonly digests: DigestEngine;
  private readonly ports = new Map<number, Port>();
  private current: PreparedPipeline | undefined;
  private saved: PreparedPipeline | undefined;
  private packetInSink: ((p: PacketInMessage) => void) | undefined;
  private digestSink: ((d: OutgoingDigestList) => boolean) | undefined;
  private closed = false;

  constructor(private readonly options: SwitchHostOptions) {
    this.deviceId = options.deviceId;
    this.cpuPort = options.cpuPort;
    this.digests = new DigestEngine((list) => this.digestSink?.(list) ?? false, options.scheduler ?? realScheduler);
  }

  /** Where PacketIn messages go (the server sends them to the primary). */
  onPacketIn(sink: (p: PacketInMessage) => void): void {
    this.packetInSink = sink;
  }

  /** Where digest lists go; the sink answers false when it could not deliver (no primary). */
  onDigestList(sink: (d: OutgoingDigestList) => boolean): void {
    this.digestSink = sink;
  }

  // ------------------------------------------------------------------ pipeline
  get pipeline(): PreparedPipeline | undefined {
    return this.current;
  }

  get savedPipeline(): PreparedPipeline | undefined {
    return this.saved;
  }

  /** Compiles the device config (P4 source, UTF-8) and checks the P4Info against it. */
  verify(config: ForwardingPipelineConfig | undefined): PreparedPipeline {
    if (config === undefined) throw invalidArgument('the request has no config');
    if (config.p4info === undefined) throw invalidArgument('the config has no P4Info');
    if (config.p4DeviceConfig.length === 0) throw invalidArgument('p4_device_config is empty: the embedded target expects the P4 source text');
    let source: string;
    try {
      source = new TextDecoder('utf-8', { fatal: true }).decode(config.p4DeviceConfig);
    } catch {
      throw invalidArgument('p4_device_config is not UTF-8 text: the embedded target expects the P4 source text');
    }
    // p4c's BMv2 JSON, pushed by a controller that takes this switch for simple_switch_grpc.
    if (/^\s*\{/.test(source)) {
      throw invalidArgument('p4_device_config is JSON (a BMv2 device config, as for simple_switch_grpc): the embedded target expects the P4 source text (p4lb run without --bmv2)');
    }
    let sw: V1ModelSwitch;
    try {
      sw = new V1ModelSwitch(compileP4(source, DEVICE_CONFIG_FILE), {
        trace: this.options.trace ?? false,
        ...(this.options.clock === undefined ? {} : { clock: this.options.clock }),
      });
    } catch (err) {
      if (!(err instanceof P4lbError)) throw err;
      throw invalidArgument(`p4_device_config: ${err.describe()}`, { cause: err });
    }
    return { sw, pipeline: bindPipeline(config.p4info as P4Info, sw), config, source };
  }

  save(prepared: PreparedPipeline): void {
    this.saved = prepared;
  }

  /** Installs a pipeline: all forwarding state starts afresh. */
  commit(prepared: PreparedPipeline): void {
    this.current = prepared;
    this.saved = undefined;
    this.digests.reset();
  }

  /**
   * RECONCILE_AND_COMMIT: installs the pipeline keeping what still fits — table entries, default
   * actions, counters and registers of objects with the same name and shape.
   */
  reconcile(prepared: PreparedPipeline): void {
    const old = this.current;
    if (old !== undefined) carryState(old.sw, prepared.sw);
    this.current = prepared;
    this.saved = undefined;
    // Digest configurations stay when the digest keeps its id.
    for (const id of this.digests.configuredIds()) {
      if (!prepared.pipeline.digests.has(id)) this.digests.delete(id);
    }
  }

  // ------------------------------------------------------------------ ports and packets
  addPort(port: Port): void {
    if (this.ports.has(port.number)) throw new ServerError('ALREADY_EXISTS', `port ${port.number} is already attached`);
    if (port.number === this.cpuPort) throw invalidArgument(`port ${port.number} is the CPU port`);
    this.ports.set(port.number, port);
    port.onFrame((frame) => {
      if (!this.closed) this.receive(port.number, frame);
    });
  }

  portNumbers(): number[] {
    return [...this.ports.keys()].sort((a, b) => a - b);
  }

  /** Runs one frame through the pipeline and delivers what comes out. */
  receive(ingressPort: number, frame: Uint8Array): void {
    const current = this.current;
    if (current === undefined) {
      this.counters.noPipeline++;
      return;
    }
    this.counters.received++;
    let result: ReturnType<V1ModelSwitch['process']>;
    try {
      result = current.sw.process(ingressPort, frame);
    } catch (err) {
      // A fault of the interpreter itself: lose the packet, never the switch.
      this.counters.dropped++;
      this.counters.internalErrors++;
      const outcome = `dropped: internal error: ${err instanceof Error ? err.message : String(err)}`;
      this.options.onTrace?.({ ingressPort, lines: [], outcome });
      return;
    }
    let outcome: string;
    if (result.output === undefined) {
      this.counters.dropped++;
      outcome = `dropped: ${result.dropReason ?? 'no output'}`;
    } else {
      outcome = this.deliver(current, result.output.port, result.output.bytes);
    }
    if (result.digests.length > 0) this.offerDigests(current, result.digests);
    if (this.options.trace === true) this.options.onTrace?.({ ingressPort, lines: result.trace, outcome });
  }

  private deliver(current: PreparedPipeline, port: number, bytes: Uint8Array): string {
    if (port === this.cpuPort) {
      const { metadata, payload } = splitPacketIn(current.pipeline.packetIn, bytes);
      this.counters.packetIns++;
      this.packetInSink?.({ payload: payload.slice(), metadata });
      return `to the controller (${payload.length} bytes)`;
    }
    const out = this.ports.get(port);
    if (out === undefined) {
      this.counters.noSuchPort++;
      return `dropped: no port ${port}`;
    }
    try {
      out.send(bytes);
      this.counters.sent++;
      return `out of port ${port} (${bytes.length} bytes)`;
    } catch (err) {
      // A closed port or a runt frame: the packet is lost, as on a wire.
      this.counters.dropped++;
      return `dropped: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  private offerDigests(current: PreparedPipeline, digests: ReturnType<V1ModelSwitch['process']>['digests']): void {
    const byId = new Map<number, DigestMember[][]>();
    for (const d of digests) {
      const binding = current.pipeline.digestsByName.get(d.typeName);
      if (binding === undefined) continue;
      const members = d.members.map((m) => {
        const width = Math.max(1, m.width);
        const value = typeof m.value === 'bigint' ? BigInt.asUintN(width, m.value) : m.value === true ? 1n : 0n;
        return { value, width };
      });
      const list = byId.get(binding.id) ?? [];
      list.push(members);
      byId.set(binding.id, list);
    }
    for (const [id, records] of byId) this.digests.offer(id, records);
  }

  /** A PacketOut: the packet_out header in front of the payload, injected on the CPU port. */
  packetOut(payload: Uint8Array, metadata: readonly MetadataValue[]): void {
    const current = this.current;
    if (current === undefined) throw new ServerError('FAILED_PRECONDITION', 'no forwarding pipeline is installed');
    if (this.cpuPort === undefined) throw new ServerError('FAILED_PRECONDITION', 'the switch has no CPU port (start it with --cpu-port)');
    const bytes = buildPacketOut(current.pipeline.packetOut, metadata, payload);
    this.receive(this.cpuPort, bytes);
  }

  /** Closes every port and forgets digests. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.digests.reset();
    await Promise.all([...this.ports.values()].map((p) => p.close()));
  }
}

function carryState(from: V1ModelSwitch, to: V1ModelSwitch): void {
  for (const [name, t] of to.tables) {
    const old = from.tables.get(name);
    if (old === undefined || JSON.stringify(old.keys) !== JSON.stringify(t.keys)) continue;
    for (const e of old.entries()) {
      const action = to.actions.get(e.action.action.name);
      if (action === undefined || action.params.length !== e.action.args.length) continue;
      try {
        if (t.find(e) !== undefined) continue;
        t.insert({ matches: e.matches, priority: e.priority, action: { action, args: e.action.args } });
        const stored = t.find(e);
        if (stored !== undefined) {
          stored.packets = e.packets;
          stored.bytes = e.bytes;
        }
      } catch {
        // An entry the new program refuses (other action set, smaller table) is left out.
      }
    }
  }
  for (const [name, r] of to.registers) {
    const old = from.registers.get(name);
    if (old !== undefined && old.size === r.size && old.width === r.width) old.values.forEach((v, i) => (r.values[i] = v));
  }
  for (const [name, c] of to.counters) {
    const old = from.counters.get(name);
    if (old === undefined || old.size !== c.size) continue;
    old.packets.forEach((v, i) => (c.packets[i] = v));
    old.bytes.forEach((v, i) => (c.bytes[i] = v));
  }
}
