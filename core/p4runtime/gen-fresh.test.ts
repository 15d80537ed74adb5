import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const committed = join(repoRoot, 'core/p4runtime/gen');

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .sort();
}

let scratch: string | undefined;

afterEach(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

describe('core/p4runtime/gen', () => {
  it('matches what `buf generate` produces from core/p4runtime/proto', () => {
    scratch = mkdtempSync(join(tmpdir(), 'p4lb-gen-'));
    execFileSync(join(repoRoot, 'node_modules/.bin/buf'), ['generate', '--output', scratch], {
      cwd: repoRoot,
      stdio: 'pipe',
      timeout: 60_000,
    });
    const fresh = join(scratch, 'core/p4runtime/gen');
    const files = listFiles(fresh);
    expect(files.length).toBeGreaterThan(0);
    // A stale file fails here: run `npx buf generate` and commit core/p4runtime/gen.
    expect(listFiles(committed)).toEqual(files);
    for (const f of files) {
      expect(readFileSync(join(committed, f), 'utf8'), f).toBe(readFileSync(join(fresh, f), 'utf8'));
    }
  }, 60_000);
});
