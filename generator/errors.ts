import { P4lbError, type P4lbErrorOptions } from '../core/errors.ts';

/** The spec is valid but the generator cannot honour it (a limit of the P4 programs). */
export class GenerateError extends P4lbError {
  constructor(code: string, message: string, options: P4lbErrorOptions = {}) {
    super(code, message, options);
  }
}
