import { describe, it, expect } from 'vitest';
import { formatCommand, inNamespace, run, runSync } from './run.ts';

describe('run', () => {
  it('resolves with the output', async () => {
    expect((await run(process.execPath, ['-e', 'process.stdout.write("hi")'])).stdout).toBe('hi');
  });

  it('names the command and quotes its stderr on failure', async () => {
    await expect(run(process.execPath, ['-e', 'console.error("boom"); process.exit(3)'])).rejects.toMatchObject({
      code: 'E2E_COMMAND_FAILED',
      message: expect.stringMatching(/-e .*failed: boom$/),
    });
    expect(() => runSync(process.execPath, ['-e', 'process.exit(4)'])).toThrow(expect.objectContaining({ message: expect.stringContaining('exit status 4') }));
  });

  it('reports a missing program and a command that outlives its timeout', async () => {
    await expect(run('p4lb-no-such-program', [])).rejects.toMatchObject({ code: 'E2E_COMMAND_MISSING' });
    const started = Date.now();
    await expect(run(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { timeoutMs: 200 })).rejects.toMatchObject({
      message: expect.stringContaining('timed out'),
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('inNamespace', () => {
  it('uses ip -n for ip, ip netns exec for anything else, and nothing for the root namespace', () => {
    expect(inNamespace('ns1', 'ip', ['link'])).toEqual({ cmd: 'ip', args: ['-n', 'ns1', 'link'] });
    expect(inNamespace('ns1', 'sysctl', ['-n', 'x'])).toEqual({ cmd: 'ip', args: ['netns', 'exec', 'ns1', 'sysctl', '-n', 'x'] });
    expect(inNamespace(undefined, 'ethtool', ['-k', 'e'])).toEqual({ cmd: 'ethtool', args: ['-k', 'e'] });
  });

  it('formats commands for messages, quoting what a shell would split', () => {
    expect(formatCommand('ip', ['route', 'add', '10.0.0.0/8', 'a b'])).toBe('ip route add 10.0.0.0/8 "a b"');
  });
});
