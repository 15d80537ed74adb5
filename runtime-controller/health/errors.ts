/** Errors of the health-checking layer: misuse of a checker or monitor, never a failed probe (that is a result). */
import { P4lbError, type P4lbErrorOptions } from '../../core/errors.ts';

export type HealthErrorCode = 'HEALTH_BAD_OPTIONS' | 'HEALTH_STOPPED' | 'HEALTH_UNKNOWN_TARGET';

export class HealthError extends P4lbError {
  constructor(code: HealthErrorCode, message: string, options: P4lbErrorOptions = {}) {
    super(code, message, options);
  }
}
