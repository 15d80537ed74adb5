/**
 * The pipelines the controller pushes: the generated programs' P4Info with the device config the
 * target wants — the P4 source for the embedded target, p4c's BMv2 JSON for simple_switch_grpc.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { p4InfoFromText } from '../../core/p4runtime/text-format.ts';
import type { LbSpec } from '../../core/spec/schema.ts';
// programs.ts, not generate.ts: the controller needs no typed bindings (ts-morph and the TypeScript compiler stay out of its process).
import { generatePrograms, type RenderedProgram } from '../../generator/programs.ts';
import { compileWithP4c, findP4c } from '../../generator/p4c.ts';
import type { ProgramRole } from '../../generator/render.ts';
import type { PipelineConfig } from '../client/switch-client.ts';
import { ControllerError } from './errors.ts';

export type PipelineKind = 'embedded' | 'bmv2';

export type RolePipelines = Readonly<Record<ProgramRole, PipelineConfig>>;

/** The embedded target takes the P4 source itself as its device config. */
function embedded(program: RenderedProgram): PipelineConfig {
  return { p4info: p4InfoFromText(program.p4infoText), deviceConfig: new TextEncoder().encode(program.p4) };
}

async function bmv2(program: RenderedProgram, p4c: string): Promise<PipelineConfig> {
  const dir = await mkdtemp(join(tmpdir(), 'p4lb-p4c-'));
  try {
    const source = join(dir, `${program.role}.p4`);
    await writeFile(source, program.p4);
    const result = await compileWithP4c({ p4c, source, outDir: dir, p4infoFile: join(dir, `${program.role}.p4info.txtpb`) });
    if (result.exitCode !== 0) {
      throw new ControllerError('CONTROLLER_P4C', `p4c failed on the generated ${program.role}.p4 (exit ${result.exitCode}): ${result.errors.slice(0, 3).join('; ') || result.output.slice(0, 400)}`);
    }
    // The P4Info stays ours (identical to p4c's, tested in generator/); p4c gives only the BMv2 JSON.
    return { p4info: p4InfoFromText(program.p4infoText), deviceConfig: await readFile(join(dir, `${program.role}.json`)) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Generates both programs of `spec` and packages them for `kind`; BMv2 needs p4c (`P4C` or PATH). */
export async function buildPipelines(spec: LbSpec, kind: PipelineKind, env: NodeJS.ProcessEnv = process.env): Promise<RolePipelines> {
  const programs = generatePrograms(spec);
  if (kind === 'embedded') return { gateway: embedded(programs.gateway), host: embedded(programs.host) };
  const p4c = findP4c(env);
  if (p4c === undefined) throw new ControllerError('CONTROLLER_P4C', 'the bmv2 pipeline needs p4c, and none was found', { hint: 'set P4C to the p4c binary or put it on PATH' });
  return { gateway: await bmv2(programs.gateway, p4c), host: await bmv2(programs.host, p4c) };
}
