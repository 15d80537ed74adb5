/**
 * p4out/example holds the committed output for examples/example.yaml. This test regenerates it in
 * memory and fails when the committed files differ; `UPDATE_GOLDEN=1 npx vitest run generator`
 * rewrites them (atomically) instead.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFolderAtomically } from './atomic-write.ts';
import { EXAMPLE_OUTPUT_DIR, generatedExample } from './fixtures.ts';

const HOW_TO_UPDATE = 'p4out/example is stale: run `UPDATE_GOLDEN=1 npx vitest run generator`';

/** Every file under `dir` (relative path with `/` → content); empty when `dir` does not exist. */
async function readTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  for (const e of entries) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    out.set(relative(dir, path).split(sep).join('/'), await readFile(path, 'utf8'));
  }
  return out;
}

describe('p4out/example', () => {
  it('equals what the generator produces for examples/example.yaml', async () => {
    const { files } = generatedExample();
    if (process.env['UPDATE_GOLDEN'] === '1') await writeFolderAtomically(EXAMPLE_OUTPUT_DIR, files);
    const committed = await readTree(EXAMPLE_OUTPUT_DIR);
    const problems = [
      ...[...files.keys()].filter((p) => !committed.has(p)).map((p) => `missing ${p}`),
      ...[...committed.keys()].filter((p) => !files.has(p)).map((p) => `not generated ${p}`),
      ...[...files].filter(([p, text]) => committed.has(p) && committed.get(p) !== text).map(([p]) => `differs ${p}`),
    ].sort();
    expect(problems, HOW_TO_UPDATE).toEqual([]);
  });
});
