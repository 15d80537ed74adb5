import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { encodeP4Value } from '../../core/p4runtime/bytes.ts';
import { Update_Type, type Entity, type ReadRequestSchema } from '../../core/p4runtime/gen/p4/v1/p4runtime_pb.ts';
import type { P4RuntimeClient } from '../../core/p4runtime/service.ts';
import { GrpcStatus, P4RuntimeRpcError, updateErrorsFromStatus } from '../../core/p4runtime/status.ts';
import { arbitrate, ids, pushPipeline, readTestProgram, startTestTarget, writeRequest, type TestTarget, type WriteInit } from './test-harness.ts';

const ID = 3n;
let target: TestTarget;
let client: P4RuntimeClient;
let id: ReturnType<typeof ids>;

beforeAll(async () => {
  target = await startTestTarget({ ports: [1, 2] });
  client = target.client();
  await arbitrate(client, ID).next('arbitration');
  id = ids(await pushPipeline(client, readTestProgram(), ID));
});
afterAll(async () => {
  await target.close();
});

type Updates = NonNullable<WriteInit['updates']>;

async function readAll(request: MessageInitShape<typeof ReadRequestSchema>): Promise<Entity[]> {
  const out: Entity[] = [];
  for await (const r of client.read(request)) out.push(...r.entities);
  return out;
}

function frame(dst: bigint, src: bigint, length = 64): Uint8Array {
  const f = new Uint8Array(length);
  for (let i = 0; i < 6; i++) {
    f[i] = Number((dst >> BigInt(8 * (5 - i))) & 0xffn);
    f[6 + i] = Number((src >> BigInt(8 * (5 - i))) & 0xffn);
  }
  f[12] = 0x08;
  return f;
}

function nextFrame(port: number): Promise<Uint8Array> {
  return new Promise((resolve) => {
    let done = false;
    target.wires.get(port)!.onFrame((f) => {
      if (!done) {
        done = true;
        resolve(f);
      }
    });
  });
}

async function failedCodes(updates: Updates): Promise<number[]> {
  const err = await client.write(writeRequest(ID, updates)).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(P4RuntimeRpcError);
  return updateErrorsFromStatus((err as P4RuntimeRpcError).status!).map((u) => u.canonicalCode);
}

describe('counters, direct counters and registers over P4Runtime', () => {
  it('counts a packet forwarded between in-process ports', async () => {
    await client.write(writeRequest(ID, [{
      type: Update_Type.INSERT,
      entity: { entity: { case: 'tableEntry', value: {
        tableId: id.table('fwd'),
        match: [{ fieldId: 1, fieldMatchType: { case: 'exact', value: { value: encodeP4Value(0xbbn, 48) } } }],
        action: { type: { case: 'action', value: { actionId: id.action('forward'), params: [{ paramId: 1, value: encodeP4Value(2n, 9) }] } } },
      } } },
    }]));
    const out = nextFrame(2);
    target.wires.get(1)!.send(frame(0xbbn, 0xaan, 100));
    expect((await out).length).toBe(100);

    const cell = await readAll({ deviceId: 1n, entities: [{ entity: { case: 'counterEntry', value: { counterId: id.counter('port_packets'), index: { index: 1n } } } }] });
    expect(cell).toHaveLength(1);
    expect(cell[0]!.entity.value).toMatchObject({ data: { packetCount: 1n, byteCount: 100n } });

    const reg = await readAll({ deviceId: 1n, entities: [{ entity: { case: 'registerEntry', value: { registerId: id.register('last_length'), index: { index: 1n } } } }] });
    const data = (reg[0]!.entity.value as { data: { data: { case: string; value: Uint8Array } } }).data.data;
    expect(data.case).toBe('bitstring');
    expect(Array.from(data.value)).toEqual([100]);

    const direct = await readAll({ deviceId: 1n, entities: [{ entity: { case: 'directCounterEntry', value: { tableEntry: { tableId: id.table('fwd') } } } }] });
    expect(direct).toHaveLength(1);
    expect(direct[0]!.entity.value).toMatchObject({ data: { packetCount: 1n, byteCount: 100n } });
  });

  it('reads every cell with the index unset and every counter with id 0', async () => {
    const cells = await readAll({ deviceId: 1n, entities: [{ entity: { case: 'counterEntry', value: { counterId: id.counter('port_packets') } } }] });
    expect(cells).toHaveLength(16);
    const all = await readAll({ deviceId: 1n, entities: [{ entity: { case: 'counterEntry', value: {} } }, { entity: { case: 'registerEntry', value: {} } }] });
    expect(all).toHaveLength(32);
  });

  it('writes counter cells, direct counters and registers (one cell and all cells)', async () => {
    await client.write(writeRequest(ID, [
      { type: Update_Type.MODIFY, entity: { entity: { case: 'counterEntry', value: { counterId: id.counter('port_packets'), index: { index: 4n }, data: { packetCount: 9n, byteCount: 900n } } } } },
      { type: Update_Type.MODIFY, entity: { entity: { case: 'registerEntry', value: { registerId: id.register('last_length'), data: { data: { case: 'bitstring', value: encodeP4Value(5n, 32) } } } } } },
      { type: Update_Type.MODIFY, entity: { entity: { case: 'registerEntry', value: { registerId: id.register('last_length'), index: { index: 15n }, data: { data: { case: 'bitstring', value: Uint8Array.of(0, 0, 0x12, 0x34) } } } } } },
      { type: Update_Type.MODIFY, entity: { entity: { case: 'directCounterEntry', value: {
        tableEntry: { tableId: id.table('fwd'), match: [{ fieldId: 1, fieldMatchType: { case: 'exact', value: { value: encodeP4Value(0xbbn, 48) } } }] },
        data: { packetCount: 0n, byteCount: 0n },
      } } } },
    ]));
    const sw = target.host.pipeline!.sw;
    expect(sw.counters.get('MyIngress.port_packets')!.packets[4]).toBe(9n);
    expect(sw.counters.get('MyIngress.port_packets')!.bytes[4]).toBe(900n);
    expect(sw.registers.get('MyIngress.last_length')!.values.slice(13)).toEqual([5n, 5n, 0x1234n]);
    expect(sw.tables.get('MyIngress.fwd')!.entries()[0]!.packets).toBe(0n);
    const reg = await readAll({ deviceId: 1n, entities: [{ entity: { case: 'registerEntry', value: { registerId: id.register('last_length'), index: { index: 15n } } } }] });
    expect(Array.from((reg[0]!.entity.value as { data: { data: { value: Uint8Array } } }).data.data.value)).toEqual([0x12, 0x34]);
  });

  it('refuses bad counter and register writes with precise codes', async () => {
    const codes = await failedCodes([
      { type: Update_Type.MODIFY, entity: { entity: { case: 'registerEntry', value: { registerId: 0x16ffffff, data: { data: { case: 'bitstring', value: Uint8Array.of(1) } } } } } },
      { type: Update_Type.MODIFY, entity: { entity: { case: 'registerEntry', value: { registerId: id.register('last_length'), index: { index: 16n }, data: { data: { case: 'bitstring', value: Uint8Array.of(1) } } } } } },
      { type: Update_Type.MODIFY, entity: { entity: { case: 'registerEntry', value: { registerId: id.register('last_length'), index: { index: 0n }, data: { data: { case: 'bitstring', value: Uint8Array.of(1, 0, 0, 0, 0) } } } } } },
      { type: Update_Type.INSERT, entity: { entity: { case: 'registerEntry', value: { registerId: id.register('last_length'), index: { index: 0n }, data: { data: { case: 'bitstring', value: Uint8Array.of(1) } } } } } },
      { type: Update_Type.MODIFY, entity: { entity: { case: 'counterEntry', value: { counterId: 0x12ffffff } } } },
      { type: Update_Type.MODIFY, entity: { entity: { case: 'counterEntry', value: { counterId: id.counter('port_packets'), index: { index: 99n } } } } },
      { type: Update_Type.MODIFY, entity: { entity: { case: 'meterEntry', value: { meterId: 1 } } } },
    ]);
    expect(codes).toEqual([
      GrpcStatus.NOT_FOUND,
      GrpcStatus.OUT_OF_RANGE,
      GrpcStatus.OUT_OF_RANGE,
      GrpcStatus.INVALID_ARGUMENT,
      GrpcStatus.NOT_FOUND,
      GrpcStatus.OUT_OF_RANGE,
      GrpcStatus.UNIMPLEMENTED,
    ]);
    const err = await readAll({ deviceId: 1n, entities: [{ entity: { case: 'registerEntry', value: { registerId: id.register('last_length'), index: { index: 16n } } } }] })
      .then(() => undefined, (e: unknown) => e);
    expect((err as P4RuntimeRpcError).grpcCode).toBe(GrpcStatus.OUT_OF_RANGE);
  });
});
