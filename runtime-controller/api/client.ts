/** A client of the admin API (what `p4lb status|drain|undrain|flows|reload|backends|policy` use): node:http over TCP or a Unix socket, bearer token, errors as ApiError. */
import { request as httpRequest } from 'node:http';
import type { FlowRecord, PolicyStatus, SwitchStatus, VipStatus } from '../controller/controller.ts';
import type { SpecApplied, WriteOutcome } from '../controller/spec-change.ts';
import type { BackendEdit } from '../controller/spec-file.ts';
import type { LbAlarm } from '../lb/index.ts';
import type { PolicyRule } from '../registry/policy.ts';
import { ApiError } from './errors.ts';

export interface AdminClientOptions {
  /** `host:port`, a full `http://` URL, or `unix:<socket path>`. */
  readonly api: string;
  readonly token: string;
  readonly timeoutMs?: number;
}

/** What the JSON carries: bigints arrive as strings. */
export interface VipsReply {
  readonly vips: readonly VipStatus[];
  readonly alarms: readonly LbAlarm[];
  readonly drained: readonly string[];
}
export interface GatewaysReply {
  readonly gateways: readonly SwitchStatus[];
  readonly hosts: readonly SwitchStatus[];
}
export interface DrainReply {
  readonly vm: string;
  readonly drained: boolean;
  readonly drainedVms: readonly string[];
  /** Switches that took the change, and those that get it when they are back (none written when nothing changed). */
  readonly switches: WriteOutcome;
}
export interface FlowsReply {
  readonly gateway: string;
  readonly count: number;
  /** Occupied cells the switch's register service could not read (BMv2's Thrift: values of 2^63 and more); not in `flows` or `count`. */
  readonly unreadable: number;
  readonly flows: readonly FlowRecord[];
}
export interface TokensReply {
  readonly plan: { readonly now: number; readonly nextChangeAt: number; readonly ttlSeconds: number; readonly entriesBySwitch: Readonly<Record<string, number>> };
  readonly count: number;
  readonly tokens: readonly { readonly switch: string; readonly table: string; readonly use: string; readonly kind: string; readonly tokenId: string; readonly expiry: number; readonly state: string }[];
}

export interface ReloadReply {
  readonly applied: SpecApplied;
}
/** A VIP's backends after PUT or DELETE /v1/vips/{vip}/backends/{vm}. */
export type BackendReply = BackendEdit;

/** GET /v1/policy: the stored policy and the VM pairs and Internet egress it allows. */
export type PolicyReply = PolicyStatus;
/** After PUT or DELETE /v1/policy/rules/{from}/{to}; `changed: false` when the rule was there already. */
export interface PolicyRuleReply {
  readonly rule: PolicyRule;
  readonly present: boolean;
  readonly changed: boolean;
  readonly policy: PolicyStatus;
  readonly switches: WriteOutcome;
}
/** After PUT or DELETE /v1/policy/same-vip. */
export interface SameVipReply {
  readonly sameVip: boolean;
  readonly changed: boolean;
  readonly policy: PolicyStatus;
  readonly switches: WriteOutcome;
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export class AdminClient {
  private readonly target: { readonly socketPath: string } | { readonly base: URL };
  private readonly shown: string;

  constructor(private readonly options: AdminClientOptions) {
    if (options.api.startsWith('unix:')) {
      this.target = { socketPath: options.api.slice('unix:'.length) };
      this.shown = options.api;
    } else {
      const base = /^https?:\/\//.test(options.api) ? options.api.replace(/\/+$/, '') : `http://${options.api}`;
      this.target = { base: new URL(base) };
      this.shown = base;
    }
  }

  /** One HTTP exchange over TCP or the Unix socket (fetch cannot use a socket path). */
  private exchange(method: Method, path: string, accept: string): Promise<{ status: number; text: string }> {
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    const where =
      'socketPath' in this.target
        ? { socketPath: this.target.socketPath, path }
        : { host: this.target.base.hostname.replace(/^\[|\]$/g, ''), port: this.target.base.port === '' ? 80 : Number(this.target.base.port), path: `${this.target.base.pathname.replace(/\/$/, '')}${path}` };
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { ...where, method, headers: { authorization: `Bearer ${this.options.token}`, accept }, timeout: timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (err) =>
        reject(new ApiError('API_UNREACHABLE', `cannot reach the controller API at ${this.shown}: ${err.message}`, 'api', 'is `p4lb run` running, and is --api its address?')),
      );
      req.end();
    });
  }

  private async call<T>(method: Method, path: string): Promise<T> {
    const res = await this.exchange(method, path, 'application/json');
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      throw new ApiError('API_CALL_FAILED', `${method} ${path}: HTTP ${res.status} with a body that is not JSON`, undefined, undefined, { status: res.status });
    }
    if (res.status < 200 || res.status > 299) {
      const e = (body as { error?: { code?: string; message?: string; field?: string; hint?: string; diagnostics?: string[] } }).error ?? {};
      throw new ApiError(e.code ?? 'API_CALL_FAILED', `${e.message ?? `HTTP ${res.status}`}`, e.field, e.hint, { status: res.status, ...(e.diagnostics === undefined ? {} : { diagnostics: e.diagnostics }) });
    }
    return body as T;
  }

  /** The Prometheus text of GET /metrics. */
  async metrics(): Promise<string> {
    const res = await this.exchange('GET', '/metrics', 'text/plain');
    if (res.status !== 200) throw new ApiError('API_CALL_FAILED', `GET /metrics: HTTP ${res.status}`, undefined, undefined, { status: res.status });
    return res.text;
  }

  vips(): Promise<VipsReply> {
    return this.call('GET', '/v1/vips');
  }

  gateways(): Promise<GatewaysReply> {
    return this.call('GET', '/v1/gateways');
  }

  drain(vm: string): Promise<DrainReply> {
    return this.call('POST', `/v1/backends/${encodeURIComponent(vm)}/drain`);
  }

  undrain(vm: string): Promise<DrainReply> {
    return this.call('POST', `/v1/backends/${encodeURIComponent(vm)}/undrain`);
  }

  /** Has the controller read its spec file again and apply it. */
  reload(): Promise<ReloadReply> {
    return this.call('POST', '/v1/spec/reload');
  }

  /** Adds `vm` to the backends of `vip`, in the spec file and the controller; nothing changes when it is one already. */
  addBackend(vip: string, vm: string): Promise<BackendReply> {
    return this.call('PUT', backendPath(vip, vm));
  }

  removeBackend(vip: string, vm: string): Promise<BackendReply> {
    return this.call('DELETE', backendPath(vip, vm));
  }

  policy(): Promise<PolicyReply> {
    return this.call('GET', '/v1/policy');
  }

  /** Allows `from` to talk to `to` (both ways), or to reach the Internet when `to` is '@internet'. */
  allowTraffic(from: string, to: string): Promise<PolicyRuleReply> {
    return this.call('PUT', rulePath(from, to));
  }

  /** Removes the rule (in either direction); an ApiError with status 404 when there is none. */
  removeTrafficRule(from: string, to: string): Promise<PolicyRuleReply> {
    return this.call('DELETE', rulePath(from, to));
  }

  /** Turns the default rule (VMs serving a common VIP may talk) on or off. */
  setSameVipDefault(allowed: boolean): Promise<SameVipReply> {
    return this.call(allowed ? 'PUT' : 'DELETE', '/v1/policy/same-vip');
  }

  flows(query: { readonly gateway: string; readonly backend?: string }): Promise<FlowsReply> {
    const q = new URLSearchParams({ gateway: query.gateway, ...(query.backend === undefined ? {} : { backend: query.backend }) });
    return this.call('GET', `/v1/flows?${q.toString()}`);
  }

  tokens(query: { readonly switch?: string } = {}): Promise<TokensReply> {
    return this.call('GET', `/v1/tokens${query.switch === undefined ? '' : `?switch=${encodeURIComponent(query.switch)}`}`);
  }
}

const backendPath = (vip: string, vm: string): string => `/v1/vips/${encodeURIComponent(vip)}/backends/${encodeURIComponent(vm)}`;
const rulePath = (from: string, to: string): string => `/v1/policy/rules/${encodeURIComponent(from)}/${encodeURIComponent(to)}`;
