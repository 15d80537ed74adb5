/**
 * `p4lb demo`: the main job on the example deployment. For now it validates the example spec and
 * prints the consistent-hash analysis of each of its VIPs; the end-to-end run (namespaces,
 * switches, controller, traffic) grows into it as those parts land.
 */
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { rowsForSpec, formatAnalysisTable } from './analyze.ts';
import { runCheck, summaryLine } from './check.ts';
import { loadSpecFile } from '../../core/spec/load.ts';

export const EXAMPLE_SPEC = fileURLToPath(new URL('../../examples/example.yaml', import.meta.url));

export interface DemoIo {
  write(text: string): void;
}

export async function runDemo(specFile: string, io: DemoIo): Promise<number> {
  const checked = await runCheck(specFile);
  if (!checked.ok) {
    io.write(`${specFile} is not valid:\n${checked.diagnostics.map((d) => `  ${d.text}`).join('\n')}\n`);
    return 1;
  }
  io.write(`${summaryLine(checked)}\n\n`);
  const spec = await loadSpecFile(specFile);
  io.write('Consistent-hash slot tables, per VIP and algorithm:\n');
  io.write(`${formatAnalysisTable(rowsForSpec(spec, 'both', {}))}\n`);
  return 0;
}

export function registerDemo(program: Command, io: DemoIo = { write: (t) => process.stdout.write(t) }): Command {
  return program
    .command('demo')
    .description('run the main job on the example deployment (validate it and analyse its slot tables)')
    .option('--spec <file>', 'spec to use instead of examples/example.yaml', EXAMPLE_SPEC)
    .action(async (options: { spec: string }) => {
      process.exitCode = await runDemo(options.spec, io);
    });
}
