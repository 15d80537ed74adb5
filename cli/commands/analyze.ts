/**
 * `p4lb analyze`: how good the slot table is for a backend set — balance, disruption when a
 * backend leaves or joins, agreement between gateways with different health views, build time.
 * Either for synthetic backends (--backends N --slots M) or for every VIP of a spec (--spec F).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { analyzeTable, syntheticBackends, type TableAnalysis } from '../../core/hash/analysis.ts';
import type { SlotTableAlgorithm } from '../../core/hash/index.ts';
import { P4lbError } from '../../core/errors.ts';
import { loadSpecFile } from '../../core/spec/load.ts';
import type { LbSpec } from '../../core/spec/schema.ts';

export type AlgorithmChoice = SlotTableAlgorithm | 'both';

export interface AnalyzeCommandOptions {
  readonly spec?: string;
  readonly backends?: number;
  readonly slots?: number;
  readonly algorithm?: AlgorithmChoice;
  readonly differing?: number;
  readonly json?: boolean;
}

/** Where the command writes; tests pass their own. */
export interface AnalyzeIo {
  write(text: string): void;
  /** Milliseconds clock for build times. */
  now?(): number;
}

export interface AnalyzeRow extends TableAnalysis {
  readonly vip?: string;
}

const DEFAULT_BACKENDS = 4;
const DEFAULT_SLOTS = 65536;

function expand(choice: AlgorithmChoice): SlotTableAlgorithm[] {
  return choice === 'both' ? ['maglev', 'rendezvous'] : [choice];
}

/** Builds every analysis row the options ask for (no printing). */
export async function analyzeRows(options: AnalyzeCommandOptions, io: Pick<AnalyzeIo, 'now'> = {}): Promise<AnalyzeRow[]> {
  const now = io.now === undefined ? undefined : () => io.now!();
  const common = { ...(options.differing === undefined ? {} : { differing: options.differing }), ...(now ? { now } : {}) };
  if (options.spec !== undefined) {
    if (options.backends !== undefined || options.slots !== undefined) {
      throw new P4lbError('CLI_USAGE', '--spec takes backends and slots from the spec', {
        hint: 'use either --spec F or --backends N --slots M',
      });
    }
    return rowsForSpec(await loadSpecFile(options.spec), options.algorithm, common);
  }
  const backends = syntheticBackends(options.backends ?? DEFAULT_BACKENDS);
  const slots = options.slots ?? DEFAULT_SLOTS;
  return expand(options.algorithm ?? 'both').map((algorithm) => analyzeTable({ algorithm, backends, slots, ...common }));
}

/** The parts of a spec the analysis reads (an LbSpec satisfies it). */
export interface SpecForAnalysis {
  readonly vms: readonly Pick<LbSpec['vms'][number], 'name' | 'weight'>[];
  readonly vips: readonly Pick<LbSpec['vips'][number], 'name' | 'backends' | 'slots' | 'algorithm'>[];
}

/** One row per VIP and algorithm: each VIP's backends with their VM weights and its slot count. */
export function rowsForSpec(
  spec: SpecForAnalysis,
  choice: AlgorithmChoice | undefined,
  common: { differing?: number; now?: () => number },
): AnalyzeRow[] {
  const weightOf = new Map(spec.vms.map((vm) => [vm.name, vm.weight]));
  const rows: AnalyzeRow[] = [];
  for (const vip of spec.vips) {
    const backends = vip.backends.map((name) => ({ name, weight: weightOf.get(name) ?? 1 }));
    // Keep A valid for small VIPs: a 1-backend VIP cannot lose one and stay served.
    const differing = common.differing === undefined ? undefined : Math.min(common.differing, backends.length - 1);
    for (const algorithm of expand(choice ?? vip.algorithm)) {
      const analysis = analyzeTable({
        algorithm,
        backends,
        slots: vip.slots,
        ...(differing === undefined ? {} : { differing }),
        ...(common.now ? { now: common.now } : {}),
      });
      rows.push({ vip: vip.name, ...analysis });
    }
  }
  return rows;
}

const fixed = (x: number, digits: number): string => x.toFixed(digits);
const ratioText = (r: number | null): string => (r === null ? '-' : r.toFixed(2));

/** The compact aligned table of the human output. */
export function formatAnalysisTable(rows: readonly AnalyzeRow[]): string {
  const withVip = rows.some((r) => r.vip !== undefined);
  const header = [
    ...(withVip ? ['vip'] : []),
    'algorithm',
    'N',
    'M',
    'max/mean',
    'min/mean',
    'remove one: moved/min (ratio)',
    'add one: moved/min (ratio)',
    'agree (A/B, bound)',
    'build ms',
  ];
  const body = rows.map((r) => [
    ...(withVip ? [r.vip ?? ''] : []),
    r.algorithm,
    String(r.backends),
    String(r.slots),
    fixed(r.balance.maxOverMean, 3),
    fixed(r.balance.minOverMean, 3),
    `${r.disruption.removeOne.moved}/${r.disruption.removeOne.minimal} (${ratioText(r.disruption.removeOne.ratio)})`,
    `${r.disruption.addOne.moved}/${r.disruption.addOne.minimal} (${ratioText(r.disruption.addOne.ratio)})`,
    `${fixed(r.agreement.fraction, 4)} (${r.agreement.differing}/${r.agreement.healthy}, ${fixed(r.agreement.bound, 4)})`,
    fixed(r.buildMs, 1),
  ]);
  const table = [header, ...body];
  const widths = header.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const firstNumeric = withVip ? 2 : 1;
  const numeric = (c: number): boolean => c >= firstNumeric;
  return table
    .map((row) =>
      row
        .map((cell, c) => (numeric(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** JSON form: exactly the documented keys, `vip` first when analysing a spec. */
export function analysisJson(rows: readonly AnalyzeRow[]): unknown[] {
  return rows.map((r) => ({
    ...(r.vip === undefined ? {} : { vip: r.vip }),
    algorithm: r.algorithm,
    backends: r.backends,
    slots: r.slots,
    balance: { maxOverMean: r.balance.maxOverMean, minOverMean: r.balance.minOverMean },
    disruption: {
      removeOne: { ...r.disruption.removeOne },
      addOne: { ...r.disruption.addOne },
    },
    agreement: { ...r.agreement },
    buildMs: r.buildMs,
  }));
}

export async function runAnalyze(options: AnalyzeCommandOptions, io: AnalyzeIo): Promise<void> {
  const rows = await analyzeRows(options, io);
  io.write(options.json ? `${JSON.stringify(analysisJson(rows), null, 2)}\n` : `${formatAnalysisTable(rows)}\n`);
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('expected a positive integer');
  }
  return n;
}

function nonNegativeInt(value: string): number {
  if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(value);
}

const defaultIo: AnalyzeIo = { write: (text) => process.stdout.write(text) };

export function registerAnalyze(program: Command, io: AnalyzeIo = defaultIo): Command {
  return program
    .command('analyze')
    .description('balance, disruption and gateway agreement of the slot-table algorithms')
    .option('--spec <file>', 'analyse every VIP of this spec with its backends, weights and slots')
    .option('--backends <n>', `number of synthetic equal-weight backends (default ${DEFAULT_BACKENDS})`, positiveInt)
    .option('--slots <m>', `slot-table size, a power of two (default ${DEFAULT_SLOTS})`, positiveInt)
    .addOption(
      new Option('--algorithm <name>', 'slot-table algorithm (default: both, or each VIP’s own with --spec)').choices([
        'maglev',
        'rendezvous',
        'both',
      ]),
    )
    .option('--differing <a>', 'backends two gateways disagree about (default 1)', nonNegativeInt)
    .option('--json', 'print a JSON array, one object per algorithm (and VIP)')
    .action(async (opts: AnalyzeCommandOptions) => {
      await runAnalyze(opts, io);
    });
}
