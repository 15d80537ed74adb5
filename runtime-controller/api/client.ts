/** A client of the admin API (what `p4lb status|drain|undrain|flows` use): fetch, bearer token, errors as ApiError. */
import type { FlowRecord, SwitchStatus, VipStatus } from '../controller/controller.ts';
import type { LbAlarm } from '../lb/index.ts';
import { ApiError } from './errors.ts';

export interface AdminClientOptions {
  /** `host:port` or a full `http://` URL. */
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
}
export interface FlowsReply {
  readonly gateway: string;
  readonly count: number;
  readonly flows: readonly FlowRecord[];
}
export interface TokensReply {
  readonly plan: { readonly now: number; readonly nextChangeAt: number; readonly ttlSeconds: number; readonly entriesBySwitch: Readonly<Record<string, number>> };
  readonly count: number;
  readonly tokens: readonly { readonly switch: string; readonly table: string; readonly use: string; readonly kind: string; readonly tokenId: string; readonly expiry: number; readonly state: string }[];
}

export class AdminClient {
  private readonly base: string;

  constructor(private readonly options: AdminClientOptions) {
    this.base = /^https?:\/\//.test(options.api) ? options.api.replace(/\/+$/, '') : `http://${options.api}`;
  }

  private async call<T>(method: 'GET' | 'POST', path: string): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.options.token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (err) {
      throw new ApiError('API_UNREACHABLE', `cannot reach the controller API at ${this.base}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`, 'api', 'is `p4lb run` running, and is --api its address?');
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ApiError('API_CALL_FAILED', `${method} ${path}: HTTP ${res.status} with a body that is not JSON`, undefined, undefined, res.status);
    }
    if (!res.ok) {
      const e = (body as { error?: { code?: string; message?: string; field?: string; hint?: string } }).error ?? {};
      throw new ApiError(e.code ?? 'API_CALL_FAILED', `${e.message ?? `HTTP ${res.status}`}`, e.field, e.hint, res.status);
    }
    return body as T;
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

  flows(query: { readonly gateway: string; readonly backend?: string }): Promise<FlowsReply> {
    const q = new URLSearchParams({ gateway: query.gateway, ...(query.backend === undefined ? {} : { backend: query.backend }) });
    return this.call('GET', `/v1/flows?${q.toString()}`);
  }

  tokens(query: { readonly switch?: string } = {}): Promise<TokensReply> {
    return this.call('GET', `/v1/tokens${query.switch === undefined ? '' : `?switch=${encodeURIComponent(query.switch)}`}`);
  }
}
