/** A P4 program compiled for BMv2 by p4c: the JSON the switch loads, its P4Info, its registers. */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { p4InfoFromText } from '../../core/p4runtime/text-format.ts';
import type { P4Info } from '../../core/p4runtime/gen/p4/config/v1/p4info_pb.ts';
import { compileWithP4c } from '../../generator/p4c.ts';
import { Bmv2Error } from './errors.ts';

export interface Bmv2RegisterInfo {
  readonly name: string;
  readonly bitwidth: number;
  readonly size: number;
}

export interface Bmv2Program {
  readonly fileName: string;
  /** The BMv2 JSON, the p4_device_config of SetForwardingPipelineConfig. */
  readonly json: Uint8Array;
  readonly p4info: P4Info;
  readonly registers: ReadonlyMap<string, Bmv2RegisterInfo>;
}

/** The register arrays BMv2's JSON declares (`register_arrays`), by name. */
export function registersOfJson(json: string): Map<string, Bmv2RegisterInfo> {
  const parsed = JSON.parse(json) as { register_arrays?: { name: string; bitwidth: number; size: number }[] };
  return new Map((parsed.register_arrays ?? []).map((r) => [r.name, { name: r.name, bitwidth: r.bitwidth, size: r.size }]));
}

// A scenario file loads the same program once a test; p4c takes about a second.
const cache = new Map<string, Promise<Bmv2Program>>();

export function compileForBmv2(p4c: string, p4Text: string, fileName: string): Promise<Bmv2Program> {
  const key = createHash('sha256').update(`${p4c}\n${fileName}\n${p4Text}`).digest('hex');
  let compiled = cache.get(key);
  if (compiled === undefined) {
    compiled = compile(p4c, p4Text, fileName);
    cache.set(key, compiled);
    compiled.catch(() => cache.delete(key));
  }
  return compiled;
}

async function compile(p4c: string, p4Text: string, fileName: string): Promise<Bmv2Program> {
  const dir = await mkdtemp(join(tmpdir(), 'p4lb-bmv2-'));
  try {
    const stem = basename(fileName).replace(/\.p4$/, '') || 'program';
    const source = join(dir, `${stem}.p4`);
    const p4infoFile = join(dir, `${stem}.p4info.txtpb`);
    await writeFile(source, p4Text);
    const result = await compileWithP4c({ p4c, source, outDir: dir, p4infoFile });
    if (result.exitCode !== 0) {
      throw new Bmv2Error('BMV2_COMPILE_FAILED', `p4c could not compile ${fileName} for BMv2 (exit ${result.exitCode}):\n${result.output.trim()}`);
    }
    const json = await readFile(join(dir, `${stem}.json`));
    return {
      fileName,
      json: new Uint8Array(json),
      p4info: p4InfoFromText(await readFile(p4infoFile, 'utf8')),
      registers: registersOfJson(json.toString('utf8')),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
