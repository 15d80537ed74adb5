/**
 * gRPC status codes and the google.rpc.Status details P4Runtime uses to report errors: a failed
 * Write answers UNKNOWN with one p4.v1.Error per update in `details` (OK for the updates that
 * succeeded, in request order), carried in the `grpc-status-details-bin` trailer.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import { P4RuntimeError } from './errors.ts';
import { StatusSchema, type Status } from './gen/google/rpc/status_pb.ts';
import { ErrorSchema } from './gen/p4/v1/p4runtime_pb.ts';

/** gRPC canonical status codes (google.rpc.Code). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type GrpcStatusName = keyof typeof GrpcStatus;
export type GrpcStatusCode = (typeof GrpcStatus)[GrpcStatusName];

/** `NOT_FOUND` for 5; `CODE_<n>` for a number outside the table. */
export function grpcStatusName(code: number): string {
  const entry = Object.entries(GrpcStatus).find(([, v]) => v === code);
  return entry === undefined ? `CODE_${code}` : entry[0];
}

/** The number for a code name, or undefined when `name` is not a gRPC code name. */
export function grpcStatusCode(name: string): GrpcStatusCode | undefined {
  return Object.hasOwn(GrpcStatus, name) ? GrpcStatus[name as GrpcStatusName] : undefined;
}

/** The trailer gRPC uses for a binary google.rpc.Status. */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

/** One update's outcome in a failed Write. */
export interface UpdateError {
  /** Position of the update in the WriteRequest. */
  readonly index: number;
  readonly canonicalCode: number;
  readonly codeName: string;
  readonly message: string;
  /** Target-specific error space and code (may be empty / 0). */
  readonly space: string;
  readonly code: number;
}

/** What a server reports for one update; omit `canonicalCode` (or use OK) for a success. */
export interface UpdateOutcome {
  readonly canonicalCode?: number;
  readonly message?: string;
  readonly space?: string;
  readonly code?: number;
}

/**
 * The Status for a Write in which at least one update failed: top-level UNKNOWN (as the
 * P4Runtime spec requires for batches), one p4.v1.Error per update in request order.
 */
export function writeErrorStatus(outcomes: readonly UpdateOutcome[], message?: string): Status {
  const failed = outcomes.filter((o) => (o.canonicalCode ?? GrpcStatus.OK) !== GrpcStatus.OK).length;
  return create(StatusSchema, {
    code: GrpcStatus.UNKNOWN,
    message: message ?? `${failed} of ${outcomes.length} updates failed`,
    details: outcomes.map((o) =>
      anyPack(
        ErrorSchema,
        create(ErrorSchema, {
          canonicalCode: o.canonicalCode ?? GrpcStatus.OK,
          message: o.message ?? '',
          space: o.space ?? '',
          code: o.code ?? 0,
        }),
      ),
    ),
  });
}

export function encodeStatus(status: Status): Uint8Array {
  return toBinary(StatusSchema, status);
}

export function decodeStatus(bytes: Uint8Array): Status {
  try {
    return fromBinary(StatusSchema, bytes);
  } catch (cause) {
    throw new P4RuntimeError('INVALID_STATUS_DETAILS', `${STATUS_DETAILS_KEY} is not a google.rpc.Status`, { cause });
  }
}

/**
 * Every p4.v1.Error in a Status, with its update index. Details of other types keep their slot
 * (the index counts every detail) but are skipped, so indices still match the request.
 */
export function updateErrorsFromStatus(status: Status): UpdateError[] {
  const out: UpdateError[] = [];
  status.details.forEach((detail, index) => {
    const e = anyUnpack(detail, ErrorSchema);
    if (e === undefined) return;
    out.push({
      index,
      canonicalCode: e.canonicalCode,
      codeName: grpcStatusName(e.canonicalCode),
      message: e.message,
      space: e.space,
      code: e.code,
    });
  });
  return out;
}

/** Only the failed updates (canonical code other than OK). */
export function failedUpdates(status: Status): UpdateError[] {
  return updateErrorsFromStatus(status).filter((e) => e.canonicalCode !== GrpcStatus.OK);
}

/**
 * A failed P4Runtime call as the client sees it: `code` is the gRPC code name, `grpcCode` its
 * number, `updates` the per-update errors of a failed Write (empty for other calls).
 */
export class P4RuntimeRpcError extends P4RuntimeError {
  readonly grpcCode: number;
  readonly status: Status | undefined;
  readonly updates: readonly UpdateError[];

  constructor(options: {
    grpcCode: number;
    message: string;
    status?: Status | undefined;
    method?: string;
    cause?: unknown;
  }) {
    const updates = options.status === undefined ? [] : failedUpdates(options.status);
    const summary = updates.length === 0 ? '' : `: ${updates.map((u) => `#${u.index} ${u.codeName} ${u.message}`).join('; ')}`;
    super(grpcStatusName(options.grpcCode), `${options.message}${summary}`, {
      ...(options.method === undefined ? {} : { location: { path: options.method } }),
      cause: options.cause,
    });
    this.grpcCode = options.grpcCode;
    this.status = options.status;
    this.updates = updates;
  }

  isNotFound(): boolean {
    return this.grpcCode === GrpcStatus.NOT_FOUND || this.updates.some((u) => u.canonicalCode === GrpcStatus.NOT_FOUND);
  }

  isAlreadyExists(): boolean {
    return (
      this.grpcCode === GrpcStatus.ALREADY_EXISTS ||
      this.updates.some((u) => u.canonicalCode === GrpcStatus.ALREADY_EXISTS)
    );
  }

  /** No pipeline installed yet (Write/Read before SetForwardingPipelineConfig). */
  isPipelineMissing(): boolean {
    return this.grpcCode === GrpcStatus.FAILED_PRECONDITION;
  }

  /** This client is not the primary (another stream has a higher election id). */
  isNotPrimary(): boolean {
    return this.grpcCode === GrpcStatus.PERMISSION_DENIED;
  }

  isUnavailable(): boolean {
    return this.grpcCode === GrpcStatus.UNAVAILABLE;
  }
}
