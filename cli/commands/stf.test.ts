import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStfCommand } from './stf.ts';

const MINI = fileURLToPath(new URL('../../bmv2-tests/conformance/mini/', import.meta.url));

describe('p4lb stf', () => {
  it('reports each file and a closing count, exit 0 when all pass', async () => {
    let out = '';
    const code = await runStfCommand(join(MINI, 'mini.p4'), [join(MINI, 'mini_1.stf'), join(MINI, 'mini_2.stf')], {}, { write: (t) => (out += t) });
    expect(code).toBe(0);
    expect(out).toMatch(/^PASS .*mini_1\.stf \(1 packets\)\nPASS .*mini_2\.stf \(1 packets\)\nembedded target, mini\.p4: 2 passed, 0 failed\n$/);
  });

  it('exits 1 and shows the difference when a file fails', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'p4lb-stf-'));
    try {
      const bad = join(dir, 'bad.stf');
      await writeFile(bad, 'packet 1 00\nexpect 2 FF$\n');
      let out = '';
      const code = await runStfCommand(join(MINI, 'mini.p4'), [bad], {}, { write: (t) => (out += t) });
      expect(code).toBe(1);
      expect(out).toContain(`FAIL ${bad}`);
      expect(out).toContain('port 2, packet 0: no packet received');
      expect(out).toMatch(/0 passed, 1 failed\n$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
