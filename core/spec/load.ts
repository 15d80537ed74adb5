/**
 * Turning spec text into a validated LbSpec, or into one SpecError that lists every problem with
 * its file, line, column and field path. `parseSpec` is pure; `loadSpecFile` only adds the read.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { P4lbAggregateError, P4lbError, type Diagnostic } from '../errors.ts';
import type { LbSpec } from './schema.ts';
import { formatPath } from './semantics.ts';
import { positionOf } from './positions.ts';
import { validateSpec } from './validate.ts';

/** Everything wrong with one spec file; `diagnostics` are in file order. */
export class SpecError extends P4lbAggregateError {
  readonly file: string;

  constructor(file: string, diagnostics: readonly Diagnostic[]) {
    const n = diagnostics.length;
    super('SPEC_INVALID', `${file}: ${n} problem${n === 1 ? '' : 's'} in the spec`, diagnostics);
    this.file = file;
  }
}

/** Aliases expand on conversion; a bound keeps a hostile file from exploding memory. */
const MAX_ALIAS_COUNT = 100;

export function parseSpec(text: string, fileName: string): LbSpec {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // After a syntax error the tree is a guess; reporting schema issues on it would mislead.
    throw new SpecError(
      fileName,
      doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return { message: `YAML: ${e.message}`, location: { file: fileName, line, column: col } };
      }),
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    throw new SpecError(fileName, [
      { message: `YAML: ${err instanceof Error ? err.message : String(err)}`, location: { file: fileName, line: 1, column: 1 } },
    ]);
  }
  const result = validateSpec(value);
  if (result.ok) return result.spec;
  const diagnostics = result.issues
    .map((issue) => {
      const { line, column } = positionOf(doc, lineCounter, issue.path, issue.at);
      const d: Diagnostic = {
        message: issue.message,
        location: { file: fileName, line, column, path: formatPath(issue.path) },
        ...(issue.hint === undefined ? {} : { hint: issue.hint }),
      };
      return d;
    })
    .sort((a, b) => (a.location!.line! - b.location!.line!) || (a.location!.column! - b.location!.column!));
  throw new SpecError(fileName, diagnostics);
}

/** Reads and validates a spec file; the file name in diagnostics is `path` as given. */
export async function loadSpecFile(path: string): Promise<LbSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new P4lbError('SPEC_UNREADABLE', `cannot read spec file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      location: { file: path },
      cause: err,
    });
  }
  return parseSpec(text, path);
}
