import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeP4Value } from '../../core/p4runtime/bytes.ts';
import { Update_Type } from '../../core/p4runtime/gen/p4/v1/p4runtime_pb.ts';
import { createP4RuntimeClient, type P4RuntimeClient } from '../../core/p4runtime/service.ts';
import { InProcessPort } from '../../target/ports/in-process-port.ts';
import { arbitrate, ids, pushPipeline, readTestProgram, writeRequest } from '../../target/server/test-harness.ts';
import { parseTargetOptions, registerTarget, type RunningTarget } from './target.ts';

const base = { grpc: '127.0.0.1:9559', deviceId: '1', interface: [] as string[] };

describe('parseTargetOptions', () => {
  it('reads simple_switch_grpc-style options', () => {
    const c = parseTargetOptions({ ...base, interface: ['1@veth-a', '2@veth-b'], cpuPort: '255', trace: true });
    expect(c).toEqual({
      grpcAddress: '127.0.0.1:9559',
      deviceId: 1n,
      bindings: [{ port: 1, ifname: 'veth-a' }, { port: 2, ifname: 'veth-b' }],
      cpuPort: 255,
      trace: true,
      netns: undefined,
    });
  });

  it('passes the network namespace of the interfaces on', () => {
    expect(parseTargetOptions({ ...base, interface: ['1@veth-a'], netns: 'p4lb-e1-switches' }).netns).toBe('p4lb-e1-switches');
  });

  it('refuses bad values, naming the option', () => {
    expect(() => parseTargetOptions({ ...base, deviceId: 'x' })).toThrow(expect.objectContaining({ location: { path: '--device-id' } }) as Error);
    expect(() => parseTargetOptions({ ...base, cpuPort: '511' })).toThrow(expect.objectContaining({ code: 'PORT_NUMBER_INVALID' }) as Error);
    expect(() => parseTargetOptions({ ...base, cpuPort: '1', interface: ['1@veth-a'] })).toThrow(/CPU port/);
    expect(() => parseTargetOptions({ ...base, interface: ['veth-a'] })).toThrow(expect.objectContaining({ code: 'PORT_BINDING_INVALID' }) as Error);
    expect(() => parseTargetOptions({ ...base, grpc: 'localhost' })).toThrow(expect.objectContaining({ location: { path: '--grpc' } }) as Error);
  });
});

let client: P4RuntimeClient | undefined;
afterEach(() => {
  client?.close();
  client = undefined;
});

describe('p4lb target', () => {
  it('serves P4Runtime with its ports, prints traces and stops cleanly on the stop signal', async () => {
    const lines: string[] = [];
    const wires = new Map<number, InProcessPort>();
    const switchEnds: InProcessPort[] = [];
    let stop: (s: string) => void = () => undefined;
    let started: (r: RunningTarget) => void = () => undefined;
    const running = new Promise<RunningTarget>((resolve) => (started = resolve));
    const program = new Command('p4lb').exitOverride();
    registerTarget(program, {
      out: (l) => lines.push(l),
      openPort: (b) => {
        const [near, far] = InProcessPort.pair(b.port);
        wires.set(b.port, far);
        switchEnds.push(near);
        return near;
      },
      onStarted: started,
      stopSignal: () => new Promise((resolve) => (stop = resolve)),
    });
    const done = program.parseAsync(['target', '--grpc', '127.0.0.1:0', '--device-id', '1', '-i', '1@veth-a', '-i', '2@veth-b', '--cpu-port', '255', '--trace'], { from: 'user' });
    const target = await running;
    expect(lines[0]).toMatch(/^p4lb target: P4Runtime on 127\.0\.0\.1:\d+, device id 1, ports 1@veth-a, 2@veth-b, CPU port 255$/);

    client = createP4RuntimeClient(target.address);
    await arbitrate(client, 1n).next('arbitration');
    const id = ids(await pushPipeline(client, readTestProgram(), 1n));
    await client.write(writeRequest(1n, [{
      type: Update_Type.INSERT,
      entity: { entity: { case: 'tableEntry', value: {
        tableId: id.table('fwd'),
        match: [{ fieldId: 1, fieldMatchType: { case: 'exact', value: { value: encodeP4Value(0xbbn, 48) } } }],
        action: { type: { case: 'action', value: { actionId: id.action('forward'), params: [{ paramId: 1, value: encodeP4Value(2n, 9) }] } } },
      } } },
    }]));
    const out = new Promise<Uint8Array>((resolve) => wires.get(2)!.onFrame(resolve));
    const frame = new Uint8Array(60);
    frame[5] = 0xbb;
    wires.get(1)!.send(frame);
    expect((await out).length).toBe(60);
    expect(lines).toContain('[port 1] out of port 2 (60 bytes)');
    expect(lines.some((l) => l.includes('table MyIngress.fwd'))).toBe(true);

    stop('SIGTERM');
    await done;
    expect(lines.at(-2)).toBe('p4lb target: SIGTERM, shutting down');
    expect(lines.at(-1)).toContain('1 packets in, 1 out');
    expect(switchEnds.map((p) => p.isClosed)).toEqual([true, true]);
  });

  it('exits 0 on SIGTERM as a process', async () => {
    const script = `
      import { Command } from 'commander';
      import { registerTarget } from ${JSON.stringify(fileURLToPath(new URL('./target.ts', import.meta.url)))};
      const program = new Command('p4lb');
      registerTarget(program);
      await program.parseAsync(['target', '--grpc', '127.0.0.1:0'], { from: 'user' });
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const listening = new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('P4Runtime on')) resolve();
      });
    });
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await Promise.race([listening, exit.then(() => { throw new Error(`exited early: ${stderr}`); })]);
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(stdout).toContain('SIGTERM, shutting down');
  }, 20_000);
});
