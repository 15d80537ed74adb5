/**
 * One P4Runtime StreamChannel session: sends the arbitration request, reports every arbitration
 * answer (primary or backup, with the primary's election id), acknowledges digest lists as they
 * arrive and delivers them decoded, delivers PacketIn decoded, and sends PacketOut by metadata
 * name. The stream's end (with the error, if any) is an event too: the connection driver reacts.
 */
import { uint128FromBigint, uint128ToBigint } from '../../core/p4runtime/bytes.ts';
import type { P4RuntimeClient, P4RuntimeStream } from '../../core/p4runtime/service.ts';
import { GrpcStatus, grpcStatusName } from '../../core/p4runtime/status.ts';
import type { StreamMessageResponse } from '../../core/p4runtime/gen/p4/v1/p4runtime_pb.ts';
import { decodeDigestList, decodePacketIn, encodePacketOut, type DigestListValue, type PacketValue } from '../schema/codec.ts';
import type { P4Schema } from '../schema/p4-schema.ts';
import { ClientError } from './errors.ts';
import { TypedEvents } from './events.ts';

export interface ArbitrationResult {
  /** True when this client is the primary. */
  readonly primary: boolean;
  /** The primary's election id (the highest seen when there is none). */
  readonly primaryElectionId: bigint | undefined;
  /** OK (primary), ALREADY_EXISTS (backup), NOT_FOUND (no primary). */
  readonly code: number;
  readonly message: string;
}

export interface StreamErrorEvent {
  readonly grpcCode: number;
  readonly codeName: string;
  readonly message: string;
  /** What the error is about: a PacketOut, a digest ack, or something else. */
  readonly about: 'packetOut' | 'digestListAck' | 'other';
}

export interface StreamEnd {
  /** Undefined when the stream was closed by us or ended cleanly by the switch. */
  readonly error: ClientError | undefined;
}

export type SwitchStreamEvents = {
  arbitration: ArbitrationResult;
  digest: DigestListValue;
  packetIn: PacketValue;
  /** A StreamError from the switch, or a message this client could not decode. */
  streamError: StreamErrorEvent;
  end: StreamEnd;
};

export interface SwitchStreamOptions {
  readonly rpc: P4RuntimeClient;
  readonly deviceId: bigint;
  readonly electionId: bigint;
  /** The schema current when a message arrives (it changes with the pipeline). */
  readonly schema: () => P4Schema | undefined;
}

export class SwitchStream {
  readonly events = new TypedEvents<SwitchStreamEvents>();
  private readonly stream: P4RuntimeStream;
  private closedLocally = false;
  private isEnded = false;
  private lastArbitration: ArbitrationResult | undefined;

  constructor(private readonly options: SwitchStreamOptions) {
    this.stream = options.rpc.streamChannel();
    this.stream.send({
      update: { case: 'arbitration', value: { deviceId: options.deviceId, electionId: uint128FromBigint(options.electionId) } },
    });
    void this.pump();
  }

  get electionId(): bigint {
    return this.options.electionId;
  }

  get ended(): boolean {
    return this.isEnded;
  }

  /** The latest arbitration answer, if one came. */
  get arbitration(): ArbitrationResult | undefined {
    return this.lastArbitration;
  }

  on<K extends keyof SwitchStreamEvents>(event: K, listener: (payload: SwitchStreamEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** Sends a PacketOut; metadata fields by name (the P4Info's packet_out header). */
  packetOut(packet: PacketValue): void {
    const schema = this.requireSchema();
    if (this.isEnded) throw new ClientError('P4RT_UNAVAILABLE', 'PacketOut on a stream that has ended', { grpcCode: GrpcStatus.UNAVAILABLE });
    this.stream.send({ update: { case: 'packet', value: encodePacketOut(schema, packet) } });
  }

  /** Ends the session (the switch then elects another primary). */
  close(): void {
    if (this.isEnded) return;
    this.closedLocally = true;
    this.stream.cancel();
  }

  private requireSchema(): P4Schema {
    const s = this.options.schema();
    if (s === undefined) throw new ClientError('P4RT_NO_SCHEMA', 'no P4Info is known for this switch yet', { grpcCode: GrpcStatus.FAILED_PRECONDITION });
    return s;
  }

  private async pump(): Promise<void> {
    let error: ClientError | undefined;
    try {
      for await (const message of this.stream) this.dispatch(message);
    } catch (err) {
      if (!this.closedLocally) error = ClientError.from(err, 'StreamChannel');
    }
    this.isEnded = true;
    this.events.emit('end', { error });
    this.events.clear();
  }

  private dispatch(message: StreamMessageResponse): void {
    const u = message.update;
    switch (u.case) {
      case 'arbitration': {
        const code = u.value.status?.code ?? GrpcStatus.OK;
        this.lastArbitration = {
          primary: code === GrpcStatus.OK,
          primaryElectionId: u.value.electionId === undefined ? undefined : uint128ToBigint(u.value.electionId),
          code,
          message: u.value.status?.message ?? '',
        };
        this.events.emit('arbitration', this.lastArbitration);
        return;
      }
      case 'digest': {
        // Ack first: the switch suppresses further lists of this digest until it is acked.
        this.stream.send({ update: { case: 'digestAck', value: { digestId: u.value.digestId, listId: u.value.listId } } });
        this.decodeAndEmit('digest', () => decodeDigestList(this.requireSchema(), u.value));
        return;
      }
      case 'packet':
        this.decodeAndEmit('packetIn', () => decodePacketIn(this.requireSchema(), u.value));
        return;
      case 'error': {
        const about = u.value.details.case === 'packetOut' || u.value.details.case === 'digestListAck' ? u.value.details.case : 'other';
        this.events.emit('streamError', {
          grpcCode: u.value.canonicalCode,
          codeName: grpcStatusName(u.value.canonicalCode),
          message: u.value.message,
          about,
        });
        return;
      }
      default:
        return;
    }
  }

  private decodeAndEmit<K extends 'digest' | 'packetIn'>(event: K, decode: () => SwitchStreamEvents[K]): void {
    let value: SwitchStreamEvents[K];
    try {
      value = decode();
    } catch (err) {
      this.events.emit('streamError', {
        grpcCode: GrpcStatus.INVALID_ARGUMENT,
        codeName: 'INVALID_ARGUMENT',
        message: `cannot decode a ${event} message: ${err instanceof Error ? err.message : String(err)}`,
        about: 'other',
      });
      return;
    }
    this.events.emit(event, value);
  }
}
