import { describe, it, expect } from 'vitest';
import { fixtureReport } from './report-fixture.ts';
import {
  buildVipDistribution,
  checkReport,
  formatFieldPath,
  ReportValidationError,
  TimelineBuilder,
  validateReport,
} from './report-model.ts';

function errorOf(value: unknown): ReportValidationError {
  try {
    validateReport(value);
  } catch (err) {
    if (err instanceof ReportValidationError) return err;
    throw err;
  }
  throw new Error('expected a validation error');
}

describe('validateReport', () => {
  it('accepts the fixture run and survives a JSON round trip', () => {
    const report = fixtureReport();
    expect(validateReport(report)).toEqual(report);
    expect(validateReport(JSON.parse(JSON.stringify(report)))).toEqual(report);
    expect(report.timeline.samples).toHaveLength(240);
  });

  it('names a missing nested field', () => {
    const report = fixtureReport() as unknown as { run: { machine: Record<string, unknown> } };
    delete report.run.machine['cpus'];
    const err = errorOf(report);
    expect(err.code).toBe('REPORT_INVALID');
    expect(err.message).toMatch(/^invalid demo report: run\.machine\.cpus: /);
    expect(err.diagnostics.map((d) => d.location?.path)).toEqual(['run.machine.cpus']);
  });

  it('names an array element with its index and reports every problem', () => {
    const report = fixtureReport();
    const samples = report.timeline.samples as unknown as Array<Record<string, unknown>>;
    samples[3]!['okPerSecond'] = 'many';
    (report.checks[1] as unknown as Record<string, unknown>)['passed'] = 'yes';
    const err = errorOf(report);
    expect(err.diagnostics.map((d) => d.location?.path)).toEqual(['timeline.samples[3].okPerSecond', 'checks[1].passed']);
    expect(err.message).toContain('(and 1 more)');
    expect(err.describe()).toContain('timeline.samples[3].okPerSecond');
  });

  it('rejects unknown fields, an unknown event kind and a bad date', () => {
    const report = fixtureReport() as unknown as Record<string, unknown> & { run: Record<string, unknown>; timeline: { events: Array<Record<string, unknown>> } };
    report['extra'] = 1;
    report.run['date'] = 'yesterday';
    report.timeline.events[1]!['kind'] = 'vm-exploded';
    const paths = errorOf(report).diagnostics.map((d) => d.location?.path);
    expect(paths).toEqual(expect.arrayContaining(['(report)', 'run.date', 'timeline.events[1].kind']));
  });

  it('applies the cross-field rules', () => {
    const report = fixtureReport();
    const s = report.timeline.samples;
    [s[10], s[11]] = [s[11]!, s[10]!];
    s[20]!.perVm['vm-zz'] = 1;
    report.distribution[0]!.totalConnections += 1;
    report.phases[1]!.endMs = 1_000;
    report.results.gatewayLoss!.broken = 7;
    const result = checkReport(report);
    expect(result.ok).toBe(false);
    const found = result.ok ? [] : result.diagnostics.map((d) => `${d.location?.path}: ${d.message}`);
    expect(found).toEqual(
      expect.arrayContaining([
        'timeline.samples[11].t: t 2750 is before the previous sample\'s 3000',
        "timeline.samples[20].perVm.vm-zz: VM 'vm-zz' is not in timeline.vms",
        "distribution[0].totalConnections: is 5001 but the VMs' connections add up to 5000",
        'results.gatewayLoss.broken: survived + broken exceeds connectionsBefore',
        'phases[1].endMs: endMs must not be before startMs',
      ]),
    );
  });

  it('rejects an old schema version', () => {
    const report = { ...fixtureReport(), schemaVersion: 0 };
    expect(errorOf(report).diagnostics[0]?.location?.path).toBe('schemaVersion');
  });
});

describe('formatFieldPath', () => {
  it('writes indexes in brackets', () => {
    expect(formatFieldPath(['a', 0, 'b', 'c-d'])).toBe('a[0].b.c-d');
    expect(formatFieldPath([])).toBe('(report)');
  });
});

describe('buildVipDistribution', () => {
  it('computes shares and deviations from counts and weights', () => {
    const d = buildVipDistribution({
      vip: 'web',
      expectedFrom: 'weights',
      connections: [
        { vm: 'a', count: 30 },
        { vm: 'b', count: 70 },
        { vm: 'c', count: 0 },
      ],
      expected: { a: 1, b: 3 },
    });
    expect(d.totalConnections).toBe(100);
    expect(d.vms.map((v) => [v.vm, v.expectedShare, v.measuredShare])).toEqual([
      ['a', 0.25, 0.3],
      ['b', 0.75, 0.7],
      ['c', 0, 0],
    ]);
    expect(d.vms[0]!.deviationPercent).toBeCloseTo(20);
    expect(d.vms[1]!.deviationPercent).toBeCloseTo(-6.667, 2);
    expect(d.vms[2]!.deviationPercent).toBeNull();
  });

  it('gives zero shares when nothing was measured', () => {
    const d = buildVipDistribution({ vip: 'v', expectedFrom: 'slots', connections: [{ vm: 'a', count: 0 }], expected: {} });
    expect(d.vms[0]).toMatchObject({ expectedShare: 0, measuredShare: 0, deviationPercent: null });
  });
});

describe('TimelineBuilder', () => {
  it('turns cumulative counters into per-second rates and sorts events', () => {
    const b = new TimelineBuilder(['a', 'b'], 250);
    b.record({ t: 0, okTotal: 0, failedTotal: 0, perVmTotal: {}, openConnections: 0, brokenConnections: 0 });
    b.record({ t: 250, okTotal: 100, failedTotal: 5, perVmTotal: { a: 60, b: 40 }, openConnections: 10, brokenConnections: 0 });
    b.record({ t: 500, okTotal: 150, failedTotal: 5, perVmTotal: { a: 110, b: 40 }, openConnections: 9, brokenConnections: 1 });
    b.event({ t: 400, kind: 'vm-down', label: 'b down' });
    b.event({ t: 100, kind: 'traffic-start', label: 'start' });
    const tl = b.build();
    expect(tl.samples).toEqual([
      { t: 250, okPerSecond: 400, failedPerSecond: 20, perVm: { a: 240, b: 160 }, openConnections: 10, brokenConnections: 0 },
      { t: 500, okPerSecond: 200, failedPerSecond: 0, perVm: { a: 200, b: 0 }, openConnections: 9, brokenConnections: 1 },
    ]);
    expect(tl.events.map((e) => e.t)).toEqual([100, 400]);
    expect(() => validateReport({ ...fixtureReport(), timeline: tl })).not.toThrow();
  });
});
