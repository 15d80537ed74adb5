import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { fixtureReport } from './report-fixture.ts';
import { CHART, escapeHtml, niceCeil, renderDistributionChart, renderHtmlReport, renderPerVmChart, renderRequestsChart, timelineStart, timelineX } from './html-report.ts';
import { buildVipDistribution, EVENT_KINDS, validateReport, type DemoReport, type GatewayConvergence, type TimelineSample } from './report-model.ts';

interface Tag {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
}

/** The opening tags named `name` (with the given class), their attributes decoded as strings. */
function tags(html: string, name: string, className?: string): Tag[] {
  const found: Tag[] = [];
  for (const m of html.matchAll(new RegExp(`<${name}\\b([^>]*)>`, 'g'))) {
    const attrs: Record<string, string> = {};
    for (const a of m[1]!.matchAll(/([a-zA-Z0-9-]+)="([^"]*)"/g)) attrs[a[1]!] = a[2]!;
    if (className === undefined || attrs['class'] === className) found.push({ name, attrs });
  }
  return found;
}

const ALLOWED_TAGS = new Set(['html', 'head', 'meta', 'title', 'style', 'body', 'h1', 'h2', 'h3', 'p', 'br', 'section', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'span', 'svg', 'rect', 'text', 'line', 'polyline', 'polygon', 'g']);
const VOID_TAGS = new Set(['meta', 'br']);

/** Problems that would make the page not well-formed: stray '<', unknown tags, unbalanced tags. */
function markupProblems(html: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  const tagPattern = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*?(\/?)>|<!DOCTYPE html>/g;
  let consumed = 0;
  for (const m of html.matchAll(tagPattern)) {
    const between = html.slice(consumed, m.index);
    if (between.includes('<') || between.includes('>')) problems.push(`stray bracket in ${JSON.stringify(between.slice(0, 60))}`);
    consumed = m.index + m[0].length;
    if (m[2] === undefined) continue;
    const [, closing, name, selfClosing] = m as unknown as [string, string, string, string];
    if (!ALLOWED_TAGS.has(name)) problems.push(`unexpected tag <${name}>`);
    if (selfClosing === '/' || VOID_TAGS.has(name)) continue;
    if (closing === '') stack.push(name);
    else if (stack.pop() !== name) problems.push(`</${name}> closes something else`);
  }
  const rest = html.slice(consumed);
  if (rest.includes('<') || rest.includes('>')) problems.push('stray bracket at the end');
  if (stack.length > 0) problems.push(`unclosed ${stack.join(', ')}`);
  return problems;
}

describe('renderHtmlReport on the fixture run', () => {
  const report = fixtureReport();
  const html = renderHtmlReport(report);

  it('is one self-contained, well-formed page without scripts or external assets', () => {
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(markupProblems(html)).toEqual([]);
    expect(html).not.toMatch(/<script|<link|<img|src=|href=|url\(/i);
    expect(html.match(/<svg\b/g)).toHaveLength(5); // two VIP bar charts, requests, per VM, connections
  });

  it('draws one bar per VM with heights proportional to the connections', () => {
    const web = renderDistributionChart(report.distribution[0]!);
    const bars = tags(web, 'rect', 'bar');
    expect(bars.map((b) => b.attrs['data-vm'])).toEqual(['vm-a1', 'vm-a2', 'vm-b1', 'vm-b2']);
    const counts = [1010, 985, 1003, 2002];
    expect(bars.map((b) => Number(b.attrs['data-count']))).toEqual(counts);
    const perConnection = Number(bars[0]!.attrs['height']) / counts[0]!;
    bars.forEach((b, i) => expect(Number(b.attrs['height'])).toBeCloseTo(counts[i]! * perConnection, 0));
    // The bars stand on the axis and the tallest fills most of the plot.
    const bottom = CHART.distributionHeight - CHART.bottom;
    for (const b of bars) expect(Number(b.attrs['y']) + Number(b.attrs['height'])).toBeCloseTo(bottom, 0);
    expect(Number(bars[3]!.attrs['height']) / (bottom - CHART.top)).toBeGreaterThan(0.6);
    // All eight bars of the page are there, four per VIP.
    expect(tags(html, 'rect', 'bar')).toHaveLength(8);
  });

  it('marks the expected share of each VM at share × total on the bar scale', () => {
    const d = report.distribution[0]!;
    const web = renderDistributionChart(d);
    const bars = tags(web, 'rect', 'bar');
    const bottom = CHART.distributionHeight - CHART.bottom;
    const perConnection = Number(bars[0]!.attrs['height']) / d.vms[0]!.connections;
    const marks = tags(web, 'line', 'expected').filter((l) => l.attrs['data-vm'] !== undefined);
    expect(marks).toHaveLength(4);
    marks.forEach((l, i) => {
      const expectedCount = d.vms[i]!.expectedShare * d.totalConnections;
      expect(Number(l.attrs['y1'])).toBeCloseTo(bottom - expectedCount * perConnection, 0);
    });
  });

  it('puts the event markers at their time on the axis', () => {
    const chart = renderRequestsChart(report.timeline);
    const groups = [...chart.matchAll(/<g class="event" data-kind="([^"]+)" data-t="(\d+)">.*?<line class="marker" x1="([\d.]+)"/g)];
    expect(groups.map((g) => [g[1], Number(g[2])])).toEqual([
      ['traffic-start', 0],
      ['vm-down', 20_000],
      ['vm-removed', 21_500],
      ['vm-up', 40_000],
      ['vm-restored', 42_000],
      ['gateway-down', 50_000],
    ]);
    const plotWidth = CHART.width - CHART.left - CHART.right;
    const x = (kind: string): number => Number(groups.find((g) => g[1] === kind)![3]);
    // The axis runs 0..60 s: 20 s is a third of the way, 40 s two thirds, 50 s five sixths.
    expect(x('traffic-start')).toBe(CHART.left);
    expect(x('vm-down')).toBeCloseTo(CHART.left + plotWidth / 3, 1);
    expect(x('vm-up')).toBeCloseTo(CHART.left + (2 * plotWidth) / 3, 1);
    expect(x('gateway-down')).toBeCloseTo(CHART.left + (5 * plotWidth) / 6, 1);
    expect(x('vm-removed')).toBeCloseTo(timelineX(21_500, 60_000), 1);
    expect(chart).toContain('>vm-b1 down</text>');
  });

  it('starts the time axis at the first sample or event when traffic begins late, not at 0', () => {
    // The same run, its traffic 30 s later (a long start-up before it).
    const late = { ...report.timeline, samples: report.timeline.samples.map((s) => ({ ...s, t: s.t + 30_000 })), events: report.timeline.events.map((e) => ({ ...e, t: e.t + 30_000 })) };
    expect(timelineStart(late)).toBe(30_000);
    expect(timelineStart(report.timeline)).toBe(0);
    const chart = renderRequestsChart(late);
    const start = [...chart.matchAll(/<g class="event" data-kind="traffic-start" data-t="\d+">.*?<line class="marker" x1="([\d.]+)"/g)][0]!;
    expect(Number(start[1])).toBe(CHART.left);
    expect(chart).toContain('>30 s</text>');
    expect(chart).not.toContain('>0 s</text>');
  });

  it('draws ok and failed requests as lines', () => {
    const chart = renderRequestsChart(report.timeline);
    const lines = tags(chart, 'polyline', 'series');
    expect(lines.map((p) => p.attrs['data-series'])).toEqual(['ok', 'failed']);
    const failed = lines[1]!.attrs['points']!.split(' ').map((p) => p.split(',').map(Number) as [number, number]);
    expect(failed).toHaveLength(240);
    const bottom = CHART.timelineHeight - CHART.bottom;
    // Failures only while the controller had not yet removed vm-b1, and in the gateway gap.
    const raised = failed.filter(([, y]) => y < bottom).map(([x]) => x);
    for (const x of raised) {
      const inDetection = x > timelineX(20_000, 60_000) - 1 && x < timelineX(21_500, 60_000);
      const inGap = x > timelineX(50_000, 60_000) - 1 && x < timelineX(50_500, 60_000);
      expect(inDetection || inGap).toBe(true);
    }
    expect(raised.length).toBe(8);
  });

  it('stacks the per-VM bands, the failed VM with no thickness while it is down', () => {
    const chart = renderPerVmChart(report.timeline);
    const bands = tags(chart, 'polygon', 'band');
    expect(bands.map((b) => b.attrs['data-series'])).toEqual(['vm-a1', 'vm-a2', 'vm-b1', 'vm-b2']);
    const outline = (i: number): Array<[number, number]> => bands[i]!.attrs['points']!.split(' ').map((p) => p.split(',').map(Number) as [number, number]);
    const b1 = outline(2);
    expect(b1).toHaveLength(480);
    const top = b1.slice(0, 240);
    const lower = b1.slice(240).reverse();
    top.forEach(([x, y], i) => {
      // x is rounded to 0.1: the sample at 20 s (already down) sits just left of the exact x.
      const down = x > timelineX(20_000, 60_000) - 0.1 && x < timelineX(40_000, 60_000) - 0.1;
      if (down) expect(y).toBe(lower[i]![1]);
      else expect(y).toBeLessThan(lower[i]![1]);
    });
    // The top band's upper edge is the total served.
    const totals = report.timeline.samples.map((x) => Object.values(x.perVm).reduce((a, b) => a + b, 0));
    const yMax = niceCeil(Math.max(...totals));
    const bottom = CHART.timelineHeight - CHART.bottom;
    outline(3)
      .slice(0, 240)
      .forEach(([, y], i) => expect(y).toBeCloseTo(bottom - (totals[i]! / yMax) * (bottom - CHART.top), 0));
  });

  it('shows the results, checks and phases with units', () => {
    expect(html).toContain('<td class="num">94 of 100 (94.0 %)</td>');
    expect(html).toContain('<tr><td>gw-west</td><td class="num">1950 ms</td><td class="num">—</td><td class="num">2010 ms</td></tr>');
    expect(html).toContain('<tr><td><span class="fail">✗</span></td><td>all connections survived the gateway loss</td><td>6 of 100 broken</td></tr>');
    expect(html).toContain('2 of 3 check(s) passed');
    expect(html).toContain('@media print');
  });

  it('is deterministic: the same model, also after a JSON round trip, gives the same bytes', () => {
    expect(renderHtmlReport(fixtureReport())).toBe(html);
    expect(renderHtmlReport(validateReport(JSON.parse(JSON.stringify(report))))).toBe(html);
  });
});

describe('escaping', () => {
  const evil = '<script>alert("x&y")</script>';

  it('escapes the five HTML specials', () => {
    expect(escapeHtml(`a<b>c&d"e'f`)).toBe('a&lt;b&gt;c&amp;d&quot;e&#39;f');
  });

  it('escapes a VM name, a VIP, an event label and a check wherever they appear', () => {
    const report = fixtureReport();
    const d = report.distribution[0]!;
    report.distribution[0] = { ...d, vip: evil, vms: d.vms.map((v, i) => (i === 2 ? { ...v, vm: evil } : v)) };
    report.timeline.vms[2] = evil;
    for (const s of report.timeline.samples) {
      s.perVm[evil] = s.perVm['vm-b1']!;
      delete s.perVm['vm-b1'];
    }
    report.timeline.events[1]!.label = evil;
    report.checks[0]!.detail = evil;
    report.run.deployment = evil;
    const html = renderHtmlReport(validateReport(report));
    expect(html).not.toContain('<script');
    expect(html).toContain('data-vm="&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;"');
    expect(html.split('&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;').length - 1).toBeGreaterThanOrEqual(8);
    expect(markupProblems(html)).toEqual([]);
  });
});

describe('niceCeil', () => {
  it('rounds up to a round axis maximum', () => {
    expect([0, 0.7, 1, 7, 95, 101, 2002, 55_000].map(niceCeil)).toEqual([1, 0.8, 1, 8, 100, 120, 2400, 60_000]);
  });
});

/** Text with every character that needs escaping, and a few that do not. */
const text = fc.string({ unit: fc.constantFrom('a', 'b', 's', 'x', ' ', '<', '>', '&', '"', "'", '/', '✓', 'é'), maxLength: 14 });
const label = text.filter((s) => s.length > 0);
const ms = fc.integer({ min: 0, max: 600_000 });
const rate = fc.double({ min: 0, max: 1e6, noNaN: true });

function convergence(gateway: string): fc.Arbitrary<GatewayConvergence> {
  const measured = fc.option(fc.double({ min: 0, max: 1e5, noNaN: true }), { nil: null });
  return fc.record({ gateway: fc.constant(gateway), detectionMs: measured, controllerConvergenceMs: measured, dataPlaneConvergenceMs: measured });
}

const arbitraryReport: fc.Arbitrary<DemoReport> = fc
  .record({ vms: fc.uniqueArray(label, { minLength: 1, maxLength: 5 }), gateways: fc.uniqueArray(label, { minLength: 1, maxLength: 3 }) })
  .chain(({ vms, gateways }) => {
    const change = fc.option(
      fc.record({ vm: fc.constantFrom(...vms), atMs: ms, failedRequests: fc.nat(1e6), gateways: fc.tuple(...gateways.map(convergence)) }),
      { nil: null },
    );
    const sample = fc.record({
      dt: fc.integer({ min: 0, max: 5_000 }),
      okPerSecond: rate,
      failedPerSecond: rate,
      perVm: fc.tuple(...vms.map(() => fc.option(rate, { nil: undefined }))),
      openConnections: fc.nat(1e6),
      brokenConnections: fc.nat(1e6),
    });
    return fc.record({
      date: fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
      deployment: label,
      target: fc.constantFrom('embedded' as const, 'bmv2' as const),
      phases: fc.array(fc.record({ name: label, startMs: ms, length: ms, ok: fc.boolean(), notes: fc.option(text, { nil: undefined }) }), { maxLength: 6 }),
      vips: fc.array(
        fc.record({ vip: label, counts: fc.tuple(...vms.map(() => fc.nat(1e7))), weights: fc.tuple(...vms.map(() => fc.nat(100))), from: fc.constantFrom('weights' as const, 'slots' as const) }),
        { maxLength: 3 },
      ),
      samples: fc.array(sample, { maxLength: 60 }),
      events: fc.array(fc.record({ t: ms, kind: fc.constantFrom(...EVENT_KINDS), label: text, detail: fc.option(text, { nil: undefined }) }), { maxLength: 8 }),
      gatewayLoss: fc.option(
        fc.record({ gateway: fc.constantFrom(...gateways), survived: fc.nat(1e5), broken: fc.nat(1e5), spare: fc.nat(1e5) }).map((g) => ({
          gateway: g.gateway,
          connectionsBefore: g.survived + g.broken + g.spare,
          survived: g.survived,
          broken: g.broken,
        })),
        { nil: null },
      ),
      vmFailure: change,
      vmRecovery: change,
      checks: fc.array(fc.record({ name: label, passed: fc.boolean(), detail: text }), { maxLength: 5 }),
    }).map((r): DemoReport => {
      let t = 0;
      const samples = r.samples.map(({ dt, perVm, ...s }): TimelineSample => {
        t += dt;
        const rates: Record<string, number> = {};
        perVm.forEach((v, i) => {
          if (v !== undefined) rates[vms[i]!] = v;
        });
        return { ...s, t, perVm: rates };
      });
      return {
        schemaVersion: 1,
        run: { date: r.date.toISOString(), deployment: r.deployment, target: r.target, version: '0.1.0', machine: { os: 'Linux', cpus: 2, memoryMiB: 1024, node: 'v20' } },
        phases: r.phases.map(({ length, ...p }) => ({ ...p, endMs: p.startMs + length })),
        distribution: r.vips.map((v) =>
          buildVipDistribution({
            vip: v.vip,
            expectedFrom: v.from,
            connections: vms.map((vm, i) => ({ vm, count: v.counts[i]! })),
            expected: Object.fromEntries(vms.map((vm, i) => [vm, v.weights[i]!])),
          }),
        ),
        timeline: { intervalMs: 250, vms, samples, events: r.events },
        results: { gatewayLoss: r.gatewayLoss, vmFailure: r.vmFailure, vmRecovery: r.vmRecovery },
        checks: r.checks,
      };
    });
  });

describe('renderHtmlReport on any valid model', () => {
  it('renders well-formed markup with every data string escaped', () => {
    fc.assert(
      fc.property(arbitraryReport, (report) => {
        const html = renderHtmlReport(validateReport(report));
        expect(markupProblems(html)).toEqual([]);
        expect(html.match(/<svg\b/g)?.length ?? 0).toBe(html.match(/<\/svg>/g)?.length ?? 0);
        expect(html).not.toMatch(/NaN|Infinity|undefined/);
        expect(renderHtmlReport(report)).toBe(html);
      }),
      { numRuns: 150 },
    );
  });
});
