import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { loadSpecFile } from '../../core/spec/load.ts';
import { analysisJson, analyzeRows, formatAnalysisTable, registerAnalyze, rowsForSpec } from './analyze.ts';

/** Runs `p4lb analyze …` in-process with a fake clock (1 ms per reading pair) and captures output. */
async function run(args: string[]): Promise<string> {
  let out = '';
  let t = 0;
  const program = new Command('p4lb').exitOverride();
  registerAnalyze(program, { write: (s) => (out += s), now: () => (t += 0.5) });
  await program.parseAsync(['analyze', ...args], { from: 'user' });
  return out;
}

const KEYS = ['algorithm', 'backends', 'slots', 'balance', 'disruption', 'agreement', 'buildMs'];

describe('p4lb analyze --json', () => {
  it('prints one object per algorithm with exactly the documented keys', async () => {
    const rows = JSON.parse(await run(['--backends', '8', '--slots', '1024', '--json'])) as Record<string, unknown>[];
    expect(rows.map((r) => r['algorithm'])).toEqual(['maglev', 'rendezvous']);
    for (const r of rows) {
      expect(Object.keys(r)).toEqual(KEYS);
      expect(Object.keys(r['balance'] as object)).toEqual(['maxOverMean', 'minOverMean']);
      const d = r['disruption'] as Record<string, object>;
      expect(Object.keys(d)).toEqual(['removeOne', 'addOne']);
      expect(Object.keys(d['removeOne']!)).toEqual(['moved', 'minimal', 'ratio']);
      expect(Object.keys(d['addOne']!)).toEqual(['moved', 'minimal', 'ratio']);
      expect(Object.keys(r['agreement'] as object)).toEqual(['differing', 'healthy', 'fraction', 'bound']);
      expect(r['buildMs']).toBe(0.5);
      expect(r['backends']).toBe(8);
      expect(r['slots']).toBe(1024);
    }
  });

  it('reports rendezvous disruption as minimal and Maglev balance as exact', async () => {
    const [maglev, rendezvous] = JSON.parse(await run(['--backends', '10', '--slots', '4096', '--json', '--differing', '3'])) as {
      balance: { maxOverMean: number; minOverMean: number };
      disruption: { removeOne: { moved: number; minimal: number; ratio: number }; addOne: { ratio: number } };
      agreement: { differing: number; healthy: number; fraction: number; bound: number };
    }[];
    expect(maglev!.balance.maxOverMean).toBeLessThanOrEqual(410 / 409.6);
    expect(maglev!.balance.minOverMean).toBeGreaterThanOrEqual(409 / 409.6);
    expect(rendezvous!.disruption.removeOne.ratio).toBe(1);
    expect(rendezvous!.disruption.addOne.ratio).toBe(1);
    expect(rendezvous!.agreement).toMatchObject({ differing: 3, healthy: 10, bound: 0.7 });
    expect(maglev!.disruption.removeOne.moved).toBeGreaterThanOrEqual(maglev!.disruption.removeOne.minimal);
  });

  it('analyses each VIP with its backends, VM weights and slots', () => {
    const rows = rowsForSpec(
      {
        vms: [
          { name: 'vm-1', weight: 1 },
          { name: 'vm-2', weight: 3 },
          { name: 'vm-3', weight: 1 },
        ],
        vips: [
          { name: 'web', backends: ['vm-1', 'vm-2'], slots: 1024, algorithm: 'maglev' },
          { name: 'api', backends: ['vm-3'], slots: 256, algorithm: 'rendezvous' },
        ],
      },
      undefined,
      { differing: 1 },
    );
    expect(rows.map((r) => [r.vip, r.algorithm, r.backends, r.slots])).toEqual([
      ['web', 'maglev', 2, 1024],
      ['api', 'rendezvous', 1, 256],
    ]);
    // Weights 1:3 are apportioned exactly by Maglev; a 1-backend VIP gets A = 0.
    expect(rows[0]!.balance).toEqual({ maxOverMean: 1, minOverMean: 1 });
    expect(rows[1]!.agreement.differing).toBe(0);
    expect(rowsForSpec({ vms: [], vips: [{ name: 'x', backends: ['a', 'b'], slots: 64, algorithm: 'maglev' }] }, 'both', {}).map((r) => r.algorithm)).toEqual(['maglev', 'rendezvous']);
  });

  it('loads a spec file: one row per VIP, vip key first', async () => {
    const file = fileURLToPath(new URL('../../examples/example.yaml', import.meta.url));
    const spec = await loadSpecFile(file);
    const rows = JSON.parse(await run(['--spec', file, '--json'])) as Record<string, unknown>[];
    expect(rows.map((r) => [r['vip'], r['algorithm'], r['backends'], r['slots']])).toEqual(
      spec.vips.map((v) => [v.name, v.algorithm, v.backends.length, v.slots]),
    );
    for (const r of rows) expect(Object.keys(r)).toEqual(['vip', ...KEYS]);
  });

  it('rejects mixing --spec with --backends', async () => {
    await expect(analyzeRows({ spec: 'x.yaml', backends: 3 })).rejects.toThrow(/--spec/);
  });
});

describe('p4lb analyze (table)', () => {
  it('prints an aligned table with a header and one row per algorithm', async () => {
    const lines = (await run(['--backends', '4', '--slots', '256'])).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^algorithm\s+N\s+M\s+max\/mean/);
    expect(lines[1]).toMatch(/^maglev\s+4\s+256\s+1\.000\s+1\.000\s/);
    expect(lines[2]).toMatch(/^rendezvous\s+4\s+256\s/);
    // Right-aligned numeric columns end at the same place.
    expect(lines[1]!.length).toBe(lines[2]!.length);
  });
  it('formats a null ratio as a dash', () => {
    const rows = [
      {
        algorithm: 'maglev' as const,
        backends: 1,
        slots: 1,
        balance: { maxOverMean: 1, minOverMean: 1 },
        disruption: { removeOne: { moved: 1, minimal: 1, ratio: 1 }, addOne: { moved: 0, minimal: 0, ratio: null } },
        agreement: { differing: 0, healthy: 1, fraction: 1, bound: 1 },
        buildMs: 0,
      },
    ];
    expect(formatAnalysisTable(rows)).toContain('0/0 (-)');
    expect(analysisJson(rows)[0]).toMatchObject({ disruption: { addOne: { ratio: null } } });
  });
});
