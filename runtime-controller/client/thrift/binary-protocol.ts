/**
 * The Thrift binary protocol (strict form, as TBinaryProtocol writes by default), only as much as
 * BMv2's runtime calls need: message headers, structs of i32 / i64 / string / struct / list
 * fields, and skipping fields we do not read. Big-endian throughout. Pure.
 *
 * Message: i32 (VERSION_1 | type), string name, i32 seqid, then the arguments (or result) struct.
 * Field: i8 type, i16 id, value; a struct ends with a STOP byte. String: i32 length + bytes.
 * List: i8 element type, i32 count, elements.
 */

export const THRIFT_VERSION_1 = 0x80010000;

export const MessageType = { CALL: 1, REPLY: 2, EXCEPTION: 3, ONEWAY: 4 } as const;

export const TType = {
  STOP: 0,
  BOOL: 2,
  BYTE: 3,
  DOUBLE: 4,
  I16: 6,
  I32: 8,
  I64: 10,
  STRING: 11,
  STRUCT: 12,
  MAP: 13,
  SET: 14,
  LIST: 15,
} as const;

export class ThriftWriter {
  private readonly parts: number[] = [];

  i8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }

  i16(v: number): this {
    return this.i8(v >> 8).i8(v);
  }

  i32(v: number): this {
    return this.i8(v >>> 24).i8(v >>> 16).i8(v >>> 8).i8(v);
  }

  i64(v: bigint): this {
    const u = BigInt.asUintN(64, v);
    for (let shift = 56n; shift >= 0n; shift -= 8n) this.i8(Number((u >> shift) & 0xffn));
    return this;
  }

  string(s: string): this {
    const bytes = new TextEncoder().encode(s);
    this.i32(bytes.length);
    for (const b of bytes) this.i8(b);
    return this;
  }

  fieldBegin(type: number, id: number): this {
    return this.i8(type).i16(id);
  }

  fieldStop(): this {
    return this.i8(TType.STOP);
  }

  messageBegin(name: string, type: number, seqid: number): this {
    return this.i32(THRIFT_VERSION_1 | type).string(name).i32(seqid);
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** Thrown by the reader when the buffer ends inside a message: wait for more bytes. */
export class ThriftIncomplete extends Error {
  constructor() {
    super('incomplete Thrift message');
  }
}

export class ThriftProtocolError extends Error {}

export interface MessageHeader {
  readonly name: string;
  readonly type: number;
  readonly seqid: number;
}

export class ThriftReader {
  offset = 0;

  constructor(private readonly buf: Uint8Array) {}

  private need(n: number): void {
    if (this.offset + n > this.buf.length) throw new ThriftIncomplete();
  }

  i8(): number {
    this.need(1);
    const v = this.buf[this.offset]!;
    this.offset += 1;
    return v << 24 >> 24;
  }

  i16(): number {
    this.need(2);
    const v = (this.buf[this.offset]! << 8) | this.buf[this.offset + 1]!;
    this.offset += 2;
    return v << 16 >> 16;
  }

  i32(): number {
    this.need(4);
    const b = this.buf;
    const o = this.offset;
    this.offset += 4;
    return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
  }

  i64(): bigint {
    this.need(8);
    let v = 0n;
    for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(this.buf[this.offset + i]!);
    this.offset += 8;
    return BigInt.asIntN(64, v);
  }

  string(): string {
    const length = this.i32();
    if (length < 0) throw new ThriftProtocolError(`negative string length ${length}`);
    this.need(length);
    const s = new TextDecoder().decode(this.buf.subarray(this.offset, this.offset + length));
    this.offset += length;
    return s;
  }

  messageBegin(): MessageHeader {
    const word = this.i32();
    if ((word & 0xffff0000) !== (THRIFT_VERSION_1 | 0)) throw new ThriftProtocolError(`bad Thrift version word 0x${(word >>> 0).toString(16)}`);
    const type = word & 0xff;
    const name = this.string();
    const seqid = this.i32();
    return { name, type, seqid };
  }

  /** Reads a struct, handing each field to `onField`; it returns false to have the field skipped. */
  struct(onField: (type: number, id: number) => boolean): void {
    for (;;) {
      const type = this.i8();
      if (type === TType.STOP) return;
      const id = this.i16();
      if (!onField(type, id)) this.skip(type);
    }
  }

  skip(type: number): void {
    switch (type) {
      case TType.BOOL:
      case TType.BYTE:
        this.i8();
        return;
      case TType.I16:
        this.i16();
        return;
      case TType.I32:
        this.i32();
        return;
      case TType.I64:
      case TType.DOUBLE:
        this.need(8);
        this.offset += 8;
        return;
      case TType.STRING:
        this.string();
        return;
      case TType.STRUCT:
        this.struct(() => false);
        return;
      case TType.LIST:
      case TType.SET: {
        const elem = this.i8();
        const n = this.i32();
        for (let i = 0; i < n; i++) this.skip(elem);
        return;
      }
      case TType.MAP: {
        const k = this.i8();
        const v = this.i8();
        const n = this.i32();
        for (let i = 0; i < n; i++) {
          this.skip(k);
          this.skip(v);
        }
        return;
      }
      default:
        throw new ThriftProtocolError(`unknown Thrift type ${type}`);
    }
  }
}
