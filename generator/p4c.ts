/**
 * Running the reference compiler, p4c, on generated programs (when it is installed): where it is,
 * which version, and what it says. Used by the tests that compare our P4Info with p4c's.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { GenerateError } from './errors.ts';

const run = promisify(execFile);

/**
 * An external tool of the P4 toolchain (p4c, p4testgen, simple_switch_grpc): the path in its
 * environment variable, else the first `name` on `PATH`; undefined when there is none. A variable
 * that names no executable is an error, not a silent fallback.
 */
export function findTool(envName: string, name: string, env: NodeJS.ProcessEnv): string | undefined {
  const explicit = env[envName];
  if (explicit !== undefined && explicit !== '') {
    try {
      accessSync(explicit, constants.X_OK);
    } catch {
      throw new GenerateError('GENERATE_TOOL_MISSING', `${envName}=${explicit} is not an executable file`, {
        hint: `point ${envName} at ${name}, or unset it`,
      });
    }
    return explicit;
  }
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** p4c from `P4C`, else the first `p4c` on `PATH`; undefined when there is none. */
export function findP4c(env: NodeJS.ProcessEnv): string | undefined {
  return findTool('P4C', 'p4c', env);
}

export interface P4cResult {
  readonly exitCode: number;
  readonly output: string;
  readonly warnings: readonly string[];
  readonly errors: readonly string[];
}

/** p4c writes diagnostics as `file(line): [--Wwarn=kind] warning: …` or `… error: …`. */
function diagnostics(output: string, kind: 'warning' | 'error'): string[] {
  const pattern = new RegExp(`^\\S.*\\b${kind}\\b.*:`, 'i');
  return output.split('\n').filter((line) => pattern.test(line) && !/^\s/.test(line));
}

/** Compiles `source` for BMv2 simple_switch (v1model), writing the JSON and P4Info into `outDir`. */
export async function compileWithP4c(options: {
  readonly p4c: string;
  readonly source: string;
  readonly outDir: string;
  readonly p4infoFile: string;
}): Promise<P4cResult> {
  const args = ['--target', 'bmv2', '--arch', 'v1model', '--p4runtime-files', options.p4infoFile, '-o', options.outDir, options.source];
  let exitCode = 0;
  let output: string;
  try {
    const { stdout, stderr } = await run(options.p4c, args, { maxBuffer: 16 * 1024 * 1024 });
    output = stdout + stderr;
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    exitCode = e.code;
    output = (e.stdout ?? '') + (e.stderr ?? '');
  }
  return { exitCode, output, warnings: diagnostics(output, 'warning'), errors: diagnostics(output, 'error') };
}
