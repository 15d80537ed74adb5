/**
 * `p4lb check <spec>`: validates a spec file and reports every problem at once, in the
 * `file:line:col: path: message (hint)` form editors can jump to; `--json` for tools.
 * Output goes through the command's output configuration so tests capture it without spawning.
 */
import type { Command } from 'commander';
import { P4lbAggregateError, P4lbError, formatDiagnostic, type Diagnostic } from '../../core/errors.ts';
import { loadSpecFile } from '../../core/spec/load.ts';

export interface CheckCounts {
  readonly locations: number;
  readonly gateways: number;
  readonly hosts: number;
  readonly vms: number;
  readonly vips: number;
}

/** A diagnostic flattened for JSON, with its printed form. */
export interface CheckDiagnostic {
  readonly file?: string | undefined;
  readonly line?: number | undefined;
  readonly column?: number | undefined;
  readonly path?: string | undefined;
  readonly message: string;
  readonly hint?: string | undefined;
  readonly text: string;
}

export type CheckResult =
  | { readonly ok: true; readonly file: string; readonly deployment: string; readonly counts: CheckCounts }
  | { readonly ok: false; readonly file: string; readonly code: string; readonly diagnostics: readonly CheckDiagnostic[] };

function flatten(d: Diagnostic): CheckDiagnostic {
  const l = d.location;
  return {
    file: l?.file,
    line: l?.line,
    column: l?.column,
    path: l?.path,
    message: d.message,
    hint: d.hint,
    text: formatDiagnostic(d),
  };
}

/** Loads and validates; a P4lbError becomes a failed result, anything else is a bug and propagates. */
export async function runCheck(file: string): Promise<CheckResult> {
  try {
    const spec = await loadSpecFile(file);
    return {
      ok: true,
      file,
      deployment: spec.deployment,
      counts: {
        locations: spec.locations?.length ?? 0,
        gateways: spec.gateways.length,
        hosts: spec.hosts.length,
        vms: spec.vms.length,
        vips: spec.vips.length,
      },
    };
  } catch (err) {
    if (err instanceof P4lbAggregateError) {
      return { ok: false, file, code: err.code, diagnostics: err.diagnostics.map(flatten) };
    }
    if (err instanceof P4lbError) {
      return { ok: false, file, code: err.code, diagnostics: [flatten({ message: err.message, location: err.location, hint: err.hint })] };
    }
    throw err;
  }
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The one-line success summary. */
export function summaryLine(result: Extract<CheckResult, { ok: true }>): string {
  const c = result.counts;
  const parts = [plural(c.gateways, 'gateway'), plural(c.hosts, 'host'), plural(c.vms, 'VM'), plural(c.vips, 'VIP')];
  if (c.locations > 0) parts.unshift(plural(c.locations, 'location'));
  return `${result.file}: ok: deployment '${result.deployment}': ${parts.join(', ')}`;
}

export function registerCheck(program: Command): Command {
  return program
    .command('check')
    .description('validate a load-balancer spec file and report every problem in it')
    .argument('<spec>', 'spec file (YAML)')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (specPath: string, options: { json?: boolean }, command: Command) => {
      const output = command.configureOutput();
      const writeOut = output.writeOut ?? ((s: string) => void process.stdout.write(s));
      const writeErr = output.writeErr ?? ((s: string) => void process.stderr.write(s));
      const result = await runCheck(specPath);
      if (options.json === true) {
        writeOut(`${JSON.stringify(result, null, 2)}\n`);
      } else if (result.ok) {
        writeOut(`${summaryLine(result)}\n`);
      } else {
        const lines = result.diagnostics.map((d) => d.text);
        lines.push(`${result.file}: ${plural(result.diagnostics.length, 'problem')}`);
        writeErr(`${lines.join('\n')}\n`);
      }
      // The CLI's main returns this; only cli/ may set it.
      process.exitCode = result.ok ? 0 : 1;
    });
}
