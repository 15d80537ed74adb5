import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseTarget, EXAMPLE_SPEC, runDemo } from './demo.ts';

const noRoot = async () => ({ ok: false, reason: 'needs root for ip netns and veth' }) as const;

function collect(): { io: { write(t: string): void }; text(): string } {
  let out = '';
  return { io: { write: (t) => void (out += t) }, text: () => out };
}

describe('p4lb demo', () => {
  it('without namespaces: says why and what to run instead, exit 1, nothing built', async () => {
    const { io, text } = collect();
    const code = await runDemo({ spec: EXAMPLE_SPEC, target: 'auto', reportsDir: join(tmpdir(), 'never-written') }, io, {}, noRoot);
    expect(code).toBe(1);
    expect(text()).toContain('example.yaml: ok');
    expect(text()).toContain('cannot here: needs root for ip netns and veth');
    expect(text()).toContain('sudo npm run demo');
  });

  it('an invalid spec is reported before anything else, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'p4lb-demo-'));
    try {
      const spec = join(dir, 'bad.yaml');
      writeFileSync(spec, 'deployment: Bad Name\n');
      const { io, text } = collect();
      expect(await runDemo({ spec, target: 'auto', reportsDir: dir }, io, {}, noRoot)).toBe(1);
      expect(text()).toContain('is not valid');
      expect(text()).not.toContain('network namespaces');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('chooses BMv2 when both tools are found, else the embedded target; bmv2 on request needs them', () => {
    const all = () => true;
    const none = () => false;
    const env = { SIMPLE_SWITCH_GRPC: '/opt/bmv2/simple_switch_grpc', P4C: '/opt/p4c/p4c', PATH: '' };
    expect(chooseTarget('auto', env, all)).toEqual({ target: 'bmv2', bmv2: { simpleSwitchGrpc: '/opt/bmv2/simple_switch_grpc', p4c: '/opt/p4c/p4c' } });
    expect(chooseTarget('auto', env, none)).toEqual({ target: 'embedded' });
    expect(chooseTarget('embedded', env, all)).toEqual({ target: 'embedded' });
    expect(() => chooseTarget('bmv2', { PATH: '' }, none)).toThrow(expect.objectContaining({ code: 'CLI_USAGE', location: { path: '--target' } }) as Error);
  });
});
