/**
 * The p4testgen corpus (bmv2-tests/conformance, every test passing on BMv2) run on the embedded
 * target: each STF file is one test and must pass. A construct the target does not support is a
 * failure here, never a skip.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileP4 } from '../../p4-frontend/index.ts';
import { openBmv2Stf, stfPorts, vethProblem, type Bmv2StfRunner } from '../bmv2/stf-bmv2.ts';
import { findBmv2 } from '../dsl/runner.ts';
import { parseStf } from './parser.ts';
import { resolveName, runStf } from './runner.ts';

const CORPUS = join(dirname(fileURLToPath(import.meta.url)), '..', 'conformance');
const programs = readdirSync(CORPUS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

describe('STF conformance corpus on the embedded target', () => {
  it('has the six programs of the corpus', () => {
    expect(programs).toEqual(['flowreg', 'fwd', 'hashcheck', 'lbmini', 'mini', 'slots']);
  });

  for (const name of programs) {
    describe(name, () => {
      const dir = join(CORPUS, name);
      const program = compileP4(readFileSync(join(dir, `${name}.p4`), 'utf8'), `${name}.p4`);
      const files = readdirSync(dir).filter((f) => f.endsWith('.stf')).sort();
      for (const file of files) {
        it(file, () => {
          const result = runStf(program, parseStf(readFileSync(join(dir, file), 'utf8'), file));
          expect(result.failures).toEqual([]);
          expect(result.packetsSent).toBeGreaterThan(0);
          expect(result.passed).toBe(true);
        });
      }
    });
  }
});

describe('runStf', () => {
  const dir = join(CORPUS, 'lbmini');
  const program = compileP4(readFileSync(join(dir, 'lbmini.p4'), 'utf8'), 'lbmini.p4');
  const text = readFileSync(join(dir, 'lbmini_12.stf'), 'utf8');

  it('fails on a wrong expected byte and shows where', () => {
    const bad = text.replace(/^expect 306 0/m, 'expect 306 1');
    const result = runStf(program, parseStf(bad, 'bad.stf'));
    expect(result.passed).toBe(false);
    expect(result.failures[0]).toMatch(/^port 306, packet 0: received packet differs at byte 0 \(hex digit 0\): expected 1, received 0/);
  });

  it('fails when a named port stays silent, and does not observe a port the file never names', () => {
    const result = runStf(program, parseStf(text.replace(/^expect 306 /m, 'expect 307 '), 'moved.stf'));
    expect(result.failures).toHaveLength(1);
    expect(result.failures[0]).toMatch(/^port 307, packet 0: no packet received\n {2}expected {2}0000/);
  });

  it('fails when a named port sends a packet nobody expected', () => {
    const packetLine = text.split('\n').find((l) => l.startsWith('packet '))!;
    const result = runStf(program, parseStf(`${text}\n${packetLine}\n`, 'extra.stf'));
    expect(result.failures.some((f) => f.startsWith('port 306: 1 unexpected packet(s), first: '))).toBe(true);
  });

  it('names an unknown table, key or action with a suggestion', () => {
    const typo = text.replace('"MyIngress.routes"', '"MyIngress.rotes"');
    expect(runStf(program, parseStf(typo, 't.stf')).failures[0]).toMatch(/unknown table 'MyIngress\.rotes' \(did you mean 'MyIngress\.routes'\?\)/);
    const key = text.replace('"h.ipv4.dstAddr"', '"h.ipv4.dstAdr"');
    expect(runStf(program, parseStf(key, 'k.stf')).failures[0]).toMatch(/table MyIngress\.routes has no key 'h\.ipv4\.dstAdr' \(did you mean 'h\.ipv4\.dstAddr'\?\)/);
    const action = text.replace('"MyIngress.route"(', '"MyIngress.rout"(');
    expect(runStf(program, parseStf(action, 'a.stf')).failures[0]).toMatch(/unknown action 'MyIngress\.rout'/);
  });

  it('resolves names by unique suffix and refuses ambiguous ones', () => {
    const known = new Map([['MyIngress.a.x', 1], ['MyEgress.b.x', 2], ['MyIngress.y', 3]]);
    expect(resolveName('table', 'y', known, 1)).toBe(3);
    expect(() => resolveName('table', 'x', known, 7)).toThrow(/line 7: table 'x' is ambiguous/);
  });
});

describe('p4testgen tests of the generated example programs (bmv2-tests/generated)', () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  for (const role of ['gateway', 'host']) {
    const dir = join(root, 'bmv2-tests', 'generated', role);
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.stf')).sort() : [];
    if (files.length === 0) {
      it.skip(`${role}: none yet (npm run stf:generate writes them where p4testgen is installed)`, () => {});
      continue;
    }
    const program = compileP4(readFileSync(join(root, 'p4out', 'example', role, `${role}.p4`), 'utf8'), `${role}.p4`);
    for (const file of files) {
      it(`${role}/${file}`, () => {
        const result = runStf(program, parseStf(readFileSync(join(dir, file), 'utf8'), file));
        expect(result.failures).toEqual([]);
      });
    }
  }
});

// The same corpus on BMv2 when simple_switch_grpc and p4c are found: one switch a program, each
// file on a freshly pushed pipeline, outputs matched by content within a port.
const bmv2 = findBmv2(process.env);

describe('STF conformance corpus on BMv2', () => {
  if (bmv2 === undefined) {
    it.skip('BMv2 not found (set SIMPLE_SWITCH_GRPC and P4C): embedded target only', () => undefined);
    return;
  }
  for (const name of programs) {
    describe(name, () => {
      const dir = join(CORPUS, name);
      const stfs = readdirSync(dir).filter((f) => f.endsWith('.stf')).sort().map((f) => parseStf(readFileSync(join(dir, f), 'utf8'), f));
      let runner: Bmv2StfRunner | undefined;

      beforeAll(async () => {
        runner = await openBmv2Stf({ tools: bmv2, p4Text: readFileSync(join(dir, `${name}.p4`), 'utf8'), fileName: `${name}.p4`, ports: stfPorts(stfs) });
      }, 60_000);

      afterAll(async () => {
        await runner?.close();
      });

      for (const stf of stfs) {
        const problem = vethProblem(stf);
        if (problem !== undefined) {
          it.skip(`${stf.file} [embedded target only: ${problem}]`, () => undefined);
          continue;
        }
        it(stf.file, async () => {
          const result = await runner!.run(stf);
          expect(result.failures).toEqual([]);
          expect(result.packetsSent).toBeGreaterThan(0);
          expect(result.passed).toBe(true);
        });
      }
    });
  }
});

describe('p4testgen tests of the generated example programs on BMv2', () => {
  if (bmv2 === undefined) {
    it.skip('BMv2 not found (set SIMPLE_SWITCH_GRPC and P4C): embedded target only', () => undefined);
    return;
  }
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  for (const role of ['gateway', 'host']) {
    const dir = join(root, 'bmv2-tests', 'generated', role);
    const stfs = existsSync(dir)
      ? readdirSync(dir).filter((f) => f.endsWith('.stf')).sort().map((f) => parseStf(readFileSync(join(dir, f), 'utf8'), f))
      : [];
    if (stfs.length === 0) continue;
    describe(role, () => {
      let runner: Bmv2StfRunner | undefined;
      beforeAll(async () => {
        const p4Text = readFileSync(join(root, 'p4out', 'example', role, `${role}.p4`), 'utf8');
        runner = await openBmv2Stf({ tools: bmv2, p4Text, fileName: `${role}.p4`, ports: stfPorts(stfs) });
      }, 60_000);
      afterAll(async () => {
        await runner?.close();
      });
      for (const stf of stfs) {
        const problem = vethProblem(stf);
        if (problem !== undefined) {
          it.skip(`${role}/${stf.file} [embedded target only: ${problem}]`, () => undefined);
          continue;
        }
        it(`${role}/${stf.file}`, async () => {
          const result = await runner!.run(stf);
          expect(result.failures).toEqual([]);
        });
      }
    });
  }
});
