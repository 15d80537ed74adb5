/**
 * Client arbitration (P4Runtime spec §5 "Client Arbitration and Controller Replication") as a
 * pure state machine over stream ids. The stream with the highest election id is the primary;
 * a stream without an election id is a backup that never becomes primary (§ "Unset Election
 * ID"). As BMv2's PI server does, when the primary leaves the next highest takes over (the spec
 * would leave the device without a primary). Each change yields the notifications to send: the
 * primary gets OK, backups ALREADY_EXISTS (NOT_FOUND when there is no primary), each with the
 * primary's election id; a change of primary notifies every stream.
 */
import { GrpcStatus } from '../../core/p4runtime/status.ts';
import { ServerError } from './errors.ts';

/** PI's limit of concurrent client streams per device. */
export const MAX_STREAMS = 16;

export interface ArbitrationNotice {
  readonly streamId: number;
  /** The primary's election id, or the highest one seen when there is no primary. */
  readonly primaryElectionId: bigint | undefined;
  /** OK for the primary, ALREADY_EXISTS for a backup, NOT_FOUND when there is no primary. */
  readonly code: number;
  readonly message: string;
}

export class Arbitration {
  /** Joined streams and their election id (undefined = unset: a permanent backup). */
  private readonly electionIds = new Map<number, bigint | undefined>();
  private highestSeen: bigint | undefined;

  constructor(readonly deviceId: bigint) {}

  /** The primary's stream id, if some joined stream has an election id. */
  primaryStream(): number | undefined {
    let best: number | undefined;
    let bestId: bigint | undefined;
    for (const [stream, id] of this.electionIds) {
      if (id !== undefined && (bestId === undefined || id > bestId)) {
        best = stream;
        bestId = id;
      }
    }
    return best;
  }

  primaryElectionId(): bigint | undefined {
    const s = this.primaryStream();
    return s === undefined ? undefined : this.electionIds.get(s);
  }

  /**
   * May a request with this election id change state (Write, SetForwardingPipelineConfig)? Only
   * the primary's id; and, as PI allows for debugging, a request without one while no client is
   * connected.
   */
  mayWrite(electionId: bigint | undefined): boolean {
    if (electionId === undefined) return this.electionIds.size === 0;
    return this.primaryElectionId() === electionId;
  }

  isPrimaryStream(streamId: number): boolean {
    return this.primaryStream() === streamId;
  }

  hasJoined(streamId: number): boolean {
    return this.electionIds.has(streamId);
  }

  get streamCount(): number {
    return this.electionIds.size;
  }

  /**
   * A MasterArbitrationUpdate on `streamId`. Throws NOT_FOUND for another device (FAILED_PRECONDITION
   * when a joined stream changes device), INVALID_ARGUMENT for an election id another stream
   * holds, RESOURCE_EXHAUSTED beyond MAX_STREAMS.
   */
  update(streamId: number, deviceId: bigint, electionId: bigint | undefined): ArbitrationNotice[] {
    const joined = this.electionIds.has(streamId);
    if (deviceId !== this.deviceId) {
      throw joined
        ? new ServerError('FAILED_PRECONDITION', `this stream is for device ${this.deviceId}, not ${deviceId}`)
        : new ServerError('NOT_FOUND', `device id ${deviceId} is not this switch's (${this.deviceId})`);
    }
    if (electionId !== undefined) {
      for (const [other, id] of this.electionIds) {
        if (other !== streamId && id === electionId) {
          throw new ServerError('INVALID_ARGUMENT', `election id ${electionId} is already used by another client`);
        }
      }
    }
    if (!joined && this.electionIds.size >= MAX_STREAMS) {
      throw new ServerError('RESOURCE_EXHAUSTED', `at most ${MAX_STREAMS} clients may connect`);
    }
    const before = this.primaryStream();
    this.electionIds.set(streamId, electionId);
    if (electionId !== undefined && (this.highestSeen === undefined || electionId > this.highestSeen)) {
      this.highestSeen = electionId;
    }
    const after = this.primaryStream();
    if (before !== after) return this.noticesForAll();
    return [this.noticeFor(streamId)];
  }

  /** The stream ended; when it was the primary, the next highest takes over and all hear of it. */
  remove(streamId: number): ArbitrationNotice[] {
    if (!this.electionIds.has(streamId)) return [];
    const before = this.primaryStream();
    this.electionIds.delete(streamId);
    return before === streamId ? this.noticesForAll() : [];
  }

  private noticesForAll(): ArbitrationNotice[] {
    return [...this.electionIds.keys()].map((s) => this.noticeFor(s));
  }

  private noticeFor(streamId: number): ArbitrationNotice {
    const primary = this.primaryStream();
    if (primary === streamId) {
      return { streamId, primaryElectionId: this.primaryElectionId(), code: GrpcStatus.OK, message: 'you are the primary' };
    }
    if (primary === undefined) {
      return { streamId, primaryElectionId: this.highestSeen, code: GrpcStatus.NOT_FOUND, message: 'there is no primary' };
    }
    return { streamId, primaryElectionId: this.primaryElectionId(), code: GrpcStatus.ALREADY_EXISTS, message: 'another client is the primary' };
  }
}
