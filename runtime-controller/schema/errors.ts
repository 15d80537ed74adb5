/**
 * Errors of the controller's P4Info schema and its encoders: an unknown name (with a "did you
 * mean" hint), a value that does not fit its field, an entry that breaks a table's rules. The
 * location's `path` names the object and field at fault (`MyIngress.fwd.dst`).
 */
import { P4lbError, didYouMean, type P4lbErrorOptions } from '../../core/errors.ts';

export type SchemaErrorCode =
  /** No object (table, action, field, parameter, ...) of that name, alias or id. */
  | 'SCHEMA_UNKNOWN_NAME'
  /** A value that is not a number, does not fit its bit width, or has bits outside its mask. */
  | 'SCHEMA_BAD_VALUE'
  /** An entry the table cannot hold: missing field, wrong match kind, action not allowed, priority. */
  | 'SCHEMA_BAD_ENTRY'
  /** The P4Info itself is unusable (no preamble, unknown digest type). */
  | 'SCHEMA_BAD_P4INFO';

export class SchemaError extends P4lbError {
  declare readonly code: SchemaErrorCode;

  constructor(code: SchemaErrorCode, message: string, options: P4lbErrorOptions = {}) {
    super(code, message, options);
  }
}

/** The error for an unknown `name` among `candidates`, with a hint when one is close. */
export function unknownName(kind: string, name: string | number, candidates: Iterable<string>, path?: string): SchemaError {
  const hint = typeof name === 'string' ? didYouMean(name, candidates) : undefined;
  const shown = typeof name === 'number' ? `id ${name} (0x${name.toString(16)})` : `'${name}'`;
  return new SchemaError('SCHEMA_UNKNOWN_NAME', `no ${kind} ${shown}`, {
    ...(hint === undefined ? {} : { hint }),
    ...(path === undefined ? {} : { location: { path } }),
  });
}
