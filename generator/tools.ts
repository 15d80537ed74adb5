/**
 * Finding the external tools of the P4 toolchain (p4c, p4testgen, simple_switch_grpc, setpriv):
 * the one finder the generator, the packet tests, the controller's BMv2 fleet and the CLI share.
 * The search is separated from the file system (`exists`) so that every decision is testable.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { GenerateError } from './errors.ts';

/** Whether `path` is a file this process may execute. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface ToolQuery {
  /** The command searched for on `PATH` (`p4c`). */
  readonly command: string;
  /** The environment variable that names the executable and wins over `PATH` (`P4C`); none for PATH-only tools. */
  readonly variable?: string;
  /**
   * A variable that names no executable is never a silent fallback to `PATH`: `'error'` throws
   * GENERATE_TOOL_MISSING (a tool the caller needs), `'not-found'` answers undefined (an optional
   * tool whose absence the caller reports, as the packet tests do for BMv2).
   */
  readonly badVariable?: 'error' | 'not-found';
}

/** The path in `query.variable`, else the first `query.command` on `PATH`; undefined when there is none. */
export function findTool(query: ToolQuery, env: NodeJS.ProcessEnv, exists: (path: string) => boolean = isExecutable): string | undefined {
  const given = query.variable === undefined ? undefined : env[query.variable];
  if (given !== undefined && given !== '') {
    if (exists(given)) return given;
    if (query.badVariable === 'not-found') return undefined;
    throw new GenerateError('GENERATE_TOOL_MISSING', `${query.variable}=${given} is not an executable file`, {
      hint: `point ${query.variable} at ${query.command}, or unset it`,
    });
  }
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, query.command);
    if (exists(candidate)) return candidate;
  }
  return undefined;
}
