/**
 * `p4lb demo`: the main job. Validates the spec (the example by default), builds its deployment
 * in network namespaces on the default target (BMv2 when p4c and simple_switch_grpc are found,
 * else the embedded one), starts the controller, runs client traffic through a VM failure and a
 * gateway loss, prints a short report and writes an HTML one to p4out/reports/. Needs root.
 */
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { P4lbError } from '../../core/errors.ts';
import { hasEthtool } from '../../bmv2-tests/e2e/run.ts';
import { topologySupport, type TopologySupport } from '../../bmv2-tests/e2e/topology.ts';
import { findBmv2 } from '../../bmv2-tests/dsl/runner.ts';
import { isExecutable } from '../../generator/tools.ts';
import type { Bmv2Tools, SystemTarget } from '../../bmv2-tests/e2e/system.ts';
import { runDemo as runEndToEnd } from '../demo/run-demo.ts';
import { renderTextReport } from '../report/text-report.ts';
import { DEFAULT_REPORTS_DIR, writeReport } from '../report/write-report.ts';
import { runCheck, summaryLine } from './check.ts';

export const EXAMPLE_SPEC = fileURLToPath(new URL('../../examples/example.yaml', import.meta.url));
const VERSION = '0.1.0';

export interface DemoIo {
  write(text: string): void;
}

export interface DemoOptions {
  readonly spec: string;
  readonly target: 'auto' | SystemTarget;
  readonly reportsDir: string;
  readonly connections?: number;
}

/** The target to run on, or why it cannot run. */
export function chooseTarget(requested: DemoOptions['target'], env: NodeJS.ProcessEnv, exists: (path: string) => boolean = isExecutable): { target: SystemTarget; bmv2?: Bmv2Tools } {
  const bmv2 = findBmv2(env, exists);
  if (requested === 'embedded' || (requested === 'auto' && bmv2 === undefined)) return { target: 'embedded' };
  if (bmv2 === undefined) {
    throw new P4lbError('CLI_USAGE', 'target bmv2 needs simple_switch_grpc and p4c', { location: { path: '--target' }, hint: 'set SIMPLE_SWITCH_GRPC and P4C, or put them on PATH' });
  }
  return { target: 'bmv2', bmv2 };
}

export async function runDemo(options: DemoOptions, io: DemoIo, env: NodeJS.ProcessEnv = process.env, support: () => Promise<TopologySupport> = topologySupport): Promise<number> {
  const checked = await runCheck(options.spec);
  if (!checked.ok) {
    io.write(`${options.spec} is not valid:\n${checked.diagnostics.map((d) => `  ${d.text}`).join('\n')}\n`);
    return 1;
  }
  io.write(`${summaryLine(checked)}\n`);
  const supported = await support();
  if (!supported.ok) {
    io.write(
      `The demo builds its deployment in Linux network namespaces and cannot here: ${supported.reason}.\n` +
        'Run it as root (for example `sudo npm run demo`). Without root, `npx p4lb analyze --spec <file>` shows the\n' +
        'slot tables and `npm test` runs every test that needs no namespaces.\n',
    );
    return 1;
  }
  if (!(await hasEthtool())) io.write('warning: ethtool is not installed; TCP through software switches needs it (apt-get install ethtool)\n');
  const { target, bmv2 } = chooseTarget(options.target, env);
  io.write(`Target: ${target === 'bmv2' ? `BMv2 (${bmv2!.simpleSwitchGrpc})` : 'the embedded v1model target (BMv2 not found: set SIMPLE_SWITCH_GRPC and P4C to use it)'}\n\n`);
  const report = await runEndToEnd({
    specFile: options.spec,
    target,
    ...(bmv2 === undefined ? {} : { bmv2 }),
    version: VERSION,
    progress: (line) => io.write(`${line}\n`),
    ...(options.connections === undefined ? {} : { connections: options.connections }),
  });
  io.write(`\n${renderTextReport(report)}\n`);
  const written = await writeReport(report, { dir: options.reportsDir });
  io.write(`HTML report: ${written.htmlPath}\n`);
  return report.checks.every((c) => c.passed) ? 0 : 1;
}

export function registerDemo(program: Command, io: DemoIo = { write: (t) => process.stdout.write(t) }): Command {
  return program
    .command('demo')
    .description('run the example deployment end to end in network namespaces (needs root) and write a report')
    .option('--spec <file>', 'spec to use instead of examples/example.yaml', EXAMPLE_SPEC)
    .option('--target <kind>', 'auto (BMv2 when found, else embedded), embedded or bmv2', 'auto')
    .option('--reports-dir <dir>', 'where the HTML report goes', DEFAULT_REPORTS_DIR)
    .option('--connections <n>', 'new connections per VIP for the distribution', '2000')
    .action(async (raw: { spec: string; target: string; reportsDir: string; connections: string }) => {
      if (!['auto', 'embedded', 'bmv2'].includes(raw.target)) {
        throw new P4lbError('CLI_USAGE', `--target '${raw.target}' is not auto, embedded or bmv2`, { location: { path: '--target' } });
      }
      const connections = Number(raw.connections);
      if (!Number.isInteger(connections) || connections < 100 || connections > 100_000) {
        throw new P4lbError('CLI_USAGE', `--connections '${raw.connections}' must be a whole number in 100..100000`, { location: { path: '--connections' } });
      }
      process.exitCode = await runDemo({ spec: raw.spec, target: raw.target as DemoOptions['target'], reportsDir: raw.reportsDir, connections }, io);
    });
}
