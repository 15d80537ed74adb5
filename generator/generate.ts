/**
 * Spec → every generated file of a deployment, in memory: the P4 programs rendered from the
 * templates, their P4Info derived from the rendered P4 text by our front end (never from the view
 * model, so the P4Info describes what was really written; programs.ts), typed bindings from that
 * P4Info, and a manifest. Nothing here writes files; a failure leaves nothing half-done (see write-output.ts).
 */
import type { LbSpec } from '../core/spec/schema.ts';
import { renderBindings } from './bindings.ts';
import { buildManifest, type Manifest } from './manifest.ts';
import { generatePrograms, generatorVersion, PROGRAM_ROLES, sha256, type ProgramOptions, type RenderedProgram } from './programs.ts';
import type { ProgramRole } from './render.ts';
import { specDigest } from './view-model.ts';

export { generatePrograms, generatorVersion, PROGRAM_ROLES, sha256, type RenderedProgram };

export type GenerateOptions = ProgramOptions;

export interface GeneratedProgram extends RenderedProgram {
  readonly bindings: string;
}

export interface GeneratedDeployment {
  readonly deployment: string;
  readonly programs: Readonly<Record<ProgramRole, GeneratedProgram>>;
  readonly manifest: Manifest;
  /** Path relative to the deployment folder (with `/`) → content, in a fixed order. */
  readonly files: ReadonlyMap<string, string>;
}

/** The files of one program, relative to the deployment folder. */
export function programFiles(role: ProgramRole): { p4: string; p4info: string; bindings: string } {
  return { p4: `${role}/${role}.p4`, p4info: `${role}/${role}.p4info.txtpb`, bindings: `${role}/${role}.bindings.ts` };
}

function withBindings(program: RenderedProgram, spec: LbSpec, version: string): GeneratedProgram {
  const bindings = renderBindings(program.p4info, {
    role: program.role,
    deployment: spec.deployment,
    generatorVersion: version,
    p4infoDigest: sha256(program.p4infoText),
  });
  return { ...program, bindings };
}

/**
 * Generates every file of the spec's deployment in memory. Throws GenerateError (before anything
 * is written) when the spec asks for something the programs cannot do.
 */
export function generateDeployment(spec: LbSpec, options: GenerateOptions = {}): GeneratedDeployment {
  const version = options.generatorVersion ?? generatorVersion();
  const rendered = generatePrograms(spec, { generatorVersion: version, ...(options.templatesDir === undefined ? {} : { templatesDir: options.templatesDir }) });
  const programs = { gateway: withBindings(rendered.gateway, spec, version), host: withBindings(rendered.host, spec, version) };
  const programFileSet = new Map<string, string>();
  for (const role of PROGRAM_ROLES) {
    const p = programs[role];
    const names = programFiles(role);
    programFileSet.set(names.p4, p.p4);
    programFileSet.set(names.p4info, p.p4infoText);
    programFileSet.set(names.bindings, p.bindings);
  }
  const manifest = buildManifest({
    deployment: spec.deployment,
    generatorVersion: version,
    specDigest: specDigest(spec),
    files: programFileSet,
    programs: PROGRAM_ROLES.map((role) => ({ role, p4info: programs[role].p4info })),
  });
  const files = new Map(programFileSet);
  files.set('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`);
  return { deployment: spec.deployment, programs, manifest, files };
}
