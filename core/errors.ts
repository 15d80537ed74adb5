/**
 * One error shape for every layer of p4lb: a stable machine-readable `code`, a message, where the
 * fault is (a spec file position and field path, a P4 source span, a packet byte offset), a hint,
 * and the cause. Layers subclass it; only the CLI prints errors or exits.
 */

/** Where a fault is. Every part is optional: fill what the layer knows. */
export interface ErrorLocation {
  /** File the fault is in (spec YAML, P4 source, STF file). */
  readonly file?: string;
  /** 1-based line and column in that file. */
  readonly line?: number;
  readonly column?: number;
  /** Dotted path of the field at fault, e.g. `vips[0].backends[2]`. */
  readonly path?: string;
  /** Byte offset in a packet or buffer. */
  readonly offset?: number;
}

export interface P4lbErrorOptions {
  readonly location?: ErrorLocation;
  readonly hint?: string;
  readonly cause?: unknown;
}

export class P4lbError extends Error {
  readonly code: string;
  readonly location: ErrorLocation | undefined;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: P4lbErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.location = options.location;
    this.hint = options.hint;
  }

  /** `file:line:col: path: message (hint)`, the form compilers use, so editors can jump to it. */
  describe(): string {
    return formatDiagnostic({ message: this.message, location: this.location, hint: this.hint });
  }
}

export interface Diagnostic {
  readonly message: string;
  readonly location?: ErrorLocation | undefined;
  readonly hint?: string | undefined;
}

export function formatDiagnostic(d: Diagnostic): string {
  const loc = d.location;
  const parts: string[] = [];
  if (loc?.file !== undefined) {
    let where = loc.file;
    if (loc.line !== undefined) where += `:${loc.line}`;
    if (loc.line !== undefined && loc.column !== undefined) where += `:${loc.column}`;
    parts.push(where);
  }
  if (loc?.path !== undefined && loc.path !== '') parts.push(loc.path);
  if (loc?.offset !== undefined) parts.push(`byte ${loc.offset}`);
  parts.push(d.message);
  let text = parts.join(': ');
  if (d.hint !== undefined) text += ` (${d.hint})`;
  return text;
}

/** Several problems found at once (a spec with many faults); `diagnostics` lists each. */
export class P4lbAggregateError extends P4lbError {
  readonly diagnostics: readonly Diagnostic[];

  constructor(code: string, message: string, diagnostics: readonly Diagnostic[]) {
    super(code, message);
    this.diagnostics = diagnostics;
  }

  override describe(): string {
    return [this.message, ...this.diagnostics.map((d) => `  ${formatDiagnostic(d)}`)].join('\n');
  }
}

/** Levenshtein distance, for "did you mean" hints on names. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = prev[j]!;
      prev[j] = Math.min(above + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = above;
    }
  }
  return prev[b.length]!;
}

/** The candidate closest to `name`, when it is close enough to be a plausible typo. */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  const limit = Math.max(2, Math.floor(name.length / 3));
  return bestDistance <= limit ? best : undefined;
}

/** "did you mean X?" or undefined, ready to pass as a hint. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  const c = closestName(name, candidates);
  return c === undefined ? undefined : `did you mean '${c}'?`;
}
