/**
 * The `p4lb` command: one subcommand per job, each registered by its own module. This is the
 * only layer that prints or sets an exit code; libraries throw P4lbError.
 */
import { Command, CommanderError } from 'commander';
import { P4lbError } from '../core/errors.ts';
import { registerAnalyze } from './commands/analyze.ts';
import { registerCheck } from './commands/check.ts';
import { registerDemo } from './commands/demo.ts';
import { registerGenerate } from './commands/generate.ts';
import { registerAdmin } from './commands/admin.ts';
import { registerRun } from './commands/run.ts';
import { registerStf } from './commands/stf.ts';
import { registerTarget } from './commands/target.ts';

export function buildProgram(): Command {
  const program = new Command('p4lb')
    .description('Consistent-hash load balancing for programmable switches (P4, P4Runtime)')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerCheck(program);
  registerAnalyze(program);
  registerGenerate(program);
  registerDemo(program);
  registerStf(program);
  registerTarget(program);
  registerRun(program);
  registerAdmin(program);
  return program;
}

/** Runs the command line and returns the exit code (0 success, 1 failure, 2 usage). */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors with 1 → report as 2.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof P4lbError) {
      console.error(`p4lb: ${err.describe()}`);
      return 1;
    }
    throw err;
  }
}
