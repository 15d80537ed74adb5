/**
 * Digest delivery as BMv2's PI server does it: a digest is delivered only once configured with a
 * DigestEntry; the digests of one packet form one DigestList; data equal to that of a list not yet
 * acknowledged is suppressed; an unacknowledged list is sent again after ack_timeout_ns.
 * Timers come from an injectable scheduler so tests can drive time.
 */
import { ServerError } from './errors.ts';

export interface DigestConfig {
  readonly maxTimeoutNs: bigint;
  readonly maxListSize: number;
  readonly ackTimeoutNs: bigint;
}

export interface DigestMember {
  readonly value: bigint;
  readonly width: number;
}

export interface OutgoingDigestList {
  readonly digestId: number;
  readonly listId: bigint;
  readonly data: readonly (readonly DigestMember[])[];
  /** Nanoseconds since the Unix epoch. */
  readonly timestampNs: bigint;
}

export interface DigestScheduler {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  nowNs(): bigint;
}

export const realScheduler: DigestScheduler = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  nowNs: () => BigInt(Date.now()) * 1_000_000n,
};

interface Outstanding {
  readonly list: OutgoingDigestList;
  readonly keys: readonly string[];
  timer: unknown;
}

function keyOf(members: readonly DigestMember[]): string {
  return members.map((m) => `${m.width}:${m.value.toString(16)}`).join(',');
}

export class DigestEngine {
  private readonly configs = new Map<number, DigestConfig>();
  /** Data of unacknowledged lists, per digest id: suppressed until acked. */
  private readonly pending = new Map<number, Set<string>>();
  private readonly outstanding = new Map<string, Outstanding>();
  private nextListId = 1n;

  /** `deliver` answers false when nobody could take the list (no primary client). */
  constructor(
    private readonly deliver: (list: OutgoingDigestList) => boolean,
    private readonly scheduler: DigestScheduler = realScheduler,
  ) {}

  config(digestId: number): DigestConfig | undefined {
    return this.configs.get(digestId);
  }

  configuredIds(): number[] {
    return [...this.configs.keys()].sort((a, b) => a - b);
  }

  insert(digestId: number, config: DigestConfig): void {
    if (this.configs.has(digestId)) throw new ServerError('ALREADY_EXISTS', `digest 0x${digestId.toString(16)} is already configured`);
    this.configs.set(digestId, config);
  }

  modify(digestId: number, config: DigestConfig): void {
    if (!this.configs.has(digestId)) throw new ServerError('NOT_FOUND', `digest 0x${digestId.toString(16)} is not configured`);
    this.configs.set(digestId, config);
  }

  delete(digestId: number): void {
    if (!this.configs.delete(digestId)) throw new ServerError('NOT_FOUND', `digest 0x${digestId.toString(16)} is not configured`);
    this.dropLists((o) => o.list.digestId === digestId);
    this.pending.delete(digestId);
  }

  /** The digests one packet raised for `digestId`: delivers one list of the new data, if any. */
  offer(digestId: number, records: readonly (readonly DigestMember[])[]): void {
    const config = this.configs.get(digestId);
    if (config === undefined || records.length === 0) return;
    let pending = this.pending.get(digestId);
    if (pending === undefined) {
      pending = new Set();
      this.pending.set(digestId, pending);
    }
    const fresh: (readonly DigestMember[])[] = [];
    const keys: string[] = [];
    for (const r of records) {
      const k = keyOf(r);
      if (pending.has(k) || keys.includes(k)) continue;
      fresh.push(r);
      keys.push(k);
    }
    // max_list_size 0 means no limit; a larger packet batch is split.
    const chunk = config.maxListSize > 0 ? config.maxListSize : Math.max(1, fresh.length);
    for (let i = 0; i < fresh.length; i += chunk) {
      const list: OutgoingDigestList = {
        digestId,
        listId: this.nextListId++,
        data: fresh.slice(i, i + chunk),
        timestampNs: this.scheduler.nowNs(),
      };
      const listKeys = keys.slice(i, i + chunk);
      for (const k of listKeys) pending.add(k);
      const o: Outstanding = { list, keys: listKeys, timer: undefined };
      this.outstanding.set(`${digestId}/${list.listId}`, o);
      if (!this.send(o, config)) {
        // Undeliverable: forget it, or its data would stay suppressed with no ack to come.
        this.ack(digestId, list.listId);
      }
    }
  }

  private send(o: Outstanding, config: DigestConfig): boolean {
    if (!this.deliver(o.list)) return false;
    if (config.ackTimeoutNs > 0n) {
      const ms = Math.max(1, Number(config.ackTimeoutNs / 1_000_000n));
      o.timer = this.scheduler.setTimeout(() => {
        const current = this.configs.get(o.list.digestId);
        if (current !== undefined && this.outstanding.get(`${o.list.digestId}/${o.list.listId}`) === o) this.send(o, current);
      }, ms);
    }
    return true;
  }

  /** A DigestListAck: the list's data may be delivered again. Unknown lists are ignored. */
  ack(digestId: number, listId: bigint): boolean {
    const id = `${digestId}/${listId}`;
    const o = this.outstanding.get(id);
    if (o === undefined) return false;
    this.outstanding.delete(id);
    this.scheduler.clearTimeout(o.timer);
    const pending = this.pending.get(digestId);
    for (const k of o.keys) pending?.delete(k);
    return true;
  }

  /** Outstanding (unacknowledged) lists, oldest first. */
  unacknowledged(): OutgoingDigestList[] {
    return [...this.outstanding.values()].map((o) => o.list);
  }

  /** Forgets every configuration and list (a new pipeline, or shutdown). */
  reset(): void {
    this.dropLists(() => true);
    this.configs.clear();
    this.pending.clear();
  }

  private dropLists(which: (o: Outstanding) => boolean): void {
    for (const [id, o] of this.outstanding) {
      if (!which(o)) continue;
      this.scheduler.clearTimeout(o.timer);
      this.outstanding.delete(id);
    }
  }
}
