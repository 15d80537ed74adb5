/** Errors of the admin API: a bad request (the field is named), a bad token or address, and failures the client sees. */
import { P4lbError } from '../../core/errors.ts';

export type ApiErrorCode = 'API_BAD_REQUEST' | 'API_BAD_TOKEN' | 'API_BAD_ADDRESS' | 'API_CALL_FAILED' | 'API_UNREACHABLE';

/** What the server answered, as the client saw it. */
export interface ApiAnswer {
  readonly status: number;
  /** Each problem of an invalid spec, formatted (`file:line:col: path: message`). */
  readonly diagnostics?: readonly string[];
}

export class ApiError extends P4lbError {
  /** The HTTP status the server answered (client side only). */
  readonly status: number | undefined;
  readonly diagnostics: readonly string[];

  constructor(code: ApiErrorCode | string, message: string, field?: string, hint?: string, answer?: ApiAnswer) {
    super(code, message, { ...(field === undefined ? {} : { location: { path: field } }), ...(hint === undefined ? {} : { hint }) });
    this.status = answer?.status;
    this.diagnostics = answer?.diagnostics ?? [];
  }

  override describe(): string {
    return [super.describe(), ...this.diagnostics.map((d) => `  ${d}`)].join('\n');
  }
}
