/**
 * Hand-written wire codec for the hot paths of WriteRequest and ReadResponse: Update → Entity →
 * TableEntry with exact FieldMatches, a direct Action with params and optional CounterData (what
 * a slot-table change or read-back is made of).
 * protobuf-es' reflection costs tens of µs per entry; this codec is a few. Anything outside the
 * hot path — other entities, other match kinds, unknown fields, repeated singular messages
 * (which protobuf merges), negative or oversized varints — falls back to protobuf-es for that
 * Update (or the whole request), so results are identical to `fromBinary` / `toBinary`
 * (see write-codec.test.ts). Pure: no I/O.
 */
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  EntitySchema,
  ReadResponseSchema,
  UpdateSchema,
  WriteRequestSchema,
  type Action,
  type Action_Param,
  type CounterData,
  type ReadResponse,
  type Entity,
  type FieldMatch,
  type TableAction,
  type TableEntry,
  type Update,
  type WriteRequest,
} from './gen/p4/v1/p4runtime_pb.ts';

// Wire types (protobuf encoding spec).
const VARINT = 0;
const LEN = 2;

const EMPTY: Uint8Array = new Uint8Array(0);

/** Thrown inside the fast decoder when the input leaves the hot path; never escapes this module. */
class Fallback {}
const FALLBACK = new Fallback();

// ------------------------------------------------------------------------------------ decode

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  /** A varint that must fit in 32 bits unsigned (≤ 5 bytes, no high bits), else fall back. */
  u32(end: number): number {
    const b = this.buf;
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= end) throw FALLBACK;
      const byte = b[this.pos++]!;
      if (shift === 28) {
        if (byte > 0x0f) throw FALLBACK;
        return (result | (byte << 28)) >>> 0;
      }
      result |= (byte & 0x7f) << shift;
      if (byte < 0x80) return result >>> 0;
    }
    throw FALLBACK;
  }

  /** A non-negative int32 (larger or negative values, 10-byte encoded, fall back). */
  i32(end: number): number {
    const v = this.u32(end);
    if (v > 0x7fffffff) throw FALLBACK;
    return v;
  }

  /** A bool: any set bit of the (≤ 10 byte) varint, as protobuf-es reads it. */
  bool(end: number): boolean {
    const b = this.buf;
    let any = false;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw FALLBACK;
      const byte = b[this.pos++]!;
      if ((byte & 0x7f) !== 0) any = true;
      if (byte < 0x80) return any;
    }
    throw FALLBACK;
  }

  /** The end of a length-delimited field that starts here. */
  lenEnd(end: number): number {
    const len = this.u32(end);
    const e = this.pos + len;
    if (e > end) throw FALLBACK;
    return e;
  }

  bytes(end: number): Uint8Array {
    const e = this.lenEnd(end);
    const start = this.pos;
    this.pos = e;
    // A view, as protobuf-es returns.
    return this.buf.subarray(start, e);
  }
}

function decodeParam(r: Reader, end: number): Action_Param {
  let paramId = 0;
  let value = EMPTY;
  while (r.pos < end) {
    const tag = r.u32(end);
    if (tag === ((2 << 3) | VARINT)) paramId = r.u32(end);
    else if (tag === ((3 << 3) | LEN)) value = r.bytes(end);
    else throw FALLBACK;
  }
  return { $typeName: 'p4.v1.Action.Param', paramId, value };
}

function decodeAction(r: Reader, end: number): Action {
  let actionId = 0;
  const params: Action_Param[] = [];
  while (r.pos < end) {
    const tag = r.u32(end);
    if (tag === ((1 << 3) | VARINT)) actionId = r.u32(end);
    else if (tag === ((4 << 3) | LEN)) {
      const e = r.lenEnd(end);
      params.push(decodeParam(r, e));
    } else throw FALLBACK;
  }
  return { $typeName: 'p4.v1.Action', actionId, params };
}

/**
 * The one length-delimited field `field` of a wrapper message (a oneof with the one case this
 * codec handles), undefined when absent; another field, or the field twice, falls back.
 */
function onlyField<T>(r: Reader, end: number, field: number, decode: (r: Reader, end: number) => T): T | undefined {
  let value: T | undefined;
  while (r.pos < end) {
    const tag = r.u32(end);
    if (tag !== ((field << 3) | LEN) || value !== undefined) throw FALLBACK;
    value = decode(r, r.lenEnd(end));
  }
  return value;
}

function decodeTableAction(r: Reader, end: number): TableAction {
  const action = onlyField(r, end, 1, decodeAction);
  return action === undefined
    ? { $typeName: 'p4.v1.TableAction', type: { case: undefined } }
    : { $typeName: 'p4.v1.TableAction', type: { case: 'action', value: action } };
}

function decodeFieldMatch(r: Reader, end: number): FieldMatch {
  let fieldId = 0;
  let exact: Uint8Array | undefined;
  while (r.pos < end) {
    const tag = r.u32(end);
    if (tag === ((1 << 3) | VARINT)) fieldId = r.u32(end);
    else if (tag === ((2 << 3) | LEN) && exact === undefined) {
      const e = r.lenEnd(end);
      let value = EMPTY;
      while (r.pos < e) {
        if (r.u32(e) !== ((1 << 3) | LEN)) throw FALLBACK;
        value = r.bytes(e);
      }
      exact = value;
    } else throw FALLBACK;
  }
  return exact === undefined
    ? { $typeName: 'p4.v1.FieldMatch', fieldId, fieldMatchType: { case: undefined } }
    : { $typeName: 'p4.v1.FieldMatch', fieldId, fieldMatchType: { case: 'exact', value: { $typeName: 'p4.v1.FieldMatch.Exact', value: exact } } };
}

function decodeTableEntry(r: Reader, end: number): TableEntry {
  let tableId = 0;
  const match: FieldMatch[] = [];
  let action: TableAction | undefined;
  let priority = 0;
  let isDefaultAction = false;
  let metadata = EMPTY;
  let isConst = false;
  let counterData: CounterData | undefined;
  while (r.pos < end) {
    const tag = r.u32(end);
    switch (tag) {
      case (1 << 3) | VARINT:
        tableId = r.u32(end);
        break;
      case (2 << 3) | LEN: {
        const e = r.lenEnd(end);
        match.push(decodeFieldMatch(r, e));
        break;
      }
      case (3 << 3) | LEN: {
        if (action !== undefined) throw FALLBACK;
        const e = r.lenEnd(end);
        action = decodeTableAction(r, e);
        break;
      }
      case (4 << 3) | VARINT:
        priority = r.i32(end);
        break;
      case (7 << 3) | LEN: {
        if (counterData !== undefined) throw FALLBACK;
        const e = r.lenEnd(end);
        counterData = decodeCounterData(r, e);
        break;
      }
      case (8 << 3) | VARINT:
        isDefaultAction = r.bool(end);
        break;
      case (11 << 3) | LEN:
        metadata = r.bytes(end);
        break;
      case (13 << 3) | VARINT:
        isConst = r.bool(end);
        break;
      default:
        throw FALLBACK;
    }
  }
  return {
    $typeName: 'p4.v1.TableEntry',
    tableId,
    match,
    action,
    priority,
    controllerMetadata: 0n,
    meterConfig: undefined,
    counterData,
    meterCounterData: undefined,
    isDefaultAction,
    idleTimeoutNs: 0n,
    timeSinceLastHit: undefined,
    metadata,
    isConst,
  };
}

function decodeCounterData(r: Reader, end: number): CounterData {
  let byteCount = 0n;
  let packetCount = 0n;
  while (r.pos < end) {
    const tag = r.u32(end);
    let v: bigint;
    if (tag === ((1 << 3) | VARINT)) byteCount = v = readU64(r, end);
    else if (tag === ((2 << 3) | VARINT)) packetCount = v = readU64(r, end);
    else throw FALLBACK;
    // Negative int64 values: left to protobuf-es.
    if (v > INT64_MAX) throw FALLBACK;
  }
  return { $typeName: 'p4.v1.CounterData', byteCount, packetCount };
}

const INT64_MAX = (1n << 63n) - 1n;

function decodeEntity(r: Reader, end: number): Entity {
  const entry = onlyField(r, end, 2, decodeTableEntry);
  return entry === undefined
    ? { $typeName: 'p4.v1.Entity', entity: { case: undefined } }
    : { $typeName: 'p4.v1.Entity', entity: { case: 'tableEntry', value: entry } };
}

function decodeUpdateFast(r: Reader, end: number): Update {
  let type = 0;
  let entity: Entity | undefined;
  while (r.pos < end) {
    const tag = r.u32(end);
    if (tag === ((1 << 3) | VARINT)) type = r.i32(end);
    else if (tag === ((2 << 3) | LEN) && entity === undefined) {
      const e = r.lenEnd(end);
      entity = decodeEntity(r, e);
    } else throw FALLBACK;
  }
  return { $typeName: 'p4.v1.Update', type, entity };
}

function decodeUpdate(r: Reader, end: number): Update {
  const start = r.pos;
  try {
    return decodeUpdateFast(r, end);
  } catch (err) {
    if (err !== FALLBACK) throw err;
    r.pos = end;
    return fromBinary(UpdateSchema, r.buf.subarray(start, end));
  }
}

/**
 * What `fromBinary(WriteRequestSchema, bytes)` returns, faster for table-entry updates. Only the
 * `updates` are decoded by hand; any other field falls back for the whole request.
 */
export function decodeWriteRequest(bytes: Uint8Array): WriteRequest {
  const r = new Reader(bytes);
  const end = bytes.length;
  const updates: Update[] = [];
  let deviceId = 0n;
  let electionId: WriteRequest['electionId'];
  let atomicity = 0;
  try {
    while (r.pos < end) {
      const tag = r.u32(end);
      switch (tag) {
        case (1 << 3) | VARINT:
          deviceId = readU64(r, end);
          break;
        case (3 << 3) | LEN: {
          if (electionId !== undefined) throw FALLBACK;
          const e = r.lenEnd(end);
          electionId = decodeUint128(r, e);
          break;
        }
        case (4 << 3) | LEN: {
          const e = r.lenEnd(end);
          updates.push(decodeUpdate(r, e));
          break;
        }
        case (5 << 3) | VARINT:
          atomicity = r.i32(end);
          break;
        default:
          // role_id, role and unknown fields: rare, left to protobuf-es.
          throw FALLBACK;
      }
    }
  } catch (err) {
    if (err !== FALLBACK) throw err;
    return fromBinary(WriteRequestSchema, bytes);
  }
  return { $typeName: 'p4.v1.WriteRequest', deviceId, roleId: 0n, role: '', electionId, updates, atomicity };
}

/** A uint64 varint as a bigint (≤ 10 bytes; the bits above 64 are dropped, as protobuf-es does). */
function readU64(r: Reader, end: number): bigint {
  let lo = 0;
  let hi = 0;
  const b = r.buf;
  for (let i = 0; i < 10; i++) {
    if (r.pos >= end) throw FALLBACK;
    const byte = b[r.pos++]!;
    const bits = byte & 0x7f;
    const shift = i * 7;
    if (shift < 28) lo |= bits << shift;
    else if (shift === 28) {
      lo |= (bits & 0x0f) << 28;
      hi |= bits >> 4;
    } else hi |= bits << (shift - 32);
    if (byte < 0x80) return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  }
  throw FALLBACK;
}

function decodeUint128(r: Reader, end: number): NonNullable<WriteRequest['electionId']> {
  let high = 0n;
  let low = 0n;
  while (r.pos < end) {
    const tag = r.u32(end);
    if (tag === ((1 << 3) | VARINT)) high = readU64(r, end);
    else if (tag === ((2 << 3) | VARINT)) low = readU64(r, end);
    else throw FALLBACK;
  }
  return { $typeName: 'p4.v1.Uint128', high, low };
}

// ------------------------------------------------------------------------------------ encode

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

function u64Size(v: bigint): number {
  let n = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}

const hasUnknown = (m: object): boolean => {
  const unknown = (m as { $unknown?: readonly unknown[] }).$unknown;
  return unknown !== undefined && unknown.length > 0;
};

/**
 * Sizes of a table-entry Update in pre-order (Update, then as `sizeEntity`), or -1 when it
 * leaves the hot path.
 */
function sizeUpdate(u: Update, sizes: number[]): number {
  const ent = u.entity;
  if (hasUnknown(u) || ent === undefined || u.type < 0) return -1;
  const at = sizes.length;
  sizes.push(0);
  const entSize = sizeEntity(ent, sizes);
  if (entSize < 0) return -1;
  const uSize = (u.type === 0 ? 0 : 1 + varintSize(u.type)) + 1 + varintSize(entSize) + entSize;
  sizes[at] = uSize;
  return uSize;
}

/**
 * Sizes of a table-entry Entity in pre-order (Entity, TableEntry, each FieldMatch and its Exact,
 * the TableAction, the Action, each Param, the CounterData), or -1 when it leaves the hot path.
 */
function sizeEntity(ent: Entity, sizes: number[]): number {
  if (hasUnknown(ent) || ent.entity.case !== 'tableEntry') return -1;
  const te = ent.entity.value;
  if (
    hasUnknown(te) ||
    te.controllerMetadata !== 0n ||
    te.meterConfig !== undefined ||
    (te.counterData !== undefined && (hasUnknown(te.counterData) || te.counterData.byteCount < 0n || te.counterData.packetCount < 0n)) ||
    te.meterCounterData !== undefined ||
    te.idleTimeoutNs !== 0n ||
    te.timeSinceLastHit !== undefined ||
    te.priority < 0
  ) {
    return -1;
  }
  const at = sizes.length;
  sizes.push(0, 0);
  let teSize = te.tableId === 0 ? 0 : 1 + varintSize(te.tableId);
  for (const m of te.match) {
    if (hasUnknown(m) || m.fieldMatchType.case !== 'exact' || hasUnknown(m.fieldMatchType.value)) return -1;
    const v = m.fieldMatchType.value.value;
    const exactSize = v.length === 0 ? 0 : 1 + varintSize(v.length) + v.length;
    const fmSize = (m.fieldId === 0 ? 0 : 1 + varintSize(m.fieldId)) + 1 + varintSize(exactSize) + exactSize;
    sizes.push(fmSize, exactSize);
    teSize += 1 + varintSize(fmSize) + fmSize;
  }
  const ta = te.action;
  if (ta !== undefined) {
    if (hasUnknown(ta)) return -1;
    let taSize = 0;
    const taAt = sizes.length;
    sizes.push(0, 0);
    if (ta.type.case === 'action') {
      const a = ta.type.value;
      if (hasUnknown(a)) return -1;
      let aSize = a.actionId === 0 ? 0 : 1 + varintSize(a.actionId);
      for (const p of a.params) {
        if (hasUnknown(p)) return -1;
        const pSize = (p.paramId === 0 ? 0 : 1 + varintSize(p.paramId)) + (p.value.length === 0 ? 0 : 1 + varintSize(p.value.length) + p.value.length);
        sizes.push(pSize);
        aSize += 1 + varintSize(pSize) + pSize;
      }
      sizes[taAt + 1] = aSize;
      taSize = 1 + varintSize(aSize) + aSize;
    } else if (ta.type.case !== undefined) return -1;
    sizes[taAt] = taSize;
    teSize += 1 + varintSize(taSize) + taSize;
  }
  if (te.priority !== 0) teSize += 1 + varintSize(te.priority);
  const c = te.counterData;
  if (c !== undefined) {
    const cSize = (c.byteCount === 0n ? 0 : 1 + u64Size(c.byteCount)) + (c.packetCount === 0n ? 0 : 1 + u64Size(c.packetCount));
    sizes.push(cSize);
    teSize += 1 + varintSize(cSize) + cSize;
  }
  if (te.isDefaultAction) teSize += 2;
  if (te.metadata.length > 0) teSize += 1 + varintSize(te.metadata.length) + te.metadata.length;
  if (te.isConst) teSize += 2;
  const entSize = 1 + varintSize(teSize) + teSize;
  sizes[at] = entSize;
  sizes[at + 1] = teSize;
  return entSize;
}

class Writer {
  pos = 0;
  /** Cursor into the pre-order sizes. */
  next = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly sizes: readonly number[],
  ) {}

  varint(v: number): void {
    const b = this.buf;
    while (v >= 0x80) {
      b[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[this.pos++] = v;
  }

  u64(v: bigint): void {
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  /** A bytes field, omitted when empty (proto3 implicit presence). */
  bytes(tag: number, v: Uint8Array): void {
    const n = v.length;
    if (n === 0) return;
    const b = this.buf;
    b[this.pos++] = tag;
    this.varint(n);
    // Slot-table values are a few bytes: a loop beats TypedArray.set's call overhead.
    if (n <= 16) for (let i = 0; i < n; i++) b[this.pos++] = v[i]!;
    else {
      b.set(v, this.pos);
      this.pos += n;
    }
  }

  /** Tag and length of the next pre-order message. */
  open(tag: number): void {
    this.buf[this.pos++] = tag;
    this.varint(this.sizes[this.next++]!);
  }
}

function writeUpdate(w: Writer, u: Update): void {
  w.open((4 << 3) | LEN); // WriteRequest.updates
  if (u.type !== 0) {
    w.buf[w.pos++] = (1 << 3) | VARINT;
    w.varint(u.type);
  }
  writeEntity(w, (2 << 3) | LEN, u.entity!);
}

/** A table-entry Entity sized by `sizeEntity`, as the field `tag`. */
function writeEntity(w: Writer, tag: number, ent: Entity): void {
  const te = (ent.entity as { value: TableEntry }).value;
  w.open(tag);
  w.open((2 << 3) | LEN); // Entity.table_entry
  if (te.tableId !== 0) {
    w.buf[w.pos++] = (1 << 3) | VARINT;
    w.varint(te.tableId);
  }
  for (const m of te.match) {
    w.open((2 << 3) | LEN);
    if (m.fieldId !== 0) {
      w.buf[w.pos++] = (1 << 3) | VARINT;
      w.varint(m.fieldId);
    }
    w.open((2 << 3) | LEN);
    w.bytes((1 << 3) | LEN, (m.fieldMatchType.value as { value: Uint8Array }).value);
  }
  const ta = te.action;
  if (ta !== undefined) {
    w.open((3 << 3) | LEN);
    if (ta.type.case === 'action') {
      const a = ta.type.value;
      w.open((1 << 3) | LEN);
      if (a.actionId !== 0) {
        w.buf[w.pos++] = (1 << 3) | VARINT;
        w.varint(a.actionId);
      }
      for (const p of a.params) {
        w.open((4 << 3) | LEN);
        if (p.paramId !== 0) {
          w.buf[w.pos++] = (2 << 3) | VARINT;
          w.varint(p.paramId);
        }
        w.bytes((3 << 3) | LEN, p.value);
      }
    } else w.next++; // the Action size slot, unused
  }
  if (te.priority !== 0) {
    w.buf[w.pos++] = (4 << 3) | VARINT;
    w.varint(te.priority);
  }
  const c = te.counterData;
  if (c !== undefined) {
    w.open((7 << 3) | LEN);
    if (c.byteCount !== 0n) {
      w.buf[w.pos++] = (1 << 3) | VARINT;
      w.u64(c.byteCount);
    }
    if (c.packetCount !== 0n) {
      w.buf[w.pos++] = (2 << 3) | VARINT;
      w.u64(c.packetCount);
    }
  }
  if (te.isDefaultAction) {
    w.buf[w.pos++] = (8 << 3) | VARINT;
    w.buf[w.pos++] = 1;
  }
  w.bytes((11 << 3) | LEN, te.metadata);
  if (te.isConst) {
    w.buf[w.pos++] = (13 << 3) | VARINT;
    w.buf[w.pos++] = 1;
  }
}

/**
 * What `toBinary(WriteRequestSchema, request)` returns (byte for byte), faster for table-entry
 * updates; other updates are encoded by protobuf-es and copied in.
 */
export function encodeWriteRequest(request: WriteRequest): Uint8Array {
  if (hasUnknown(request) || request.roleId !== 0n || request.role !== '' || request.atomicity < 0 || (request.electionId !== undefined && hasUnknown(request.electionId))) {
    return toBinary(WriteRequestSchema, request);
  }
  const sizes: number[] = [];
  // Per update: its protobuf-es bytes when it left the hot path, else undefined.
  const slow: (Uint8Array | undefined)[] = [];
  let total = 0;
  if (request.deviceId !== 0n) total += 1 + u64Size(request.deviceId);
  let electionSize = 0;
  const e = request.electionId;
  if (e !== undefined) {
    electionSize = (e.high === 0n ? 0 : 1 + u64Size(e.high)) + (e.low === 0n ? 0 : 1 + u64Size(e.low));
    total += 1 + varintSize(electionSize) + electionSize;
  }
  for (const u of request.updates) {
    const mark = sizes.length;
    const size = sizeUpdate(u, sizes);
    if (size >= 0) {
      slow.push(undefined);
      total += 1 + varintSize(size) + size;
    } else {
      sizes.length = mark;
      const bytes = toBinary(UpdateSchema, u);
      slow.push(bytes);
      total += 1 + varintSize(bytes.length) + bytes.length;
    }
  }
  if (request.atomicity !== 0) total += 1 + varintSize(request.atomicity);
  const w = new Writer(new Uint8Array(total), sizes);
  if (request.deviceId !== 0n) {
    w.buf[w.pos++] = (1 << 3) | VARINT;
    w.u64(request.deviceId);
  }
  if (e !== undefined) {
    w.buf[w.pos++] = (3 << 3) | LEN;
    w.varint(electionSize);
    if (e.high !== 0n) {
      w.buf[w.pos++] = (1 << 3) | VARINT;
      w.u64(e.high);
    }
    if (e.low !== 0n) {
      w.buf[w.pos++] = (2 << 3) | VARINT;
      w.u64(e.low);
    }
  }
  request.updates.forEach((u, i) => {
    const bytes = slow[i];
    if (bytes === undefined) writeUpdate(w, u);
    else {
      // A message field is written even when empty.
      w.buf[w.pos++] = (4 << 3) | LEN;
      w.varint(bytes.length);
      w.buf.set(bytes, w.pos);
      w.pos += bytes.length;
    }
  });
  if (request.atomicity !== 0) {
    w.buf[w.pos++] = (5 << 3) | VARINT;
    w.varint(request.atomicity);
  }
  return w.buf;
}

// ------------------------------------------------------------------------------- ReadResponse

function decodeEntityOrFallback(r: Reader, end: number): Entity {
  const start = r.pos;
  try {
    return decodeEntity(r, end);
  } catch (err) {
    if (err !== FALLBACK) throw err;
    r.pos = end;
    return fromBinary(EntitySchema, r.buf.subarray(start, end));
  }
}

/** What `fromBinary(ReadResponseSchema, bytes)` returns, faster for table entries (a read-back). */
export function decodeReadResponse(bytes: Uint8Array): ReadResponse {
  const r = new Reader(bytes);
  const end = bytes.length;
  const entities: Entity[] = [];
  try {
    while (r.pos < end) {
      if (r.u32(end) !== ((1 << 3) | LEN)) throw FALLBACK;
      const e = r.lenEnd(end);
      entities.push(decodeEntityOrFallback(r, e));
    }
  } catch (err) {
    if (err !== FALLBACK) throw err;
    return fromBinary(ReadResponseSchema, bytes);
  }
  return { $typeName: 'p4.v1.ReadResponse', entities };
}

/** What `toBinary(ReadResponseSchema, response)` returns (byte for byte), faster for table entries. */
export function encodeReadResponse(response: ReadResponse): Uint8Array {
  if (hasUnknown(response)) return toBinary(ReadResponseSchema, response);
  const sizes: number[] = [];
  const slow: (Uint8Array | undefined)[] = [];
  let total = 0;
  for (const ent of response.entities) {
    const mark = sizes.length;
    const size = sizeEntity(ent, sizes);
    if (size >= 0) {
      slow.push(undefined);
      total += 1 + varintSize(size) + size;
    } else {
      sizes.length = mark;
      const bytes = toBinary(EntitySchema, ent);
      slow.push(bytes);
      total += 1 + varintSize(bytes.length) + bytes.length;
    }
  }
  const w = new Writer(new Uint8Array(total), sizes);
  response.entities.forEach((ent, i) => {
    const bytes = slow[i];
    if (bytes === undefined) writeEntity(w, (1 << 3) | LEN, ent);
    else {
      w.buf[w.pos++] = (1 << 3) | LEN;
      w.varint(bytes.length);
      w.buf.set(bytes, w.pos);
      w.pos += bytes.length;
    }
  });
  return w.buf;
}
