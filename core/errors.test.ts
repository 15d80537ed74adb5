import { describe, expect, it } from 'vitest';
import { P4lbError, closestName, editDistance, formatDiagnostic } from './errors.ts';

describe('formatDiagnostic', () => {
  it('puts file:line:col, path, message and hint in compiler order', () => {
    expect(
      formatDiagnostic({
        message: 'expected a power of two, got 1000',
        location: { file: 'lb.yaml', line: 12, column: 5, path: 'vips[0].slots' },
        hint: 'try 1024',
      }),
    ).toBe('lb.yaml:12:5: vips[0].slots: expected a power of two, got 1000 (try 1024)');
  });

  it('names a byte offset for packet faults', () => {
    expect(formatDiagnostic({ message: 'truncated UDP header', location: { offset: 34 } })).toBe(
      'byte 34: truncated UDP header',
    );
  });
});

describe('P4lbError', () => {
  it('keeps its code, location and cause', () => {
    const cause = new Error('inner');
    const e = new P4lbError('SPEC_INVALID', 'bad', { location: { path: 'a.b' }, cause });
    expect(e.code).toBe('SPEC_INVALID');
    expect(e.cause).toBe(cause);
    expect(e.name).toBe('P4lbError');
    expect(e.describe()).toBe('a.b: bad');
  });
});

describe('closestName', () => {
  it('suggests a near miss and nothing for a stranger', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(closestName('MyIngress.vip_tabel', ['MyIngress.vip_table', 'MyIngress.slots'])).toBe(
      'MyIngress.vip_table',
    );
    expect(closestName('zzz', ['MyIngress.vip_table'])).toBeUndefined();
  });
});
