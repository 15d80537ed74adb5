import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { registerCheck } from './check.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/example.yaml', import.meta.url));
const MANY_FAULTS = fileURLToPath(new URL('../../core/spec/fixtures/many-faults.yaml', import.meta.url));

/** Runs `p4lb check ...` in-process and captures what it writes. */
async function runCheck(args: string[]): Promise<{ out: string; err: string; exitCode: unknown }> {
  let out = '';
  let err = '';
  const program = new Command('p4lb').exitOverride();
  program.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
  registerCheck(program);
  await program.parseAsync(['check', ...args], { from: 'user' });
  return { out, err, exitCode: process.exitCode };
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('p4lb check', () => {
  it('prints a one-line summary and exits 0 for a valid spec', async () => {
    const r = await runCheck([EXAMPLE]);
    expect(r.out).toBe(`${EXAMPLE}: ok: deployment 'example': 2 locations, 2 gateways, 2 hosts, 4 VMs, 2 VIPs\n`);
    expect(r.err).toBe('');
    expect(r.exitCode).toBe(0);
  });

  it('prints every diagnostic as file:line:col: path: message (hint) and exits 1', async () => {
    const r = await runCheck([MANY_FAULTS]);
    const lines = r.err.trimEnd().split('\n');
    expect(lines).toHaveLength(13);
    expect(lines).toContain(`${MANY_FAULTS}:23:23: vips[0].backends[1]: unknown VM 'vm-a3' (did you mean 'vm-a1'?)`);
    expect(lines[0]).toBe(
      `${MANY_FAULTS}:2:13: deployment: deployment name must be lower-case letters, digits and dashes (not at either end), at most 63 characters, got 'Faulty'`,
    );
    expect(lines.at(-1)).toBe(`${MANY_FAULTS}: 12 problems`);
    expect(r.out).toBe('');
    expect(r.exitCode).toBe(1);
  });

  it('prints diagnostics as JSON with --json', async () => {
    const r = await runCheck(['--json', MANY_FAULTS]);
    const result = JSON.parse(r.out) as { ok: boolean; code: string; diagnostics: { line: number; column: number; path: string; hint?: string }[] };
    expect(result.ok).toBe(false);
    expect(result.code).toBe('SPEC_INVALID');
    expect(result.diagnostics).toHaveLength(12);
    expect(result.diagnostics).toContainEqual(
      expect.objectContaining({ line: 16, column: 26, path: 'vms[1].host', hint: "did you mean 'host-a'?" }),
    );
    expect(r.exitCode).toBe(1);
  });

  it('prints the summary as JSON with --json on success', async () => {
    const r = await runCheck([EXAMPLE, '--json']);
    expect(JSON.parse(r.out)).toEqual({
      ok: true,
      file: EXAMPLE,
      deployment: 'example',
      counts: { locations: 2, gateways: 2, hosts: 2, vms: 4, vips: 2 },
    });
    expect(r.exitCode).toBe(0);
  });

  it('reports an unreadable file with its code and exits 1', async () => {
    const r = await runCheck(['no/such/spec.yaml']);
    expect(r.err).toBe('no/such/spec.yaml: cannot read spec file: ENOENT\nno/such/spec.yaml: 1 problem\n');
    expect(r.exitCode).toBe(1);
  });
});
