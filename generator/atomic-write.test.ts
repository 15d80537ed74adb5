import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFolderAtomically } from './atomic-write.ts';

describe('writeFolderAtomically', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'p4lb-atomic-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('replaces the whole folder: new files appear, stale ones go, no temporaries remain', async () => {
    const out = join(root, 'out');
    await mkdir(join(out, 'gateway'), { recursive: true });
    await writeFile(join(out, 'gateway', 'stale.txt'), 'old');
    await writeFolderAtomically(out, new Map([['gateway/gateway.p4', 'p4'], ['manifest.json', '{}']]));
    expect((await readdir(out)).sort()).toEqual(['gateway', 'manifest.json']);
    expect(await readdir(join(out, 'gateway'))).toEqual(['gateway.p4']);
    expect(await readFile(join(out, 'gateway', 'gateway.p4'), 'utf8')).toBe('p4');
    expect(await readdir(root)).toEqual(['out']);
  });
});
