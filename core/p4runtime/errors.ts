/**
 * The P4Runtime layer's error: codes are the gRPC canonical code names (OUT_OF_RANGE,
 * INVALID_ARGUMENT, ...) so a server can map an error straight onto a status code.
 */
import { P4lbError, type P4lbErrorOptions } from '../errors.ts';

export class P4RuntimeError extends P4lbError {
  constructor(code: string, message: string, options: P4lbErrorOptions = {}) {
    super(code, message, options);
  }
}
