/**
 * Errors of the P4 front end: syntax errors from the lexer/parser, type errors from the checker.
 * Both carry the P4 source position (file:line:col) so editors can jump to the fault.
 */
import { P4lbAggregateError, P4lbError, type Diagnostic } from '../core/errors.ts';
import type { Span } from './ast.ts';

function locationOf(span: Span): { file: string; line: number; column: number } {
  return { file: span.file, line: span.line, column: span.col };
}

export class P4SyntaxError extends P4lbError {
  readonly span: Span;
  constructor(message: string, span: Span, hint?: string) {
    super('P4_SYNTAX', message, { location: locationOf(span), ...(hint === undefined ? {} : { hint }) });
    this.span = span;
  }
}

export class P4TypeError extends P4lbError {
  readonly span: Span;
  constructor(message: string, span: Span, hint?: string) {
    super('P4_TYPE', message, { location: locationOf(span), ...(hint === undefined ? {} : { hint }) });
    this.span = span;
  }
}

/** Several type errors found in one file; `errors` keeps each with its span. */
export class P4CheckErrors extends P4lbAggregateError {
  readonly errors: readonly P4TypeError[];
  constructor(errors: readonly P4TypeError[]) {
    const diags: Diagnostic[] = errors.map((e) => ({ message: e.message, location: e.location, hint: e.hint }));
    const first = errors[0]?.describe() ?? 'no errors';
    super('P4_TYPE', errors.length === 1 ? first : `${errors.length} errors, first: ${first}`, diags);
    this.errors = errors;
  }
}
