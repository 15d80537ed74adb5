/**
 * Writes a demo run's HTML report and its model (JSON) into p4out/reports/, each through a
 * temporary file renamed into place, so a reader never sees half a report.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { renderHtmlReport } from './html-report.ts';
import { ReportError, validateReport, type DemoReport } from './report-model.ts';

/** Relative to the repository (or the working directory the CLI passes). */
export const DEFAULT_REPORTS_DIR = 'p4out/reports';

export interface WriteReportOptions {
  /** Folder for the reports; created when missing. Default p4out/reports. */
  readonly dir?: string;
}

export interface WrittenReport {
  readonly htmlPath: string;
  readonly jsonPath: string;
}

/**
 * `<deployment>-<timestamp>`: the timestamp is the run's own date (not the clock now), in the
 * compact form 20261125T235821Z so names sort by time and hold no ':' (invalid on some systems).
 */
export function reportBaseName(report: DemoReport): string {
  const date = new Date(report.run.date);
  const stamp = date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
  const deployment = report.run.deployment.replace(/[^A-Za-z0-9._-]/g, '_');
  return `${deployment}-${stamp}`;
}

async function writeAtomically(path: string, content: string): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(temp, content);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw new ReportError('REPORT_WRITE_FAILED', `cannot write ${path}: ${(err as Error).message}`, { location: { file: path }, cause: err });
  }
}

/**
 * Validates the model, then writes `<dir>/<deployment>-<timestamp>.html` and, beside it,
 * `<deployment>-<timestamp>.report.json` (the model, for later comparison or re-rendering).
 * The JSON goes first: an HTML file present always has its model.
 */
export async function writeReport(report: DemoReport, options: WriteReportOptions = {}): Promise<WrittenReport> {
  const valid = validateReport(report);
  const dir = resolve(options.dir ?? DEFAULT_REPORTS_DIR);
  await mkdir(dir, { recursive: true }).catch((err: unknown) => {
    throw new ReportError('REPORT_WRITE_FAILED', `cannot create ${dir}: ${(err as Error).message}`, { location: { file: dir }, cause: err });
  });
  const base = reportBaseName(valid);
  const htmlPath = join(dir, `${base}.html`);
  const jsonPath = join(dir, `${base}.report.json`);
  await writeAtomically(jsonPath, `${JSON.stringify(valid, null, 2)}\n`);
  await writeAtomically(htmlPath, renderHtmlReport(valid));
  return { htmlPath, jsonPath };
}
