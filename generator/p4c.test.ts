/**
 * Our P4Info against p4c's, and p4c's verdict on the generated programs: runs when p4c is found
 * (env P4C, else `p4c` on PATH), and is skipped with a message otherwise.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { p4InfoFromText } from '../core/p4runtime/index.ts';
import { generatedExample } from './fixtures.ts';
import { PROGRAM_ROLES } from './generate.ts';
import { compileWithP4c, findP4c, type P4cResult } from './p4c.ts';
import type { ProgramRole } from './render.ts';

const P4C = findP4c(process.env);

type Parsed = ReturnType<typeof p4InfoFromText>;

/**
 * What differs between p4c versions, not between p4c and us: p4c before P4Runtime 1.4 support
 * (p4c PR #4773, 2024) writes no `initial_default_action`; we write it, as newer p4c does.
 */
function withoutInitialDefaults(info: Parsed): Parsed {
  return { ...info, tables: info.tables.map((t) => ({ ...t, initialDefaultAction: undefined })) };
}

/** The same in the text: the `initial_default_action { … }` blocks of tables removed. */
function withoutInitialDefaultsText(text: string): string {
  return text.replace(/^ {2}initial_default_action \{\n(?: {4}.*\n)*? {2}\}\n/gm, '');
}

if (P4C === undefined) {
  describe('p4c comparison', () => {
    it.skip('p4c not found (set P4C): skipped', () => {});
  });
} else {
  const p4c = P4C;
  describe(`p4c comparison (${p4c})`, () => {
    let dir: string;
    const results = new Map<ProgramRole, P4cResult & { p4infoText: string }>();

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'p4lb-p4c-'));
      const { programs } = generatedExample();
      await Promise.all(
        PROGRAM_ROLES.map(async (role) => {
          const source = join(dir, `${role}.p4`);
          const p4infoFile = join(dir, `${role}.p4info.txtpb`);
          await writeFile(source, programs[role].p4);
          const result = await compileWithP4c({ p4c, source, outDir: dir, p4infoFile });
          // p4c writes the P4Info after its front end, so even when a later pass fails.
          const p4infoText = await readFile(p4infoFile, 'utf8').catch(() => '');
          results.set(role, { ...result, p4infoText });
        }),
      );
    }, 120_000);

    afterAll(async () => {
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    describe.each(PROGRAM_ROLES)('the %s program', (role) => {
      it('has the P4Info p4c derives: ids, names, match fields, parameters, widths', () => {
        const result = results.get(role)!;
        expect(result.p4infoText, result.output).not.toBe('');
        const theirs = p4InfoFromText(result.p4infoText, { file: `p4c ${role}.p4info.txtpb` });
        const ours = p4InfoFromText(generatedExample().programs[role].p4infoText, { file: `${role}.p4info.txtpb` });
        expect(theirs.tables.length).toBeGreaterThan(0);
        const olderP4c = theirs.tables.every((t) => t.initialDefaultAction === undefined);
        expect(olderP4c ? withoutInitialDefaults(ours) : ours).toEqual(theirs);
      });

      it('writes the P4Info text byte for byte as p4c does', () => {
        const result = results.get(role)!;
        const ours = generatedExample().programs[role].p4infoText;
        const olderP4c = !result.p4infoText.includes('initial_default_action');
        expect(olderP4c ? withoutInitialDefaultsText(ours) : ours).toBe(result.p4infoText);
      });

      it('compiles with p4c without warnings', () => {
        const result = results.get(role)!;
        expect(result.warnings).toEqual([]);
        expect(result.errors, result.output).toEqual([]);
        expect(result.exitCode, result.output).toBe(0);
      });
    });
  });
}
