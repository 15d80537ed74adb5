/** Errors of the admin API: a bad request (the field is named), a bad token or address, and failures the client sees. */
import { P4lbError } from '../../core/errors.ts';

export type ApiErrorCode = 'API_BAD_REQUEST' | 'API_BAD_TOKEN' | 'API_BAD_ADDRESS' | 'API_CALL_FAILED' | 'API_UNREACHABLE';

export class ApiError extends P4lbError {
  /** The HTTP status the server answered (client side only). */
  readonly status: number | undefined;

  constructor(code: ApiErrorCode | string, message: string, field?: string, hint?: string, status?: number) {
    super(code, message, { ...(field === undefined ? {} : { location: { path: field } }), ...(hint === undefined ? {} : { hint }) });
    this.status = status;
  }
}
