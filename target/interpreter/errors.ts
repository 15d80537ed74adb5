import { P4lbError, type P4lbErrorOptions } from '../../core/errors.ts';
import type { Span } from '../../p4-frontend/ast.ts';

/**
 * A fault of the embedded target: a construct it does not support, a control-plane request it
 * refuses, or a run-time fault. `code` is stable; the P4Runtime server maps it to a gRPC status.
 */
export class TargetError extends P4lbError {
  constructor(code: TargetErrorCode, message: string, options: P4lbErrorOptions = {}) {
    super(code, message, options);
  }
}

export type TargetErrorCode =
  | 'TARGET_UNSUPPORTED'
  | 'TARGET_RUNTIME'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'INVALID_ARGUMENT'
  | 'OUT_OF_RANGE'
  | 'RESOURCE_EXHAUSTED'
  | 'PERMISSION_DENIED'
  | 'FAILED_PRECONDITION';

export function spanLocation(span: Span | undefined): P4lbErrorOptions['location'] {
  return span === undefined ? undefined : { file: span.file, line: span.line, column: span.col };
}

export function unsupported(what: string, span?: Span): TargetError {
  return new TargetError('TARGET_UNSUPPORTED', `${what} is not supported by the embedded target`, {
    location: spanLocation(span),
  });
}
