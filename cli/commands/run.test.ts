import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestTarget, type TestTarget } from '../../target/server/test-harness.ts';
import { Backend, exampleSpecText } from '../../runtime-controller/controller/test-setup.ts';
import { parseRunOptions, registerRun, resolveApiToken, type RunningController } from './run.ts';

const DEVICE_IDS: Record<string, bigint> = { 'gw-east': 1n, 'gw-west': 2n, 'host-a': 3n, 'host-b': 4n };

describe('p4lb run', () => {
  let root: string;
  let targets: Map<string, TestTarget>;
  let backend: Backend;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'p4lb-run-'));
    targets = new Map();
    for (const [name, deviceId] of Object.entries(DEVICE_IDS)) targets.set(name, await startTestTarget({ deviceId }));
    backend = new Backend();
    await backend.start();
  });

  afterEach(async () => {
    await backend.stop();
    for (const t of targets.values()) await t.close();
    await rm(root, { recursive: true, force: true });
  });

  it('drives the switches, serves the API with a generated token, reloads the spec on SIGHUP, and stops cleanly on a signal', async () => {
    const specPath = join(root, 'spec.yaml');
    await writeFile(specPath, exampleSpecText(Object.fromEntries([...targets].map(([n, t]) => [n, t.address]))));
    const dataDir = join(root, 'data');
    let stop!: (signal: string) => void;
    const stopped = new Promise<string>((resolve) => (stop = resolve));
    let running: RunningController | undefined;
    let done!: Promise<unknown>;
    const logs: { msg: string; [k: string]: unknown }[] = [];
    const started = new Promise<void>((resolve) => {
      const program = new Command('p4lb').exitOverride();
      registerRun(program, {
        logger: pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as { msg: string }) }),
        env: {},
        stopSignal: () => stopped,
        onStarted: (r) => {
          running = r;
          resolve();
        },
        controllerOptions: { resolveEndpoint: () => ({ host: '127.0.0.1', port: backend.port }) },
      });
      done = program.parseAsync(['run', specPath, '--data-dir', dataDir, '--api', '127.0.0.1:0'], { from: 'user' });
    });
    await started;
    const r = running!;
    expect(r.tokenSource).toContain(join(dataDir, 'api-token'));
    const token = (await readFile(join(dataDir, 'api-token'), 'utf8')).trim();
    expect((await stat(join(dataDir, 'api-token'))).mode & 0o777).toBe(0o600);
    await r.controller.waitUntilReconciled(60_000);
    const base = `http://${r.api.address}`;
    const gateways = await fetch(`${base}/v1/gateways`, { headers: { authorization: `Bearer ${token}` } });
    expect(gateways.status).toBe(200);
    const body = (await gateways.json()) as { gateways: { name: string; phase: string; primary: boolean }[] };
    expect(body.gateways.map((g) => [g.name, g.phase, g.primary])).toEqual([['gw-east', 'pipeline-ready', true], ['gw-west', 'pipeline-ready', true]]);
    expect((await fetch(`${base}/v1/gateways`)).status).toBe(401);

    // SIGHUP reads the spec again: a VIP's backends change in place; a change that needs a restart is refused.
    const original = await readFile(specPath, 'utf8');
    await writeFile(specPath, original.replace(/backends:\n((?:\s+- vm-\w+\n)+)/g, (block) => block.replace(/\s+- vm-b2\n/, '\n')));
    process.emit('SIGHUP', 'SIGHUP');
    const vipsOf = () => r.controller.spec.vips.map((v) => `${v.name}:${v.backends.join(',')}`);
    for (let i = 0; i < 100 && !vipsOf().every((v) => !v.includes('vm-b2')); i++) await new Promise((res) => setTimeout(res, 50));
    expect(vipsOf()).toEqual(['web:vm-a1,vm-a2,vm-b1', 'api:vm-a1,vm-a2,vm-b1']);
    await r.specFile.idle();
    expect(logs.find((l) => l.msg === 'spec reloaded')).toMatchObject({ spec: specPath, backends: [{ vip: 'web', removed: ['vm-b2'] }, { vip: 'api', removed: ['vm-b2'] }] });
    await writeFile(specPath, original.replace('deployment: example', 'deployment: other'));
    process.emit('SIGHUP', 'SIGHUP');
    await r.specFile.idle();
    expect(r.controller.spec.deployment).toBe('example');
    expect(logs.find((l) => l.msg === 'spec reload refused: the controller keeps its spec')).toMatchObject({ err: expect.stringContaining('deployment') as unknown });

    // The API edits the same file through the same SpecFile: an edit that arrives while a SIGHUP
    // reload runs waits for it, and then finds file and controller in step.
    await writeFile(specPath, original);
    process.emit('SIGHUP', 'SIGHUP');
    const edit = await fetch(`${base}/v1/vips/api/backends/vm-b2`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(edit.status).toBe(200);
    expect(await edit.json()).toMatchObject({ changed: true, backends: ['vm-a1', 'vm-a2', 'vm-b1'] });
    expect(vipsOf()).toEqual(['web:vm-a1,vm-a2,vm-b1,vm-b2', 'api:vm-a1,vm-a2,vm-b1']);
    const at = original.lastIndexOf('      - vm-b2\n');
    expect(await readFile(specPath, 'utf8')).toBe(original.slice(0, at) + original.slice(at + '      - vm-b2\n'.length));
    stop('SIGTERM');
    await done;
    expect(process.exitCode).toBe(0);
    expect(r.controller.isRunning).toBe(false);
    await expect(fetch(`${base}/v1/gateways`, { headers: { authorization: `Bearer ${token}` } })).rejects.toThrow();
  }, 60_000);

  it('takes the token from a file or the environment, and refuses short ones', async () => {
    const file = join(root, 'token');
    await writeFile(file, `${'ab'.repeat(20)}\n`);
    expect(await resolveApiToken({ apiTokenFile: file, dataDir: root }, {})).toEqual({ token: 'ab'.repeat(20), source: `file ${file}` });
    expect((await resolveApiToken({ apiTokenFile: undefined, dataDir: root }, { P4LB_API_TOKEN: 'c'.repeat(40) })).token).toBe('c'.repeat(40));
    await expect(resolveApiToken({ apiTokenFile: undefined, dataDir: root }, { P4LB_API_TOKEN: 'short' })).rejects.toMatchObject({ code: 'CLI_API_TOKEN', location: { path: 'P4LB_API_TOKEN' } });
    await expect(resolveApiToken({ apiTokenFile: join(root, 'missing'), dataDir: root }, {})).rejects.toMatchObject({ code: 'CLI_API_TOKEN', location: { path: '--api-token-file' } });
  });

  it('checks its options', () => {
    const ok = { dataDir: 'd', api: '127.0.0.1:9100', metricsPollMs: '5000', callTimeoutMs: '10000' };
    expect(parseRunOptions('s.yaml', ok)).toMatchObject({ specPath: 's.yaml', api: '127.0.0.1:9100', bmv2: false, metricsPollMs: 5000, callTimeoutMs: 10_000 });
    expect(parseRunOptions('s.yaml', { ...ok, callTimeoutMs: '60000' }).callTimeoutMs).toBe(60_000);
    for (const bad of ['50', '1.5', 'soon']) {
      expect(() => parseRunOptions('s.yaml', { ...ok, callTimeoutMs: bad })).toThrow(expect.objectContaining({ code: 'CLI_USAGE', location: { path: '--call-timeout-ms' } }) as Error);
    }
    expect(parseRunOptions('s.yaml', { ...ok, api: '[::1]:80', bmv2: true })).toMatchObject({ bmv2: true });
    expect(() => parseRunOptions('s.yaml', { ...ok, api: '9100' })).toThrow(expect.objectContaining({ code: 'CLI_USAGE', location: { path: '--api' } }) as Error);
    expect(() => parseRunOptions('s.yaml', { ...ok, api: 'localhost:99999' })).toThrow(/host:port/);
    expect(() => parseRunOptions('s.yaml', { ...ok, metricsPollMs: '5' })).toThrow(expect.objectContaining({ location: { path: '--metrics-poll-ms' } }) as Error);
    expect(parseRunOptions('s.yaml', { ...ok, api: 'unix:/run/p4lb.sock', thrift: ['gw-east=127.0.0.1:9090', 'host-a=localhost:9093'] })).toMatchObject({
      api: 'unix:/run/p4lb.sock',
      thrift: { 'gw-east': { host: '127.0.0.1', port: 9090 }, 'host-a': { host: 'localhost', port: 9093 } },
    });
    expect(() => parseRunOptions('s.yaml', { ...ok, thrift: ['gw-east:9090'] })).toThrow(expect.objectContaining({ code: 'CLI_USAGE', location: { path: '--thrift' } }) as Error);
    expect(parseRunOptions('s.yaml', ok).electionId).toBeUndefined();
    expect(parseRunOptions('s.yaml', { ...ok, electionId: '5' }).electionId).toBe(5n);
    for (const bad of ['0', '-1', '1.5', String(2n ** 128n)]) {
      expect(() => parseRunOptions('s.yaml', { ...ok, electionId: bad })).toThrow(expect.objectContaining({ location: { path: '--election-id' } }) as Error);
    }
  });
});
