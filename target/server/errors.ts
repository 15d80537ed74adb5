/**
 * Errors of the P4Runtime server. Codes are gRPC canonical code names so that every refusal maps
 * straight onto a status; `toGrpcCode` also maps the interpreter's TargetError codes and the
 * protocol layer's P4RuntimeError codes.
 */
import { P4lbError, type P4lbErrorOptions } from '../../core/errors.ts';
import { GrpcStatus, grpcStatusCode, type GrpcStatusName } from '../../core/p4runtime/status.ts';

export type ServerErrorCode = Exclude<GrpcStatusName, 'OK'>;

export class ServerError extends P4lbError {
  declare readonly code: ServerErrorCode;

  constructor(code: ServerErrorCode, message: string, options: P4lbErrorOptions = {}) {
    super(code, message, options);
  }
}

/** The gRPC status code a thrown value should be reported with. */
export function toGrpcCode(error: unknown): number {
  if (error instanceof P4lbError) {
    const direct = grpcStatusCode(error.code);
    if (direct !== undefined) return direct;
    // TargetError codes that are not gRPC names.
    if (error.code === 'TARGET_UNSUPPORTED') return GrpcStatus.UNIMPLEMENTED;
    if (error.code === 'TARGET_RUNTIME') return GrpcStatus.INTERNAL;
    // Front-end errors (P4 syntax / type) mean the device config is not a valid program.
    return GrpcStatus.INVALID_ARGUMENT;
  }
  return GrpcStatus.INTERNAL;
}

/** The message a thrown value should be reported with. */
export function errorMessage(error: unknown): string {
  if (error instanceof P4lbError) return error.describe();
  return error instanceof Error ? error.message : String(error);
}

export const invalidArgument = (message: string, options?: P4lbErrorOptions): ServerError =>
  new ServerError('INVALID_ARGUMENT', message, options);
export const notFound = (message: string, options?: P4lbErrorOptions): ServerError =>
  new ServerError('NOT_FOUND', message, options);
export const unimplemented = (message: string): ServerError => new ServerError('UNIMPLEMENTED', message);
