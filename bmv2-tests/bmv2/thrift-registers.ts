/**
 * Reads BMv2 registers through its Thrift runtime service (P4Runtime register reads are
 * UNIMPLEMENTED in BMv2): `standard.bm_register_read(cxt_id, name, index)` over the Thrift binary
 * protocol, buffered transport, multiplexed by service name, as BMv2's runtime_CLI calls it.
 * Encoding and decoding are pure; `ThriftRegisterClient` is the socket around them.
 */
import { Socket } from 'node:net';
import { Bmv2Error } from './errors.ts';

// Thrift binary protocol (thrift/doc/specs/thrift-binary-protocol.md).
const VERSION_1 = 0x80010000;
const MESSAGE = { call: 1, reply: 2, exception: 3 } as const;
const TYPE = { stop: 0, bool: 2, byte: 3, double: 4, i16: 6, i32: 8, i64: 10, string: 11, struct: 12, map: 13, set: 14, list: 15 } as const;
/** BMv2 registers its standard runtime service under this name (bm_runtime/server.cpp). */
const SERVICE = 'standard';

export function encodeRegisterRead(seqid: number, registerName: string, index: number): Buffer {
  const method = Buffer.from(`${SERVICE}:bm_register_read`, 'utf8');
  const name = Buffer.from(registerName, 'utf8');
  const out = Buffer.alloc(4 + 4 + method.length + 4 + (3 + 4) + (3 + 4 + name.length) + (3 + 4) + 1);
  let o = 0;
  o = out.writeUInt32BE((VERSION_1 | MESSAGE.call) >>> 0, o);
  o = out.writeInt32BE(method.length, o);
  o += method.copy(out, o);
  o = out.writeInt32BE(seqid, o);
  // args: 1: i32 cxt_id, 2: string register_array_name, 3: i32 idx
  o = out.writeUInt8(TYPE.i32, o);
  o = out.writeInt16BE(1, o);
  o = out.writeInt32BE(0, o);
  o = out.writeUInt8(TYPE.string, o);
  o = out.writeInt16BE(2, o);
  o = out.writeInt32BE(name.length, o);
  o += name.copy(out, o);
  o = out.writeUInt8(TYPE.i32, o);
  o = out.writeInt16BE(3, o);
  o = out.writeInt32BE(index, o);
  out.writeUInt8(TYPE.stop, o);
  return out;
}

class Incomplete extends Error {}

class Reader {
  offset = 0;
  constructor(private readonly b: Buffer) {}
  private need(n: number): void {
    if (this.offset + n > this.b.length) throw new Incomplete();
  }
  u8(): number {
    this.need(1);
    return this.b.readUInt8(this.offset++);
  }
  i16(): number {
    this.need(2);
    const v = this.b.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.b.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  i64(): bigint {
    this.need(8);
    const v = this.b.readBigInt64BE(this.offset);
    this.offset += 8;
    return v;
  }
  string(): string {
    const n = this.i32();
    this.need(n);
    const s = this.b.toString('utf8', this.offset, this.offset + n);
    this.offset += n;
    return s;
  }
  skip(type: number): void {
    switch (type) {
      case TYPE.bool:
      case TYPE.byte:
        this.u8();
        return;
      case TYPE.i16:
        this.i16();
        return;
      case TYPE.i32:
        this.i32();
        return;
      case TYPE.i64:
      case TYPE.double:
        this.i64();
        return;
      case TYPE.string:
        this.string();
        return;
      case TYPE.struct:
        for (let t = this.u8(); t !== TYPE.stop; t = this.u8()) {
          this.i16();
          this.skip(t);
        }
        return;
      case TYPE.map: {
        const k = this.u8();
        const v = this.u8();
        for (let n = this.i32(); n > 0; n--) {
          this.skip(k);
          this.skip(v);
        }
        return;
      }
      case TYPE.set:
      case TYPE.list: {
        const e = this.u8();
        for (let n = this.i32(); n > 0; n--) this.skip(e);
        return;
      }
      default:
        throw new Bmv2Error('BMV2_THRIFT', `Thrift reply has an unknown field type ${type}`);
    }
  }
}

/** Register errors of standard.thrift's RegisterOperationErrorCode. */
const REGISTER_ERRORS: Record<number, string> = { 1: 'invalid register name', 2: 'index out of bounds', 3: 'error' };

export type RegisterReadReply =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'value'; readonly seqid: number; readonly value: bigint; readonly length: number }
  | { readonly kind: 'error'; readonly seqid: number; readonly message: string; readonly length: number };

/** Decodes one reply at the start of `b`, or says more bytes are needed. */
export function decodeRegisterReadReply(b: Buffer): RegisterReadReply {
  const r = new Reader(b);
  try {
    const header = r.i32() >>> 0;
    if ((header & 0xffff0000) >>> 0 !== VERSION_1) throw new Bmv2Error('BMV2_THRIFT', `not a Thrift binary reply (header 0x${header.toString(16)})`);
    const type = header & 0xff;
    r.string();
    const seqid = r.i32();
    if (type === MESSAGE.exception) {
      let message = 'Thrift application exception';
      for (let t = r.u8(); t !== TYPE.stop; t = r.u8()) {
        const id = r.i16();
        if (id === 1 && t === TYPE.string) message = r.string();
        else r.skip(t);
      }
      return { kind: 'error', seqid, message, length: r.offset };
    }
    let value: bigint | undefined;
    let error: string | undefined;
    for (let t = r.u8(); t !== TYPE.stop; t = r.u8()) {
      const id = r.i16();
      if (id === 0 && t === TYPE.i64) value = BigInt.asUintN(64, r.i64());
      else if (id === 1 && t === TYPE.struct) {
        let code = 0;
        for (let f = r.u8(); f !== TYPE.stop; f = r.u8()) {
          const fid = r.i16();
          if (fid === 1 && f === TYPE.i32) code = r.i32();
          else r.skip(f);
        }
        error = REGISTER_ERRORS[code] ?? `error code ${code}`;
      } else r.skip(t);
    }
    if (error !== undefined) return { kind: 'error', seqid, message: error, length: r.offset };
    if (value === undefined) return { kind: 'error', seqid, message: 'reply without a value', length: r.offset };
    return { kind: 'value', seqid, value, length: r.offset };
  } catch (err) {
    if (err instanceof Incomplete) return { kind: 'incomplete' };
    throw err;
  }
}

/** One connection to the switch's Thrift port; calls go one at a time, in order. */
export class ThriftRegisterClient {
  private buffered = Buffer.alloc(0);
  private seqid = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, d]);
      this.waiter?.();
    });
    socket.on('error', (err) => {
      this.failure = err;
      this.waiter?.();
    });
    socket.on('close', () => {
      this.failure ??= new Error('the Thrift connection closed');
      this.waiter?.();
    });
  }

  static connect(port: number, timeoutMs = 2000): Promise<ThriftRegisterClient> {
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Bmv2Error('BMV2_THRIFT', `no Thrift connection to 127.0.0.1:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new Bmv2Error('BMV2_THRIFT', `Thrift connection to 127.0.0.1:${port}: ${err.message}`, { cause: err }));
      });
      socket.connect(port, '127.0.0.1', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new ThriftRegisterClient(socket));
      });
    });
  }

  /** The register cell's value (BMv2 serves at most 64 bits). */
  read(registerName: string, index: number, timeoutMs = 2000): Promise<bigint> {
    const next = this.chain.then(() => this.call(registerName, index, timeoutMs));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async call(registerName: string, index: number, timeoutMs: number): Promise<bigint> {
    const seqid = ++this.seqid;
    this.socket.write(encodeRegisterRead(seqid, registerName, index));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = decodeRegisterReadReply(this.buffered);
      if (reply.kind !== 'incomplete') {
        this.buffered = this.buffered.subarray(reply.length);
        if (reply.seqid !== seqid) continue;
        if (reply.kind === 'error') throw new Bmv2Error('BMV2_THRIFT', `register_read ${registerName}[${index}]: ${reply.message}`);
        return reply.value;
      }
      if (this.failure !== undefined) throw new Bmv2Error('BMV2_THRIFT', `register_read ${registerName}[${index}]: ${this.failure.message}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Bmv2Error('BMV2_THRIFT', `register_read ${registerName}[${index}]: no reply within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
