/**
 * manifest.json of a generated deployment: what produced it (generator version, spec digest),
 * each file with its SHA-256 and size, and each program's table sizes and object counts. No
 * timestamps or paths of the machine: the same spec gives the same manifest.
 */
import { createHash } from 'node:crypto';
import { byCodeUnit } from '../core/order.ts';
import type { P4Info } from '../p4-frontend/index.ts';
import type { ProgramRole } from './render.ts';

export interface ManifestFile {
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
}

export interface ManifestProgram {
  readonly tableSizes: Readonly<Record<string, number>>;
  readonly counts: {
    readonly tables: number;
    readonly actions: number;
    readonly counters: number;
    readonly registers: number;
    readonly digests: number;
    readonly controllerPacketMetadata: number;
  };
}

export interface Manifest {
  readonly generator: 'p4lb';
  readonly generatorVersion: string;
  readonly deployment: string;
  readonly specDigest: string;
  readonly files: readonly ManifestFile[];
  readonly programs: Readonly<Partial<Record<ProgramRole, ManifestProgram>>>;
}

export interface ManifestInput {
  readonly deployment: string;
  readonly generatorVersion: string;
  readonly specDigest: string;
  /** The generated files other than the manifest itself. */
  readonly files: ReadonlyMap<string, string>;
  readonly programs: readonly { readonly role: ProgramRole; readonly p4info: P4Info }[];
}

function programSummary(p4info: P4Info): ManifestProgram {
  return {
    tableSizes: Object.fromEntries(p4info.tables.map((t) => [t.preamble.name, t.size])),
    counts: {
      tables: p4info.tables.length,
      actions: p4info.actions.length,
      counters: p4info.counters.length,
      registers: p4info.registers.length,
      digests: p4info.digests.length,
      controllerPacketMetadata: p4info.controllerPacketMetadata.length,
    },
  };
}

export function buildManifest(input: ManifestInput): Manifest {
  const files = [...input.files]
    .map(([path, content]) => ({
      path,
      sha256: createHash('sha256').update(content).digest('hex'),
      bytes: Buffer.byteLength(content, 'utf8'),
    }))
    .sort((a, b) => byCodeUnit(a.path, b.path));
  return {
    generator: 'p4lb',
    generatorVersion: input.generatorVersion,
    deployment: input.deployment,
    specDigest: input.specDigest,
    files,
    programs: Object.fromEntries(input.programs.map((p) => [p.role, programSummary(p.p4info)])),
  };
}
