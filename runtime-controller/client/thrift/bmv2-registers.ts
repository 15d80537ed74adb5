/**
 * BMv2's register calls over its Thrift runtime service (simple_switch built with Thrift, port
 * 9090): `bm_register_read`, `bm_register_read_all`, `bm_register_write`, `bm_register_reset` of
 * service `Standard`, and `bm_mgmt_get_info` to learn which device answers (behavioral-model thrift_src/standard.thrift), reached through the
 * multiplexed protocol as `standard:<method>` over a plain (buffered, unframed) TCP stream.
 * Register values travel as i64 (BmRegisterValue): BMv2 registers there are at most 64 bits.
 */
import { Socket } from 'node:net';
import { MessageType, ThriftIncomplete, ThriftReader, ThriftWriter, TType, type MessageHeader } from './binary-protocol.ts';

/** The multiplexed service name BMv2 registers `Standard` under. */
export const BMV2_STANDARD_SERVICE = 'standard';
/** BMv2's default Thrift port. */
export const BMV2_THRIFT_PORT = 9090;

/** RegisterOperationErrorCode of standard.thrift. */
export const REGISTER_ERROR_CODES: Readonly<Record<number, string>> = { 1: 'INVALID_REGISTER_NAME', 2: 'INVALID_INDEX', 3: 'ERROR' };

export type RegisterCall =
  | { readonly method: 'bm_register_read'; readonly register: string; readonly index: number }
  | { readonly method: 'bm_register_read_all'; readonly register: string }
  | { readonly method: 'bm_register_write'; readonly register: string; readonly index: number; readonly value: bigint }
  | { readonly method: 'bm_register_reset'; readonly register: string };

/** `bm_mgmt_get_info`: the switch's BmConfig (device_id, thrift_port). */
export type InfoCall = { readonly method: 'bm_mgmt_get_info' };

export type ThriftCall = RegisterCall | InfoCall;

function describeCall(call: ThriftCall): string {
  return call.method === 'bm_mgmt_get_info' ? call.method : `${call.method}(${call.register})`;
}

/** The bytes of one call message (context 0: simple_switch has one). */
export function encodeRegisterCall(call: ThriftCall, seqid: number, service = BMV2_STANDARD_SERVICE, cxtId = 0): Uint8Array {
  const w = new ThriftWriter().messageBegin(`${service}:${call.method}`, MessageType.CALL, seqid);
  if (call.method === 'bm_mgmt_get_info') return w.fieldStop().bytes();
  w.fieldBegin(TType.I32, 1).i32(cxtId);
  w.fieldBegin(TType.STRING, 2).string(call.register);
  if (call.method === 'bm_register_read' || call.method === 'bm_register_write') w.fieldBegin(TType.I32, 3).i32(call.index);
  if (call.method === 'bm_register_write') w.fieldBegin(TType.I64, 4).i64(call.value);
  w.fieldStop();
  return w.bytes();
}

export type RegisterReply =
  /** A value, a list of values, or BmConfig as [device_id, thrift_port]. */
  | { readonly kind: 'ok'; readonly values: readonly bigint[] }
  /** The method's declared exception InvalidRegisterOperation. */
  | { readonly kind: 'register-error'; readonly code: number; readonly codeName: string }
  /** A TApplicationException (unknown method, internal error). */
  | { readonly kind: 'application-error'; readonly message: string; readonly type: number };

export interface DecodedReply {
  readonly header: MessageHeader;
  readonly reply: RegisterReply;
  /** Bytes the message took. */
  readonly length: number;
}

/**
 * Decodes one reply at the start of `buf`, or returns undefined when `buf` holds only part of it.
 * The result struct has field 0 = the return value, field 1 = the InvalidRegisterOperation.
 */
export function decodeRegisterReply(buf: Uint8Array): DecodedReply | undefined {
  const r = new ThriftReader(buf);
  try {
    const header = r.messageBegin();
    let reply: RegisterReply = { kind: 'ok', values: [] };
    if (header.type === MessageType.EXCEPTION) {
      let message = '';
      let type = 0;
      r.struct((t, id) => {
        if (id === 1 && t === TType.STRING) message = r.string();
        else if (id === 2 && t === TType.I32) type = r.i32();
        else return false;
        return true;
      });
      reply = { kind: 'application-error', message, type };
    } else {
      r.struct((t, id) => {
        if (id === 0 && t === TType.I64) reply = { kind: 'ok', values: [r.i64()] };
        else if (id === 0 && t === TType.LIST) {
          const elem = r.i8();
          const n = r.i32();
          const values: bigint[] = [];
          for (let i = 0; i < n; i++) {
            if (elem === TType.I64) values.push(r.i64());
            else r.skip(elem);
          }
          reply = { kind: 'ok', values };
        } else if (id === 0 && t === TType.STRUCT) {
          // BmConfig: 1: i64 device_id, 2: i32 thrift_port; the optional sockets are skipped.
          let deviceId = 0n;
          let thriftPort = 0;
          r.struct((ft, fid) => {
            if (fid === 1 && ft === TType.I64) deviceId = r.i64();
            else if (fid === 2 && ft === TType.I32) thriftPort = r.i32();
            else return false;
            return true;
          });
          reply = { kind: 'ok', values: [deviceId, BigInt(thriftPort)] };
        } else if (id === 1 && t === TType.STRUCT) {
          let code = 0;
          r.struct((ft, fid) => {
            if (fid === 1 && ft === TType.I32) code = r.i32();
            else return false;
            return true;
          });
          reply = { kind: 'register-error', code, codeName: REGISTER_ERROR_CODES[code] ?? `CODE_${code}` };
        } else return false;
        return true;
      });
    }
    return { header, reply, length: r.offset };
  } catch (err) {
    if (err instanceof ThriftIncomplete) return undefined;
    throw err;
  }
}

export interface Bmv2ThriftOptions {
  readonly host?: string;
  readonly port?: number;
  readonly timeoutMs?: number;
  readonly service?: string;
}

/** Failure of a Thrift call: a transport fault, a register error, or an application exception. */
export class ThriftCallError extends Error {
  constructor(
    message: string,
    readonly reply?: RegisterReply,
  ) {
    super(message);
  }
}

/** One TCP connection to BMv2's Thrift server; calls go one at a time, in order. */
export class Bmv2ThriftConnection {
  private buffer = new Uint8Array(0);
  private seqid = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private pending: { resolve: (r: DecodedReply) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly options: Required<Bmv2ThriftOptions>,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('the Thrift connection closed')));
  }

  static connect(options: Bmv2ThriftOptions = {}): Promise<Bmv2ThriftConnection> {
    const full = {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? BMV2_THRIFT_PORT,
      timeoutMs: options.timeoutMs ?? 5000,
      service: options.service ?? BMV2_STANDARD_SERVICE,
    };
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ThriftCallError(`no Thrift connection to ${full.host}:${full.port} within ${full.timeoutMs} ms`));
      }, full.timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new ThriftCallError(`cannot connect to BMv2's Thrift server at ${full.host}:${full.port}: ${err.message}`));
      });
      socket.connect(full.port, full.host, () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new Bmv2ThriftConnection(socket, full));
      });
    });
  }

  /** Which switch answers: its device id (as given by --device-id) and Thrift port. */
  async info(): Promise<{ readonly deviceId: bigint; readonly thriftPort: number }> {
    const [deviceId, thriftPort] = await this.call({ method: 'bm_mgmt_get_info' });
    return { deviceId: deviceId ?? 0n, thriftPort: Number(thriftPort ?? 0n) };
  }

  /** Sends a call and resolves with the values it returns (empty for void calls). */
  call(call: ThriftCall): Promise<readonly bigint[]> {
    const run = async (): Promise<readonly bigint[]> => {
      if (this.failure !== undefined) throw new ThriftCallError(this.failure.message);
      const seqid = ++this.seqid;
      const reply = await new Promise<DecodedReply>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.pending = undefined;
          reject(new ThriftCallError(`${call.method}: no reply within ${this.options.timeoutMs} ms`));
        }, this.options.timeoutMs);
        this.pending = {
          resolve: (r) => {
            clearTimeout(timer);
            resolve(r);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        };
        this.socket.write(encodeRegisterCall(call, seqid, this.options.service));
      });
      if (reply.header.seqid !== seqid) throw new ThriftCallError(`${call.method}: reply for call ${reply.header.seqid}, expected ${seqid}`);
      const r = reply.reply;
      if (r.kind === 'register-error') throw new ThriftCallError(`${describeCall(call)}: ${r.codeName}`, r);
      if (r.kind === 'application-error') throw new ThriftCallError(`${describeCall(call)}: ${r.message}`, r);
      return r.values;
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.failure ??= new Error('the Thrift connection is closed');
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const merged = new Uint8Array(this.buffer.length + chunk.length);
    merged.set(this.buffer);
    merged.set(chunk, this.buffer.length);
    this.buffer = merged;
    for (;;) {
      let decoded: DecodedReply | undefined;
      try {
        decoded = decodeRegisterReply(this.buffer);
      } catch (err) {
        this.fail(err instanceof Error ? err : new Error(String(err)));
        this.socket.destroy();
        return;
      }
      if (decoded === undefined) return;
      this.buffer = this.buffer.slice(decoded.length);
      const p = this.pending;
      this.pending = undefined;
      p?.resolve(decoded);
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(new ThriftCallError(`Thrift: ${err.message}`));
  }
}
