import { describe, it, expect } from 'vitest';
import { SpawnedProcess } from './spawned-process.ts';

const node = process.execPath;

describe('SpawnedProcess (root namespace, no privileges needed)', () => {
  it('waits for a line of output and stops with SIGTERM', async () => {
    const p = new SpawnedProcess(undefined, node, ['-e', 'console.log("ready 42"); setInterval(() => {}, 1000)']);
    const match = await p.waitForOutput(/ready (\d+)/, 5000);
    expect(match[1]).toBe('42');
    expect(p.running).toBe(true);
    expect(await p.stop()).toEqual({ code: null, signal: 'SIGTERM' });
    expect(p.running).toBe(false);
  });

  it('kills a process that ignores SIGTERM after the grace period', async () => {
    const p = new SpawnedProcess(undefined, node, ['-e', 'process.on("SIGTERM", () => {}); console.log("up"); setInterval(() => {}, 1000)']);
    await p.waitForOutput(/up/, 5000);
    const started = Date.now();
    expect(await p.stop(200)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('rejects a wait when the process ends first, with its output', async () => {
    const p = new SpawnedProcess(undefined, node, ['-e', 'console.error("cannot listen"); process.exit(1)']);
    await expect(p.waitForOutput(/ready/, 5000)).rejects.toMatchObject({
      code: 'E2E_SERVER_FAILED',
      message: expect.stringMatching(/exit status 1\).*cannot listen/),
    });
  });

  it('rejects a wait that times out, and reports a program that cannot start', async () => {
    const p = new SpawnedProcess(undefined, node, ['-e', 'setTimeout(() => {}, 5000)']);
    await expect(p.waitForOutput(/never/, 100)).rejects.toMatchObject({ message: expect.stringContaining('within 100 ms') });
    await p.stop();
    const missing = new SpawnedProcess(undefined, 'p4lb-no-such-program', []);
    expect(await missing.exited).toEqual({ code: null, signal: null });
    expect(missing.output()).toContain('spawn failed');
  });

  it('hands out stdout line by line, split across chunks, and takes input on stdin', async () => {
    const script = `
      process.stdout.write('one\\ntw');
      setTimeout(() => process.stdout.write('o\\n'), 20);
      require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => {
        process.stdout.write('got ' + l + '\\nlast');
        process.exit(0);
      });`;
    const p = new SpawnedProcess(undefined, node, ['-e', script], { stdin: 'pipe' });
    const lines: string[] = [];
    p.onStdoutLine((line) => lines.push(line));
    await p.waitForOutput(/two/, 5000);
    expect(p.write('hello\n')).toBe(true);
    await p.exited;
    expect(lines).toEqual(['one', 'two', 'got hello', 'last']);
    expect(p.write('late\n')).toBe(false);
  });

  it('has no stdin to write to unless asked for one', async () => {
    const p = new SpawnedProcess(undefined, node, ['-e', 'setTimeout(() => {}, 2000)']);
    expect(p.write('x\n')).toBe(false);
    await p.stop();
  });
});
