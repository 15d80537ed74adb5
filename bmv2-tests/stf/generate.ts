/**
 * `npm run stf:generate`: where p4testgen is installed (`P4TESTGEN`, else `p4testgen` on PATH),
 * writes STF tests for the generated example gateway and host programs into
 * bmv2-tests/generated/<role>/, with a fixed seed so that the output is reviewed like a golden
 * file. The runner tests run every file there on the embedded target (and on BMv2 when present).
 * Without p4testgen it says so and writes nothing.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findTool } from '../../generator/tools.ts';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const GENERATED_DIR = join(ROOT, 'bmv2-tests', 'generated');
const ROLES = ['gateway', 'host'] as const;
/**
 * p4testgen's seed and test budget: the same tests every time. Statement-coverage-guided search,
 * keeping only tests that cover something new, so the tests reach the tables (with the entries
 * p4testgen chooses) instead of stopping at the first parser paths depth-first search finds.
 */
const SEED = 1;
const MAX_TESTS = 100;

async function generateFor(p4testgen: string, role: (typeof ROLES)[number]): Promise<string[]> {
  const program = join(ROOT, 'p4out', 'example', role, `${role}.p4`);
  const work = await mkdtemp(join(tmpdir(), `p4lb-testgen-${role}-`));
  try {
    await run(p4testgen, [
      '--target', 'bmv2', '--arch', 'v1model', '--test-backend', 'stf',
      '--seed', String(SEED), '--max-tests', String(MAX_TESTS),
      '--path-selection', 'GREEDY_STATEMENT_SEARCH', '--track-coverage', 'STATEMENTS', '--track-coverage', 'ACTIONS',
      '--only-covering-tests', '--out-dir', work, program,
    ], { maxBuffer: 64 * 1024 * 1024, timeout: 20 * 60 * 1000 });
    const outDir = join(GENERATED_DIR, role);
    await rm(outDir, { recursive: true, force: true });
    await mkdir(outDir, { recursive: true });
    const written: string[] = [];
    for (const f of (await readdir(work)).filter((x) => x.endsWith('.stf')).sort()) {
      await writeFile(join(outDir, f), await readFile(join(work, f)));
      written.push(join(outDir, f));
    }
    return written;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const p4testgen = findTool({ variable: 'P4TESTGEN', command: 'p4testgen' }, process.env);
  if (p4testgen === undefined) {
    console.log('p4testgen not found (set P4TESTGEN): nothing generated; bmv2-tests/generated is left as it is');
    return 0;
  }
  for (const role of ROLES) {
    const files = await generateFor(p4testgen, role);
    console.log(`${role}: ${files.length} STF tests in ${join(GENERATED_DIR, role)}`);
  }
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}
