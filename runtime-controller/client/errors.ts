/**
 * The controller's one client error: a failed P4Runtime (or Thrift) call with its gRPC code,
 * and for a Write, every failed update with its index in the caller's list, its code and message
 * and the update itself. Predicates answer the questions callers branch on.
 */
import { P4lbError, type P4lbErrorOptions } from '../../core/errors.ts';
import { GrpcStatus, grpcStatusName, P4RuntimeRpcError } from '../../core/p4runtime/status.ts';
import type { UpdateValue } from '../schema/entities.ts';

/** One update a Write refused. */
export interface UpdateFailure {
  /** Position of the update in the list the caller passed to `write` (not in its batch). */
  readonly index: number;
  readonly grpcCode: number;
  /** gRPC code name, e.g. ALREADY_EXISTS. */
  readonly codeName: string;
  readonly message: string;
  /** The update as the caller gave it. */
  readonly update: UpdateValue;
}

export interface ClientErrorOptions extends P4lbErrorOptions {
  readonly grpcCode: number;
  readonly failures?: readonly UpdateFailure[];
}

/**
 * `code` is `P4RT_<gRPC code name>` (P4RT_UNAVAILABLE, P4RT_PERMISSION_DENIED) for a failed call,
 * `P4RT_WRITE_FAILED` for a Write with failed updates.
 */
export class ClientError extends P4lbError {
  readonly grpcCode: number;
  readonly failures: readonly UpdateFailure[];

  constructor(code: string, message: string, options: ClientErrorOptions) {
    super(code, message, options);
    this.grpcCode = options.grpcCode;
    this.failures = options.failures ?? [];
  }

  /** A call-level error from the protocol layer (or anything thrown while calling). */
  static from(error: unknown, what: string): ClientError {
    if (error instanceof ClientError) return error;
    const grpcCode = error instanceof P4RuntimeRpcError ? error.grpcCode : GrpcStatus.UNKNOWN;
    const text = error instanceof Error ? error.message : String(error);
    return new ClientError(`P4RT_${grpcStatusName(grpcCode)}`, `${what}: ${text}`, { grpcCode, cause: error });
  }

  /** True when the call, or any failed update, has this gRPC code. */
  hasCode(code: number): boolean {
    return this.grpcCode === code || this.failures.some((f) => f.grpcCode === code);
  }

  /** True when every failed update has this code (false for a call-level error). */
  onlyCode(code: number): boolean {
    return this.failures.length > 0 && this.failures.every((f) => f.grpcCode === code);
  }

  isNotFound(): boolean {
    return this.hasCode(GrpcStatus.NOT_FOUND);
  }

  isAlreadyExists(): boolean {
    return this.hasCode(GrpcStatus.ALREADY_EXISTS);
  }

  /** No forwarding pipeline is installed yet. */
  isPipelineMissing(): boolean {
    return this.grpcCode === GrpcStatus.FAILED_PRECONDITION;
  }

  /** This client is not the primary. */
  isNotPrimary(): boolean {
    return this.grpcCode === GrpcStatus.PERMISSION_DENIED;
  }

  /** The switch cannot be reached (down, restarting, wrong address). */
  isUnavailable(): boolean {
    return this.grpcCode === GrpcStatus.UNAVAILABLE || this.grpcCode === GrpcStatus.DEADLINE_EXCEEDED;
  }

  /** The target does not implement the call (BMv2: register access over P4Runtime). */
  isUnimplemented(): boolean {
    return this.grpcCode === GrpcStatus.UNIMPLEMENTED;
  }
}

/** A Write in which some updates failed; `failures` lists each by its index in the caller's list. */
export class WriteError extends ClientError {
  /** Indexes of updates never sent because an earlier batch failed as a whole. */
  readonly notSent: readonly number[];

  constructor(failures: readonly UpdateFailure[], options: { total: number; notSent?: readonly number[]; grpcCode?: number; cause?: unknown }) {
    const shown = failures.slice(0, 5).map((f) => `#${f.index} ${f.codeName}: ${f.message}`);
    const more = failures.length > shown.length ? `; and ${failures.length - shown.length} more` : '';
    super('P4RT_WRITE_FAILED', `${failures.length} of ${options.total} updates failed: ${shown.join('; ')}${more}`, {
      grpcCode: options.grpcCode ?? GrpcStatus.UNKNOWN,
      failures,
      cause: options.cause,
    });
    this.notSent = options.notSent ?? [];
  }
}
