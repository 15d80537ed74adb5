/**
 * Writing a generated deployment: the whole folder at once (writeFolderAtomically), so a failed
 * or interrupted run leaves the previous output intact.
 */
import { join } from 'node:path';
import { writeFolderAtomically } from './atomic-write.ts';
import type { GeneratedDeployment } from './generate.ts';

/** Where `p4lb generate` writes a deployment unless told otherwise: `p4out/<deployment>`. */
export function defaultOutputDir(deployment: string, root = '.'): string {
  return join(root, 'p4out', deployment);
}

export interface WrittenFile {
  /** The path as written (the output folder joined with the file's relative path). */
  readonly path: string;
  readonly bytes: number;
}

/** Replaces `dir` with the deployment's files; returns what was written, in manifest order. */
export async function writeDeployment(dir: string, generated: GeneratedDeployment): Promise<WrittenFile[]> {
  await writeFolderAtomically(dir, generated.files);
  return [...generated.files].map(([relative, content]) => ({
    path: join(dir, relative),
    bytes: Buffer.byteLength(content, 'utf8'),
  }));
}
