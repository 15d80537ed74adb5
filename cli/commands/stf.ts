/**
 * `p4lb stf [--target embedded|bmv2] <program.p4> <file.stf>…`: runs p4c STF tests on the embedded
 * target (the default) or on BMv2 (simple_switch_grpc over P4Runtime, packets through veth
 * pairs), loading the program fresh for each file, and reports pass or fail per file with the
 * first difference.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { compileP4 } from '../../p4-frontend/index.ts';
import { openBmv2Stf, stfPorts } from '../../bmv2-tests/bmv2/stf-bmv2.ts';
import { findBmv2 } from '../../bmv2-tests/dsl/runner.ts';
import type { StfFile } from '../../bmv2-tests/stf/model.ts';
import { parseStf } from '../../bmv2-tests/stf/parser.ts';
import { runStf, type StfRunResult } from '../../bmv2-tests/stf/runner.ts';

export interface StfIo {
  write(text: string): void;
}

export type StfTarget = 'embedded' | 'bmv2';

export interface StfCommandOptions {
  readonly trace?: boolean;
  readonly target?: string;
  /** Where to look for simple_switch_grpc and p4c (SIMPLE_SWITCH_GRPC, P4C, PATH). */
  readonly env?: NodeJS.ProcessEnv;
}

function report(io: StfIo, file: string, result: StfRunResult): void {
  io.write(`${result.passed ? 'PASS' : 'FAIL'} ${file} (${result.packetsSent} packets)\n`);
  for (const f of result.failures) io.write(`${f.split('\n').map((l) => `  ${l}`).join('\n')}\n`);
}

async function runOnBmv2(programFile: string, files: readonly { path: string; stf: StfFile }[], env: NodeJS.ProcessEnv, io: StfIo): Promise<StfRunResult[] | undefined> {
  const tools = findBmv2(env);
  if (tools === undefined) {
    io.write('error: BMv2 not found (set SIMPLE_SWITCH_GRPC and P4C, or put simple_switch_grpc and p4c on PATH): cannot run --target bmv2\n');
    return undefined;
  }
  const runner = await openBmv2Stf({
    tools,
    p4Text: await readFile(programFile, 'utf8'),
    fileName: basename(programFile),
    ports: stfPorts(files.map((f) => f.stf)),
  });
  const results: StfRunResult[] = [];
  try {
    for (const { path, stf } of files) {
      const result = await runner.run(stf);
      results.push(result);
      report(io, path, result);
    }
  } finally {
    await runner.close();
  }
  return results;
}

export async function runStfCommand(programFile: string, stfFiles: readonly string[], options: StfCommandOptions, io: StfIo): Promise<number> {
  const target = options.target ?? 'embedded';
  if (target !== 'embedded' && target !== 'bmv2') {
    io.write(`error: unknown target '${target}': use embedded or bmv2\n`);
    return 2;
  }
  const files = await Promise.all(stfFiles.map(async (path) => ({ path, stf: parseStf(await readFile(path, 'utf8'), path) })));
  let results: StfRunResult[];
  if (target === 'bmv2') {
    const ran = await runOnBmv2(programFile, files, options.env ?? process.env, io);
    if (ran === undefined) return 2;
    results = ran;
  } else {
    const program = compileP4(await readFile(programFile, 'utf8'), programFile);
    results = [];
    for (const { path, stf } of files) {
      const result = runStf(program, stf, { trace: options.trace ?? false });
      results.push(result);
      report(io, path, result);
    }
  }
  const failed = results.filter((r) => !r.passed).length;
  io.write(`${target === 'bmv2' ? 'BMv2' : 'embedded'} target, ${basename(programFile)}: ${results.length - failed} passed, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}

export function registerStf(program: Command, io: StfIo = { write: (t) => process.stdout.write(t) }): Command {
  return program
    .command('stf')
    .description('run p4c STF test files on the embedded target or on BMv2 (program loaded fresh for each file)')
    .argument('<program>', 'the v1model P4 program')
    .argument('<stf...>', 'STF files')
    .option('--target <target>', 'embedded (our v1model interpreter) or bmv2 (simple_switch_grpc from SIMPLE_SWITCH_GRPC/P4C or PATH)', 'embedded')
    .option('--trace', 'show the path of every packet of a failing file (embedded target)')
    .action(async (programFile: string, stfFiles: string[], options: { trace?: boolean; target?: string }) => {
      process.exitCode = await runStfCommand(programFile, stfFiles, options, io);
    });
}
