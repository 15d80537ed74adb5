/**
 * Spec → the P4 programs of a deployment, in memory: rendered from the templates, checked by our
 * front end, with the P4Info derived from the rendered text. What the controller needs to push a
 * pipeline; generate.ts adds the typed bindings (ts-morph, which the controller never loads) and
 * the manifest.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { compileP4, deriveP4Info, formatP4InfoText, type CheckedProgram, type P4Info } from '../p4-frontend/index.ts';
import { P4lbError } from '../core/errors.ts';
import type { LbSpec } from '../core/spec/schema.ts';
import { GenerateError } from './errors.ts';
import { renderProgram, TEMPLATES_DIR, type ProgramRole } from './render.ts';
import { gatewayViewModel, hostViewModel } from './view-model.ts';

export const PROGRAM_ROLES: readonly ProgramRole[] = ['gateway', 'host'];

export interface ProgramOptions {
  /** Printed into every file; defaults to package.json's version. */
  readonly generatorVersion?: string;
  readonly templatesDir?: string;
}

/** One rendered and checked program. */
export interface RenderedProgram {
  readonly role: ProgramRole;
  readonly p4: string;
  readonly checked: CheckedProgram;
  readonly p4info: P4Info;
  readonly p4infoText: string;
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

/**
 * Both programs of the spec's deployment. Throws GenerateError when the spec asks for something
 * the programs cannot do (checked for both roles before anything is rendered).
 */
export function generatePrograms(spec: LbSpec, options: ProgramOptions = {}): Readonly<Record<ProgramRole, RenderedProgram>> {
  const version = options.generatorVersion ?? generatorVersion();
  const templatesDir = options.templatesDir ?? TEMPLATES_DIR;
  gatewayViewModel(spec, version);
  hostViewModel(spec, version);
  const one = (role: ProgramRole): RenderedProgram => {
    const viewModel = role === 'gateway' ? gatewayViewModel(spec, version) : hostViewModel(spec, version);
    const p4 = renderProgram(role, viewModel, templatesDir);
    return { role, p4, ...compileGenerated(role, p4) };
  };
  return { gateway: one('gateway'), host: one('host') };
}
