import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { P4lbError } from '../../core/errors.ts';
import { registerGenerate } from './generate.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/example.yaml', import.meta.url));

/** Runs `p4lb generate ...` in-process and captures what it writes. */
async function runGenerate(args: string[]): Promise<string> {
  let out = '';
  const program = new Command('p4lb').exitOverride();
  program.configureOutput({ writeOut: (s) => (out += s), writeErr: () => {} });
  registerGenerate(program);
  await program.parseAsync(['generate', ...args], { from: 'user' });
  return out;
}

describe('p4lb generate', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'p4lb-generate-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes every file into -o DIR and lists paths and sizes', async () => {
    const dir = join(root, 'out');
    const out = await runGenerate([EXAMPLE, '-o', dir]);
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(8);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { files: { path: string; bytes: number }[] };
    for (const f of manifest.files) {
      const path = join(dir, f.path);
      expect(readFileSync(path).length).toBe(f.bytes);
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^ +${f.bytes} bytes  ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)));
    }
    expect(lines.at(-1)).toMatch(new RegExp(`^deployment 'example': 7 files, \\d+ bytes in ${dir}$`));
  });

  it('fails with a P4lbError and writes nothing when the programs cannot honour the spec', async () => {
    const spec = join(root, 'clash.yaml');
    const text = readFileSync(EXAMPLE, 'utf8').replace('protocol: tcp\n    ports: [8080]', 'protocol: udp\n    ports: [6635]');
    await writeFile(spec, text);
    const dir = join(root, 'out');
    const failure = runGenerate([spec, '-o', dir]);
    await expect(failure).rejects.toBeInstanceOf(P4lbError);
    await expect(failure).rejects.toMatchObject({ code: 'GENERATE_PORT_CLASH' });
    expect(existsSync(dir)).toBe(false);
  });

  it('reports an invalid spec as the spec loader\'s error', async () => {
    await expect(runGenerate([join(root, 'missing.yaml'), '-o', join(root, 'out')])).rejects.toMatchObject({
      code: 'SPEC_UNREADABLE',
    });
  });
});
