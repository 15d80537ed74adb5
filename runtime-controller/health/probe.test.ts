import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { probeEndpoint, probeHttp, probeTcp } from './probe.ts';

const HOST = '127.0.0.1';
const servers: (Server | HttpServer)[] = [];
const sockets = new Set<Socket>();

function listen<S extends Server | HttpServer>(server: S): Promise<number> {
  servers.push(server);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve) => server.listen(0, HOST, () => resolve((server.address() as AddressInfo).port)));
}

function close(server: Server | HttpServer): Promise<void> {
  return new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
}

afterEach(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.splice(0).map(close));
});

/** A port nobody listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const s = createTcpServer();
  const port = await listen(s);
  await close(s);
  return port;
}

describe('probeHttp against a real server', () => {
  it('is healthy on the expected status, unhealthy on another, refused once the server is closed', async () => {
    let status = 200;
    const paths: string[] = [];
    const server = createHttpServer((req, res) => {
      paths.push(req.url ?? '');
      res.statusCode = status;
      res.end('body');
    });
    const port = await listen(server);
    const options = { host: HOST, port, path: '/healthz', expectStatus: 200, timeoutMs: 1000 };

    const up = await probeHttp(options);
    expect(up).toMatchObject({ ok: true, status: 200 });
    expect(up.latencyMs).toBeGreaterThanOrEqual(0);
    expect(paths).toEqual(['/healthz']);

    status = 500;
    expect(await probeHttp(options)).toMatchObject({ ok: false, status: 500, error: 'HTTP 500, expected 200' });

    await close(server);
    const refused = await probeHttp(options);
    expect(refused.ok).toBe(false);
    expect(refused).toMatchObject({ error: expect.stringMatching(/^ECONNREFUSED/) });
  });

  it('times out on a server that accepts but never answers', async () => {
    const port = await listen(createHttpServer(() => {}));
    const result = await probeHttp({ host: HOST, port, path: '/', expectStatus: 200, timeoutMs: 150 });
    expect(result).toMatchObject({ ok: false, error: 'timeout after 150 ms' });
    expect(result.latencyMs).toBeGreaterThanOrEqual(140);
  });

  it('ends early when aborted', async () => {
    const port = await listen(createHttpServer(() => {}));
    const abort = new AbortController();
    const pending = probeHttp({ host: HOST, port, path: '/', expectStatus: 200, timeoutMs: 5000, signal: abort.signal });
    setTimeout(() => abort.abort(), 20);
    expect(await pending).toMatchObject({ ok: false, error: 'aborted' });
  });
});

describe('probeTcp against real sockets', () => {
  it('is healthy when the connection opens', async () => {
    const port = await listen(createTcpServer((s) => s.end()));
    expect(await probeTcp({ host: HOST, port, timeoutMs: 1000 })).toMatchObject({ ok: true });
  });

  it('is unhealthy on a port with nothing listening', async () => {
    const port = await closedPort();
    const result = await probeTcp({ host: HOST, port, timeoutMs: 1000 });
    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/^ECONNREFUSED/) });
  });
});

describe('probeEndpoint', () => {
  it("uses the check's type, path, status and timeout", async () => {
    const server = createHttpServer((req, res) => {
      res.statusCode = req.url === '/ready' ? 204 : 404;
      res.end();
    });
    const port = await listen(server);
    const signal = new AbortController().signal;
    const http = { type: 'http', port, path: '/ready', expectStatus: 204, intervalMs: 1000, timeoutMs: 500, rise: 1, fall: 1 } as const;
    expect(await probeEndpoint({ host: HOST, port }, http, signal)).toMatchObject({ ok: true, status: 204 });
    expect(await probeEndpoint({ host: HOST, port }, { ...http, path: '/other' }, signal)).toMatchObject({ ok: false, status: 404 });
    const tcp = { type: 'tcp', port, intervalMs: 1000, timeoutMs: 500, rise: 1, fall: 1 } as const;
    expect(await probeEndpoint({ host: HOST, port: await closedPort() }, tcp, signal)).toMatchObject({ ok: false });
  });
});
