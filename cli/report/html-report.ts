/**
 * One self-contained HTML page for a demo run: inline CSS, inline SVG charts drawn here (no
 * scripts, no external assets), readable at 1200 px and on paper. Every string from the model goes
 * through escapeHtml. Pure and deterministic: the same model gives the same bytes.
 */
import type { DemoReport, Timeline, TimelineEvent, VipDistribution, VmChangeResult } from './report-model.ts';
import { formatCount, formatDeviation, formatMs, formatPartOf, formatSeconds, formatShare } from './format.ts';

/** Escapes text for element content and double- or single-quoted attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Chart geometry in SVG user units; the SVG scales to the page width through its viewBox. */
export const CHART = {
  width: 1100,
  left: 64,
  right: 24,
  top: 28,
  bottom: 44,
  distributionHeight: 300,
  timelineHeight: 320,
  connectionsHeight: 200,
} as const;

const PLOT_WIDTH = CHART.width - CHART.left - CHART.right;

/** Distinct on screen; the dash patterns keep the VM lines apart on a black-and-white printout. */
const VM_COLORS = ['#1f77b4', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];
const VM_DASHES = ['', '6 3', '2 3', '8 3 2 3'];
const OK_COLOR = '#2ca02c';
const FAILED_COLOR = '#d62728';
const EVENT_COLORS: Record<TimelineEvent['kind'], string> = {
  'traffic-start': '#555555',
  'traffic-stop': '#555555',
  'vm-down': '#d62728',
  'vm-removed': '#ff7f0e',
  'vm-up': '#2ca02c',
  'vm-restored': '#1f77b4',
  'gateway-down': '#8b0000',
  'gateway-up': '#006400',
  drain: '#9467bd',
  note: '#555555',
};

/** SVG coordinates with one decimal: enough for the eye, stable across platforms. */
function n(value: number): string {
  const s = value.toFixed(1);
  return s.endsWith('.0') ? s.slice(0, -2) : s;
}

/** Axis maxima are one of these × 10^k: fine enough that the data fills most of the plot, and
 *  a quarter of each still reads as a round tick label. */
const NICE_MANTISSAS = [1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10];

/** The smallest nice number (NICE_MANTISSAS × 10^k) not below `value`; 1 for 0. */
export function niceCeil(value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const m of NICE_MANTISSAS) if (m * magnitude >= value) return m * magnitude;
  return 10 * magnitude;
}

/** About ten round time ticks (1, 2 or 5 × 10^k ms) across the axis. */
function niceTimeStep(tMax: number): number {
  const raw = tMax / 10;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5]) if (m * magnitude >= raw) return m * magnitude;
  return 10 * magnitude;
}

/** The x of time `t` (ms) on a timeline chart whose axis runs from `tMin` (default 0) to `tMax`. */
export function timelineX(t: number, tMax: number, tMin = 0): number {
  return CHART.left + ((t - tMin) / (tMax - tMin)) * PLOT_WIDTH;
}

/**
 * Where the time axis starts: the first sample or event, rounded down to a tick, so a run whose
 * traffic begins after a long start-up does not spend most of the chart on an empty stretch.
 */
export function timelineStart(timeline: Timeline): number {
  const times = [...timeline.samples.map((s) => s.t), ...timeline.events.map((e) => e.t)];
  if (times.length === 0) return 0;
  const first = Math.min(...times);
  const end = timelineEnd(timeline);
  if (first <= 0 || first >= end) return 0;
  const step = niceTimeStep(end - first);
  return Math.floor(first / step) * step;
}

/** Where the timeline's time axis ends: the last sample or event, whichever is later. */
export function timelineEnd(timeline: Timeline): number {
  const last = Math.max(0, ...timeline.samples.map((s) => s.t), ...timeline.events.map((e) => e.t));
  return last > 0 ? last : 1;
}

function vmStyle(index: number): { color: string; dash: string } {
  return { color: VM_COLORS[index % VM_COLORS.length]!, dash: VM_DASHES[Math.floor(index / VM_COLORS.length) % VM_DASHES.length] ?? '' };
}

function svgOpen(height: number, title: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${CHART.width} ${height}" role="img" aria-label="${escapeHtml(title)}"><title>${escapeHtml(title)}</title>`;
}

function yAxis(height: number, yMax: number, unit: string): string {
  const bottom = height - CHART.bottom;
  const plotHeight = bottom - CHART.top;
  const parts: string[] = [];
  const ticks = 4;
  for (let i = 0; i <= ticks; i++) {
    const value = (yMax * i) / ticks;
    const y = bottom - (plotHeight * i) / ticks;
    parts.push(`<line class="grid" x1="${CHART.left}" y1="${n(y)}" x2="${CHART.width - CHART.right}" y2="${n(y)}"/>`);
    parts.push(`<text class="tick" x="${CHART.left - 6}" y="${n(y + 4)}" text-anchor="end">${escapeHtml(n(value))}</text>`);
  }
  parts.push(`<text class="axis-label" x="14" y="${n(CHART.top + plotHeight / 2)}" text-anchor="middle" transform="rotate(-90 14 ${n(CHART.top + plotHeight / 2)})">${escapeHtml(unit)}</text>`);
  return parts.join('');
}

/** Bars of connections per VM, with the expected count (share × total) marked on each. */
export function renderDistributionChart(d: VipDistribution): string {
  const height = CHART.distributionHeight;
  const bottom = height - CHART.bottom;
  const plotHeight = bottom - CHART.top;
  const expectedCounts = d.vms.map((v) => v.expectedShare * d.totalConnections);
  const yMax = niceCeil(Math.max(...d.vms.map((v) => v.connections), ...expectedCounts));
  const band = PLOT_WIDTH / d.vms.length;
  const barWidth = Math.min(band * 0.6, 160);
  const parts = [svgOpen(height, `Connections per VM for ${d.vip}`), yAxis(height, yMax, 'connections')];
  d.vms.forEach((v, i) => {
    const { color } = vmStyle(i);
    const center = CHART.left + band * (i + 0.5);
    const x = center - barWidth / 2;
    const h = (v.connections / yMax) * plotHeight;
    const expectedY = bottom - (expectedCounts[i]! / yMax) * plotHeight;
    const vm = escapeHtml(v.vm);
    parts.push(
      `<rect class="bar" data-vm="${vm}" data-count="${v.connections}" x="${n(x)}" y="${n(bottom - h)}" width="${n(barWidth)}" height="${n(h)}" fill="${color}"><title>${vm}: ${v.connections} connections (${escapeHtml(formatShare(v.measuredShare))})</title></rect>`,
      `<text class="value" x="${n(center)}" y="${n(bottom - h - 5)}" text-anchor="middle">${v.connections}</text>`,
      `<line class="expected" data-vm="${vm}" x1="${n(x - 8)}" y1="${n(expectedY)}" x2="${n(x + barWidth + 8)}" y2="${n(expectedY)}"><title>expected ${escapeHtml(formatShare(v.expectedShare))}</title></line>`,
      `<text class="tick" x="${n(center)}" y="${n(bottom + 18)}" text-anchor="middle">${vm}</text>`,
    );
  });
  parts.push(`<line class="axis" x1="${CHART.left}" y1="${bottom}" x2="${CHART.width - CHART.right}" y2="${bottom}"/>`);
  parts.push(`<line class="expected" x1="${CHART.width - 250}" y1="12" x2="${CHART.width - 226}" y2="12"/><text class="tick" x="${CHART.width - 220}" y="16">expected (share × total)</text>`);
  parts.push('</svg>');
  return parts.join('');
}

interface Series {
  readonly name: string;
  readonly color: string;
  readonly dash: string;
  readonly width: number;
  readonly points: ReadonlyArray<readonly [t: number, value: number]>;
}

interface TimeChart {
  readonly title: string;
  readonly unit: string;
  readonly height: number;
  readonly tMin: number;
  readonly tMax: number;
  readonly series: readonly Series[];
  readonly events: readonly TimelineEvent[];
  /** Areas stacked in order (all series must share the same times) instead of lines. */
  readonly stacked: boolean;
}

/** Each series' value added to those below it: the top edge of its band. */
function stackSeries(series: readonly Series[]): Series[] {
  let below: number[] = [];
  return series.map((s) => {
    const top = s.points.map(([, v], i) => v + (below[i] ?? 0));
    below = top;
    return { ...s, points: s.points.map(([t], i): [number, number] => [t, top[i]!]) };
  });
}

function renderTimeChart(chart: TimeChart): string {
  const { height, tMin, tMax } = chart;
  const bottom = height - CHART.bottom;
  const plotHeight = bottom - CHART.top;
  const drawn = chart.stacked ? stackSeries(chart.series) : chart.series;
  const yMax = niceCeil(Math.max(0, ...drawn.flatMap((s) => s.points.map((p) => p[1]))));
  const parts = [svgOpen(height, chart.title), yAxis(height, yMax, chart.unit)];

  const step = niceTimeStep(tMax - tMin);
  for (let t = Math.ceil(tMin / step) * step; t <= tMax; t += step) {
    const x = timelineX(t, tMax, tMin);
    parts.push(`<line class="axis" x1="${n(x)}" y1="${bottom}" x2="${n(x)}" y2="${bottom + 4}"/><text class="tick" x="${n(x)}" y="${bottom + 18}" text-anchor="middle">${escapeHtml(formatSeconds(t))}</text>`);
  }
  parts.push(`<line class="axis" x1="${CHART.left}" y1="${bottom}" x2="${CHART.width - CHART.right}" y2="${bottom}"/>`);
  parts.push(`<text class="axis-label" x="${CHART.width - CHART.right}" y="${height - 6}" text-anchor="end">time since start</text>`);

  const xy = ([t, v]: readonly [number, number]): string => `${n(timelineX(t, tMax, tMin))},${n(bottom - (v / yMax) * plotHeight)}`;
  drawn.forEach((s, i) => {
    if (s.points.length === 0) return;
    const name = escapeHtml(s.name);
    if (chart.stacked) {
      // The band between this series' top edge and the one below (the axis for the first).
      const lower = i === 0 ? s.points.map(([t]): [number, number] => [t, 0]) : drawn[i - 1]!.points;
      const points = [...s.points, ...[...lower].reverse()].map(xy).join(' ');
      parts.push(`<polygon class="band" data-series="${name}" points="${points}" fill="${s.color}" stroke="${s.color}"><title>${name}</title></polygon>`);
      return;
    }
    const dash = s.dash === '' ? '' : ` stroke-dasharray="${s.dash}"`;
    parts.push(`<polyline class="series" data-series="${name}" points="${s.points.map(xy).join(' ')}" stroke="${s.color}" stroke-width="${s.width}"${dash}/>`);
  });

  for (const e of chart.events) {
    const x = n(timelineX(e.t, tMax, tMin));
    const color = EVENT_COLORS[e.kind];
    const title = `${e.label} at ${formatSeconds(e.t)}${e.detail === undefined ? '' : `: ${e.detail}`}`;
    // Labels run down along their marker so events a second apart do not overprint each other.
    parts.push(
      `<g class="event" data-kind="${e.kind}" data-t="${e.t}"><title>${escapeHtml(title)}</title>` +
        `<line class="marker" x1="${x}" y1="${CHART.top}" x2="${x}" y2="${bottom}" stroke="${color}"/>` +
        `<text class="event-label" x="${x}" y="${CHART.top}" transform="rotate(90 ${x} ${CHART.top}) translate(4 -4)" fill="${color}">${escapeHtml(e.label)}</text></g>`,
    );
  }

  // Legend in one row above the plot.
  let lx = CHART.left;
  for (const s of chart.series) {
    const dash = s.dash === '' ? '' : ` stroke-dasharray="${s.dash}"`;
    if (chart.stacked) parts.push(`<rect x="${n(lx)}" y="6" width="22" height="12" fill="${s.color}"/><text class="tick" x="${n(lx + 26)}" y="16">${escapeHtml(s.name)}</text>`);
    else parts.push(`<line x1="${n(lx)}" y1="12" x2="${n(lx + 22)}" y2="12" stroke="${s.color}" stroke-width="${s.width}"${dash}/><text class="tick" x="${n(lx + 26)}" y="16">${escapeHtml(s.name)}</text>`);
    lx += 40 + [...s.name].length * 7;
  }
  parts.push('</svg>');
  return parts.join('');
}

export function renderRequestsChart(timeline: Timeline): string {
  const tMax = timelineEnd(timeline);
  const tMin = timelineStart(timeline);
  const series: Series[] = [
    { name: 'ok', color: OK_COLOR, dash: '', width: 2.5, points: timeline.samples.map((s) => [s.t, s.okPerSecond]) },
    { name: 'failed', color: FAILED_COLOR, dash: '', width: 2.5, points: timeline.samples.map((s) => [s.t, s.failedPerSecond]) },
  ];
  return renderTimeChart({ title: 'Requests per second: succeeded and failed', unit: 'requests/s', height: CHART.timelineHeight, tMin, tMax, series, events: timeline.events, stacked: false });
}

/** Stacked bands, so VMs with equal load stay visible and the top edge is the served total. */
export function renderPerVmChart(timeline: Timeline): string {
  const tMax = timelineEnd(timeline);
  const tMin = timelineStart(timeline);
  const series = timeline.vms.map((vm, i): Series => ({ name: vm, ...vmStyle(i), width: 1, points: timeline.samples.map((s) => [s.t, s.perVm[vm] ?? 0]) }));
  return renderTimeChart({ title: 'Requests per second per VM (stacked)', unit: 'requests/s', height: CHART.timelineHeight, tMin, tMax, series, events: timeline.events, stacked: true });
}

export function renderConnectionsChart(timeline: Timeline): string {
  const tMax = timelineEnd(timeline);
  const tMin = timelineStart(timeline);
  const series: Series[] = [
    { name: 'open', color: '#1f77b4', dash: '', width: 2, points: timeline.samples.map((s) => [s.t, s.openConnections]) },
    { name: 'broken', color: FAILED_COLOR, dash: '6 3', width: 2, points: timeline.samples.map((s) => [s.t, s.brokenConnections]) },
  ];
  return renderTimeChart({ title: 'Long-lived connections', unit: 'connections', height: CHART.connectionsHeight, tMin, tMax, series, events: timeline.events, stacked: false });
}

function table(header: readonly string[], rows: readonly (readonly string[])[], numeric: readonly boolean[] = []): string {
  const th = header.map((h, i) => `<th${numeric[i] === true ? ' class="num"' : ''}>${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${r.map((c, i) => `<td${numeric[i] === true ? ' class="num"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function mark(ok: boolean): string {
  return ok ? '<span class="pass">✓</span>' : '<span class="fail">✗</span>';
}

function changeSection(title: string, change: VmChangeResult): string {
  const rows = change.gateways.map((g) => [g.gateway, formatMs(g.detectionMs), formatMs(g.controllerConvergenceMs), formatMs(g.dataPlaneConvergenceMs)]);
  return (
    `<h3>${escapeHtml(title)}: ${escapeHtml(change.vm)} at ${escapeHtml(formatSeconds(change.atMs))}</h3>` +
    `<p>${change.failedRequests} failed request(s) during the change.</p>` +
    table(['gateway', 'detection', 'convergence (controller, p4lb_convergence_seconds)', 'convergence (data plane)'], rows, [false, true, true, true])
  );
}

const STYLE = `
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a; max-width: 1200px; margin: 0 auto; padding: 16px 24px; }
h1 { font-size: 1.6em; margin: 0.2em 0; } h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ccc; } h3 { font-size: 1.05em; }
.meta { color: #555; margin: 0; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ccc; padding: 3px 10px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: #1b7f1b; font-weight: bold; } .fail { color: #c01515; font-weight: bold; }
svg { width: 100%; height: auto; display: block; margin: 0.5em 0; }
svg text { font: 12px system-ui, sans-serif; fill: #333; }
svg .grid { stroke: #e4e4e4; } svg .axis { stroke: #333; } svg .axis-label { fill: #555; }
svg .series { fill: none; stroke-linejoin: round; } svg .band { fill-opacity: 0.75; stroke-width: 0.5; }
svg .expected { stroke: #000; stroke-width: 2.5; stroke-dasharray: 5 3; }
svg .marker { stroke-width: 1.5; stroke-dasharray: 4 3; } svg .event-label { font-size: 11px; }
.summary { font-size: 1.1em; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  section, svg, table { break-inside: avoid; }
  th { background: none; }
}
`;

/** The whole page. */
export function renderHtmlReport(report: DemoReport): string {
  const { run } = report;
  const m = run.machine;
  const passed = report.checks.filter((c) => c.passed).length;
  const title = `p4lb demo: ${run.deployment}, ${run.date}`;
  const body: string[] = [];

  body.push(`<h1>${escapeHtml(title)}</h1>`);
  body.push(
    `<p class="meta">${escapeHtml(`${run.target} target · p4lb ${run.version}${run.specFile === undefined ? '' : ` · ${run.specFile}`}`)}<br>` +
      `${escapeHtml(`${m.os} · ${m.cpus} CPU(s)${m.cpuModel === undefined ? '' : ` (${m.cpuModel})`} · ${m.memoryMiB} MiB · node ${m.node}`)}</p>`,
  );

  body.push('<section><h2>Checks</h2>');
  body.push(`<p class="summary">${mark(passed === report.checks.length)} ${passed} of ${report.checks.length} check(s) passed</p>`);
  if (report.checks.length > 0) {
    body.push('<table><thead><tr><th></th><th>check</th><th>detail</th></tr></thead><tbody>');
    for (const c of report.checks) body.push(`<tr><td>${mark(c.passed)}</td><td>${escapeHtml(c.name)}</td><td>${escapeHtml(c.detail)}</td></tr>`);
    body.push('</tbody></table>');
  }
  body.push('</section>');

  body.push('<section><h2>Distribution of connections</h2>');
  if (report.distribution.length === 0) body.push('<p>No distribution measured.</p>');
  for (const d of report.distribution) {
    body.push(`<h3>${escapeHtml(d.vip)}${d.address === undefined ? '' : ` (${escapeHtml(d.address)})`}: ${d.totalConnections} connection(s), expected shares from ${escapeHtml(d.expectedFrom)}</h3>`);
    body.push(renderDistributionChart(d));
    body.push(
      table(
        ['VM', 'connections', 'share', 'expected', 'deviation'],
        d.vms.map((v) => [v.vm, formatCount(v.connections), formatShare(v.measuredShare), formatShare(v.expectedShare), formatDeviation(v.deviationPercent)]),
        [false, true, true, true, true],
      ),
    );
  }
  body.push('</section>');

  body.push('<section><h2>Timeline</h2>');
  if (report.timeline.samples.length === 0) {
    body.push('<p>No traffic samples.</p>');
  } else {
    body.push(`<p>Sampled every ${escapeHtml(formatMs(report.timeline.intervalMs))}; vertical lines mark events.</p>`);
    body.push(renderRequestsChart(report.timeline), renderPerVmChart(report.timeline), renderConnectionsChart(report.timeline));
  }
  if (report.timeline.events.length > 0) {
    body.push(table(['time', 'event', 'kind', 'detail'], report.timeline.events.map((e) => [formatSeconds(e.t), e.label, e.kind, e.detail ?? '']), [true, false, false, false]));
  }
  body.push('</section>');

  const { gatewayLoss, vmFailure, vmRecovery } = report.results;
  body.push('<section><h2>Results</h2>');
  if (gatewayLoss === null && vmFailure === null && vmRecovery === null) body.push('<p>No failure was exercised.</p>');
  if (gatewayLoss !== null) {
    body.push(`<h3>Gateway loss: ${escapeHtml(gatewayLoss.gateway)}</h3>`);
    body.push(
      table(
        ['connections open before', 'survived', 'broken'],
        [[String(gatewayLoss.connectionsBefore), formatPartOf(gatewayLoss.survived, gatewayLoss.connectionsBefore), formatPartOf(gatewayLoss.broken, gatewayLoss.connectionsBefore)]],
        [true, true, true],
      ),
    );
  }
  if (vmFailure !== null) body.push(changeSection('VM failure', vmFailure));
  if (vmRecovery !== null) body.push(changeSection('VM recovery', vmRecovery));
  body.push('</section>');

  body.push('<section><h2>Phases</h2>');
  if (report.phases.length === 0) body.push('<p>No phases recorded.</p>');
  else {
    body.push('<table><thead><tr><th></th><th>phase</th><th class="num">start</th><th class="num">end</th><th class="num">duration</th><th>notes</th></tr></thead><tbody>');
    for (const p of report.phases) {
      body.push(
        `<tr><td>${mark(p.ok)}</td><td>${escapeHtml(p.name)}</td><td class="num">${escapeHtml(formatSeconds(p.startMs))}</td><td class="num">${escapeHtml(formatSeconds(p.endMs))}</td>` +
          `<td class="num">${escapeHtml(formatMs(p.endMs - p.startMs))}</td><td>${escapeHtml(p.notes ?? '')}</td></tr>`,
      );
    }
    body.push('</tbody></table>');
  }
  body.push('</section>');

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body.join('\n')}
</body>
</html>
`;
}
