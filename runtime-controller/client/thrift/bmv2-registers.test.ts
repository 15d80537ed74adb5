import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GrpcStatus, P4RuntimeRpcError } from '../../../core/p4runtime/status.ts';
import type { P4RuntimeClient } from '../../../core/p4runtime/service.ts';
import { TEST_SCHEMA } from '../../schema/test-fixtures.ts';
import { ClientError } from '../errors.ts';
import { selectRegisterAccess, THRIFT_SATURATED, thriftCell, ThriftRegisterAccess, type RegisterAccess } from '../registers.ts';
import { SwitchClient } from '../switch-client.ts';
import { MessageType, ThriftReader, ThriftWriter, TType } from './binary-protocol.ts';
import { decodeRegisterReply, encodeRegisterCall } from './bmv2-registers.ts';

const hex = (s: string): number[] => s.replace(/\s+/g, '').match(/../g)!.map((b) => parseInt(b, 16));
const ascii = (s: string): string => [...s].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('');

describe('Thrift binary protocol encoding of BMv2 register calls', () => {
  // Bytes derived by hand from the Thrift binary protocol: strict header (0x8001 version,
  // type byte), i32-length-prefixed name, i32 seqid, then fields (i8 type, i16 id, value), STOP.
  it('encodes bm_register_read as standard:bm_register_read with cxt_id, name and index', () => {
    const bytes = encodeRegisterCall({ method: 'bm_register_read', register: 'r', index: 2 }, 1);
    expect([...bytes]).toEqual(
      hex(`80010001 00000019 ${ascii('standard:bm_register_read')} 00000001
           08 0001 00000000
           0b 0002 00000001 72
           08 0003 00000002
           00`),
    );
  });

  it('encodes bm_register_write with an i64 value (two\'s complement for the top bit)', () => {
    const bytes = encodeRegisterCall({ method: 'bm_register_write', register: 'MyIngress.x', index: 7, value: -2n }, 0x0102);
    expect([...bytes]).toEqual(
      hex(`80010001 0000001a ${ascii('standard:bm_register_write')} 00000102
           08 0001 00000000
           0b 0002 0000000b ${ascii('MyIngress.x')}
           08 0003 00000007
           0a 0004 fffffffffffffffe
           00`),
    );
  });

  it('encodes bm_register_reset and bm_register_read_all with only cxt_id and name', () => {
    expect([...encodeRegisterCall({ method: 'bm_register_reset', register: 'r' }, 3)]).toEqual(
      hex(`80010001 0000001a ${ascii('standard:bm_register_reset')} 00000003 08 0001 00000000 0b 0002 00000001 72 00`),
    );
    expect([...encodeRegisterCall({ method: 'bm_register_read_all', register: 'r' }, 4)].slice(8, 8 + 29)).toEqual(hex(ascii('standard:bm_register_read_all')));
  });

  it('encodes bm_mgmt_get_info with no arguments and decodes its BmConfig as [device_id, thrift_port]', () => {
    expect([...encodeRegisterCall({ method: 'bm_mgmt_get_info' }, 5)]).toEqual(hex(`80010001 00000019 ${ascii('standard:bm_mgmt_get_info')} 00000005 00`));
    // BmConfig { 1: i64 device_id = 3, 2: i32 thrift_port = 9090, 3: string notifications_socket }
    const info = hex(`80010002 00000010 ${ascii('bm_mgmt_get_info')} 00000005 0c 0000 0a 0001 0000000000000003 08 0002 00002382 0b 0003 00000002 ${ascii('ip')} 00 00`);
    expect(decodeRegisterReply(Uint8Array.from(info))?.reply).toEqual({ kind: 'ok', values: [3n, 9090n] });
  });

  it('flags a 64-bit Thrift read of 2^63 − 1 as saturated, and nothing narrower', () => {
    expect(thriftCell(2, THRIFT_SATURATED, 64)).toEqual({ index: 2, value: THRIFT_SATURATED, saturated: true });
    expect(thriftCell(2, THRIFT_SATURATED - 1n, 64)).toEqual({ index: 2, value: THRIFT_SATURATED - 1n });
    expect(thriftCell(0, -1n, 32)).toEqual({ index: 0, value: 0xffffffffn });
  });

  it('decodes replies: a value, a list, InvalidRegisterOperation, an application exception, and a partial message', () => {
    const value = hex(`80010002 00000010 ${ascii('bm_register_read')} 00000001 0a 0000 ffffffffffffffff 00`);
    expect(decodeRegisterReply(Uint8Array.from(value))).toEqual({
      header: { name: 'bm_register_read', type: MessageType.REPLY, seqid: 1 },
      reply: { kind: 'ok', values: [-1n] },
      length: value.length,
    });
    expect(decodeRegisterReply(Uint8Array.from(value.slice(0, value.length - 3)))).toBeUndefined();
    const list = hex(`80010002 00000014 ${ascii('bm_register_read_all')} 00000002 0f 0000 0a 00000002 0000000000000005 0000000000000006 00`);
    expect(decodeRegisterReply(Uint8Array.from(list))?.reply).toEqual({ kind: 'ok', values: [5n, 6n] });
    const ouch = hex(`80010002 00000011 ${ascii('bm_register_write')} 00000003 0c 0001 08 0001 00000002 00 00`);
    expect(decodeRegisterReply(Uint8Array.from(ouch))?.reply).toEqual({ kind: 'register-error', code: 2, codeName: 'INVALID_INDEX' });
    const app = hex(`80010003 00000011 ${ascii('bm_register_write')} 00000004 0b 0001 00000002 ${ascii('no')} 08 0002 00000001 00`);
    expect(decodeRegisterReply(Uint8Array.from(app))?.reply).toEqual({ kind: 'application-error', message: 'no', type: 1 });
  });
});

/**
 * A loopback stand-in for BMv2's Thrift server (registers only), written from the same spec: it
 * checks what our client sends on a real socket and answers in two TCP chunks.
 */
function fakeBmv2(registers: Map<string, bigint[]>, deviceId = 1n): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk) => {
      const r = new ThriftReader(chunk);
      const h = r.messageBegin();
      const [service, method] = h.name.split(':');
      const args: Record<number, unknown> = {};
      r.struct((type, id) => {
        args[id] = type === TType.I32 ? r.i32() : type === TType.STRING ? r.string() : type === TType.I64 ? r.i64() : undefined;
        return args[id] !== undefined;
      });
      const w = new ThriftWriter().messageBegin(method!, MessageType.REPLY, h.seqid);
      const cells = registers.get(args[2] as string);
      if (service === 'standard' && method === 'bm_mgmt_get_info') {
        w.fieldBegin(TType.STRUCT, 0).fieldBegin(TType.I64, 1).i64(deviceId).fieldBegin(TType.I32, 2).i32(9090).fieldStop();
      } else if (service !== 'standard' || cells === undefined) {
        w.fieldBegin(TType.STRUCT, 1).fieldBegin(TType.I32, 1).i32(1).fieldStop();
      } else if (method === 'bm_register_read') {
        const i = args[3] as number;
        if (i >= cells.length) w.fieldBegin(TType.STRUCT, 1).fieldBegin(TType.I32, 1).i32(2).fieldStop();
        else w.fieldBegin(TType.I64, 0).i64(cells[i]!);
      } else if (method === 'bm_register_read_all') {
        w.fieldBegin(TType.LIST, 0).i8(TType.I64).i32(cells.length);
        for (const c of cells) w.i64(c);
      } else if (method === 'bm_register_write') cells[args[3] as number] = args[4] as bigint;
      else if (method === 'bm_register_reset') cells.fill(0n);
      w.fieldStop();
      const out = w.bytes();
      socket.write(out.subarray(0, 5));
      setTimeout(() => socket.write(out.subarray(5)), 2);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, sockets })));
}

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

describe('Thrift register access', () => {
  it('reads, writes and clears registers over a socket, by the P4Info name', async () => {
    const cells = new Array<bigint>(16).fill(0n);
    const fake = await fakeBmv2(new Map([['MyIngress.last_length', cells]]));
    cleanup.push(() => new Promise<void>((r) => { for (const s of fake.sockets) s.destroy(); fake.server.close(() => r()); }));
    const client = new SwitchClient({ address: '127.0.0.1:1', electionId: 1n, schema: TEST_SCHEMA });
    cleanup.push(() => client.close());
    const regs: RegisterAccess = await ThriftRegisterAccess.connect(client, { port: fake.port });
    cleanup.push(() => regs.close());
    await regs.write('last_length', 3, 0xfffffffen);
    await regs.write('last_length', 4, 9);
    expect(cells[3]).toBe(0xfffffffen);
    expect(await regs.read('last_length', 3)).toEqual([{ index: 3, value: 0xfffffffen }]);
    expect((await regs.read('last_length')).filter((c) => c.value !== 0n)).toEqual([{ index: 3, value: 0xfffffffen }, { index: 4, value: 9n }]);
    await regs.clear('last_length');
    expect(cells.every((c) => c === 0n)).toBe(true);
    const err = await regs.read('last_length', 99).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).grpcCode).toBe(GrpcStatus.OUT_OF_RANGE);
    await expect(regs.write('last_length', 0, 1n << 32n)).rejects.toMatchObject({ code: 'SCHEMA_BAD_VALUE' });
  });

  it('chooses Thrift when P4Runtime register reads are UNIMPLEMENTED (as on BMv2), and says so without a Thrift address', async () => {
    const fake = await fakeBmv2(new Map([['MyIngress.last_length', new Array<bigint>(16).fill(7n)]]));
    cleanup.push(() => new Promise<void>((r) => { for (const s of fake.sockets) s.destroy(); fake.server.close(() => r()); }));
    // Stands in for BMv2's P4Runtime server, which answers every register read with UNIMPLEMENTED.
    const bmv2Like = {
      read: async function* () {
        yield* [];
        throw new P4RuntimeRpcError({ grpcCode: GrpcStatus.UNIMPLEMENTED, message: 'Reading RegisterEntry is not supported yet' });
      },
      close: () => {},
    } as unknown as P4RuntimeClient;
    const client = new SwitchClient({ address: 'unused', electionId: 1n, schema: TEST_SCHEMA, rpc: bmv2Like });
    const regs = await selectRegisterAccess(client, { thrift: { port: fake.port } });
    cleanup.push(() => regs.close());
    expect(regs.kind).toBe('thrift');
    expect(await regs.read('last_length', 1)).toEqual([{ index: 1, value: 7n }]);
    // Without an address: BMv2's default place, here the fake's port.
    const byDefault = await selectRegisterAccess(client, { defaultThrift: { port: fake.port } });
    cleanup.push(() => byDefault.close());
    expect(byDefault.kind).toBe('thrift');
    // Nothing listens on port 1.
    const err = await selectRegisterAccess(client, { defaultThrift: { port: 1 } }).catch((e: unknown) => e);
    expect((err as ClientError).code).toBe('P4RT_REGISTERS_UNIMPLEMENTED');
    expect((err as ClientError).hint).toMatch(/Thrift/);
  });

  it("refuses a Thrift server of another device (another switch's registers must not be touched)", async () => {
    const fake = await fakeBmv2(new Map([['MyIngress.last_length', new Array<bigint>(16).fill(7n)]]), 2n);
    cleanup.push(() => new Promise<void>((r) => { for (const s of fake.sockets) s.destroy(); fake.server.close(() => r()); }));
    const client = new SwitchClient({ address: '127.0.0.1:1', deviceId: 1n, electionId: 1n, schema: TEST_SCHEMA });
    cleanup.push(() => client.close());
    await expect(ThriftRegisterAccess.connect(client, { port: fake.port })).rejects.toMatchObject({ code: 'THRIFT_WRONG_DEVICE', message: expect.stringContaining('device 2, not device 1') as unknown });
  });
});
