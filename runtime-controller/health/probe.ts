/**
 * The I/O half of health checking: one TCP connect or one HTTP GET against a real server, with
 * a per-probe timeout. Failures are results, not exceptions: the state machine counts them.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { HealthCheck } from '../../core/spec/schema.ts';
import type { ProbeResult } from './health-state.ts';

/** Where a probe goes: the resolved address (see HealthMonitor's resolver) and port. */
export interface ProbeEndpoint {
  readonly host: string;
  readonly port: number;
}

/** One probe of `endpoint` with `check`'s method and timeout; `signal` abandons it early. */
export type Prober = (endpoint: ProbeEndpoint, check: HealthCheck, signal: AbortSignal) => Promise<ProbeResult>;

interface ProbeOptions extends ProbeEndpoint {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface HttpProbeOptions extends ProbeOptions {
  readonly path: string;
  readonly expectStatus: number;
}

/** `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9` style text: the code first, for grouping in logs. */
function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code !== undefined && !err.message.startsWith(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/**
 * Runs `start` with a settle-once result, a timeout and abort support; `cleanup` releases the
 * socket whichever way the probe ends.
 */
function runProbe(
  options: ProbeOptions,
  start: (finish: (result: ProbeResult) => void, elapsed: () => number) => () => void,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const begin = performance.now();
    const elapsed = () => Math.round((performance.now() - begin) * 1000) / 1000;
    let done = false;
    let cleanup: () => void = () => {};
    const finish = (result: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      cleanup();
      resolve(result);
    };
    const onAbort = () => finish({ ok: false, latencyMs: elapsed(), error: 'aborted' });
    const timer = setTimeout(
      () => finish({ ok: false, latencyMs: elapsed(), error: `timeout after ${options.timeoutMs} ms` }),
      options.timeoutMs,
    );
    if (options.signal?.aborted) {
      onAbort();
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    cleanup = start(finish, elapsed);
    // `start` may have finished synchronously before cleanup was known.
    if (done) cleanup();
  });
}

/** Healthy when a TCP connection to host:port opens within the timeout. */
export function probeTcp(options: ProbeOptions): Promise<ProbeResult> {
  return runProbe(options, (finish, elapsed) => {
    const socket = connect({ host: options.host, port: options.port });
    socket.once('connect', () => finish({ ok: true, latencyMs: elapsed() }));
    // `on`, not `once`: destroy() after a first error may emit another.
    socket.on('error', (err) => finish({ ok: false, latencyMs: elapsed(), error: errorText(err) }));
    return () => socket.destroy();
  });
}

/** Healthy when a GET of `path` answers `expectStatus` (headers only; the body is discarded) within the timeout. */
export function probeHttp(options: HttpProbeOptions): Promise<ProbeResult> {
  return runProbe(options, (finish, elapsed) => {
    const req = request({
      host: options.host,
      port: options.port,
      path: options.path,
      method: 'GET',
      // A fresh connection per probe: a kept-alive socket would hide a server that stopped accepting.
      agent: false,
      headers: { connection: 'close', 'user-agent': 'p4lb-health' },
    });
    req.once('response', (res) => {
      res.on('error', () => {});
      res.resume();
      const status = res.statusCode ?? 0;
      finish(
        status === options.expectStatus
          ? { ok: true, latencyMs: elapsed(), status }
          : { ok: false, latencyMs: elapsed(), status, error: `HTTP ${status}, expected ${options.expectStatus}` },
      );
    });
    req.on('error', (err) => finish({ ok: false, latencyMs: elapsed(), error: errorText(err) }));
    req.end();
    return () => req.destroy();
  });
}

/** The prober the monitor uses by default: the spec's check type against a real endpoint. */
export const probeEndpoint: Prober = (endpoint, check, signal) => {
  switch (check.type) {
    case 'tcp':
      return probeTcp({ ...endpoint, timeoutMs: check.timeoutMs, signal });
    case 'http':
      return probeHttp({ ...endpoint, timeoutMs: check.timeoutMs, signal, path: check.path, expectStatus: check.expectStatus });
  }
};
