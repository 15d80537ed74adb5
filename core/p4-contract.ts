/**
 * The contract between the generated P4 programs and everything that talks to them: codes that
 * travel in action parameters and counters, and the layout of the flow-state register entries.
 * The generator writes these numbers into the P4 text; the controller and the tests decode with
 * the same definitions.
 */
import type { FlowKeyKind } from './hash/flow-key.ts';

/** `set_vip`'s `mode` parameter. */
export const VIP_MODE_CODES = { tunnel: 0, nat: 1 } as const;

/** `set_vip`'s `flow_key` parameter, and the P4 constant that names each kind. */
export const FLOW_KEY_CODES: Readonly<Record<FlowKeyKind, { code: number; constName: string }>> = {
  '5-tuple': { code: 5, constName: 'FLOW_KEY_5_TUPLE' },
  '3-tuple': { code: 3, constName: 'FLOW_KEY_3_TUPLE' },
  '2-tuple': { code: 2, constName: 'FLOW_KEY_2_TUPLE' },
};

export interface DropReason {
  /** Index in the program's `drops` counter. */
  readonly code: number;
  /** Label for metrics and logs. */
  readonly label: string;
  /** P4 constant name. */
  readonly constName: string;
  readonly description: string;
}

function reasons(list: readonly [string, string][]): readonly DropReason[] {
  return list.map(([label, description], code) => ({
    code,
    label,
    constName: `DROP_${label.toUpperCase().replaceAll('-', '_')}`,
    description,
  }));
}

/** Why the gateway dropped a packet; code 0 means "not dropped". */
export const GATEWAY_DROP_REASONS = reasons([
  ['none', 'not dropped'],
  ['parser-error', 'the parser rejected the packet (truncated, IPv4 options, bad version)'],
  ['bad-checksum', 'the IPv4 header checksum is wrong'],
  ['bad-token', 'a tunnelled packet whose (sender, port, token, expiry) is not in the token table'],
  ['not-a-vip', 'an IPv4 packet to no VIP (address, protocol, port)'],
  ['no-slot', 'the VIP has no entry for the flow’s slot (no backend was ever healthy)'],
  ['no-backend', 'the flow’s backend has no entry in the backend table (removed)'],
  ['no-route', 'no route to the destination'],
]);

/** Why the host NIC dropped a packet. */
export const HOST_DROP_REASONS = reasons([
  ['none', 'not dropped'],
  ['parser-error', 'the parser rejected the packet (truncated, IPv4 options, bad version)'],
  ['bad-checksum', 'the IPv4 header checksum is wrong'],
  ['bad-token', 'a tunnelled packet whose (sender, ports, token, expiry) is not in the token table'],
  ['not-local-vm', 'a tunnelled packet to a UDP port of no VM of this host'],
  ['no-peer', 'a VM’s packet to a destination it has no token for (policy)'],
  ['no-route', 'no route to the destination'],
  ['not-tunnelled', 'an IPv4 packet from the underlay that is not tunnelled'],
]);

/**
 * One flow-state register entry (64 bits): signature [63:32], backend id [31:16] (0 = free),
 * last-seen time [15:0] in ticks of 2^20 µs of `ingress_global_timestamp`.
 */
export const FLOW_ENTRY = {
  signatureShift: 32n,
  backendShift: 16n,
  tickBits: 16,
  /** log2 of the microseconds in one tick: 2^20 µs ≈ 1.05 s. */
  tickShiftMicros: 20,
} as const;

export interface FlowEntry {
  readonly signature: number;
  readonly backendId: number;
  readonly lastSeenTicks: number;
}

export function decodeFlowEntry(value: bigint): FlowEntry | undefined {
  const backendId = Number((value >> FLOW_ENTRY.backendShift) & 0xffffn);
  if (backendId === 0) return undefined;
  return {
    signature: Number((value >> FLOW_ENTRY.signatureShift) & 0xffffffffn),
    backendId,
    lastSeenTicks: Number(value & 0xffffn),
  };
}

export function encodeFlowEntry(e: FlowEntry): bigint {
  return (
    (BigInt(e.signature >>> 0) << FLOW_ENTRY.signatureShift) |
    (BigInt(e.backendId & 0xffff) << FLOW_ENTRY.backendShift) |
    BigInt(e.lastSeenTicks & 0xffff)
  );
}

/** An idle timeout in seconds as flow-state ticks, rounded up so a flow never expires early. */
export function idleTimeoutTicks(seconds: number): number {
  const ticks = Math.ceil((seconds * 1_000_000) / 2 ** FLOW_ENTRY.tickShiftMicros);
  return Math.min(ticks, 2 ** (FLOW_ENTRY.tickBits - 1) - 1);
}
