/* global setTimeout, Buffer, URL */
// A VM's services for end-to-end tests, run with plain `node` inside the VM's namespace:
//   node vm-http-server.js --name vm-a1 --listen 203.0.113.10:80 --listen 192.168.1.11:80 [--lifetime-ms N]
//                          [--keep-alive-ms N]
// Every listener answers any HTTP request with 200 and the VM's name, which is what a client of a
// VIP checks to learn which backend served it (and what an HTTP or TCP health check needs).
// The one exception, for throughput tests: `GET /bytes?n=N` streams N zero bytes (N ≤ 1 GiB).
// An idle keep-alive connection is closed after --keep-alive-ms (default 1 s): a client that
// holds connections open must send more often than that.
// Prints "ready" once every listener is open. Ends on SIGTERM/SIGINT, and by itself after
// --lifetime-ms (default 10 minutes) so a server whose owner died cannot live on.
import { createServer } from 'node:http';

const DEFAULT_LIFETIME_MS = 10 * 60 * 1000;
const DEFAULT_KEEP_ALIVE_MS = 1000;
const MAX_BYTES = 1024 ** 3;
const ZEROS = Buffer.alloc(64 * 1024);

function parseArgs(argv) {
  const options = { name: undefined, listen: [], lifetimeMs: DEFAULT_LIFETIME_MS, keepAliveMs: DEFAULT_KEEP_ALIVE_MS };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--name') options.name = value;
    else if (flag === '--listen') {
      const colon = value.lastIndexOf(':');
      const port = Number(value.slice(colon + 1));
      if (colon < 1 || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad --listen ${value}, expected address:port`);
      options.listen.push({ host: value.slice(0, colon), port });
    } else if (flag === '--lifetime-ms') options.lifetimeMs = Number(value);
    else if (flag === '--keep-alive-ms') {
      options.keepAliveMs = Number(value);
      if (!Number.isInteger(options.keepAliveMs) || options.keepAliveMs < 1) throw new Error(`bad --keep-alive-ms ${value}, expected a positive integer`);
    }
    else throw new Error(`unknown option ${flag}`);
  }
  if (options.name === undefined || options.listen.length === 0) throw new Error('--name and at least one --listen are required');
  return options;
}

let options;
try {
  options = parseArgs(process.argv.slice(2));
} catch (error) {
  console.error(`vm-http-server: ${error.message}`);
  process.exit(2);
}

const servers = options.listen.map(({ host, port }) => {
  const server = createServer((request, response) => {
    request.resume();
    if (request.url === '/bytes' || request.url?.startsWith('/bytes?')) return sendBytes(request, response);
    response.writeHead(200, { 'content-type': 'text/plain', 'x-p4lb-vm': options.name });
    response.end(`${options.name}\n`);
  });
  server.keepAliveTimeout = options.keepAliveMs;
  return new Promise((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`${host}:${port}: ${error.message}`)));
    server.listen(port, host, () => resolve(server));
  });
});

/** `GET /bytes?n=N`: N zero bytes, written as the client takes them. */
function sendBytes(request, response) {
  const n = new URL(request.url, 'http://vm').searchParams.get('n') ?? '';
  if (!/^\d+$/.test(n) || Number(n) > MAX_BYTES) {
    response.writeHead(400, { 'content-type': 'text/plain', 'x-p4lb-vm': options.name });
    response.end(`n must be an integer from 0 to ${MAX_BYTES}\n`);
    return;
  }
  let left = Number(n);
  response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(left), 'x-p4lb-vm': options.name });
  const pump = () => {
    while (left > 0 && !response.destroyed) {
      const size = Math.min(left, ZEROS.length);
      left -= size;
      if (!response.write(size === ZEROS.length ? ZEROS : ZEROS.subarray(0, size))) {
        response.once('drain', pump);
        return;
      }
    }
    response.end();
  };
  pump();
}

let listening = [];
function stop(code) {
  for (const server of listening) server.closeAllConnections?.();
  for (const server of listening) server.close();
  process.exit(code);
}

Promise.all(servers).then(
  (all) => {
    listening = all;
    console.log(`ready ${options.name} ${options.listen.map((l) => `${l.host}:${l.port}`).join(' ')}`);
  },
  (error) => {
    console.error(`vm-http-server: cannot listen on ${error.message}`);
    process.exit(1);
  },
);

process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
setTimeout(() => stop(0), options.lifetimeMs).unref();
