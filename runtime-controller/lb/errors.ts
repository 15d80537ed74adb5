/** Errors of the table computation: a spec or an entry list the tables cannot hold. */
import { P4lbError, type P4lbErrorOptions } from '../../core/errors.ts';

export type LbErrorCode = 'LB_DUPLICATE_KEY';

export class LbError extends P4lbError {
  constructor(code: LbErrorCode, message: string, options: P4lbErrorOptions = {}) {
    super(code, message, options);
  }
}
