/**
 * Errors of the registry layer (keys, assignments, tokens, policy, its SQLite store). Codes are
 * stable; `location.path` names the input field at fault (`policy.rules[2].to`,
 * `tokens.ttlSeconds`, `now`).
 */
import { P4lbError, type P4lbErrorOptions } from '../../core/errors.ts';

export type RegistryErrorCode =
  /** A policy rule names a VM the spec does not define, or is malformed. */
  | 'REGISTRY_BAD_POLICY_RULE'
  /** A key was asked for an owner that has none (the registry was not reconciled with this spec). */
  | 'REGISTRY_NO_KEY'
  /** The stored database was written by a newer p4lb (a schema version we do not know). */
  | 'REGISTRY_SCHEMA_TOO_NEW'
  /** The database file cannot be opened or is not a registry. */
  | 'REGISTRY_STORE'
  /** A planner input is out of range (clock, TTL, skew). */
  | 'REGISTRY_BAD_INPUT'
  /** A token state change that the lifecycle does not allow, or for a token not recorded. */
  | 'REGISTRY_BAD_TOKEN_STATE';

export class RegistryError extends P4lbError {
  declare readonly code: RegistryErrorCode;

  constructor(code: RegistryErrorCode, message: string, options: P4lbErrorOptions = {}) {
    super(code, message, options);
  }
}

/** An error whose location names the field path, the form every bad-input error here takes. */
export function fieldError(code: RegistryErrorCode, path: string, message: string, hint?: string): RegistryError {
  return new RegistryError(code, message, { location: { path }, ...(hint === undefined ? {} : { hint }) });
}
