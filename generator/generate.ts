/**
 * Spec → every generated file of a deployment, in memory: the P4 programs rendered from the
 * templates, their P4Info derived from the rendered P4 text by our front end (never from the view
 * model, so the P4Info describes what was really written), typed bindings from that P4Info, and
 * a manifest. Nothing here writes files; a failure leaves nothing half-done (see write-output.ts).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { compileP4, deriveP4Info, formatP4InfoText, type CheckedProgram, type P4Info } from '../p4-frontend/index.ts';
import { P4lbError } from '../core/errors.ts';
import type { LbSpec } from '../core/spec/schema.ts';
import { renderBindings } from './bindings.ts';
import { GenerateError } from './errors.ts';
import { buildManifest, type Manifest } from './manifest.ts';
import { renderProgram, TEMPLATES_DIR, type ProgramRole } from './render.ts';
import { gatewayViewModel, hostViewModel, specDigest } from './view-model.ts';

export const PROGRAM_ROLES: readonly ProgramRole[] = ['gateway', 'host'];

export interface GenerateOptions {
  /** Printed into every file; defaults to package.json's version. */
  readonly generatorVersion?: string;
  readonly templatesDir?: string;
}

export interface GeneratedProgram {
  readonly role: ProgramRole;
  readonly p4: string;
  readonly checked: CheckedProgram;
  readonly p4info: P4Info;
  readonly p4infoText: string;
  readonly bindings: string;
}

export interface GeneratedDeployment {
  readonly deployment: string;
  readonly programs: Readonly<Record<ProgramRole, GeneratedProgram>>;
  readonly manifest: Manifest;
  /** Path relative to the deployment folder (with `/`) → content, in a fixed order. */
  readonly files: ReadonlyMap<string, string>;
}

let cachedVersion: string | undefined;

/** The generator's version: package.json's `version`. */
export function generatorVersion(): string {
  if (cachedVersion === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    if (typeof pkg.version !== 'string') throw new GenerateError('GENERATE_VERSION', 'package.json has no version');
    cachedVersion = pkg.version;
  }
  return cachedVersion;
}

export function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** The files of one program, relative to the deployment folder. */
export function programFiles(role: ProgramRole): { p4: string; p4info: string; bindings: string } {
  return { p4: `${role}/${role}.p4`, p4info: `${role}/${role}.p4info.txtpb`, bindings: `${role}/${role}.bindings.ts` };
}

/** Our front end must accept what the templates produced; if not, that is a template bug. */
function compileGenerated(role: ProgramRole, p4: string): { checked: CheckedProgram; p4info: P4Info; p4infoText: string } {
  const fileName = `${role}.p4`;
  try {
    const checked = compileP4(p4, fileName);
    const p4info = deriveP4Info(checked);
    return { checked, p4info, p4infoText: formatP4InfoText(p4info) };
  } catch (err) {
    if (!(err instanceof P4lbError)) throw err;
    throw new GenerateError('GENERATE_P4_REJECTED', `the generated ${fileName} does not pass the P4 front end: ${err.describe()}`, {
      location: err.location ?? { file: fileName },
      hint: `a template (templates/${role}.p4.hbs) produced P4 the front end rejects`,
      cause: err,
    });
  }
}

function generateProgram(role: ProgramRole, spec: LbSpec, version: string, templatesDir: string): GeneratedProgram {
  const viewModel = role === 'gateway' ? gatewayViewModel(spec, version) : hostViewModel(spec, version);
  const p4 = renderProgram(role, viewModel, templatesDir);
  const { checked, p4info, p4infoText } = compileGenerated(role, p4);
  const bindings = renderBindings(p4info, {
    role,
    deployment: spec.deployment,
    generatorVersion: version,
    p4infoDigest: sha256(p4infoText),
  });
  return { role, p4, checked, p4info, p4infoText, bindings };
}

/**
 * Generates every file of the spec's deployment in memory. Throws GenerateError (before anything
 * is written) when the spec asks for something the programs cannot do.
 */
export function generateDeployment(spec: LbSpec, options: GenerateOptions = {}): GeneratedDeployment {
  const version = options.generatorVersion ?? generatorVersion();
  const templatesDir = options.templatesDir ?? TEMPLATES_DIR;
  // View models first for both roles: a spec the programs cannot honour fails before any rendering.
  gatewayViewModel(spec, version);
  hostViewModel(spec, version);
  const programs = {
    gateway: generateProgram('gateway', spec, version, templatesDir),
    host: generateProgram('host', spec, version, templatesDir),
  };
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
