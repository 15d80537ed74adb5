/** Errors of the hashing layer (v1model hashes, flow keys, slot tables). */
import { P4lbError, type P4lbErrorOptions } from '../errors.ts';

export type HashErrorCode =
  | 'HASH_UNKNOWN_ALGORITHM'
  | 'HASH_BAD_FIELD'
  | 'HASH_BAD_ARGUMENT'
  | 'HASH_BAD_SLOTS'
  | 'HASH_NO_BACKENDS'
  | 'HASH_DUPLICATE_BACKEND'
  | 'HASH_BAD_WEIGHT'
  | 'HASH_TABLE_MISMATCH';

export class HashError extends P4lbError {
  declare readonly code: HashErrorCode;

  constructor(code: HashErrorCode, message: string, options: P4lbErrorOptions = {}) {
    super(code, message, options);
  }
}
