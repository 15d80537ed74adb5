/**
 * Writes a folder of generated files all at once: into a temporary sibling folder first, then
 * renamed into place, so a reader (or a failed run) never sees half an output.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Relative path (with `/`) → file content. */
export type FileSet = ReadonlyMap<string, string>;

export async function writeFolderAtomically(target: string, files: FileSet): Promise<void> {
  const dir = resolve(target);
  await mkdir(dirname(dir), { recursive: true });
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staging = `${dir}.tmp-${suffix}`;
  const previous = `${dir}.old-${suffix}`;
  try {
    for (const [relative, content] of files) {
      const path = join(staging, relative);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
    }
    // Two renames: the old folder moves aside, the new one takes its place. Between them the
    // folder is briefly absent, never half-written.
    await rename(dir, previous).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await rename(staging, dir);
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(previous, { recursive: true, force: true });
  }
}
