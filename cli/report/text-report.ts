/**
 * The short terminal report of a demo run: plain text, aligned columns, units on every number, a
 * ✓/✗ per check. Pure: the CLI prints what this returns.
 */
import type { DemoReport, VmChangeResult } from './report-model.ts';
import { formatCount, formatDeviation, formatMs, formatPartOf, formatSeconds, formatShare } from './format.ts';

export const PASS_MARK = '✓';
export const FAIL_MARK = '✗';

type Align = 'left' | 'right';

/** Columns padded to their widest cell, two spaces apart, no trailing spaces. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => [...(r[c] ?? '')].length)));
  return all.map((row) =>
    row
      .map((cell, c) => {
        const pad = ' '.repeat(widths[c]! - [...cell].length);
        return align[c] === 'right' ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd(),
  );
}

function indent(lines: readonly string[], by = '  '): string[] {
  return lines.map((l) => (l === '' ? l : by + l));
}

function changeSection(title: string, change: VmChangeResult): string[] {
  const lines = [`${title}: ${change.vm} at ${formatSeconds(change.atMs)}, ${change.failedRequests} failed request(s)`];
  if (change.gateways.length === 0) return [...lines, '  no gateway measured'];
  const rows = change.gateways.map((g) => [g.gateway, formatMs(g.detectionMs), formatMs(g.controllerConvergenceMs), formatMs(g.dataPlaneConvergenceMs)]);
  lines.push(...indent(formatTable(['gateway', 'detection', 'convergence (controller)', 'convergence (data plane)'], rows, ['left', 'right', 'right', 'right'])));
  return lines;
}

export function renderTextReport(report: DemoReport): string {
  const { run } = report;
  const m = run.machine;
  const out: string[] = [
    `p4lb demo: ${run.deployment} on the ${run.target} target, ${run.date}`,
    `p4lb ${run.version} · ${m.os} · ${m.cpus} CPU(s)${m.cpuModel === undefined ? '' : ` (${m.cpuModel})`} · ${m.memoryMiB} MiB · node ${m.node}`,
    '',
  ];

  if (report.phases.length > 0) {
    out.push('Phases');
    const rows = report.phases.map((p) => [
      `${p.ok ? PASS_MARK : FAIL_MARK} ${p.name}`,
      formatSeconds(p.startMs),
      formatMs(p.endMs - p.startMs),
      p.notes ?? '',
    ]);
    out.push(...indent(formatTable(['phase', 'start', 'duration', 'notes'], rows, ['left', 'right', 'right', 'left'])), '');
  }

  if (report.distribution.length > 0) {
    out.push('Distribution of connections');
    for (const d of report.distribution) {
      const where = d.address === undefined ? '' : ` (${d.address})`;
      out.push(`  ${d.vip}${where}: ${d.totalConnections} connection(s), expected shares from ${d.expectedFrom}`);
      const rows = d.vms.map((v) => [v.vm, formatCount(v.connections), formatShare(v.measuredShare), formatShare(v.expectedShare), formatDeviation(v.deviationPercent)]);
      out.push(...indent(formatTable(['VM', 'connections', 'share', 'expected', 'deviation'], rows, ['left', 'right', 'right', 'right', 'right']), '    '));
    }
    out.push('');
  }

  const { gatewayLoss, vmFailure, vmRecovery } = report.results;
  if (gatewayLoss !== null) {
    out.push(`Gateway loss: ${gatewayLoss.gateway}`);
    out.push(`  connections open before: ${gatewayLoss.connectionsBefore}`);
    out.push(`  survived: ${formatPartOf(gatewayLoss.survived, gatewayLoss.connectionsBefore)}`);
    out.push(`  broken:   ${formatPartOf(gatewayLoss.broken, gatewayLoss.connectionsBefore)}`, '');
  }
  if (vmFailure !== null) out.push(...changeSection('VM failure', vmFailure), '');
  if (vmRecovery !== null) out.push(...changeSection('VM recovery', vmRecovery), '');

  out.push('Checks');
  if (report.checks.length === 0) out.push('  (none)');
  const rows = report.checks.map((c) => [c.passed ? PASS_MARK : FAIL_MARK, c.name, c.detail]);
  if (rows.length > 0) out.push(...indent(formatTable(['', 'check', 'detail'], rows, ['left', 'left', 'left']).slice(1)));
  const passed = report.checks.filter((c) => c.passed).length;
  out.push(`${passed} of ${report.checks.length} check(s) passed`);
  return `${out.join('\n')}\n`;
}
