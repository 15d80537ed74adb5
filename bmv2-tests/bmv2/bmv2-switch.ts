/**
 * One running simple_switch_grpc with a veth pair per port, driven as a controller drives it:
 * a P4Runtime primary session (arbitration, pipeline, writes, reads, digests with acks), frames
 * sent and received on the test's veth ends, registers read over Thrift. Everything it starts,
 * `close()` stops and removes, also when starting fails half-way.
 */
import { execFileSync } from 'node:child_process';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { uint128FromBigint } from '../../core/p4runtime/bytes.ts';
import { createP4RuntimeClient, type P4RuntimeClient, type P4RuntimeStream } from '../../core/p4runtime/service.ts';
import { P4RuntimeRpcError } from '../../core/p4runtime/status.ts';
import {
  SetForwardingPipelineConfigRequest_Action,
  Update_Type,
  type DigestList,
  type Entity,
  type EntitySchema,
  type StreamMessageResponse,
  type WriteRequestSchema,
} from '../../core/p4runtime/gen/p4/v1/p4runtime_pb.ts';
import { InterfacePort } from '../../target/ports/interface-port.ts';
import type { DigestMessage, OutputPacket } from '../dsl/target.ts';
import type { Bmv2Tools } from '../dsl/runner.ts';
import type { Bmv2Program } from './compile.ts';
import { Bmv2Error } from './errors.ts';
import { decodeDigestList, P4Schema } from '../../runtime-controller/schema/index.ts';
import { resolveName } from '../dsl/embedded-target.ts';
import { freeLoopbackPort, hasThrift, simpleSwitchArgs, SwitchProcess } from './switch-process.ts';
import { ThriftRegisterClient } from './thrift-registers.ts';
import { createVethPair, removeStaleVethPairs, removeVethPair, vethPairNames, type VethPair } from './veth.ts';

export type EntityInit = MessageInitShape<typeof EntitySchema>;
export type WriteUpdates = NonNullable<MessageInitShape<typeof WriteRequestSchema>['updates']>;

export interface Bmv2SwitchOptions {
  readonly tools: Bmv2Tools;
  /** Switch ports the tests use: one veth pair each. */
  readonly ports: readonly number[];
  readonly cpuPort?: number;
  /** Frames on the test's ends for which this is false are ignored (the kernel's own traffic). */
  readonly accept?: (frame: Uint8Array) => boolean;
  readonly startTimeoutMs?: number;
  /** How long `outputs()` waits, after the last frame sent or received, for frames still in flight. */
  readonly quietMs?: number;
}

const DEVICE_ID = 1n;
const ELECTION_ID = 1n;
const STATUS_OK = 0;
/** Inserts go in batches of this many updates: the gateway's 131072 slot entries one RPC each would take minutes. */
export const WRITE_BATCH = 1000;
/**
 * bm_register_read answers `Data::get<int64_t>()` (bm_runtime/Standard_server.cpp), a boost
 * multiprecision conversion that saturates: any 64-bit value >= 2^63 reads as 2^63 - 1.
 */
export const THRIFT_REGISTER_SATURATED = (1n << 63n) - 1n;
/** After every sent packet has produced a frame, this much longer for extra frames (clones). */
const EXTRA_FRAME_GRACE_MS = 20;

/** IPv4 or ARP: what a packet test can expect; the kernel's IPv6 and LLDP chatter is not. */
export function isIpv4OrArp(frame: Uint8Array): boolean {
  if (frame.length < 14) return false;
  const etherType = (frame[12]! << 8) | frame[13]!;
  return etherType === 0x0800 || etherType === 0x0806;
}

/** Everything but IPv6 multicast (33:33:…) and IEEE link-local (01:80:c2:…) frames: for STF, whose packets are arbitrary. */
export function isNotKernelNoise(frame: Uint8Array): boolean {
  if (frame.length < 14) return false;
  if (frame[0] === 0x33 && frame[1] === 0x33) return false;
  return !(frame[0] === 0x01 && frame[1] === 0x80 && frame[2] === 0xc2);
}

// Switches alive in this process, stopped synchronously if the process exits without close().
const live = new Set<Bmv2Switch>();
let exitHookInstalled = false;
let instances = 0;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const sw of live) sw.killNow();
  });
}

function p4rtError(what: string, err: unknown): Bmv2Error {
  const detail = err instanceof P4RuntimeRpcError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
  return new Bmv2Error('BMV2_P4RUNTIME', `${what}: ${detail}`, { cause: err });
}

export class Bmv2Switch {
  readonly pairs: VethPair[] = [];
  private readonly ports = new Map<number, InterfacePort>();
  private process: SwitchProcess | undefined;
  private client: P4RuntimeClient | undefined;
  private stream: P4RuntimeStream | undefined;
  private streamMessages: StreamMessageResponse[] = [];
  private streamEnded: unknown;
  private thrift: ThriftRegisterClient | undefined;
  private program: Bmv2Program | undefined;
  private indexed: P4Schema | undefined;
  /** Digest id → the digested struct's type name, as a packet test names a digest. */
  private digestNames = new Map<number, string>();
  private frames: OutputPacket[] = [];
  private digestQueue: DigestMessage[] = [];
  private sentSinceTake = 0;
  private lastActivity = 0;
  private lastFrameAt = 0;
  private closing: Promise<void> | undefined;
  private readonly quietMs: number;

  private constructor(private readonly options: Bmv2SwitchOptions) {
    this.quietMs = options.quietMs ?? 300;
  }

  /** Starts the switch with its veth pairs and a primary P4Runtime session; no program yet. */
  static async start(options: Bmv2SwitchOptions): Promise<Bmv2Switch> {
    installExitHook();
    const sw = new Bmv2Switch(options);
    live.add(sw);
    try {
      await sw.boot();
      return sw;
    } catch (err) {
      await sw.close();
      throw err;
    }
  }

  private async boot(): Promise<void> {
    await removeStaleVethPairs();
    const instance = instances++;
    for (const port of [...new Set(this.options.ports)].sort((a, b) => a - b)) {
      const pair = vethPairNames(process.pid, instance, port);
      await createVethPair(pair);
      this.pairs.push(pair);
    }
    const grpcPort = await freeLoopbackPort();
    const thriftPort = hasThrift(this.options.tools.simpleSwitchGrpc) ? await freeLoopbackPort() : undefined;
    const args = simpleSwitchArgs({
      deviceId: Number(DEVICE_ID),
      interfaces: new Map(this.pairs.map((p) => [p.port, p.a])),
      grpcPort,
      ...(thriftPort === undefined ? {} : { thriftPort }),
      ...(this.options.cpuPort === undefined ? {} : { cpuPort: this.options.cpuPort }),
    });
    const proc = SwitchProcess.start(this.options.tools.simpleSwitchGrpc, args);
    this.process = proc;
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 15000);
    const client = createP4RuntimeClient(`127.0.0.1:${grpcPort}`);
    this.client = client;
    // The server listens only once the switch is up; retry until then or until the process dies.
    for (;;) {
      if (!proc.running) throw proc.failure('simple_switch_grpc exited while starting');
      try {
        await client.waitForReady(Math.min(deadline, Date.now() + 250));
        break;
      } catch (err) {
        if (Date.now() >= deadline) throw proc.failure(`no P4Runtime server on 127.0.0.1:${grpcPort} within the start timeout`, err);
      }
    }
    await this.arbitrate(deadline);
    for (const pair of this.pairs) {
      const port = InterfacePort.open({ number: pair.port, ifname: pair.b });
      this.ports.set(pair.port, port);
      const accept = this.options.accept ?? isIpv4OrArp;
      port.onFrame((frame) => {
        if (!accept(frame)) return;
        this.frames.push({ port: pair.port, bytes: new Uint8Array(frame) });
        this.lastActivity = this.lastFrameAt = Date.now();
      });
    }
    // Without Thrift, registers cannot be read; the rest works.
    if (thriftPort !== undefined) this.thrift = await ThriftRegisterClient.connect(thriftPort);
  }

  private async arbitrate(deadline: number): Promise<void> {
    const stream = this.client!.streamChannel();
    this.stream = stream;
    void (async () => {
      try {
        for await (const m of stream) this.onStream(m);
        this.streamEnded = new Error('the switch ended the stream');
      } catch (err) {
        this.streamEnded = err;
      }
    })();
    stream.send({ update: { case: 'arbitration', value: { deviceId: DEVICE_ID, electionId: uint128FromBigint(ELECTION_ID) } } });
    for (;;) {
      const i = this.streamMessages.findIndex((m) => m.update.case === 'arbitration');
      if (i >= 0) {
        const m = this.streamMessages.splice(i, 1)[0]!;
        const status = m.update.case === 'arbitration' ? m.update.value.status : undefined;
        if (status !== undefined && status.code !== STATUS_OK) {
          throw new Bmv2Error('BMV2_P4RUNTIME', `arbitration: not primary (${status.code} ${status.message})`);
        }
        return;
      }
      if (this.streamEnded !== undefined) throw p4rtError('arbitration', this.streamEnded);
      if (Date.now() > deadline) throw this.process!.failure('no arbitration answer from simple_switch_grpc');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private onStream(m: StreamMessageResponse): void {
    if (m.update.case === 'digest') {
      const list = m.update.value;
      const name = this.digestNames.get(list.digestId) ?? `digest ${list.digestId}`;
      for (const fields of this.decodeDigests(list)) this.digestQueue.push({ name, fields });
      this.stream?.send({ update: { case: 'digestAck', value: { digestId: list.digestId, listId: list.listId } } });
      this.lastActivity = Date.now();
      return;
    }
    this.streamMessages.push(m);
  }

  /** Each message's fields by name; a list the schema cannot read still counts, with no fields. */
  private decodeDigests(list: DigestList): readonly Readonly<Record<string, bigint>>[] {
    if (this.indexed?.digests.find(list.digestId) === undefined) return list.data.map(() => ({}));
    try {
      return decodeDigestList(this.indexed, list).data;
    } catch {
      return list.data.map(() => ({}));
    }
  }

  /** The controller's schema of the pushed program's P4Info. */
  get schema(): P4Schema {
    if (this.indexed === undefined) throw new Bmv2Error('BMV2_P4RUNTIME', 'no pipeline pushed yet');
    return this.indexed;
  }

  /**
   * SetForwardingPipelineConfig(VERIFY_AND_COMMIT) with the BMv2 JSON: BMv2 builds the program's
   * state anew (empty tables, zero counters and registers), so a re-push starts a test afresh.
   * Then every digest is configured to arrive at once, one a list.
   */
  async pushPipeline(program: Bmv2Program): Promise<void> {
    const client = this.live();
    try {
      await client.setForwardingPipelineConfig({
        deviceId: DEVICE_ID,
        electionId: uint128FromBigint(ELECTION_ID),
        action: SetForwardingPipelineConfigRequest_Action.VERIFY_AND_COMMIT,
        config: { p4info: program.p4info, p4DeviceConfig: program.json },
      });
    } catch (err) {
      throw p4rtError(`SetForwardingPipelineConfig of ${program.fileName}`, err);
    }
    this.program = program;
    this.indexed = P4Schema.fromP4Info(program.p4info);
    this.digestNames = new Map(program.p4info.digests.map((d) => {
      const spec = d.typeSpec?.typeSpec;
      return [d.preamble!.id, spec?.case === 'struct' ? spec.value.name : d.preamble!.name];
    }));
    const digests = [...this.indexed.digests].map((d) => ({
      type: Update_Type.INSERT,
      entity: { entity: { case: 'digestEntry' as const, value: { digestId: d.id, config: { maxTimeoutNs: 0n, maxListSize: 1, ackTimeoutNs: 1_000_000_000n } } } },
    }));
    if (digests.length > 0) await this.write(digests, 'configure digests');
    this.frames = [];
    this.digestQueue = [];
    this.sentSinceTake = 0;
  }

  private live(): P4RuntimeClient {
    if (this.client === undefined || this.closing !== undefined) throw new Bmv2Error('BMV2_P4RUNTIME', 'the switch is closed');
    if (this.process !== undefined && !this.process.running) throw this.process.failure('simple_switch_grpc is no longer running');
    return this.client;
  }

  /** One Write; BMv2 implements CONTINUE_ON_ERROR only, so a failure names each failed update. */
  async write(updates: WriteUpdates, what: string): Promise<void> {
    const client = this.live();
    try {
      await client.write({ deviceId: DEVICE_ID, electionId: uint128FromBigint(ELECTION_ID), updates });
    } catch (err) {
      throw p4rtError(what, err);
    }
  }

  async read(entities: readonly EntityInit[], what: string): Promise<Entity[]> {
    const client = this.live();
    const out: Entity[] = [];
    try {
      for await (const r of client.read({ deviceId: DEVICE_ID, entities: [...entities] })) out.push(...r.entities);
    } catch (err) {
      throw p4rtError(what, err);
    }
    return out;
  }

  send(port: number, bytes: Uint8Array): void {
    const p = this.ports.get(port);
    if (p === undefined) {
      throw new Bmv2Error('BMV2_UNSUPPORTED', `port ${port} has no veth pair: the switch was started with ports ${[...this.ports.keys()].join(', ')}`, {
        hint: 'list every port the tests send on or expect on in the target options',
      });
    }
    p.send(bytes);
    this.sentSinceTake++;
    this.lastActivity = Date.now();
  }

  /**
   * Waits until frames stop coming: at once (after a short grace) when at least as many frames
   * came as packets were sent since the last call, else after `quietMs` without a frame. Bounded
   * either way; a packet that BMv2 drops costs `quietMs`.
   */
  async settle(expectedFrames = this.sentSinceTake): Promise<void> {
    for (;;) {
      const now = Date.now();
      if (this.frames.length >= expectedFrames && now - this.lastFrameAt >= EXTRA_FRAME_GRACE_MS && now - this.lastActivity >= EXTRA_FRAME_GRACE_MS) return;
      if (now - this.lastActivity >= this.quietMs) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Frames that left since the last call, in arrival order (which need not be the sending order). */
  async outputs(expectedFrames?: number): Promise<OutputPacket[]> {
    await this.settle(expectedFrames);
    this.sentSinceTake = 0;
    return this.frames.splice(0);
  }

  /** Digests since the last call, after the packets in flight have had their time. */
  async digests(): Promise<DigestMessage[]> {
    const deadline = this.lastActivity + this.quietMs;
    while (Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    return this.digestQueue.splice(0);
  }

  async readRegister(name: string, index: number): Promise<bigint> {
    if (this.thrift === undefined) {
      throw new Bmv2Error('BMV2_UNSUPPORTED', `register ${name}: BMv2's P4Runtime server does not implement register reads and this simple_switch_grpc has no Thrift server`);
    }
    const info = resolveName('register', this.program?.registers ?? new Map(), name);
    if (info.bitwidth > 64) throw new Bmv2Error('BMV2_UNSUPPORTED', `register ${info.name}: bit<${info.bitwidth}> is wider than the 64 bits BMv2's Thrift serves`);
    if (!Number.isInteger(index) || index < 0 || index >= info.size) {
      throw new Bmv2Error('BMV2_P4RUNTIME', `register ${info.name} has ${info.size} cells, index ${index}`);
    }
    await this.settle();
    const value = await this.thrift.read(info.name, index);
    if (value === THRIFT_REGISTER_SATURATED && info.bitwidth === 64) {
      throw new Bmv2Error('BMV2_UNSUPPORTED', `register ${info.name}[${index}] reads 0x7fffffffffffffff: BMv2's Thrift register read converts to a signed i64 and saturates every value >= 2^63 there, so the cell's value is unknown`, {
        hint: 'read 64-bit registers on the embedded target; on BMv2 only values below 2^63 can be read',
      });
    }
    return value;
  }

  /** What the switch printed, for failure messages. */
  describe(): string {
    return this.process?.describe() ?? 'not started';
  }

  killNow(): void {
    this.process?.killNow();
    for (const pair of this.pairs) {
      try {
        execFileSync('ip', ['link', 'del', pair.a], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  }

  /** Stops everything this switch started; idempotent, never rejects. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.thrift?.close();
      this.stream?.cancel();
      this.client?.close();
      await Promise.all([...this.ports.values()].map((p) => p.close().catch(() => undefined)));
      await this.process?.stop();
      for (const pair of this.pairs) await removeVethPair(pair);
      live.delete(this);
    })();
    return this.closing;
  }
}
