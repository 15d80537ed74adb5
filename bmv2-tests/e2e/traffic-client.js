/* global setTimeout, clearTimeout, setInterval, clearInterval, Buffer, performance */
// Traffic for end-to-end tests, run with plain `node` inside a client namespace; one JSON object a
// line on stdout. Every mode ends by itself (--max-ms, default 2 minutes).
//   node traffic-client.js burst --target IP:PORT --count N --concurrency C [--timeout-ms T]
//                                [--local-port P | --source-ports A-B] [--max-ms M]
//     N new connections, one `GET /` with `Connection: close` each, at most C in flight. Lines:
//     {"type":"connection",...} per connection, then {"type":"burst-result",...}.
//     With a fixed source port (or a range) each port carries one connection at a time and is
//     reused only when the kernel has forgotten the previous socket: the server closes first
//     (Connection: close), so TIME_WAIT stays on the server and the client's 5-tuple is free
//     again; a client-side abort sends RST, which leaves no TIME_WAIT either.
//   node traffic-client.js hold --target IP:PORT --connections K --interval-ms I --duration-ms D
//                               [--request-timeout-ms T] [--progress-ms P] [--max-ms M]
//     K keep-alive connections, a `GET /` on each every I ms (staggered). A connection whose
//     request fails, times out, or that closes is broken and not reopened. stdin `finish`: each
//     connection completes its in-flight request, then closes; stdin `stop`: everything is
//     dropped at once. Lines: hold-ready (every connection answered once or broke), hold-progress
//     (every P ms, default 1000, with the requests answered per VM so far), hold-result.
//   node traffic-client.js bulk --target IP:PORT --bytes N [--timeout-ms T] [--max-ms M]
//     Downloads `GET /bytes?n=N` (vm-http-server.js) over one connection: {"type":"bulk-result",...}.
// Bad arguments: exit status 2 and a message on stderr naming the flag.
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const DEFAULT_MAX_MS = 120_000;
const DEFAULT_TIMEOUT_MS = 2000;
const DEFAULT_BULK_IDLE_MS = 10_000;
const PROGRESS_EVERY_MS = 1000;
const MAX_BULK_BYTES = 1024 ** 3;
/** How long a fixed source port may stay in the kernel's tables after close (LAST_ACK on a slow path). */
const PORT_RELEASE_WAIT_MS = 2000;
const PORT_RELEASE_POLL_MS = 5;
/** A polite close waits this long for the peer's FIN before dropping the socket. */
const CLOSE_WAIT_MS = 1000;
const BROKEN_DETAILS = 10;
/** Enough of a body to read a VM name from. */
const KEEP_BODY_BYTES = 1024;

class UsageError extends Error {}

const FLAGS = {
  burst: { required: ['--target', '--count', '--concurrency'], optional: ['--timeout-ms', '--local-port', '--source-ports', '--max-ms'] },
  hold: { required: ['--target', '--connections', '--interval-ms', '--duration-ms'], optional: ['--request-timeout-ms', '--progress-ms', '--max-ms'] },
  bulk: { required: ['--target', '--bytes'], optional: ['--timeout-ms', '--max-ms'] },
};

function integer(flag, value, min, max) {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag}: expected an integer, got '${value}'`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`${flag}: ${value} is out of range ${min}..${max}`);
  return n;
}

function target(flag, value) {
  const colon = value.lastIndexOf(':');
  if (colon < 1) throw new UsageError(`${flag}: expected IP:PORT, got '${value}'`);
  return { host: value.slice(0, colon), port: integer(flag, value.slice(colon + 1), 1, 65535) };
}

export function parseArgs(argv) {
  const [mode, ...rest] = argv;
  if (mode === undefined || !(mode in FLAGS)) throw new UsageError(`mode: expected burst, hold or bulk, got '${mode ?? ''}'`);
  const { required, optional } = FLAGS[mode];
  const values = new Map();
  for (let i = 0; i < rest.length; i += 2) {
    const flag = rest[i];
    if (!required.includes(flag) && !optional.includes(flag)) throw new UsageError(`${flag}: unknown option for ${mode} (known: ${[...required, ...optional].join(' ')})`);
    if (rest[i + 1] === undefined) throw new UsageError(`${flag}: needs a value`);
    if (values.has(flag)) throw new UsageError(`${flag}: given twice`);
    values.set(flag, rest[i + 1]);
  }
  for (const flag of required) if (!values.has(flag)) throw new UsageError(`${flag}: required for ${mode}`);
  const get = (flag, min, max, fallback) => (values.has(flag) ? integer(flag, values.get(flag), min, max) : fallback);
  const options = { mode, target: target('--target', values.get('--target')), maxMs: get('--max-ms', 1, 24 * 3600 * 1000, DEFAULT_MAX_MS) };
  if (mode === 'burst') {
    options.count = get('--count', 1, 10_000_000);
    options.concurrency = get('--concurrency', 1, 10_000);
    options.timeoutMs = get('--timeout-ms', 1, 3_600_000, DEFAULT_TIMEOUT_MS);
    if (values.has('--local-port') && values.has('--source-ports')) throw new UsageError('--local-port: cannot be combined with --source-ports');
    if (values.has('--local-port')) {
      const port = get('--local-port', 1, 65535);
      options.sourcePorts = { from: port, to: port };
    } else if (values.has('--source-ports')) {
      const match = /^(\d+)-(\d+)$/.exec(values.get('--source-ports'));
      if (match === null) throw new UsageError(`--source-ports: expected A-B, got '${values.get('--source-ports')}'`);
      const from = integer('--source-ports', match[1], 1, 65535);
      const to = integer('--source-ports', match[2], 1, 65535);
      if (to < from) throw new UsageError(`--source-ports: ${to} < ${from}`);
      options.sourcePorts = { from, to };
    }
  } else if (mode === 'hold') {
    options.connections = get('--connections', 1, 10_000);
    options.intervalMs = get('--interval-ms', 1, 3_600_000);
    options.durationMs = get('--duration-ms', 1, 24 * 3600 * 1000);
    options.requestTimeoutMs = get('--request-timeout-ms', 1, 3_600_000, DEFAULT_TIMEOUT_MS);
    options.progressMs = get('--progress-ms', 50, 3_600_000, PROGRESS_EVERY_MS);
  } else {
    options.bytes = get('--bytes', 0, MAX_BULK_BYTES);
    options.timeoutMs = get('--timeout-ms', 1, 3_600_000, DEFAULT_BULK_IDLE_MS);
  }
  return options;
}

function emit(object) {
  // Pipes and files are written synchronously on Linux, so an exit right after loses nothing.
  process.stdout.write(`${JSON.stringify(object)}\n`);
}

function elapsed(since) {
  return Math.round((performance.now() - since) * 1000) / 1000;
}

/** A socket error as the word a scenario checks for. */
function classify(error) {
  switch (error?.code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'EADDRINUSE':
    case 'EADDRNOTAVAIL':
      return 'address-in-use';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'unreachable';
    default:
      return error?.code ?? 'error';
  }
}

/** Drops a socket without leaving TIME_WAIT behind: RST once connected, plain close while connecting. */
function abort(socket) {
  if (socket.destroyed) return;
  if (socket.connecting || socket.pending) socket.destroy();
  else socket.resetAndDestroy();
}

function request(target, path, close) {
  return `GET ${path} HTTP/1.1\r\nHost: ${target.host}:${target.port}\r\nUser-Agent: p4lb-traffic-client\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
}

/**
 * An incremental HTTP/1.1 response reader for one response at a time: Content-Length, chunked, or
 * until close. Counts the body and keeps its first KEEP_BODY_BYTES (a VM name fits).
 */
function createResponseReader(onResponse, onBodyBytes = () => {}) {
  let head = Buffer.alloc(0);
  let response;
  let mode; // 'length' | 'chunked' | 'close'
  let remaining = 0;
  let chunkStage = 'size'; // 'size' | 'data' | 'crlf' | 'trailer'
  let line = '';

  const body = (bytes) => {
    response.bodyBytes += bytes.length;
    if (response.kept.length < KEEP_BODY_BYTES) response.kept = Buffer.concat([response.kept, bytes.subarray(0, KEEP_BODY_BYTES - response.kept.length)]);
    onBodyBytes(bytes.length);
  };
  const complete = () => {
    const done = response;
    response = undefined;
    head = Buffer.alloc(0);
    onResponse({ status: done.status, headers: done.headers, body: done.kept.toString('utf8'), bodyBytes: done.bodyBytes });
  };
  const parseHead = (text) => {
    const [statusLine, ...lines] = text.split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    if (match === null) throw new Error(`bad status line '${statusLine.slice(0, 80)}'`);
    const headers = {};
    for (const l of lines) {
      const colon = l.indexOf(':');
      if (colon > 0) headers[l.slice(0, colon).trim().toLowerCase()] = l.slice(colon + 1).trim();
    }
    response = { status: Number(match[1]), headers, bodyBytes: 0, kept: Buffer.alloc(0) };
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      mode = 'chunked';
      chunkStage = 'size';
      line = '';
    } else if (headers['content-length'] !== undefined) {
      mode = 'length';
      remaining = Number(headers['content-length']);
      if (!Number.isSafeInteger(remaining) || remaining < 0) throw new Error(`bad content-length '${headers['content-length']}'`);
    } else mode = 'close';
  };

  const push = (data) => {
    let rest = data;
    while (rest.length > 0) {
      if (response === undefined) {
        head = Buffer.concat([head, rest]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > 64 * 1024) throw new Error('response head larger than 64 KiB');
          return;
        }
        rest = head.subarray(end + 4);
        parseHead(head.subarray(0, end).toString('latin1'));
        if (mode === 'length' && remaining === 0) complete();
        continue;
      }
      if (mode === 'close') {
        body(rest);
        return;
      }
      if (mode === 'length') {
        const take = rest.subarray(0, remaining);
        body(take);
        remaining -= take.length;
        rest = rest.subarray(take.length);
        if (remaining === 0) complete();
        continue;
      }
      // chunked
      if (chunkStage === 'data') {
        const take = rest.subarray(0, remaining);
        body(take);
        remaining -= take.length;
        rest = rest.subarray(take.length);
        if (remaining === 0) chunkStage = 'crlf';
        continue;
      }
      const newline = rest.indexOf('\n');
      if (newline < 0) {
        line += rest.toString('latin1');
        return;
      }
      line += rest.subarray(0, newline + 1).toString('latin1');
      rest = rest.subarray(newline + 1);
      const text = line.trim();
      line = '';
      if (chunkStage === 'crlf') chunkStage = 'size';
      else if (chunkStage === 'size') {
        remaining = parseInt(text.split(';')[0], 16);
        if (!Number.isSafeInteger(remaining)) throw new Error(`bad chunk size '${text.slice(0, 20)}'`);
        chunkStage = remaining === 0 ? 'trailer' : 'data';
      } else if (text === '') complete();
    }
  };
  return {
    push,
    /** The connection ended: completes a close-delimited body; false when a response was cut short. */
    end() {
      if (response !== undefined && mode === 'close') {
        complete();
        return true;
      }
      return response === undefined && head.length === 0;
    },
    get idle() {
      return response === undefined && head.length === 0;
    },
  };
}

function vmOf(response) {
  return response.headers['x-p4lb-vm'] ?? response.body.trim();
}

/** Whether the kernel still holds a TCP socket from local port `port` to remote port `remotePort`. */
function portHeld(port, remotePort) {
  const hex = (n) => n.toString(16).toUpperCase().padStart(4, '0');
  const local = `:${hex(port)}`;
  const remote = `:${hex(remotePort)}`;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const row of text.split('\n').slice(1)) {
      const fields = row.trim().split(/\s+/);
      if (fields.length > 2 && fields[1].endsWith(local) && fields[2].endsWith(remote)) return true;
    }
  }
  return false;
}

async function waitPortReleased(port, remotePort) {
  const deadline = performance.now() + PORT_RELEASE_WAIT_MS;
  while (portHeld(port, remotePort) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, PORT_RELEASE_POLL_MS));
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function increment(map, key) {
  map[key] = (map[key] ?? 0) + 1;
}

/** One connection, one request; resolves with what happened (never rejects). */
function oneRequest(options, index, localPort) {
  return new Promise((resolve) => {
    const started = performance.now();
    let settled = false;
    const socket = connect({ host: options.target.host, port: options.target.port, ...(localPort === undefined ? {} : { localPort }) });
    const finish = (outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Latency is to the complete answer, not to the close that follows it.
      const latencyMs = outcome.ok ? answeredMs : elapsed(started);
      const record = { type: 'connection', i: index, localPort: localPort ?? socket.localPort ?? null, ...outcome, latencyMs };
      if (outcome.ok) {
        // Wait for our own close so a reused source port is free; the server closes first.
        if (socket.destroyed) resolve(record);
        else {
          socket.once('close', () => resolve(record));
          socket.end();
          setTimeout(() => abort(socket), CLOSE_WAIT_MS).unref();
        }
      } else {
        abort(socket);
        resolve(record);
      }
    };
    let answered;
    let answeredMs;
    const reader = createResponseReader((response) => {
      answered = response;
      answeredMs = elapsed(started);
    });
    const outcomeOf = (response) =>
      response === undefined ? { ok: false, error: 'closed' } : response.status !== 200 ? { ok: false, error: `http-${response.status}`, vm: vmOf(response) } : { ok: true, vm: vmOf(response) };
    const timer = setTimeout(() => {
      if (answered === undefined || !reader.idle) return finish({ ok: false, error: 'timeout' });
      // Answered, but the server ignored `Connection: close`: a reset frees the port without TIME_WAIT.
      abort(socket);
      finish(outcomeOf(answered));
    }, options.timeoutMs);
    socket.on('connect', () => socket.write(request(options.target, '/', true)));
    socket.on('data', (data) => {
      try {
        reader.push(data);
      } catch (error) {
        finish({ ok: false, error: 'bad-response', detail: error.message });
      }
    });
    socket.on('end', () => {
      reader.end();
      finish(outcomeOf(answered));
    });
    socket.on('error', (error) => finish({ ok: false, error: classify(error), detail: error.message }));
    socket.on('close', () => finish({ ok: false, error: answered === undefined ? 'closed' : 'reset' }));
  });
}

async function runBurst(options, deadline) {
  const started = performance.now();
  const byVm = {};
  const errors = {};
  const latencies = [];
  let ok = 0;
  let failed = 0;
  let next = 0;
  // Free source ports, in order of use: a FIFO cycles through the range.
  const ports = [];
  if (options.sourcePorts !== undefined) for (let p = options.sourcePorts.from; p <= options.sourcePorts.to; p++) ports.push(p);
  const workers = Math.min(options.concurrency, options.count, options.sourcePorts === undefined ? Infinity : ports.length);
  const worker = async () => {
    while (next < options.count && !deadline.passed) {
      const index = next++;
      const localPort = ports.shift();
      if (localPort !== undefined) await waitPortReleased(localPort, options.target.port);
      const record = await oneRequest(options, index, localPort);
      if (localPort !== undefined) ports.push(localPort);
      emit(record);
      if (record.ok) {
        ok++;
        increment(byVm, record.vm);
        latencies.push(record.latencyMs);
      } else {
        failed++;
        increment(errors, record.error);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  const elapsedMs = elapsed(started);
  latencies.sort((a, b) => a - b);
  emit({
    type: 'burst-result',
    count: options.count,
    ok,
    failed,
    byVm,
    errors,
    elapsedMs,
    connectionsPerSecond: Math.round(((ok + failed) / Math.max(elapsedMs, 0.001)) * 1000 * 10) / 10,
    latencyMs: { p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99), max: latencies.at(-1) ?? null },
    ...(deadline.passed ? { stoppedBy: 'max-ms' } : {}),
  });
}

class HoldConnection {
  constructor(id, options, started, stats) {
    this.id = id;
    this.options = options;
    this.started = started;
    this.stats = stats;
    this.state = 'connecting'; // connecting | open | finishing | closed | broken
    this.firstVm = undefined;
    this.vmChanged = false;
    this.requests = 0;
    this.inFlight = undefined; // { timer }
    this.nextTimer = undefined;
    this.lastSent = 0;
    this.answeredOnce = false;
    this.settledOnce = new Promise((resolve) => (this.onSettledOnce = resolve));
    this.closed = new Promise((resolve) => (this.onClosed = resolve));
    this.reader = createResponseReader((response) => this.answered(response));
    this.socket = connect({ host: options.target.host, port: options.target.port });
    this.socket.setNoDelay(true);
    this.connectTimer = setTimeout(() => this.break('timeout'), options.requestTimeoutMs);
    this.socket.on('connect', () => {
      clearTimeout(this.connectTimer);
      if (this.state !== 'connecting') return;
      this.state = 'open';
      this.localPort = this.socket.localPort;
      // Staggered: connection i starts i/K of an interval after the start.
      const offset = (this.id * options.intervalMs) / options.connections;
      this.schedule(Math.max(0, this.started + offset - performance.now()));
    });
    this.socket.on('data', (data) => {
      try {
        this.reader.push(data);
      } catch (error) {
        this.break('bad-response', error.message);
      }
    });
    this.socket.on('end', () => this.break(this.inFlight === undefined ? 'closed-idle' : 'closed'));
    this.socket.on('error', (error) => this.break(classify(error), error.message));
    this.socket.on('close', () => {
      this.break(this.inFlight === undefined ? 'closed-idle' : 'closed');
      this.onClosed();
    });
  }

  get healthy() {
    return this.state === 'open' || this.state === 'finishing' || this.state === 'connecting' || (this.state === 'closed' && this.finished);
  }

  schedule(delayMs) {
    clearTimeout(this.nextTimer);
    this.nextTimer = setTimeout(() => this.send(), delayMs);
  }

  send() {
    if (this.state !== 'open' || this.inFlight !== undefined) return;
    this.lastSent = performance.now();
    this.inFlight = { timer: setTimeout(() => this.break('timeout'), this.options.requestTimeoutMs) };
    this.socket.write(request(this.options.target, '/', false));
  }

  answered(response) {
    if (this.inFlight === undefined) return this.break('unexpected-response');
    clearTimeout(this.inFlight.timer);
    this.inFlight = undefined;
    if (response.status !== 200) {
      this.stats.failedRequests++;
      return this.break(`http-${response.status}`);
    }
    this.requests++;
    this.stats.requests++;
    const vm = vmOf(response);
    increment(this.stats.requestsByVm, vm);
    if (this.firstVm === undefined) this.firstVm = vm;
    else if (vm !== this.firstVm && !this.vmChanged) {
      this.vmChanged = true;
      this.changedTo = vm;
    }
    if (!this.answeredOnce) {
      this.answeredOnce = true;
      this.onSettledOnce();
    }
    if (this.state === 'finishing') this.close();
    else this.schedule(Math.max(0, this.lastSent + this.options.intervalMs - performance.now()));
  }

  break(reason, detail) {
    if (this.state === 'broken' || this.state === 'closed') return;
    this.state = 'broken';
    if (this.inFlight !== undefined) {
      clearTimeout(this.inFlight.timer);
      this.inFlight = undefined;
      this.stats.failedRequests++;
    }
    clearTimeout(this.nextTimer);
    clearTimeout(this.connectTimer);
    this.brokenDetail = {
      connection: this.id,
      localPort: this.localPort ?? null,
      vm: this.firstVm ?? null,
      reason,
      ...(detail === undefined ? {} : { detail }),
      atMs: elapsed(this.started),
      requests: this.requests,
    };
    this.onSettledOnce();
    abort(this.socket);
  }

  /** Completes the in-flight request (bounded by its timeout), then closes. */
  finish() {
    if (this.state === 'connecting') {
      this.state = 'closed';
      this.finished = false;
      abort(this.socket);
    } else if (this.state === 'open') {
      clearTimeout(this.nextTimer);
      this.state = 'finishing';
      if (this.inFlight === undefined) this.close();
    }
    return this.closed;
  }

  close() {
    this.state = 'closed';
    this.finished = true;
    clearTimeout(this.nextTimer);
    this.socket.end();
    setTimeout(() => abort(this.socket), CLOSE_WAIT_MS).unref();
  }

  drop() {
    clearTimeout(this.nextTimer);
    clearTimeout(this.connectTimer);
    if (this.inFlight !== undefined) clearTimeout(this.inFlight.timer);
    if (this.state !== 'broken') {
      this.finished = false;
      this.state = 'closed';
    }
    abort(this.socket);
  }
}

async function runHold(options, deadline) {
  const started = performance.now();
  const stats = { requests: 0, failedRequests: 0, requestsByVm: {} };
  const connections = Array.from({ length: options.connections }, (_, id) => new HoldConnection(id, options, started, stats));
  const counts = () => {
    const broken = connections.filter((c) => c.state === 'broken').length;
    return { open: connections.filter((c) => c.healthy).length, broken, requests: stats.requests, failedRequests: stats.failedRequests };
  };
  const byVm = () => {
    const result = {};
    for (const c of connections) if (c.firstVm !== undefined) increment(result, c.firstVm);
    return result;
  };
  let ended = false;
  void Promise.all(connections.map((c) => c.settledOnce)).then(() => {
    if (!ended) emit({ type: 'hold-ready', t: elapsed(started), ...counts(), byVm: byVm() });
  });
  const progress = setInterval(() => emit({ type: 'hold-progress', t: elapsed(started), ...counts(), requestsByVm: { ...stats.requestsByVm } }), options.progressMs);
  const end = async (endedBy) => {
    if (ended) return;
    ended = true;
    clearInterval(progress);
    clearTimeout(durationTimer);
    if (endedBy === 'stop' || endedBy === 'max-ms') for (const c of connections) c.drop();
    else await Promise.race([Promise.all(connections.map((c) => c.finish())), new Promise((resolve) => setTimeout(resolve, options.requestTimeoutMs + CLOSE_WAIT_MS))]);
    const broken = connections.filter((c) => c.state === 'broken');
    emit({
      type: 'hold-result',
      endedBy,
      elapsedMs: elapsed(started),
      connections: connections.length,
      ...counts(),
      finished: connections.filter((c) => c.finished === true).length,
      vmChanges: connections.filter((c) => c.vmChanged).length,
      byVm: byVm(),
      requestsByVm: stats.requestsByVm,
      changedDetails: connections.filter((c) => c.vmChanged).slice(0, BROKEN_DETAILS).map((c) => ({ connection: c.id, from: c.firstVm, to: c.changedTo })),
      brokenDetails: broken.slice(0, BROKEN_DETAILS).map((c) => c.brokenDetail),
    });
    process.exit(0);
  };
  const durationTimer = setTimeout(() => void end('duration'), options.durationMs);
  deadline.onPass = () => void end('max-ms');
  createInterface({ input: process.stdin }).on('line', (line) => {
    const command = line.trim();
    if (command === 'stop' || command === 'finish') void end(command);
  });
  // stdin may be /dev/null (nothing to read) or a pipe; its end is not a command.
  process.stdin.on('error', () => {});
}

function runBulk(options) {
  return new Promise((resolve) => {
    const started = performance.now();
    let firstByteMs = null;
    let bytes = 0;
    let answered;
    let settled = false;
    const socket = connect({ host: options.target.host, port: options.target.port });
    const done = (outcome) => {
      if (settled) return;
      settled = true;
      const elapsedMs = elapsed(started);
      emit({
        type: 'bulk-result',
        expectedBytes: options.bytes,
        bytes,
        elapsedMs,
        firstByteMs,
        bytesPerSecond: Math.round(bytes / (Math.max(elapsedMs, 0.001) / 1000)),
        vm: answered === undefined ? null : (answered.headers['x-p4lb-vm'] ?? null),
        ...outcome,
      });
      abort(socket);
      resolve();
    };
    socket.setTimeout(options.timeoutMs, () => done({ ok: false, error: 'timeout' }));
    const reader = createResponseReader(
      (response) => {
        answered = response;
        if (response.status !== 200) done({ ok: false, error: `http-${response.status}`, detail: response.body.trim() });
        else if (response.bodyBytes !== options.bytes) done({ ok: false, error: 'short-body' });
        else done({ ok: true });
      },
      (n) => {
        if (firstByteMs === null) firstByteMs = elapsed(started);
        bytes += n;
      },
    );
    socket.on('connect', () => socket.write(request(options.target, `/bytes?n=${options.bytes}`, true)));
    socket.on('data', (data) => {
      try {
        reader.push(data);
      } catch (error) {
        done({ ok: false, error: 'bad-response', detail: error.message });
      }
    });
    socket.on('end', () => {
      reader.end();
      done({ ok: false, error: 'closed' });
    });
    socket.on('error', (error) => done({ ok: false, error: classify(error), detail: error.message }));
    socket.on('close', () => done({ ok: false, error: 'closed' }));
  });
}

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`traffic-client: ${error.message}\n`);
    process.exit(2);
  }
  const deadline = { passed: false, onPass: undefined };
  // The safety net: whatever hangs, the process ends; burst and bulk print what they have.
  setTimeout(() => {
    deadline.passed = true;
    if (deadline.onPass !== undefined) return deadline.onPass();
    if (options.mode === 'bulk') emit({ type: 'bulk-result', ok: false, error: 'max-ms', expectedBytes: options.bytes, bytes: 0, elapsedMs: options.maxMs, firstByteMs: null, bytesPerSecond: 0, vm: null });
    else setTimeout(() => process.exit(3), options.timeoutMs + CLOSE_WAIT_MS).unref();
    if (options.mode === 'bulk') process.exit(3);
  }, options.maxMs).unref();
  if (options.mode === 'burst') await runBurst(options, deadline);
  else if (options.mode === 'bulk') await runBulk(options);
  else return runHold(options, deadline);
  process.exit(0);
}

await main();
