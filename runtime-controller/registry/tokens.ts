/**
 * The token planner: from the spec, the registry's keys, the clock and the traffic policy, which
 * token entries must be on each switch right now. Pure and deterministic; the controller diffs the
 * plan against what is installed and records the outcome in the registry store.
 *
 * Which tokens exist (the receiving side's key signs each, see docs/packet-formats.md §2):
 * - request  gateway → VM, one per (gateway, VIP, VM of the VIP), signed with the VM host's key:
 *            sender gateway underlay/tunnel port, receiver host underlay/VM UDP port, inner src 0
 *            (any client), inner dst the VIP (tunnel mode) or the VM's address (NAT mode).
 *            Accepted in the host's token_table; sent from the gateway's backend_table entry.
 * - reply    VM → gateway, one per (VM allowed Internet egress, gateway), signed with the
 *            gateway's key: sender host underlay/VM UDP port, receiver gateway underlay/tunnel
 *            port, inner src the VM's address, inner dst 0 (any client). Accepted in every
 *            gateway's token_table (so the reply gateway can change without waiting for tokens);
 *            sent from the host's peer_table default route toward the VM's reply gateway.
 * - vm-to-vm VM A → VM B where the policy allows it, signed with B's host's key: sender A's host
 *            underlay/A's UDP port, receiver B's host underlay/B's UDP port, inner src A's address,
 *            inner dst B's address. Accepted in B's host's token_table; sent from A's host's
 *            peer_table entry for B's address (/32).
 */
import { byCodeUnit } from '../../core/order.ts';
import { backendIdIn, vipIdIn, type SpecIds } from '../../core/spec/ids.ts';
import { gatewayByName, hostOfVm } from '../../core/spec/lookup.ts';
import type { Host, LbSpec } from '../../core/spec/schema.ts';
import { ANY_ADDRESS, replyGatewayOf, replyTokenFields, requestTokenFields, vmToVmTokenFields } from '../../core/token/conventions.ts';
import { computeToken, type TokenFields } from '../../core/token/token.ts';
import { fieldError } from './errors.ts';
import type { TrafficPolicy } from './policy.ts';

/** Control-plane names of the tables that carry tokens (templates/gateway.p4.hbs, host.p4.hbs). */
export const TOKEN_TABLES = {
  gatewayToken: 'GatewayIngress.token_table',
  gatewayBackend: 'GatewayIngress.backend_table',
  hostToken: 'HostIngress.token_table',
  hostPeer: 'HostIngress.peer_table',
} as const;

/** The token field is 32 bits of seconds since the epoch (docs/packet-formats.md §2). */
const MAX_EXPIRY = 0xffff_ffff;
/** The shortest TTL with a period and an overlap of at least one second each. */
export const MIN_TTL_SECONDS = 2;

export type TokenKind = 'request' | 'reply' | 'vm-to-vm';
export type SwitchRole = 'gateway' | 'host';

/** The receiving sides' 32-byte secrets (the same shape bmv2-tests/dsl/entries.ts takes). */
export interface TokenKeyRing {
  gateway(name: string): Uint8Array;
  host(name: string): Uint8Array;
}

/**
 * When tokens are issued, used and removed. Generation k of every token lineage expires at
 * k × period and lives one TTL: it is issued (installed at the receiver) TTL seconds before its
 * expiry, which is `overlap` = ceil(TTL / 3) before its predecessor expires, so a successor exists
 * whenever less than a third of the TTL remains and both are accepted until the old one expires.
 * Senders switch to the successor halfway through the overlap, which gives the controller that
 * long to install it at the receiver first. A token is removed once now > expiry + skew.
 *
 * Expiries sit on a grid of whole seconds anchored at the Unix epoch, not at "now + TTL": two
 * controller instances (a standby, or this one after a restart) reading the same keys and a
 * clock in the same period compute the same expiries and hence the same token values, so a
 * takeover or a restart rewrites nothing, and a plan computed every second does not mint a new
 * token every second.
 */
export interface TokenSchedule {
  readonly ttlSeconds: number;
  readonly skewSeconds: number;
  /** ceil(TTL / 3): how long a token and its successor are both valid. */
  readonly overlapSeconds: number;
  /** TTL − overlap between successive expiries of a lineage; every expiry is a multiple of it. */
  readonly periodSeconds: number;
  /** floor(overlap / 2): senders switch this long before the old token expires. */
  readonly handoverSeconds: number;
}

export function tokenSchedule(ttlSeconds: number, skewSeconds: number): TokenSchedule {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < MIN_TTL_SECONDS || ttlSeconds > MAX_EXPIRY) {
    throw fieldError(
      'REGISTRY_BAD_INPUT',
      'tokens.ttlSeconds',
      `token TTL ${ttlSeconds} must be a whole number of seconds, at least ${MIN_TTL_SECONDS}`,
      'a token and its successor must each own at least one second',
    );
  }
  if (!Number.isInteger(skewSeconds) || skewSeconds < 0 || skewSeconds > MAX_EXPIRY) {
    throw fieldError('REGISTRY_BAD_INPUT', 'tokens.clockSkewSeconds', `clock skew ${skewSeconds} must be a whole number of seconds, 0 or more`);
  }
  const overlap = Math.ceil(ttlSeconds / 3);
  return {
    ttlSeconds,
    skewSeconds,
    overlapSeconds: overlap,
    periodSeconds: ttlSeconds - overlap,
    handoverSeconds: Math.floor(overlap / 2),
  };
}

/** The times of generation k. */
export function generationTimes(s: TokenSchedule, k: number): { expiry: number; validFrom: number; sendFrom: number; removeAfter: number } {
  const expiry = k * s.periodSeconds;
  return {
    expiry,
    validFrom: expiry - s.ttlSeconds,
    // Halfway through the overlap with the predecessor (which expires at expiry − period).
    sendFrom: expiry - s.periodSeconds - s.handoverSeconds,
    removeAfter: expiry + s.skewSeconds,
  };
}

/** Generations a receiver must accept at `now`: issued, and not past expiry + skew. */
export function acceptedGenerations(s: TokenSchedule, now: number): number[] {
  const first = Math.max(0, Math.ceil((now - s.skewSeconds) / s.periodSeconds));
  const last = Math.floor((now + s.ttlSeconds) / s.periodSeconds);
  const out: number[] = [];
  for (let k = first; k <= last; k++) out.push(k);
  return out;
}

/** The generation a sender uses at `now`: the newest whose send time has come. */
export function sendingGeneration(s: TokenSchedule, now: number): number {
  return Math.floor((now + s.periodSeconds + s.handoverSeconds) / s.periodSeconds);
}

/** The first second after `now` at which the plan can differ: the controller's next wake-up. */
export function nextChangeAt(s: TokenSchedule, now: number): number {
  const p = s.periodSeconds;
  // Each event recurs every period at a fixed offset from the grid.
  const offsets = [-s.ttlSeconds, -s.periodSeconds - s.handoverSeconds, s.skewSeconds + 1];
  return Math.min(...offsets.map((o) => (Math.floor((now - o) / p) + 1) * p + o));
}

export interface PlannedToken {
  /** `lineage@expiry`: one generation of one lineage. */
  readonly id: string;
  /** The token's fields without the expiry, as text: the same for every generation. */
  readonly lineage: string;
  readonly kind: TokenKind;
  /** Whose key signs it: always the receiving side. */
  readonly signer: { readonly kind: SwitchRole; readonly name: string };
  /** Addresses as dotted text; 0.0.0.0 where the token leaves the address open. */
  readonly fields: TokenFields & { readonly senderIp: string; readonly receiverIp: string; readonly innerSrcIp: string; readonly innerDstIp: string };
  readonly value: bigint;
  readonly expiry: number;
  /** Installed at the receiver from this second. */
  readonly validFrom: number;
  /** Removed once now > removeAfter (expiry + skew). */
  readonly removeAfter: number;
}

export type MatchValue = string | number | bigint | { readonly value: string; readonly prefixLength: number };

export interface PlannedTokenEntry {
  readonly switch: string;
  readonly role: SwitchRole;
  readonly table: string;
  /**
   * 'accept': a token-table entry (the token and expiry are part of the match, so each generation
   * is its own entry). 'send': the token and expiry parameters of the sender's entry (one per
   * match key; a newer generation modifies it).
   */
  readonly use: 'accept' | 'send';
  readonly match: Readonly<Record<string, MatchValue>>;
  /** 'send' entries: the token parameters (peer_table also its peer); 'accept' entries: none. */
  readonly params: Readonly<Record<string, string | number | bigint>>;
  /** Canonical text of table + match: the identity to diff installed entries against. */
  readonly entryKey: string;
  readonly token: PlannedToken;
}

export interface TokenPlan {
  readonly now: number;
  readonly schedule: TokenSchedule;
  /** Sorted by (switch, table, entryKey); no two share an entryKey on one switch. */
  readonly entries: readonly PlannedTokenEntry[];
  readonly nextChangeAt: number;
}

export interface TokenPlanInput {
  readonly spec: LbSpec;
  /** The data-plane ids of the spec's VIPs and VMs (token entries are keyed by them). */
  readonly ids: SpecIds;
  readonly keys: TokenKeyRing;
  readonly policy: TrafficPolicy;
  /** Seconds since the Unix epoch (fractions are dropped: expiries are whole seconds). */
  readonly now: number;
  /** Override spec.tokens (tests, or a controller flag). */
  readonly ttlSeconds?: number;
  readonly skewSeconds?: number;
  /** The gateway a host's VMs send Internet traffic through (default: replyGatewayOf). */
  readonly replyGateway?: (host: Host) => string;
}

/** Where the token fields come from: one definition, shared with the table computation. */
export { replyGatewayOf };
export const requestFields = requestTokenFields;
export const replyFields = replyTokenFields;
export const vmToVmFields = vmToVmTokenFields;

function lineageOf(kind: TokenKind, f: PlannedToken['fields']): string {
  return `${kind} ${f.senderIp}:${f.senderPort}>${f.receiverIp}:${f.receiverPort} ${f.innerSrcIp}>${f.innerDstIp}`;
}

export function tokenHex(value: bigint): string {
  return value.toString(16).padStart(16, '0');
}

function matchText(match: Readonly<Record<string, MatchValue>>): string {
  return Object.entries(match)
    .map(([k, v]) => {
      const text =
        typeof v === 'object' ? `${v.value}/${v.prefixLength}` : typeof v === 'bigint' ? `0x${tokenHex(v)}` : String(v);
      return `${k}=${text}`;
    })
    .join(' ');
}

/** A lineage: what varies by generation is only the expiry (and so the value). */
interface Lineage {
  readonly kind: TokenKind;
  readonly signer: PlannedToken['signer'];
  readonly fieldsAt: (expiry: number) => PlannedToken['fields'];
  readonly key: Uint8Array;
  /** Where the receiver accepts it. */
  readonly accept: { readonly switch: string; readonly role: SwitchRole; readonly table: string; readonly match: (t: PlannedToken) => Record<string, MatchValue> };
  /** Where senders put it (several entries may send the same token, e.g. two NAT VIPs). */
  readonly send: readonly { readonly switch: string; readonly role: SwitchRole; readonly table: string; readonly match: Record<string, MatchValue>; readonly extra: Record<string, string | number> }[];
}

function lineages(input: TokenPlanInput): Lineage[] {
  const { spec, keys, policy } = input;
  const out = new Map<string, Lineage>();
  const add = (l: Lineage): void => {
    const id = lineageOf(l.kind, l.fieldsAt(0));
    const before = out.get(id);
    // The same fields twice (a VM behind two NAT VIPs gets one request token per gateway): one
    // token, accepted once, sent from every entry that wants it.
    if (before === undefined) out.set(id, l);
    else out.set(id, { ...before, send: [...before.send, ...l.send] });
  };
  const vms = [...spec.vms].sort((a, b) => byCodeUnit(a.name, b.name));
  const vmByName = new Map(vms.map((v) => [v.name, v]));
  const gateways = [...spec.gateways].sort((a, b) => byCodeUnit(a.name, b.name));
  const vips = [...spec.vips].sort((a, b) => byCodeUnit(a.name, b.name));

  for (const gw of gateways) {
    for (const vip of vips) {
      for (const vmName of [...vip.backends].sort(byCodeUnit)) {
        const vm = vmByName.get(vmName)!;
        const host = hostOfVm(spec, vm);
        add({
          kind: 'request',
          signer: { kind: 'host', name: host.name },
          key: keys.host(host.name),
          fieldsAt: (e) => requestFields(spec, gw, vip, vm, e),
          accept: {
            switch: host.name,
            role: 'host',
            table: TOKEN_TABLES.hostToken,
            match: (t) => ({ src_addr: gw.underlay.ipv4, src_port: gw.underlay.tunnelUdpPort, vm_udp_port: vm.udpPort, token: t.value, expiry: t.expiry }),
          },
          send: [{ switch: gw.name, role: 'gateway', table: TOKEN_TABLES.gatewayBackend, match: { vip_id: vipIdIn(input.ids, vip.name), backend_id: backendIdIn(input.ids, vm.name) }, extra: {} }],
        });
      }
    }
  }

  for (const vm of vms) {
    if (!policy.mayReachInternet(vm.name)) continue;
    const host = hostOfVm(spec, vm);
    const via = input.replyGateway === undefined ? replyGatewayOf(spec, host) : gatewayByName(spec, input.replyGateway(host));
    for (const gw of gateways) {
      add({
        kind: 'reply',
        signer: { kind: 'gateway', name: gw.name },
        key: keys.gateway(gw.name),
        fieldsAt: (e) => replyFields(spec, gw, vm, e),
        accept: {
          switch: gw.name,
          role: 'gateway',
          table: TOKEN_TABLES.gatewayToken,
          match: (t) => ({ src_addr: host.underlay.ipv4, src_port: vm.udpPort, token: t.value, expiry: t.expiry }),
        },
        send:
          gw.name === via.name
            ? [{
                switch: host.name,
                role: 'host',
                table: TOKEN_TABLES.hostPeer,
                match: { vm_id: backendIdIn(input.ids, vm.name), dst_addr: { value: ANY_ADDRESS, prefixLength: 0 } },
                extra: { peer_addr: gw.underlay.ipv4, peer_port: gw.underlay.tunnelUdpPort },
              }]
            : [],
      });
    }
  }

  for (const [fromName, toName] of policy.vmPairs()) {
    const from = vmByName.get(fromName)!;
    const to = vmByName.get(toName)!;
    const fromHost = hostOfVm(spec, from);
    const toHost = hostOfVm(spec, to);
    add({
      kind: 'vm-to-vm',
      signer: { kind: 'host', name: toHost.name },
      key: keys.host(toHost.name),
      fieldsAt: (e) => vmToVmFields(spec, from, to, e),
      accept: {
        switch: toHost.name,
        role: 'host',
        table: TOKEN_TABLES.hostToken,
        match: (t) => ({ src_addr: fromHost.underlay.ipv4, src_port: from.udpPort, vm_udp_port: to.udpPort, token: t.value, expiry: t.expiry }),
      },
      send: [{
        switch: fromHost.name,
        role: 'host',
        table: TOKEN_TABLES.hostPeer,
        match: { vm_id: backendIdIn(input.ids, from.name), dst_addr: { value: to.privateIpv4, prefixLength: 32 } },
        extra: { peer_addr: toHost.underlay.ipv4, peer_port: to.udpPort },
      }],
    });
  }
  return [...out.values()];
}

/** The token entries every switch must hold at `input.now`. */
export function planTokens(input: TokenPlanInput): TokenPlan {
  if (typeof input.now !== 'number' || !Number.isFinite(input.now) || input.now < 0) {
    throw fieldError('REGISTRY_BAD_INPUT', 'now', `clock reading ${String(input.now)} must be seconds since the Unix epoch, 0 or more`);
  }
  const now = Math.floor(input.now);
  const schedule = tokenSchedule(input.ttlSeconds ?? input.spec.tokens.ttlSeconds, input.skewSeconds ?? input.spec.tokens.clockSkewSeconds);
  const accepted = acceptedGenerations(schedule, now);
  const sending = sendingGeneration(schedule, now);
  const lastExpiry = generationTimes(schedule, accepted[accepted.length - 1]!).expiry;
  if (lastExpiry > MAX_EXPIRY) {
    throw fieldError('REGISTRY_BAD_INPUT', 'now', `clock reading ${now} needs token expiries past 2^32 − 1 seconds (year 2106)`);
  }

  const entries: PlannedTokenEntry[] = [];
  for (const l of lineages(input)) {
    for (const k of accepted) {
      const times = generationTimes(schedule, k);
      const fields = l.fieldsAt(times.expiry);
      const token: PlannedToken = {
        id: `${lineageOf(l.kind, fields)}@${times.expiry}`,
        lineage: lineageOf(l.kind, fields),
        kind: l.kind,
        signer: l.signer,
        fields,
        value: computeToken(l.key, fields),
        expiry: times.expiry,
        validFrom: times.validFrom,
        removeAfter: times.removeAfter,
      };
      const match = l.accept.match(token);
      entries.push({
        switch: l.accept.switch,
        role: l.accept.role,
        table: l.accept.table,
        use: 'accept',
        match,
        params: {},
        entryKey: `${l.accept.table} ${matchText(match)}`,
        token,
      });
      if (k !== sending) continue;
      for (const s of l.send) {
        entries.push({
          switch: s.switch,
          role: s.role,
          table: s.table,
          use: 'send',
          match: s.match,
          params: { ...s.extra, token: token.value, expiry: token.expiry },
          entryKey: `${s.table} ${matchText(s.match)}`,
          token,
        });
      }
    }
  }
  entries.sort((a, b) => byCodeUnit(a.switch, b.switch) || byCodeUnit(a.table, b.table) || byCodeUnit(a.entryKey, b.entryKey));
  return { now, schedule, entries, nextChangeAt: nextChangeAt(schedule, now) };
}

/** The plan's entries grouped by switch, then table, for a per-switch diff. */
export function entriesBySwitch(plan: TokenPlan): Map<string, Map<string, PlannedTokenEntry[]>> {
  const out = new Map<string, Map<string, PlannedTokenEntry[]>>();
  for (const e of plan.entries) {
    let tables = out.get(e.switch);
    if (tables === undefined) out.set(e.switch, (tables = new Map()));
    let list = tables.get(e.table);
    if (list === undefined) tables.set(e.table, (list = []));
    list.push(e);
  }
  return out;
}
