/**
 * A tiny benchmark harness: warm-up, timed iterations, median and p95, ops/s, and ratios between
 * cases of one group measured in the same run (so machine noise hits them alike). Writes
 * build/bench/<suite>.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';

export interface BenchCase {
  readonly name: string;
  /** Cases in one group are compared: ratio = this median / the group's fastest median. */
  readonly group?: string;
  /** Operations one call performs (e.g. lookups in a batch), for ops/s. Default 1. */
  readonly opsPerCall?: number;
  readonly warmup?: number;
  readonly iterations?: number;
  /** The work timed; a returned promise is awaited (packets over a veth pair, for instance). */
  readonly fn: () => unknown;
}

export interface BenchSuite {
  readonly name: string;
  readonly description: string;
  readonly cases: readonly BenchCase[];
  /** Releases what the suite set up (interfaces, servers); run even when a case fails. */
  readonly teardown?: () => Promise<void>;
  /** Cases that could not run here, with the reason (printed and recorded). */
  readonly skipped?: readonly string[];
}

export interface BenchResult {
  readonly name: string;
  readonly group: string | null;
  readonly iterations: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly minMs: number;
  readonly opsPerSec: number;
  /** Median over the fastest median in the same group; null outside groups. */
  readonly ratioToFastest: number | null;
}

export interface SuiteResult {
  readonly suite: string;
  readonly description: string;
  readonly date: string;
  readonly machine: { readonly node: string; readonly cpus: number; readonly cpuModel: string };
  readonly results: readonly BenchResult[];
  readonly skipped: readonly string[];
}

const DEFAULT_WARMUP = 3;
const DEFAULT_ITERATIONS = 15;

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

// Results are kept reachable so the JIT cannot drop the work being timed.
let sink: unknown;
export function lastSink(): unknown {
  return sink;
}

function isPromise(x: unknown): x is Promise<unknown> {
  return typeof (x as { then?: unknown } | null)?.then === 'function';
}

export async function measure(c: BenchCase): Promise<Omit<BenchResult, 'ratioToFastest'>> {
  const warmup = c.warmup ?? DEFAULT_WARMUP;
  const iterations = c.iterations ?? DEFAULT_ITERATIONS;
  for (let i = 0; i < warmup; i++) {
    sink = c.fn();
    if (isPromise(sink)) sink = await sink;
  }
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    sink = c.fn();
    if (isPromise(sink)) sink = await sink;
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const medianMs = percentile(times, 50);
  return {
    name: c.name,
    group: c.group ?? null,
    iterations,
    medianMs,
    p95Ms: percentile(times, 95),
    minMs: times[0]!,
    opsPerSec: ((c.opsPerCall ?? 1) * 1000) / medianMs,
  };
}

export function withRatios(results: readonly Omit<BenchResult, 'ratioToFastest'>[]): BenchResult[] {
  const fastest = new Map<string, number>();
  for (const r of results) {
    if (r.group === null) continue;
    fastest.set(r.group, Math.min(fastest.get(r.group) ?? Infinity, r.medianMs));
  }
  return results.map((r) => ({ ...r, ratioToFastest: r.group === null ? null : r.medianMs / fastest.get(r.group)! }));
}

export async function runSuite(suite: BenchSuite, onResult: (r: Omit<BenchResult, 'ratioToFastest'>) => void = () => {}): Promise<SuiteResult> {
  const raw: Omit<BenchResult, 'ratioToFastest'>[] = [];
  for (const c of suite.cases) {
    const r = await measure(c);
    onResult(r);
    raw.push(r);
  }
  return {
    suite: suite.name,
    description: suite.description,
    date: new Date().toISOString(),
    machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown' },
    results: withRatios(raw),
    skipped: suite.skipped ?? [],
  };
}

export async function writeSuiteResult(result: SuiteResult, outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, `${result.suite}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toFixed(4));
const fmtOps = (x: number): string =>
  x >= 1e6 ? `${(x / 1e6).toFixed(2)} M/s` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k/s` : `${x.toFixed(1)} /s`;

/** An aligned text table of a suite's results (Markdown-compatible). */
export function formatSuiteResult(result: SuiteResult): string {
  const rows = [
    ['case', 'median ms', 'p95 ms', 'ops/s', 'x fastest in group'],
    ...result.results.map((r) => [
      r.name,
      fmt(r.medianMs),
      fmt(r.p95Ms),
      fmtOps(r.opsPerSec),
      r.ratioToFastest === null ? '' : `${r.ratioToFastest.toFixed(2)} (${r.group})`,
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]): string => `| ${row.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  const table = [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)];
  return [...table, ...result.skipped.map((s) => `skipped: ${s}`)].join('\n');
}
