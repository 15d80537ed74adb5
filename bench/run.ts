/**
 * Runs every bench/*.bench.ts suite, or those named on the command line (`hash` for
 * hash.bench.ts): `node bin/run-ts.js bench/run.ts [suite…]`. Results go to build/bench/<suite>.json.
 */
import { readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatSuiteResult, runSuite, writeSuiteResult, type BenchSuite } from './harness.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(benchDir, '..', 'build', 'bench');
const SUFFIX = '.bench.ts';

async function main(requested: readonly string[]): Promise<number> {
  const available = (await readdir(benchDir)).filter((f) => f.endsWith(SUFFIX)).map((f) => f.slice(0, -SUFFIX.length)).sort();
  const unknown = requested.filter((r) => !available.includes(r));
  if (unknown.length > 0) {
    console.error(`unknown suite(s): ${unknown.join(', ')}; available: ${available.join(', ')}`);
    return 2;
  }
  const names = requested.length > 0 ? requested : available;
  for (const name of names) {
    const mod = (await import(pathToFileURL(join(benchDir, `${name}${SUFFIX}`)).href)) as { default: BenchSuite };
    console.log(`\n# ${mod.default.name}: ${mod.default.description}`);
    try {
      const result = await runSuite(mod.default, (r) => console.log(`  ${r.name}: median ${r.medianMs.toFixed(3)} ms`));
      console.log(`\n${formatSuiteResult(result)}`);
      console.log(`→ ${await writeSuiteResult(result, outDir)}`);
    } finally {
      await mod.default.teardown?.();
    }
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
