/**
 * `p4lb generate <spec> [-o DIR]`: generates the deployment's P4 programs, P4Info, typed bindings
 * and manifest into `p4out/<deployment>/` (or DIR), all files at once, and lists what it wrote.
 * Failures are P4lbErrors (spec problems, specs the programs cannot honour); the CLI's main prints them.
 */
import type { Command } from 'commander';
import { loadSpecFile } from '../../core/spec/load.ts';
import type { WrittenFile } from '../../generator/write-output.ts';

export interface GenerateResult {
  readonly deployment: string;
  readonly outDir: string;
  readonly files: readonly WrittenFile[];
}

/** Loads the spec, generates everything in memory, then writes the folder. */
export async function runGenerate(specPath: string, outDir?: string): Promise<GenerateResult> {
  const spec = await loadSpecFile(specPath);
  // Loaded here, not at the top: the bindings need ts-morph and the TypeScript compiler, which
  // every other command (a switch, the controller) would otherwise carry in memory.
  const { generateDeployment } = await import('../../generator/generate.ts');
  const { defaultOutputDir, writeDeployment } = await import('../../generator/write-output.ts');
  const generated = generateDeployment(spec);
  const dir = outDir ?? defaultOutputDir(spec.deployment);
  const files = await writeDeployment(dir, generated);
  return { deployment: spec.deployment, outDir: dir, files };
}

/** What `p4lb generate` prints: one line per file (size right-aligned), then a summary. */
export function formatGenerateResult(result: GenerateResult): string {
  const width = Math.max(...result.files.map((f) => String(f.bytes).length));
  const lines = result.files.map((f) => `  ${String(f.bytes).padStart(width)} bytes  ${f.path}`);
  const total = result.files.reduce((n, f) => n + f.bytes, 0);
  lines.push(`deployment '${result.deployment}': ${result.files.length} files, ${total} bytes in ${result.outDir}`);
  return `${lines.join('\n')}\n`;
}

export function registerGenerate(program: Command): Command {
  return program
    .command('generate')
    .description('generate the P4 programs, P4Info, typed bindings and manifest of a deployment')
    .argument('<spec>', 'spec file (YAML)')
    .option('-o, --out <dir>', 'output folder (default: p4out/<deployment>); replaced as a whole')
    .action(async (specPath: string, options: { out?: string }, command: Command) => {
      const output = command.configureOutput();
      const writeOut = output.writeOut ?? ((s: string) => void process.stdout.write(s));
      const result = await runGenerate(specPath, options.out);
      writeOut(formatGenerateResult(result));
    });
}
