import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { loadSpecFile } from '../../core/spec/load.ts';
import { SpawnedProcess, type SpawnOptions } from './spawned-process.ts';
import { buildTopology, topologySupport } from './topology.ts';
import { parseTrafficLine, runBulk, runBurst, startHold, TRAFFIC_CLIENT_SCRIPT, type TrafficHost } from './traffic.ts';
import { VM_SERVER_SCRIPT } from './vm-servers.ts';

const node = process.execPath;
const HOST = '127.0.0.1';
const support = await topologySupport();

/** The wrapper's view of a topology, on loopback: the client's namespace is ignored. */
const loopback: TrafficHost = {
  layout: { clients: [{ name: 'client0', netns: 'p4lb-loopback-client0' }] },
  spawn: (_netns: string | undefined, cmd: string, args: readonly string[], options?: SpawnOptions) => new SpawnedProcess(undefined, cmd, args, options),
};

/** A port nothing listens on right now (the kernel's pick, then released). */
async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * `count` consecutive ports that are free now and outside the kernel's ephemeral range, for a
 * client that binds its source ports itself. Inside that range (where listen(0) picks, and where
 * every connect() of a parallel test takes its port) a neighbour is often in use.
 */
async function freePortRange(count: number): Promise<number> {
  const [low] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/).map(Number);
  const ceiling = Math.min(low ?? 32768, 65536) - count;
  for (let attempt = 0; attempt < 50; attempt++) {
    const from = 10_000 + Math.floor(Math.random() * (ceiling - 10_000));
    const probes = await Promise.all(Array.from({ length: count }, (_, i) => bindable(from + i)));
    if (probes.every(Boolean)) return from;
  }
  throw new Error(`no ${count} consecutive free ports below the ephemeral range after 50 attempts`);
}

function bindable(port: number): Promise<boolean> {
  const server = createTcpServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

async function listen<T extends HttpServer | TcpServer>(server: T): Promise<T & { port: number }> {
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  return Object.assign(server, { port: (server.address() as AddressInfo).port });
}

function close(server: HttpServer | TcpServer | undefined): Promise<void> {
  if (server === undefined) return Promise.resolve();
  if ('closeAllConnections' in server) server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** vm-http-server.js as its own process, so a test can kill it under held connections. */
async function startVm(name: string): Promise<{ process: SpawnedProcess; target: string }> {
  const port = await freePort();
  const child = new SpawnedProcess(undefined, node, [VM_SERVER_SCRIPT, '--name', name, '--listen', `${HOST}:${port}`, '--lifetime-ms', '30000']);
  await child.waitForOutput(/^ready /m, 5000);
  return { process: child, target: `${HOST}:${port}` };
}

function runScript(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(node, [TRAFFIC_CLIENT_SCRIPT, ...args], { timeout: 10_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

describe('traffic client on loopback', () => {
  // Answers each new connection with the next name of three (a later request on the same
  // connection with the name after its last one) and notes the client's source port.
  const names = ['vm-a', 'vm-b', 'vm-c'];
  let rotating: HttpServer & { port: number };
  let served = 0;
  const lastOfSocket = new WeakMap<Socket, number>();
  const sourcePorts: number[] = [];

  beforeAll(async () => {
    rotating = await listen(
      createHttpServer((request, response) => {
        request.resume();
        sourcePorts.push(request.socket.remotePort!);
        const last = lastOfSocket.get(request.socket);
        const index = last === undefined ? served++ : last + 1;
        lastOfSocket.set(request.socket, index);
        const name = names[index % names.length]!;
        response.writeHead(200, { 'x-p4lb-vm': name, 'content-type': 'text/plain' });
        response.end(`${name}\n`);
      }),
    );
  });
  afterAll(() => close(rotating));

  const rotatingTarget = (): string => `${HOST}:${rotating.port}`;
  const reset = (): void => {
    served = 0;
    sourcePorts.length = 0;
  };

  it('counts which VM answered each connection of a burst', async () => {
    reset();
    const result = await runBurst(loopback, 'client0', { target: rotatingTarget(), count: 30, concurrency: 6 });
    expect(result).toMatchObject({ count: 30, ok: 30, failed: 0, byVm: { 'vm-a': 10, 'vm-b': 10, 'vm-c': 10 }, errors: {} });
    expect(result.connections).toHaveLength(30);
    expect(result.connections.map((c) => c.i).sort((a, b) => a - b)).toEqual([...Array(30).keys()]);
    expect(new Set(sourcePorts).size).toBe(30);
    const { p50, p90, p99, max } = result.latencyMs;
    expect(p50).not.toBeNull();
    expect(p50! <= p90! && p90! <= p99! && p99! <= max!).toBe(true);
    expect(result.connectionsPerSecond).toBeGreaterThan(0);
  });

  it('reuses one 5-tuple for every connection with --local-port', async () => {
    reset();
    const port = await freePortRange(1);
    const result = await runBurst(loopback, 'client0', { target: { address: HOST, port: rotating.port }, count: 15, concurrency: 4, localPort: port });
    expect(result).toMatchObject({ ok: 15, failed: 0, errors: {}, byVm: { 'vm-a': 5, 'vm-b': 5, 'vm-c': 5 } });
    expect(sourcePorts).toEqual(Array(15).fill(port));
    expect(result.connections.every((c) => c.localPort === port)).toBe(true);
  });

  it('cycles a source-port range, each port carrying one connection at a time', async () => {
    reset();
    const from = await freePortRange(3);
    const result = await runBurst(loopback, 'client0', { target: rotatingTarget(), count: 9, concurrency: 3, sourcePorts: { from, to: from + 2 } });
    expect(result).toMatchObject({ ok: 9, failed: 0, errors: {} });
    const uses = new Map<number, number>();
    for (const p of sourcePorts) uses.set(p, (uses.get(p) ?? 0) + 1);
    expect([...uses.entries()].sort()).toEqual([
      [from, 3],
      [from + 1, 3],
      [from + 2, 3],
    ]);
  });

  it('names the failures of a burst (refused, timeout, reset) and accepts an answer on a connection the server keeps open', async () => {
    // The client's aborts reset these sockets: their errors are expected.
    const silent = await listen(createTcpServer((socket: Socket) => socket.on('error', () => undefined)));
    const resetting = await listen(createTcpServer((socket: Socket) => socket.on('error', () => undefined).on('data', () => socket.resetAndDestroy())));
    // Answers, then ignores `Connection: close`: still an answer, and the client resets the socket.
    const keepsOpen = await listen(
      createTcpServer((socket: Socket) => socket.on('error', () => undefined).once('data', () => socket.write('HTTP/1.1 200 OK\r\nx-p4lb-vm: vm-slow\r\ncontent-length: 0\r\n\r\n'))),
    );
    try {
      const [refused, timedOut, wasReset, keptOpen] = await Promise.all([
        runBurst(loopback, 'client0', { target: `${HOST}:${await freePort()}`, count: 3, concurrency: 3 }),
        runBurst(loopback, 'client0', { target: `${HOST}:${silent.port}`, count: 2, concurrency: 2, timeoutMs: 200 }),
        runBurst(loopback, 'client0', { target: `${HOST}:${resetting.port}`, count: 2, concurrency: 1 }),
        runBurst(loopback, 'client0', { target: `${HOST}:${keepsOpen.port}`, count: 2, concurrency: 2, timeoutMs: 200 }),
      ]);
      expect(refused).toMatchObject({ ok: 0, failed: 3, errors: { refused: 3 }, byVm: {} });
      expect(refused.latencyMs.p50).toBeNull();
      expect(timedOut).toMatchObject({ ok: 0, failed: 2, errors: { timeout: 2 } });
      expect(timedOut.connections[0]!.latencyMs).toBeGreaterThanOrEqual(190);
      expect(wasReset).toMatchObject({ ok: 0, failed: 2, errors: { reset: 2 } });
      expect(keptOpen).toMatchObject({ ok: 2, failed: 0, byVm: { 'vm-slow': 2 } });
    } finally {
      await Promise.all([close(silent), close(resetting), close(keepsOpen)]);
    }
  });

  it('holds keep-alive connections and flags those a different VM answered later, then finishes them cleanly', async () => {
    reset();
    const session = startHold(loopback, 'client0', { target: rotatingTarget(), connections: 3, intervalMs: 50, durationMs: 10_000, progressMs: 200 });
    const ready = await session.ready();
    expect(ready).toMatchObject({ open: 3, broken: 0 });
    const [progress] = (await once(session, 'progress')) as [{ open: number; requests: number; failedRequests: number; requestsByVm: Record<string, number> }];
    expect(progress.open).toBe(3);
    // Answers so far, per VM: they add up to the requests.
    expect(Object.values(progress.requestsByVm).reduce((a, b) => a + b, 0)).toBe(progress.requests - progress.failedRequests);
    expect(session.latest()).toBe(progress);
    const result = await session.finish();
    expect(result).toMatchObject({ endedBy: 'finish', connections: 3, open: 3, broken: 0, finished: 3, failedRequests: 0, vmChanges: 3, brokenDetails: [] });
    expect(result.requests).toBeGreaterThanOrEqual(progress.requests);
    expect(result.changedDetails).toHaveLength(3);
    // One socket per connection, kept for every request.
    expect(new Set(sourcePorts).size).toBe(3);
    expect(sourcePorts.length).toBe(result.requests);
  });

  it('counts held connections broken when their server goes away, and never reopens them', async () => {
    const vm = await startVm('vm-solo');
    try {
      const session = startHold(loopback, 'client0', { target: vm.target, connections: 4, intervalMs: 100, durationMs: 10_000, requestTimeoutMs: 500 });
      expect(await session.ready()).toMatchObject({ open: 4, broken: 0, byVm: { 'vm-solo': 4 } });
      await vm.process.stop();
      const result = await session.finish();
      expect(result).toMatchObject({ connections: 4, open: 0, broken: 4, finished: 0, vmChanges: 0, byVm: { 'vm-solo': 4 } });
      expect(result.brokenDetails).toHaveLength(4);
      for (const broken of result.brokenDetails) expect(broken.reason).toMatch(/^(closed|closed-idle|reset|refused)$/);
    } finally {
      await vm.process.stop();
    }
  });

  it('ends a hold by itself after its duration, and drops everything at once on stop', async () => {
    reset();
    const timed = startHold(loopback, 'client0', { target: rotatingTarget(), connections: 2, intervalMs: 50, durationMs: 300 });
    expect(await timed.result).toMatchObject({ endedBy: 'duration', open: 2, broken: 0, finished: 2 });
    const stopped = startHold(loopback, 'client0', { target: rotatingTarget(), connections: 2, intervalMs: 50, durationMs: 10_000 });
    await stopped.ready();
    expect(await stopped.stop()).toMatchObject({ endedBy: 'stop', open: 0, broken: 0, finished: 0, failedRequests: 0 });
  });

  it('downloads a bulk transfer from vm-http-server and reports its throughput', async () => {
    const vm = await startVm('vm-bulk');
    try {
      const bytes = 16 * 1024 * 1024;
      const result = await runBulk(loopback, 'client0', { target: vm.target, bytes });
      expect(result).toMatchObject({ ok: true, bytes, expectedBytes: bytes, vm: 'vm-bulk' });
      expect(result.bytesPerSecond).toBeGreaterThan(0);
      expect(result.firstByteMs!).toBeLessThanOrEqual(result.elapsedMs);
      // The server refuses a bad size and still answers its name everywhere else.
      const bad = await fetch(`http://${vm.target}/bytes?n=lots`);
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain('n must be an integer');
      const other = await fetch(`http://${vm.target}/bytesize`);
      expect([other.status, await other.text(), other.headers.get('x-p4lb-vm')]).toEqual([200, 'vm-bulk\n', 'vm-bulk']);
      const empty = await runBulk(loopback, 'client0', { target: vm.target, bytes: 0 });
      expect(empty).toMatchObject({ ok: true, bytes: 0 });
    } finally {
      await vm.process.stop();
    }
  });

  it('reports a refused bulk download as a failed result', async () => {
    const result = await runBulk(loopback, 'client0', { target: `${HOST}:${await freePort()}`, bytes: 10 });
    expect(result).toMatchObject({ ok: false, error: 'refused', bytes: 0, vm: null });
  });
});

describe('traffic client arguments', () => {
  it.each([
    [[], /mode: expected burst, hold or bulk/],
    [['flood', '--target', '1.2.3.4:80'], /mode: .*'flood'/],
    [['burst', '--count', '3', '--concurrency', '1'], /--target: required/],
    [['burst', '--target', '1.2.3.4', '--count', '3', '--concurrency', '1'], /--target: expected IP:PORT/],
    [['burst', '--target', '1.2.3.4:80', '--count', '0', '--concurrency', '1'], /--count: 0 is out of range/],
    [['burst', '--target', '1.2.3.4:80', '--count', 'x', '--concurrency', '1'], /--count: expected an integer/],
    [['burst', '--target', '1.2.3.4:80', '--count', '3', '--concurrency', '1', '--local-port', '5', '--source-ports', '5-6'], /--local-port: cannot be combined/],
    [['burst', '--target', '1.2.3.4:80', '--count', '3', '--concurrency', '1', '--source-ports', '9-5'], /--source-ports: 5 < 9/],
    [['burst', '--target', '1.2.3.4:80', '--count', '3', '--concurrency', '1', '--bogus', '1'], /--bogus: unknown option for burst/],
    [['burst', '--target', '1.2.3.4:80', '--count'], /--count: needs a value/],
    [['hold', '--target', '1.2.3.4:80', '--connections', '2', '--interval-ms', '100'], /--duration-ms: required for hold/],
    [['bulk', '--target', '1.2.3.4:80', '--bytes', String(2 ** 30 + 1)], /--bytes: \d+ is out of range 0\.\.1073741824/],
  ])('exits 2 naming the flag: %j', async (args, message) => {
    const { code, stdout, stderr } = await runScript(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
  });

  it('turns bad arguments and unknown clients into E2eErrors in the wrapper', async () => {
    await expect(runBurst(loopback, 'client0', { target: '127.0.0.1:80', count: 0, concurrency: 1 })).rejects.toMatchObject({
      code: 'E2E_COMMAND_FAILED',
      message: expect.stringMatching(/traffic-client burst in client0: bad arguments: .*--count/),
    });
    expect(() => startHold(loopback, 'client1', { target: '127.0.0.1:80', connections: 1, intervalMs: 10, durationMs: 10 })).toThrow(
      expect.objectContaining({ code: 'E2E_UNKNOWN_NAME', hint: expect.stringContaining('client0') }),
    );
  });
});

describe('parseTrafficLine', () => {
  it('reads the lines the script prints', () => {
    expect(parseTrafficLine('{"type":"connection","i":3,"localPort":40000,"ok":false,"error":"reset","latencyMs":1.5}')).toEqual({
      type: 'connection',
      i: 3,
      localPort: 40000,
      ok: false,
      error: 'reset',
      latencyMs: 1.5,
    });
    expect(parseTrafficLine('{"type":"hold-progress","t":1000.5,"open":2,"broken":1,"requests":40,"failedRequests":1,"requestsByVm":{"vm-a1":39}}')).toMatchObject({ type: 'hold-progress', broken: 1, requestsByVm: { 'vm-a1': 39 } });
  });

  it('rejects a line that is not JSON, has an unknown type or misses a field, quoting it', () => {
    expect(() => parseTrafficLine('Segmentation fault')).toThrow(/not JSON: Segmentation fault/);
    expect(() => parseTrafficLine('{"type":"surprise"}')).toThrow(expect.objectContaining({ code: 'E2E_COMMAND_FAILED', message: expect.stringMatching(/type/) }));
    expect(() => parseTrafficLine('{"type":"bulk-result","ok":true,"bytes":5}')).toThrow(/expectedBytes/);
  });
});

describe.skipIf(!support.ok)(`traffic in a real topology${support.ok ? '' : ` — skipped: ${support.reason}`}`, () => {
  it('runs a burst, a fixed-port burst and a hold from client0 to a server in client1, through the router', async () => {
    const spec = await loadSpecFile(fileURLToPath(new URL('../../examples/example.yaml', import.meta.url)));
    const topology = await buildTopology(spec, { clients: 2 });
    try {
      const peer = topology.layout.clients[1]!;
      const server = topology.spawn(peer.netns, node, [VM_SERVER_SCRIPT, '--name', 'peer', '--listen', `${peer.address}:8080`, '--lifetime-ms', '60000']);
      await server.waitForOutput(/^ready /m, 10_000);
      const target = { address: peer.address, port: 8080 };
      expect(await runBurst(topology, 'client0', { target, count: 10, concurrency: 5 })).toMatchObject({ ok: 10, byVm: { peer: 10 } });
      const fixed = await runBurst(topology, 'client0', { target, count: 5, concurrency: 1, localPort: 41000 });
      expect(fixed).toMatchObject({ ok: 5, failed: 0 });
      expect(fixed.connections.every((c) => c.localPort === 41000)).toBe(true);
      const hold = startHold(topology, 'client0', { target, connections: 2, intervalMs: 100, durationMs: 10_000 });
      expect(await hold.ready()).toMatchObject({ open: 2, byVm: { peer: 2 } });
      expect(await hold.finish()).toMatchObject({ open: 2, broken: 0, finished: 2 });
    } finally {
      await topology.destroy();
    }
  }, 30_000);
});
