import { describe, expect, it } from 'vitest';
import { metricSum, parseMetrics } from './metrics-text.ts';

const TEXT = `# HELP p4lb_drops_total Packets a switch dropped
# TYPE p4lb_drops_total counter
p4lb_drops_total{switch="host-a",reason="bad_token"} 3
p4lb_drops_total{switch="gw-east",reason="bad_token"} 2
p4lb_drops_total{switch="gw-east",reason="expired_token"} 1
p4lb_convergence_seconds_bucket{gateway="gw-east",le="+Inf"} 4
p4lb_up 1 1700000000000
p4lb_odd{note="a \\"quoted\\", comma\\nline"} NaN
nodejs_eventloop_lag_seconds Nan
`;

describe('parseMetrics', () => {
  it('reads names, labels (with escapes) and values, skipping comments', () => {
    const samples = parseMetrics(TEXT);
    expect(samples).toHaveLength(7);
    expect(samples[6]!.value).toBeNaN();
    expect(samples[0]).toEqual({ name: 'p4lb_drops_total', labels: { switch: 'host-a', reason: 'bad_token' }, value: 3 });
    expect(samples[3]!.labels.le).toBe('+Inf');
    expect(samples[4]).toEqual({ name: 'p4lb_up', labels: {}, value: 1 });
    expect(samples[5]!.labels.note).toBe('a "quoted", comma\nline');
    expect(samples[5]!.value).toBeNaN();
  });

  it('sums the samples that match some labels', () => {
    const samples = parseMetrics(TEXT);
    expect(metricSum(samples, 'p4lb_drops_total', { switch: 'gw-east' })).toBe(3);
    expect(metricSum(samples, 'p4lb_drops_total', { reason: 'bad_token' })).toBe(5);
    expect(metricSum(samples, 'p4lb_drops_total', { switch: 'nowhere' })).toBe(0);
  });

  it('names the line of a malformed sample', () => {
    expect(() => parseMetrics('ok 1\nbroken{x="1" 2\n')).toThrow(/line 2/);
    expect(() => parseMetrics('a{x="1"} one\n')).toThrow(/line 1: 'one' is not a number/);
  });
});
