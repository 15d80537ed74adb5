/**
 * Expected-packet matching as p4c's `compare_pkt` (tools/testutils.py) does it: hex digit by hex
 * digit, `*` matches any digit, the received packet may be longer unless the expectation ended in
 * `$`, and a received packet shorter than the expectation fails. Where p4c stops at the first
 * check that fails, we report the earliest differing position, which gives the same verdict.
 */
import type { ExpectedPacket } from './model.ts';

export type MismatchReason = 'content' | 'too-short' | 'too-long';

export interface PacketMismatch {
  readonly ok: false;
  readonly reason: MismatchReason;
  /** Index of the first differing hex digit (nibble); for a length fault, where the shorter ends. */
  readonly firstDifference: number;
  /** The byte holding that nibble. */
  readonly byteOffset: number;
  /** The expectation as written: upper-case digits and `*`, `$` appended for an exact length. */
  readonly expectedHex: string;
  /** The received packet, upper-case hex. */
  readonly receivedHex: string;
  /** One sentence: what differs and where. */
  readonly message: string;
}

export type MatchResult = { readonly ok: true } | PacketMismatch;

export function matchExpected(expected: ExpectedPacket, received: Uint8Array): MatchResult {
  const want = expected.nibbles;
  const got = toHex(received);
  const common = Math.min(want.length, got.length);
  for (let i = 0; i < common; i++) {
    const w = want[i]!;
    if (w !== '*' && w !== got[i]) {
      return mismatch(expected, got, 'content', i, `differs at byte ${i >> 1} (hex digit ${i}): expected ${w}, received ${got[i]}`);
    }
  }
  if (got.length < want.length) {
    const how = expected.exactLength ? 'exactly' : 'at least';
    return mismatch(expected, got, 'too-short', got.length, `is too short: received ${received.length} bytes, expected ${how} ${describeLength(want.length)}`);
  }
  if (expected.exactLength && got.length > want.length) {
    return mismatch(expected, got, 'too-long', want.length, `is too long: received ${received.length} bytes, expected exactly ${describeLength(want.length)}`);
  }
  return { ok: true };
}

function mismatch(expected: ExpectedPacket, receivedHex: string, reason: MismatchReason, at: number, text: string): PacketMismatch {
  return {
    ok: false,
    reason,
    firstDifference: at,
    byteOffset: at >> 1,
    expectedHex: formatExpected(expected),
    receivedHex,
    message: text,
  };
}

function describeLength(nibbles: number): string {
  return nibbles % 2 === 0 ? `${nibbles / 2} bytes` : `${nibbles} hex digits`;
}

/** The expectation as STF writes it: digits and `*`, then `$` if the length is exact. */
export function formatExpected(expected: ExpectedPacket): string {
  return expected.nibbles + (expected.exactLength ? '$' : '');
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).toUpperCase().padStart(2, '0');
  return s;
}

/** Hex digits shown around the first difference; long packets are cut to this window. */
const WINDOW_NIBBLES = 64;
/** Digits of context kept before the difference when the window has to start later. */
const CONTEXT_BEFORE = 16;
const ELLIPSIS = '...';

export interface DescribeMismatchOptions {
  readonly port: number;
  /** Which packet on this port (0-based), when the port expects several. */
  readonly packetIndex?: number;
  readonly expected: ExpectedPacket;
  /** Undefined when the port produced no packet for this expectation. */
  readonly received: Uint8Array | undefined;
}

/**
 * The failure text for one expectation: what went wrong, the expected and received digits around
 * the first difference, and a caret under it.
 *
 *     port 2, packet 0: received packet differs at byte 14 (hex digit 28): expected 0, received 8
 *       expected  ...0000000000000800450000
 *       received  ...0000000000008600450000
 *                                  ^
 */
export function describeMismatch(options: DescribeMismatchOptions): string {
  const { port, packetIndex, expected, received } = options;
  const where = packetIndex === undefined ? `port ${port}` : `port ${port}, packet ${packetIndex}`;
  if (received === undefined) {
    return [`${where}: no packet received`, `  expected  ${formatExpected(expected)}`].join('\n');
  }
  const result = matchExpected(expected, received);
  if (result.ok) return `${where}: received packet matches`;
  const want = expected.nibbles;
  const got = result.receivedHex;
  const total = Math.max(want.length, got.length);
  // Start on a byte boundary, a little before the difference, so the reader sees what led to it.
  let start = Math.max(0, result.firstDifference - CONTEXT_BEFORE);
  start -= start % 2;
  const end = Math.min(total, start + WINDOW_NIBBLES);
  const lead = start > 0 ? ELLIPSIS : '';
  const cut = (s: string, tail: string): string => lead + s.slice(start, end) + (end < s.length ? ELLIPSIS : tail);
  const exactMark = expected.exactLength && end >= want.length ? '$' : '';
  const prefix = '  expected  ';
  return [
    `${where}: received packet ${result.message}`,
    prefix + cut(want, exactMark),
    '  received  ' + cut(got, ''),
    ' '.repeat(prefix.length + lead.length + result.firstDifference - start) + '^',
  ].join('\n');
}

/**
 * How received packets are paired with a port's expectations: `in-order` is p4c's STF runner
 * (a FIFO per port, the embedded target's single queue keeps the order); `by-content` pairs
 * each expectation with any not yet used packet that matches it (BMv2 may reorder across its
 * queues).
 */
export type PortOrder = 'in-order' | 'by-content';

/** Compares one port's received packets with its expectations; one message per failure, none when they agree. */
export function comparePortOutputs(port: number, wants: readonly ExpectedPacket[], gots: readonly Uint8Array[], order: PortOrder): string[] {
  const failures: string[] = [];
  let rest: readonly Uint8Array[];
  let unmatched: number;
  if (order === 'in-order') {
    wants.forEach((want, i) => {
      const got = gots[i];
      if (got === undefined || !matchExpected(want, got).ok) failures.push(describeMismatch({ port, packetIndex: i, expected: want, received: got }));
    });
    rest = gots.slice(Math.min(wants.length, gots.length));
    unmatched = 0;
  } else {
    const used = new Set<number>();
    const missed: { want: ExpectedPacket; index: number }[] = [];
    wants.forEach((want, index) => {
      const i = gots.findIndex((g, j) => !used.has(j) && matchExpected(want, g).ok);
      if (i >= 0) used.add(i);
      else missed.push({ want, index });
    });
    rest = gots.filter((_g, j) => !used.has(j));
    // A missed expectation is shown beside a left-over packet, the likeliest one it meant.
    missed.forEach(({ want, index }, k) => failures.push(describeMismatch({ port, packetIndex: index, expected: want, received: rest[k] })));
    unmatched = missed.length;
  }
  if (rest.length > unmatched) {
    failures.push(`port ${port}: ${rest.length - unmatched} unexpected packet(s), first: ${toHex(rest[unmatched]!)}`);
  }
  return failures;
}
