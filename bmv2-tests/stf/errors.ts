/** Errors of the STF layer: a file that does not parse, a value that does not fit its key. */
import { P4lbAggregateError, P4lbError, type Diagnostic, type ErrorLocation } from '../../core/errors.ts';

export const STF_SYNTAX = 'STF_SYNTAX';
export const STF_VALUE = 'STF_VALUE';

/** One malformed STF line: where it is and what was expected there. */
export class StfSyntaxError extends P4lbError {
  constructor(message: string, location: ErrorLocation, hint?: string) {
    super(STF_SYNTAX, message, { location, ...(hint === undefined ? {} : { hint }) });
  }
}

/** Several malformed lines of one file, reported together so a test author fixes them in one pass. */
export class StfSyntaxErrors extends P4lbAggregateError {
  readonly errors: readonly StfSyntaxError[];

  constructor(file: string, errors: readonly StfSyntaxError[]) {
    const diagnostics: Diagnostic[] = errors.map((e) => ({ message: e.message, location: e.location, hint: e.hint }));
    super(STF_SYNTAX, `${file}: ${errors.length} malformed STF lines`, diagnostics);
    this.errors = errors;
  }
}

/**
 * A well-formed STF number that does not fit the program: a key or parameter value wider than its
 * field, a prefix longer than the key. Raised once the program (and so the width) is known.
 */
export class StfValueError extends P4lbError {
  constructor(message: string, location?: ErrorLocation, hint?: string) {
    super(STF_VALUE, message, {
      ...(location === undefined ? {} : { location }),
      ...(hint === undefined ? {} : { hint }),
    });
  }
}
