import { describe, it, expect } from 'vitest';
import { fixtureReport } from './report-fixture.ts';
import { formatTable, renderTextReport } from './text-report.ts';

describe('renderTextReport', () => {
  const text = renderTextReport(fixtureReport());
  const lines = text.split('\n');

  it('starts with the run and the machine', () => {
    expect(lines.slice(0, 2)).toEqual([
      'p4lb demo: example on the embedded target, 2026-11-25T23:58:21.000Z',
      'p4lb 0.1.0 · Linux 6.8.0 · 2 CPU(s) (Example CPU @ 2.0GHz) · 7936 MiB · node v20.19.0',
    ]);
  });

  it('prints the distribution of each VIP in aligned columns with units', () => {
    const at = lines.indexOf('  web (203.0.113.10): 5000 connection(s), expected shares from weights');
    expect(lines.slice(at + 1, at + 6)).toEqual([
      '    VM     connections   share  expected  deviation',
      '    vm-a1         1010  20.2 %    20.0 %     +1.0 %',
      '    vm-a2          985  19.7 %    20.0 %     -1.5 %',
      '    vm-b1         1003  20.1 %    20.0 %     +0.3 %',
      '    vm-b2         2002  40.0 %    40.0 %     +0.1 %',
    ]);
    expect(lines).toContain('    vm-a1          250  25.0 %    25.0 %      0.0 %');
  });

  it('reports the gateway loss and the convergence per gateway, with — for a missing metric', () => {
    expect(lines).toContain('Gateway loss: gw-east');
    expect(lines).toContain('  survived: 94 of 100 (94.0 %)');
    expect(lines).toContain('  broken:   6 of 100 (6.0 %)');
    const at = lines.indexOf('VM failure: vm-b1 at 20 s, 120 failed request(s)');
    expect(lines.slice(at + 1, at + 4)).toEqual([
      '  gateway  detection  convergence (controller)  convergence (data plane)',
      '  gw-east    1420 ms                     38 ms                   1500 ms',
      '  gw-west    1420 ms                     41 ms                   1510 ms',
    ]);
    expect(lines).toContain('  gw-west    1950 ms                         —                   2010 ms');
  });

  it('marks each phase and check with ✓ or ✗ and ends with the tally', () => {
    expect(lines).toContain('  ✗ gateway loss  53.1 s   1900 ms  6 connections broken');
    expect(lines).toContain('  ✓ traffic        3.1 s    60.0 s');
    expect(lines).toContain('  ✓  VM failure converged under 3 s             slowest gateway gw-west: 1510 ms');
    expect(lines).toContain('  ✗  all connections survived the gateway loss  6 of 100 broken');
    expect(lines.at(-2)).toBe('2 of 3 check(s) passed');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('leaves out the sections of failures that were not exercised', () => {
    const report = fixtureReport();
    report.results = { gatewayLoss: null, vmFailure: null, vmRecovery: null };
    report.checks = [];
    const out = renderTextReport(report);
    expect(out).not.toContain('Gateway loss');
    expect(out).not.toContain('VM failure');
    expect(out).toContain('Checks\n  (none)\n0 of 0 check(s) passed\n');
  });

  it('has no trailing spaces', () => {
    expect(lines.filter((l) => l !== l.trimEnd())).toEqual([]);
  });
});

describe('formatTable', () => {
  it('pads to the widest cell, right-aligning numeric columns', () => {
    expect(formatTable(['a', 'n'], [['long', '1'], ['x', '100']], ['left', 'right'])).toEqual(['a       n', 'long    1', 'x     100']);
  });
});
