/**
 * The embedded target's P4Runtime server (spec v1.3), what BMv2's simple_switch_grpc serves and
 * more (register read/write): pipeline config, Write/Read, arbitration over StreamChannel,
 * PacketIn/PacketOut and digests. The device logic lives in SwitchHost; this module is the
 * grpc-js wiring and the per-call checks (device id, primary, pipeline present).
 */
import * as grpc from '@grpc/grpc-js';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { encodeP4Value, uint128FromBigint, uint128ToBigint } from '../../core/p4runtime/bytes.ts';
import {
  CapabilitiesResponseSchema,
  ForwardingPipelineConfigSchema,
  GetForwardingPipelineConfigRequest_ResponseType as ResponseType,
  GetForwardingPipelineConfigResponseSchema,
  ReadResponseSchema,
  SetForwardingPipelineConfigRequest_Action as ConfigAction,
  SetForwardingPipelineConfigResponseSchema,
  StreamErrorSchema,
  StreamMessageResponseSchema,
  WriteRequest_Atomicity,
  WriteResponseSchema,
  type ReadRequest,
  type ReadResponse,
  type StreamMessageRequest,
  type StreamMessageResponse,
  type Uint128,
  type WriteRequest,
} from '../../core/p4runtime/gen/p4/v1/p4runtime_pb.ts';
import { P4DataSchema } from '../../core/p4runtime/gen/p4/v1/p4data_pb.ts';
import { P4RUNTIME_SERVER_OPTIONS, addP4RuntimeService, type P4RuntimeHandlers } from '../../core/p4runtime/service.ts';
import { GrpcStatus, P4RuntimeRpcError, writeErrorStatus, type UpdateOutcome } from '../../core/p4runtime/status.ts';
import { Arbitration, type ArbitrationNotice } from './arbitration.ts';
import type { OutgoingDigestList } from './digests.ts';
import { ServerError, errorMessage, toGrpcCode } from './errors.ts';
import { readEntity } from './read.ts';
import type { PacketInMessage, SwitchHost } from './switch-host.ts';
import { applyUpdate } from './write.ts';

/** The P4Runtime version this server implements (what simple_switch_grpc advertises). */
export const P4RUNTIME_API_VERSION = '1.3.0';

type StreamCall = grpc.ServerDuplexStream<StreamMessageRequest, StreamMessageResponse>;

/** Shared by every update that succeeds (outcomes are read, never changed). */
const OK_OUTCOME: UpdateOutcome = { canonicalCode: GrpcStatus.OK };

/** An election id; undefined when the message leaves it unset (which differs from 0). */
function electionIdOf(id: Uint128 | undefined): bigint | undefined {
  return id === undefined ? undefined : uint128ToBigint(id);
}

function rpcError(code: number, message: string): P4RuntimeRpcError {
  return new P4RuntimeRpcError({ grpcCode: code, message });
}

/** A thrown value as the P4RuntimeRpcError the service layer reports. */
function asRpcError(error: unknown): P4RuntimeRpcError {
  if (error instanceof P4RuntimeRpcError) return error;
  return rpcError(toGrpcCode(error), errorMessage(error));
}

export class P4RuntimeTargetServer {
  readonly arbitration: Arbitration;
  private readonly streams = new Map<number, StreamCall>();
  private nextStreamId = 1;
  private grpcServer: grpc.Server | undefined;

  constructor(readonly host: SwitchHost) {
    this.arbitration = new Arbitration(host.deviceId);
    host.onPacketIn((p) => this.sendPacketIn(p));
    host.onDigestList((d) => this.sendDigestList(d));
  }

  /** Binds `address` (`127.0.0.1:0` picks a free port) and serves; resolves to the bound port. */
  async listen(address: string): Promise<number> {
    const server = new grpc.Server(P4RUNTIME_SERVER_OPTIONS);
    addP4RuntimeService(server, this.handlers());
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) => (err === null ? resolve(bound) : reject(err)));
    });
    this.grpcServer = server;
    return port;
  }

  /** Ends every stream, stops the server (forcefully after `graceMs`) and closes the ports. */
  async close(graceMs = 1000): Promise<void> {
    for (const call of this.streams.values()) call.end();
    this.streams.clear();
    const server = this.grpcServer;
    this.grpcServer = undefined;
    if (server !== undefined) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    await this.host.close();
  }

  handlers(): P4RuntimeHandlers {
    return {
      write: async (request) => this.write(request),
      read: (request) => this.read(request),
      setForwardingPipelineConfig: async (request) => {
        this.checkDevice(request.deviceId);
        this.checkPrimary(request.electionId, 'set the forwarding pipeline');
        try {
          this.setPipeline(request.action, request.config);
        } catch (err) {
          throw asRpcError(err);
        }
        return create(SetForwardingPipelineConfigResponseSchema);
      },
      getForwardingPipelineConfig: async (request) => {
        this.checkDevice(request.deviceId);
        const current = this.host.pipeline;
        if (current === undefined) throw rpcError(GrpcStatus.FAILED_PRECONDITION, 'no forwarding pipeline is installed');
        const c = current.config;
        const type = request.responseType;
        const withP4Info = type === ResponseType.ALL || type === ResponseType.P4INFO_AND_COOKIE;
        const withDevice = type === ResponseType.ALL || type === ResponseType.DEVICE_CONFIG_AND_COOKIE;
        return create(GetForwardingPipelineConfigResponseSchema, {
          config: create(ForwardingPipelineConfigSchema, {
            ...(withP4Info && c.p4info !== undefined ? { p4info: c.p4info } : {}),
            ...(withDevice ? { p4DeviceConfig: c.p4DeviceConfig } : {}),
            ...(c.cookie !== undefined ? { cookie: c.cookie } : {}),
          }),
        });
      },
      capabilities: async () => create(CapabilitiesResponseSchema, { p4runtimeApiVersion: P4RUNTIME_API_VERSION }),
      streamChannel: (call) => this.stream(call),
    };
  }

  // ------------------------------------------------------------------ checks
  private checkDevice(deviceId: bigint): void {
    if (deviceId !== this.host.deviceId) {
      throw rpcError(GrpcStatus.NOT_FOUND, `device id ${deviceId} is not this switch's (${this.host.deviceId})`);
    }
  }

  private checkPrimary(electionId: Uint128 | undefined, what: string): void {
    const id = electionIdOf(electionId);
    if (!this.arbitration.mayWrite(id)) {
      const primary = this.arbitration.primaryElectionId();
      const given = id === undefined ? 'no election id' : `election id ${id}`;
      throw rpcError(
        GrpcStatus.PERMISSION_DENIED,
        primary === undefined
          ? `only the primary client may ${what}, and there is no primary (${given})`
          : `only the primary client may ${what}: ${given} is not the primary's`,
      );
    }
  }

  private requirePipeline() {
    const current = this.host.pipeline;
    if (current === undefined) throw rpcError(GrpcStatus.FAILED_PRECONDITION, 'no forwarding pipeline is installed');
    return current;
  }

  // ------------------------------------------------------------------ pipeline
  private setPipeline(action: ConfigAction, config: Parameters<SwitchHost['verify']>[0]): void {
    switch (action) {
      case ConfigAction.VERIFY:
        this.host.verify(config);
        return;
      case ConfigAction.VERIFY_AND_SAVE:
        this.host.save(this.host.verify(config));
        return;
      case ConfigAction.VERIFY_AND_COMMIT:
        this.host.commit(this.host.verify(config));
        return;
      case ConfigAction.COMMIT: {
        const saved = this.host.savedPipeline;
        if (saved === undefined) throw new ServerError('FAILED_PRECONDITION', 'COMMIT without a pipeline saved by VERIFY_AND_SAVE');
        this.host.commit(saved);
        return;
      }
      case ConfigAction.RECONCILE_AND_COMMIT:
        this.host.reconcile(this.host.verify(config));
        return;
      default:
        throw new ServerError('INVALID_ARGUMENT', `SetForwardingPipelineConfig action ${String(action)} is not valid`);
    }
  }

  // ------------------------------------------------------------------ write / read
  private write(request: WriteRequest) {
    this.checkDevice(request.deviceId);
    this.checkPrimary(request.electionId, 'write');
    const current = this.requirePipeline();
    if (request.atomicity !== WriteRequest_Atomicity.CONTINUE_ON_ERROR) {
      // As BMv2: only CONTINUE_ON_ERROR.
      throw rpcError(GrpcStatus.UNIMPLEMENTED, `atomicity ${WriteRequest_Atomicity[request.atomicity] ?? request.atomicity} is not supported`);
    }
    const ctx = { pipeline: current.pipeline, digests: this.host.digests };
    let failed = false;
    const outcomes: UpdateOutcome[] = request.updates.map((update) => {
      try {
        applyUpdate(ctx, update);
        return OK_OUTCOME;
      } catch (err) {
        failed = true;
        return { canonicalCode: toGrpcCode(err), message: errorMessage(err) };
      }
    });
    if (failed) {
      const status = writeErrorStatus(outcomes);
      throw new P4RuntimeRpcError({ grpcCode: status.code, message: status.message, status });
    }
    return create(WriteResponseSchema);
  }

  private async *read(request: ReadRequest): AsyncGenerator<ReadResponse> {
    this.checkDevice(request.deviceId);
    const current = this.requirePipeline();
    const ctx = { pipeline: current.pipeline, digests: this.host.digests };
    let results;
    try {
      // Every requested entity is checked before the first response goes out.
      results = request.entities.map((e) => readEntity(ctx, e));
    } catch (err) {
      throw asRpcError(err);
    }
    let sent = false;
    for (const gen of results) {
      for (const entities of gen) {
        sent = true;
        yield create(ReadResponseSchema, { entities });
      }
    }
    if (!sent) yield create(ReadResponseSchema);
  }

  // ------------------------------------------------------------------ stream channel
  private stream(call: StreamCall): void {
    const streamId = this.nextStreamId++;
    this.streams.set(streamId, call);
    let gone = false;
    const leave = (): void => {
      if (gone) return;
      gone = true;
      this.streams.delete(streamId);
      this.notify(this.arbitration.remove(streamId));
    };
    call.on('data', (message: StreamMessageRequest) => this.onStreamMessage(streamId, call, message, leave));
    call.on('end', () => {
      leave();
      call.end();
    });
    call.on('cancelled', leave);
    call.on('error', leave);
    call.on('close', leave);
  }

  private onStreamMessage(streamId: number, call: StreamCall, message: StreamMessageRequest, leave: () => void): void {
    const u = message.update;
    switch (u.case) {
      case 'arbitration': {
        try {
          const notices = this.arbitration.update(streamId, u.value.deviceId, electionIdOf(u.value.electionId));
          this.notify(notices);
        } catch (err) {
          // Wrong device or a duplicate election id: the stream ends with that status.
          leave();
          call.emit('error', { code: toGrpcCode(err), details: errorMessage(err) });
        }
        return;
      }
      case 'packet': {
        if (!this.arbitration.isPrimaryStream(streamId)) {
          this.streamError(call, GrpcStatus.PERMISSION_DENIED, 'only the primary client may send PacketOut', { case: 'packetOut', value: { packetOut: u.value } });
          return;
        }
        try {
          this.host.packetOut(u.value.payload, u.value.metadata);
        } catch (err) {
          this.streamError(call, toGrpcCode(err), errorMessage(err), { case: 'packetOut', value: { packetOut: u.value } });
        }
        return;
      }
      case 'digestAck': {
        if (!this.arbitration.isPrimaryStream(streamId)) {
          this.streamError(call, GrpcStatus.PERMISSION_DENIED, 'only the primary client may acknowledge digests', {
            case: 'digestListAck',
            value: { digestListAck: u.value },
          });
          return;
        }
        // Acks of unknown lists are ignored, as BMv2 does.
        this.host.digests.ack(u.value.digestId, u.value.listId);
        return;
      }
      default:
        this.streamError(call, GrpcStatus.UNIMPLEMENTED, `stream message ${u.case ?? 'without content'} is not supported`, undefined);
    }
  }

  private streamError(
    call: StreamCall,
    code: number,
    message: string,
    details: MessageInitShape<typeof StreamErrorSchema>['details'] | undefined,
  ): void {
    call.write(
      create(StreamMessageResponseSchema, {
        update: { case: 'error', value: { canonicalCode: code, message, ...(details === undefined ? {} : { details }) } },
      }),
    );
  }

  private notify(notices: readonly ArbitrationNotice[]): void {
    for (const n of notices) {
      const call = this.streams.get(n.streamId);
      if (call === undefined) continue;
      call.write(
        create(StreamMessageResponseSchema, {
          update: {
            case: 'arbitration',
            value: {
              deviceId: this.host.deviceId,
              ...(n.primaryElectionId === undefined ? {} : { electionId: uint128FromBigint(n.primaryElectionId) }),
              status: { code: n.code, message: n.message },
            },
          },
        }),
      );
    }
  }

  private primaryCall(): StreamCall | undefined {
    const s = this.arbitration.primaryStream();
    return s === undefined ? undefined : this.streams.get(s);
  }

  private sendPacketIn(p: PacketInMessage): void {
    this.primaryCall()?.write(
      create(StreamMessageResponseSchema, {
        update: { case: 'packet', value: { payload: p.payload, metadata: p.metadata.map((m) => ({ metadataId: m.metadataId, value: m.value })) } },
      }),
    );
  }

  private sendDigestList(d: OutgoingDigestList): boolean {
    const call = this.primaryCall();
    if (call === undefined) return false;
    call.write(
      create(StreamMessageResponseSchema, {
        update: {
          case: 'digest',
          value: {
            digestId: d.digestId,
            listId: d.listId,
            timestamp: d.timestampNs,
            data: d.data.map((members) =>
              create(P4DataSchema, {
                data: {
                  case: 'struct',
                  value: { members: members.map((m) => ({ data: { case: 'bitstring' as const, value: encodeP4Value(m.value, m.width) } })) },
                },
              }),
            ),
          },
        },
      }),
    );
    return true;
  }
}
