/**
 * `p4lb stf <program.p4> <file.stf>…`: runs p4c STF tests on the embedded target, loading the
 * program fresh for each file, and reports pass or fail per file with the first difference.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { compileP4 } from '../../p4-frontend/index.ts';
import { parseStf } from '../../bmv2-tests/stf/parser.ts';
import { runStf, type StfRunResult } from '../../bmv2-tests/stf/runner.ts';

export interface StfIo {
  write(text: string): void;
}

export async function runStfCommand(programFile: string, stfFiles: readonly string[], options: { trace?: boolean }, io: StfIo): Promise<number> {
  const program = compileP4(await readFile(programFile, 'utf8'), programFile);
  const results: StfRunResult[] = [];
  for (const file of stfFiles) {
    const result = runStf(program, parseStf(await readFile(file, 'utf8'), file), { trace: options.trace ?? false });
    results.push(result);
    io.write(`${result.passed ? 'PASS' : 'FAIL'} ${file} (${result.packetsSent} packets)\n`);
    for (const f of result.failures) io.write(`${f.split('\n').map((l) => `  ${l}`).join('\n')}\n`);
  }
  const failed = results.filter((r) => !r.passed).length;
  io.write(`embedded target, ${basename(programFile)}: ${results.length - failed} passed, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}

export function registerStf(program: Command, io: StfIo = { write: (t) => process.stdout.write(t) }): Command {
  return program
    .command('stf')
    .description('run p4c STF test files on the embedded target (program loaded fresh for each file)')
    .argument('<program>', 'the v1model P4 program')
    .argument('<stf...>', 'STF files')
    .option('--trace', 'show the path of every packet of a failing file')
    .action(async (programFile: string, stfFiles: string[], options: { trace?: boolean }) => {
      process.exitCode = await runStfCommand(programFile, stfFiles, options, io);
    });
}
