/** Errors of the end-to-end layer (namespaces, veth, bridges, the VM servers, the system's processes and their output). */
import { P4lbError, type P4lbErrorOptions } from '../../core/errors.ts';

export type E2eErrorCode =
  | 'E2E_COMMAND_FAILED'
  | 'E2E_COMMAND_MISSING'
  | 'E2E_BAD_TAG'
  | 'E2E_TAG_IN_USE'
  | 'E2E_PLAN_INVALID'
  | 'E2E_BUILD_FAILED'
  | 'E2E_CLEANUP_INCOMPLETE'
  | 'E2E_DESTROYED'
  | 'E2E_UNKNOWN_NAME'
  | 'E2E_SERVER_FAILED'
  | 'E2E_START_FAILED'
  | 'E2E_TIMEOUT'
  | 'E2E_BAD_METRICS'
  | 'E2E_BAD_OUTPUT';

export class E2eError extends P4lbError {
  declare readonly code: E2eErrorCode;

  constructor(code: E2eErrorCode, message: string, options: P4lbErrorOptions = {}) {
    super(code, message, options);
  }
}
