/**
 * The flow key: which header fields identify a flow, in which order and widths, and the hashes
 * computed over them — the slot hash and the flow-state register indexes. The P4 generator maps
 * these names to header fields in exactly this order, so the data plane hashes the same bytes.
 */
import { crc16, crc32, type HashField } from './bmv2-hashes.ts';
import { HashError } from './errors.ts';

export type FlowKeyKind = '5-tuple' | '3-tuple' | '2-tuple';
export const FLOW_KEY_KINDS: readonly FlowKeyKind[] = ['5-tuple', '3-tuple', '2-tuple'];

export type FlowKeyFieldName = 'srcAddr' | 'dstAddr' | 'protocol' | 'srcPort' | 'dstPort';

export interface FlowKeyField {
  readonly name: FlowKeyFieldName;
  readonly width: number;
}

const SRC: FlowKeyField = { name: 'srcAddr', width: 32 };
const DST: FlowKeyField = { name: 'dstAddr', width: 32 };
const PROTO: FlowKeyField = { name: 'protocol', width: 8 };
const SPORT: FlowKeyField = { name: 'srcPort', width: 16 };
const DPORT: FlowKeyField = { name: 'dstPort', width: 16 };

/** The ordered `data` list of the P4 `hash()` call for each key kind. */
export const FLOW_KEY_FIELDS: Readonly<Record<FlowKeyKind, readonly FlowKeyField[]>> = {
  '5-tuple': [SRC, DST, PROTO, SPORT, DPORT],
  '3-tuple': [SRC, DST, PROTO],
  '2-tuple': [SRC, DST],
};

/** A flow's identifying fields as unsigned integers (addresses as uint32 in network order). */
export interface FlowTuple {
  readonly srcAddr: number;
  readonly dstAddr: number;
  readonly protocol: number;
  readonly srcPort: number;
  readonly dstPort: number;
}

/** Salt prepended (as an 8-bit field) to the key for the second flow-state way. */
export const FLOW_STATE_WAY1_SALT = 0xa5;
export const FLOW_STATE_SALT_WIDTH = 8;

/** Key length in bytes for each kind (all kinds are byte-aligned: no padding). */
export function flowKeyLength(kind: FlowKeyKind): number {
  return FLOW_KEY_FIELDS[kind].reduce((bits, f) => bits + f.width, 0) / 8;
}

const FIELD_LIMIT: Record<number, number> = { 8: 2 ** 8, 16: 2 ** 16, 32: 2 ** 32 };

function checkField(tuple: FlowTuple, f: FlowKeyField): number {
  const v = tuple[f.name];
  if (!(Number.isInteger(v) && v >= 0 && v < FIELD_LIMIT[f.width]!)) {
    throw new HashError('HASH_BAD_FIELD', `${f.name} = ${v} does not fit in ${f.width} bits`, {
      location: { path: f.name },
    });
  }
  return v;
}

/** The key bytes: the kind's fields, big-endian, concatenated (what BMv2 hashes). */
export function encodeFlowKey(kind: FlowKeyKind, tuple: FlowTuple): Uint8Array {
  const out = new Uint8Array(flowKeyLength(kind));
  encodeFlowKeyInto(kind, tuple, out);
  return out;
}

/** Writes the key bytes at the start of `out` (at least 13 bytes long); returns their count. */
export function encodeFlowKeyInto(kind: FlowKeyKind, tuple: FlowTuple, out: Uint8Array): number {
  let pos = 0;
  for (const f of FLOW_KEY_FIELDS[kind]) {
    const v = checkField(tuple, f);
    // All key fields are at most 32 bits, so unsigned shifts are exact.
    for (let shift = f.width - 8; shift >= 0; shift -= 8) out[pos++] = (v >>> shift) & 0xff;
  }
  return pos;
}

/** Longest key (5-tuple) plus the way-1 salt byte. */
const MAX_KEY_BYTES = 14;
// Reused by the hashing helpers below so a lookup allocates nothing (JS is single-threaded).
const scratch = new Uint8Array(MAX_KEY_BYTES);

/** The key as `hash()` data fields, for the interpreter and for cross-checks with packFields. */
export function flowKeyHashFields(kind: FlowKeyKind, tuple: FlowTuple): HashField[] {
  return FLOW_KEY_FIELDS[kind].map((f) => ({ value: BigInt(checkField(tuple, f)), width: f.width }));
}

/** The flow hash: CRC-32 over the key bytes, as `hash(h, crc32, 0, {key}, 2^32)` in P4. */
export function flowHash(kind: FlowKeyKind, tuple: FlowTuple): number {
  return crc32(scratch, encodeFlowKeyInto(kind, tuple, scratch));
}

/** The slot of a hash in a table of `slots` entries: hash mod slots (P4: `hash(..., crc32, 0, {key}, M)`). */
export function slotOf(hash: number, slots: number): number {
  return hash % slots;
}

export interface FlowStateIndexes {
  /** CRC-32 of the key: stored in the register to recognise the flow (equals flowHash). */
  readonly signature: number;
  /** CRC-16/ARC of the key, mod S. */
  readonly way0: number;
  /**
   * CRC-32 of {8-bit salt 0xA5, key fields}, mod S. Not a second CRC-16: CRCs are affine in the
   * message, so CRC-16 of the salted key would differ from way 0 by a constant XOR, and two flows
   * that collide in one way would collide in the other as well (measured in the end-to-end
   * drain scenario: flows that could never be pinned).
   */
  readonly way1: number;
}

/**
 * Where the data plane remembers a flow in its two-way flow-state register of `size` entries.
 * P4: `hash(sig, crc32, 0, {key}, 2^32)`, `hash(i0, crc16, 0, {key}, S)`,
 * `hash(i1, crc32, 0, {8w0xA5, key}, S)`.
 */
export function flowStateIndexes(kind: FlowKeyKind, tuple: FlowTuple, size: number): FlowStateIndexes {
  if (!Number.isInteger(size) || size < 1) {
    throw new HashError('HASH_BAD_ARGUMENT', `flow-state size ${size} is not a positive integer`);
  }
  const key = encodeFlowKey(kind, tuple);
  scratch[0] = FLOW_STATE_WAY1_SALT;
  scratch.set(key, 1);
  return { signature: crc32(key), way0: crc16(key) % size, way1: crc32(scratch, key.length + 1) % size };
}

/** Parses dotted-quad IPv4 ("10.0.0.1") to a uint32. */
export function parseIpv4(text: string): number {
  const parts = text.split('.');
  const bad = (): never => {
    throw new HashError('HASH_BAD_ARGUMENT', `'${text}' is not a dotted-quad IPv4 address`);
  };
  if (parts.length !== 4) bad();
  let v = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) bad();
    const octet = Number(p);
    if (octet > 255) bad();
    v = v * 256 + octet;
  }
  return v;
}

/** Formats a uint32 as dotted-quad IPv4. */
export function formatIpv4(addr: number): string {
  return [addr >>> 24, (addr >>> 16) & 0xff, (addr >>> 8) & 0xff, addr & 0xff].join('.');
}

/** A tuple from dotted addresses, for tests, examples and the CLI. */
export function flowTuple(fields: {
  src: string;
  dst: string;
  protocol: number;
  srcPort?: number;
  dstPort?: number;
}): FlowTuple {
  return {
    srcAddr: parseIpv4(fields.src),
    dstAddr: parseIpv4(fields.dst),
    protocol: fields.protocol,
    srcPort: fields.srcPort ?? 0,
    dstPort: fields.dstPort ?? 0,
  };
}
