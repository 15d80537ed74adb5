import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureReport } from './report-fixture.ts';
import { renderHtmlReport } from './html-report.ts';
import { ReportError, ReportValidationError, validateReport } from './report-model.ts';
import { reportBaseName, writeReport } from './write-report.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'p4lb-report-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('reportBaseName', () => {
  it('is the deployment and the run date in compact UTC form', () => {
    expect(reportBaseName(fixtureReport())).toBe('example-20261125T235821Z');
    const report = fixtureReport();
    report.run.date = '2026-11-26T01:58:21.5+02:00';
    report.run.deployment = 'a/b c';
    expect(reportBaseName(report)).toBe('a_b_c-20261125T235821Z');
  });
});

describe('writeReport', () => {
  it('creates the folder and writes the HTML and the model beside it, nothing else', async () => {
    const dir = join(root, 'p4out', 'reports');
    const written = await writeReport(fixtureReport(), { dir });
    expect(written).toEqual({ htmlPath: join(dir, 'example-20261125T235821Z.html'), jsonPath: join(dir, 'example-20261125T235821Z.report.json') });
    expect((await readdir(dir)).sort()).toEqual(['example-20261125T235821Z.html', 'example-20261125T235821Z.report.json']);
    expect(await readFile(written.htmlPath, 'utf8')).toBe(renderHtmlReport(fixtureReport()));
    expect(validateReport(JSON.parse(await readFile(written.jsonPath, 'utf8')))).toEqual(fixtureReport());
  });

  it('replaces a report of the same run', async () => {
    const dir = join(root, 'reports');
    const first = await writeReport(fixtureReport(), { dir });
    const report = fixtureReport();
    report.checks[0]!.detail = 'second run';
    await writeReport(report, { dir });
    expect(await readFile(first.htmlPath, 'utf8')).toContain('second run');
    expect(await readdir(dir)).toHaveLength(2);
  });

  it('rejects an invalid model before writing anything', async () => {
    const dir = join(root, 'reports');
    const report = fixtureReport();
    report.timeline.samples[0]!.t = -5;
    await expect(writeReport(report, { dir })).rejects.toThrow(ReportValidationError);
    await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reports a folder it cannot create as a ReportError naming it', async () => {
    const blocker = join(root, 'file');
    await writeFile(blocker, 'not a folder');
    const error = await writeReport(fixtureReport(), { dir: join(blocker, 'reports') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReportError);
    expect(error).toMatchObject({ code: 'REPORT_WRITE_FAILED', location: { file: join(blocker, 'reports') } });
  });

  it('leaves no temporary file behind when a rename fails', async () => {
    const dir = join(root, 'reports');
    // A folder where the HTML should go makes the final rename fail.
    await mkdir(join(dir, 'example-20261125T235821Z.html'), { recursive: true });
    const error = await writeReport(fixtureReport(), { dir }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'REPORT_WRITE_FAILED' });
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
