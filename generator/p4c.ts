/**
 * Running the reference compiler, p4c, on generated programs (when it is installed): where it is,
 * which version, and what it says. Used by the tests that compare our P4Info with p4c's.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findTool } from './tools.ts';

const run = promisify(execFile);

/** p4c from `P4C`, else the first `p4c` on `PATH`; undefined when there is none; throws when `P4C` names no executable. */
export function findP4c(env: NodeJS.ProcessEnv): string | undefined {
  return findTool({ variable: 'P4C', command: 'p4c' }, env);
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
