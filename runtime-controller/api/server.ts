/**
 * The controller's admin API: JSON over node:http on loopback by default (or a Unix socket, which
 * file permissions guard and which other network namespaces reach), a bearer token on every
 * /v1 call (401 without one, 403 with a wrong one). GET /metrics is open by default (scrapers
 * rarely carry tokens, and it reveals no secret); `metricsRequireToken` closes it. Spec changes
 * (reload, a VIP's backends) go through the spec file's owner, so the file stays the truth. The
 * traffic policy is not in the spec but in the registry: its calls go to the controller. A change
 * (drain, policy, spec) answers 200 once it is stored and every switch was tried, with `switches:
 * { written, pending }`: a pending switch (down, or its write failed) gets it when it is back.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { lstat, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { formatDiagnostic, P4lbAggregateError, P4lbError, type Diagnostic } from '../../core/errors.ts';
import type { Controller } from '../controller/controller.ts';
import { SpecFileError, type SpecFile } from '../controller/spec-file.ts';
import { INTERNET } from '../registry/policy.ts';
import { ApiError } from './errors.ts';

/** What the API needs of the controller. */
export type AdminController = Pick<
  Controller,
  | 'vipStatus' | 'switchStatus' | 'alarms' | 'drain' | 'undrain' | 'drainedVms' | 'flowReport' | 'tokens' | 'tokenPlanSummary'
  | 'policy' | 'changePolicy'
>;

/** What the API needs of the spec file's owner (runtime-controller/controller/spec-file.ts). */
export type AdminSpecFile = Pick<SpecFile, 'reload' | 'setBackend'>;

export interface MetricsSource {
  readonly contentType: string;
  text(): Promise<string>;
}

export interface AdminApiOptions {
  readonly controller: AdminController;
  /** The bearer token every /v1 call must carry. */
  readonly token: string;
  readonly metrics?: MetricsSource;
  readonly metricsRequireToken?: boolean;
  readonly logger?: Logger;
  /** The spec file the controller runs from; without one the spec endpoints answer 501. */
  readonly specFile?: AdminSpecFile;
}

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** The smallest token we accept: 128 bits as hex. */
export const MIN_TOKEN_LENGTH = 32;

const TOKEN_STATES = ['issued', 'installed', 'expired', 'removed'] as const;

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Compares in constant time (over digests, so lengths do not leak either). */
function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** JSON with bigints as decimal strings (counters and tokens exceed 2^53). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

function errorBody(code: string, message: string, field?: string, hint?: string, diagnostics?: readonly string[]): unknown {
  return { error: { code, message, ...(field === undefined ? {} : { field }), ...(hint === undefined ? {} : { hint }), ...(diagnostics === undefined ? {} : { diagnostics }) } };
}

/** The problems an error lists one by one (an invalid spec), if any. */
function diagnosticsOf(err: P4lbError): readonly Diagnostic[] | undefined {
  if (err instanceof P4lbAggregateError) return err.diagnostics;
  if (err instanceof SpecFileError && err.diagnostics.length > 0) return err.diagnostics;
  return undefined;
}

/**
 * HTTP status for a library error: unknown names are 404; a spec change the running controller
 * or the file's state refuses 409 (the request is sound, the state is not); a spec file that
 * cannot be read or written 500; a switch not ready 503; the rest 400 (an edit that makes the
 * spec invalid among them).
 */
function statusOf(err: P4lbError): number {
  if (err.code.endsWith('_UNKNOWN_GATEWAY') || err.code.endsWith('_UNKNOWN_VM') || err.code.endsWith('_UNKNOWN_VIP')) return 404;
  if (err.code === 'CONTROLLER_SPEC_CHANGE' || err.code === 'SPEC_FILE_CHANGED' || err.code === 'SPEC_FILE_LAYOUT') return 409;
  if (err.code === 'SPEC_UNREADABLE' || err.code === 'SPEC_FILE_WRITE') return 500;
  if (err.code === 'CONTROLLER_NOT_CONNECTED' || err.code === 'CONTROLLER_NOT_RUNNING' || err.code.startsWith('P4RT_')) return 503;
  return 400;
}

function authorize(header: string | undefined, token: string): ApiResponse | undefined {
  if (header === undefined || header === '') {
    return { status: 401, body: errorBody('API_UNAUTHORIZED', 'this call needs an Authorization: Bearer <token> header'), headers: { 'www-authenticate': 'Bearer realm="p4lb"' } };
  }
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (m === null) return { status: 401, body: errorBody('API_UNAUTHORIZED', 'the Authorization header is not "Bearer <token>"', 'Authorization'), headers: { 'www-authenticate': 'Bearer realm="p4lb", error="invalid_request"' } };
  if (!tokenMatches(m[1]!, token)) return { status: 403, body: errorBody('API_FORBIDDEN', 'the bearer token is not the controller\'s') };
  return undefined;
}

function methodNotAllowed(allow: string): ApiResponse {
  return { status: 405, body: errorBody('API_METHOD', `only ${allow} is allowed here`), headers: { allow } };
}

const NO_SPEC_FILE: ApiResponse = {
  status: 501,
  body: errorBody('API_NO_SPEC_FILE', 'the controller runs without a spec file: the spec cannot be changed through the API', undefined, 'p4lb run <spec> serves these calls'),
};

/** A path segment, percent-decoded; a malformed escape is a bad request naming the field. */
function pathParam(raw: string, field: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ApiError('API_BAD_REQUEST', `'${raw}' is not a valid percent-encoded ${field}`, field);
  }
}

function only(query: URLSearchParams, allowed: readonly string[]): void {
  for (const name of query.keys()) {
    if (!allowed.includes(name)) throw new ApiError('API_BAD_REQUEST', `unknown query parameter '${name}'${allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : ''}`, name);
  }
}

function single(query: URLSearchParams, name: string): string | undefined {
  const all = query.getAll(name);
  if (all.length > 1) throw new ApiError('API_BAD_REQUEST', `query parameter '${name}' is given ${all.length} times`, name);
  if (all.length === 1 && all[0] === '') throw new ApiError('API_BAD_REQUEST', `query parameter '${name}' is empty`, name);
  return all[0];
}

/** DELETE of a policy rule that is not there (the controller refuses rules naming unknown VMs itself). */
const NO_SUCH_RULE = 'API_NO_SUCH_RULE';

/** Routes one request; pure apart from the controller calls. */
export async function handleApiRequest(options: AdminApiOptions, method: string, rawUrl: string, authorization: string | undefined): Promise<ApiResponse> {
  const url = new URL(rawUrl, 'http://p4lb.invalid');
  const path = url.pathname;
  const c = options.controller;
  try {
    if (path === '/metrics') {
      if (options.metrics === undefined) return { status: 404, body: errorBody('API_NOT_FOUND', 'metrics are not enabled') };
      if (method !== 'GET') return methodNotAllowed('GET');
      if (options.metricsRequireToken === true) {
        const denied = authorize(authorization, options.token);
        if (denied !== undefined) return denied;
      }
      return { status: 200, body: await options.metrics.text(), headers: { 'content-type': options.metrics.contentType } };
    }
    if (!path.startsWith('/v1/')) return { status: 404, body: errorBody('API_NOT_FOUND', `no such endpoint: ${path}`) };
    const denied = authorize(authorization, options.token);
    if (denied !== undefined) return denied;

    if (path === '/v1/vips') {
      if (method !== 'GET') return methodNotAllowed('GET');
      only(url.searchParams, []);
      return { status: 200, body: { vips: c.vipStatus(), alarms: c.alarms(), drained: c.drainedVms() } };
    }
    if (path === '/v1/gateways') {
      if (method !== 'GET') return methodNotAllowed('GET');
      only(url.searchParams, []);
      const all = c.switchStatus();
      return { status: 200, body: { gateways: all.filter((s) => s.role === 'gateway'), hosts: all.filter((s) => s.role === 'host') } };
    }
    const drain = /^\/v1\/backends\/([^/]+)\/(drain|undrain)$/.exec(path);
    if (drain !== null) {
      if (method !== 'POST') return methodNotAllowed('POST');
      only(url.searchParams, []);
      const vm = pathParam(drain[1]!, 'vm');
      // 200 even with switches pending: the drain is stored, and they get it when they are back.
      const switches = drain[2] === 'drain' ? await c.drain(vm) : await c.undrain(vm);
      return { status: 200, body: { vm, drained: c.drainedVms().includes(vm), drainedVms: c.drainedVms(), switches } };
    }
    if (path === '/v1/spec/reload') {
      if (method !== 'POST') return methodNotAllowed('POST');
      only(url.searchParams, []);
      if (options.specFile === undefined) return NO_SPEC_FILE;
      const applied = await options.specFile.reload();
      options.logger?.info({ ...applied }, 'spec reloaded through the admin API');
      return { status: 200, body: { applied } };
    }
    const backend = /^\/v1\/vips\/([^/]+)\/backends\/([^/]+)$/.exec(path);
    if (backend !== null) {
      if (method !== 'PUT' && method !== 'DELETE') return methodNotAllowed('PUT, DELETE');
      only(url.searchParams, []);
      if (options.specFile === undefined) return NO_SPEC_FILE;
      const vip = pathParam(backend[1]!, 'vip');
      const vm = pathParam(backend[2]!, 'vm');
      const edit = await options.specFile.setBackend(vip, vm, method === 'PUT');
      if (edit.changed) options.logger?.info({ vip, vm, present: edit.present, backends: edit.backends }, 'backends changed through the admin API');
      return { status: 200, body: edit };
    }
    if (path === '/v1/policy') {
      if (method !== 'GET') return methodNotAllowed('GET');
      only(url.searchParams, []);
      return { status: 200, body: c.policy() };
    }
    if (path === '/v1/policy/same-vip') {
      if (method !== 'PUT' && method !== 'DELETE') return methodNotAllowed('PUT, DELETE');
      only(url.searchParams, []);
      const sameVip = method === 'PUT';
      const { changed, switches } = await c.changePolicy({ kind: 'same-vip', allowed: sameVip });
      if (changed) options.logger?.info({ sameVip }, 'same-VIP default changed through the admin API');
      return { status: 200, body: { sameVip, changed, policy: c.policy(), switches } };
    }
    const rule = /^\/v1\/policy\/rules\/([^/]+)\/([^/]+)$/.exec(path);
    if (rule !== null) {
      if (method !== 'PUT' && method !== 'DELETE') return methodNotAllowed('PUT, DELETE');
      only(url.searchParams, []);
      const asked = { from: pathParam(rule[1]!, 'rule.from'), to: pathParam(rule[2]!, 'rule.to') };
      if (method === 'PUT') {
        const { changed, switches } = await c.changePolicy({ kind: 'allow', rule: asked });
        if (changed) options.logger?.info({ rule: asked }, 'policy rule added through the admin API');
        return { status: 200, body: { rule: asked, present: true, changed, policy: c.policy(), switches } };
      }
      const { changed, switches } = await c.changePolicy({ kind: 'remove', rule: asked });
      if (!changed) {
        const rules = c.policy().rules.map((r) => `${r.from} ${r.to === INTERNET ? '→' : '↔'} ${r.to}`);
        return { status: 404, body: errorBody(NO_SUCH_RULE, `no policy rule from '${asked.from}' to '${asked.to}'`, 'rule', rules.length === 0 ? 'the policy has no rules' : `its rules: ${rules.join('; ')}`) };
      }
      options.logger?.info({ rule: asked }, 'policy rule removed through the admin API');
      return { status: 200, body: { rule: asked, present: false, changed: true, policy: c.policy(), switches } };
    }
    if (path === '/v1/flows') {
      if (method !== 'GET') return methodNotAllowed('GET');
      only(url.searchParams, ['gateway', 'backend']);
      const gateway = single(url.searchParams, 'gateway');
      if (gateway === undefined) throw new ApiError('API_BAD_REQUEST', "query parameter 'gateway' is required", 'gateway');
      const backend = single(url.searchParams, 'backend');
      const { flows, unreadable } = await c.flowReport(gateway, backend === undefined ? {} : { backend });
      return { status: 200, body: { gateway, ...(backend === undefined ? {} : { backend }), count: flows.length, unreadable, flows } };
    }
    if (path === '/v1/tokens') {
      if (method !== 'GET') return methodNotAllowed('GET');
      only(url.searchParams, ['switch', 'state']);
      const sw = single(url.searchParams, 'switch');
      const states = url.searchParams.getAll('state');
      for (const s of states) {
        if (!(TOKEN_STATES as readonly string[]).includes(s)) throw new ApiError('API_BAD_REQUEST', `unknown token state '${s}' (one of ${TOKEN_STATES.join(', ')})`, 'state');
      }
      const tokens = c.tokens({ ...(sw === undefined ? {} : { switch: sw }), ...(states.length === 0 ? {} : { states: states as (typeof TOKEN_STATES)[number][] }) });
      return {
        status: 200,
        body: {
          plan: c.tokenPlanSummary(),
          count: tokens.length,
          tokens: tokens.map((t) => ({ switch: t.switch, table: t.table, use: t.use, kind: t.kind, tokenId: t.tokenId, expiry: t.expiry, removeAfter: t.removeAfter, state: t.state })),
        },
      };
    }
    return { status: 404, body: errorBody('API_NOT_FOUND', `no such endpoint: ${method} ${path}`) };
  } catch (err) {
    if (err instanceof P4lbError) {
      const status = err instanceof ApiError ? 400 : statusOf(err);
      const diagnostics = diagnosticsOf(err);
      const field = err.location?.path ?? diagnostics?.find((d) => d.location?.path !== undefined)?.location?.path;
      return { status, body: errorBody(err.code, err.message, field, err.hint, diagnostics?.map(formatDiagnostic)) };
    }
    options.logger?.error({ err: err instanceof Error ? err.message : String(err), method, path }, 'admin API failure');
    return { status: 500, body: errorBody('API_INTERNAL', err instanceof Error ? err.message : String(err)) };
  }
}

function send(res: ServerResponse, r: ApiResponse): void {
  const text = typeof r.body === 'string' ? r.body : `${toJson(r.body)}\n`;
  res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...r.headers });
  res.end(text);
}

/** An http.Server serving the API; not listening yet. */
export function createAdminServer(options: AdminApiOptions): Server {
  if (options.token.length < MIN_TOKEN_LENGTH) {
    throw new ApiError('API_BAD_TOKEN', `the API token must have at least ${MIN_TOKEN_LENGTH} characters (it has ${options.token.length})`, 'token', 'generate one with: openssl rand -hex 32');
  }
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    // Bodies are not used by any endpoint (PUT included): drain them so the connection can be reused.
    req.resume();
    void handleApiRequest(options, req.method ?? 'GET', req.url ?? '/', req.headers.authorization).then((r) => {
      options.logger?.debug({ method: req.method, url: req.url, status: r.status }, 'admin API');
      send(res, r);
    });
  });
}

export interface RunningAdminApi {
  readonly server: Server;
  /** host:port actually bound, or unix:/path. */
  readonly address: string;
  close(): Promise<void>;
}

export type ListenAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

/** Parses `host:port` (IPv6 in brackets) or `unix:<path>`; refuses anything else with the field named. */
export function parseListenAddress(text: string, field = 'api'): ListenAddress {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (path === '' || path.includes('\0')) throw new ApiError('API_BAD_ADDRESS', `'${text}' names no socket path (like unix:/run/p4lb/api.sock)`, field);
    return { kind: 'unix', path };
  }
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65535) throw new ApiError('API_BAD_ADDRESS', `'${text}' is not host:port (like 127.0.0.1:9100) or unix:<path>`, field);
  return { kind: 'tcp', host: m[1] ?? m[2]!, port };
}

/** Whether the API is reachable only from this machine (loopback or a Unix socket). */
export function isLocalListenAddress(address: ListenAddress): boolean {
  return address.kind === 'unix' || address.host === '127.0.0.1' || address.host === 'localhost' || address.host === '::1';
}

/**
 * A socket file left by a controller that died is replaced; a socket someone still listens on, or
 * any other file at the path, is an error (never take over a running controller's API).
 */
async function clearStaleSocket(path: string): Promise<void> {
  let info;
  try {
    info = await lstat(path);
  } catch {
    return;
  }
  if (!info.isSocket()) throw new ApiError('API_BAD_ADDRESS', `${path} exists and is not a socket`, 'api');
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new ApiError('API_BAD_ADDRESS', `${path} is in use: another process listens on it`, 'api', 'is another p4lb run using this socket?');
  await unlink(path);
}

export async function startAdminApi(options: AdminApiOptions & { readonly listen: string }): Promise<RunningAdminApi> {
  const listen = parseListenAddress(options.listen);
  const server = createAdminServer(options);
  if (listen.kind === 'unix') await clearStaleSocket(listen.path);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const ready = (): void => {
      server.off('error', reject);
      resolve();
    };
    if (listen.kind === 'unix') server.listen(listen.path, ready);
    else server.listen(listen.port, listen.host, ready);
  });
  let address: string;
  if (listen.kind === 'unix') address = `unix:${listen.path}`;
  else {
    const bound = server.address() as AddressInfo;
    address = `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`;
  }
  return {
    server,
    address,
    // Closing a Unix-socket server removes its file.
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
