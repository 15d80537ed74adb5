import { afterEach, describe, expect, it } from 'vitest';
import { encodeP4Value } from '../../core/p4runtime/bytes.ts';
import { Update_Type } from '../../core/p4runtime/gen/p4/v1/p4runtime_pb.ts';
import type { P4RuntimeClient } from '../../core/p4runtime/service.ts';
import { arbitrate, ids, pushPipeline, readTestProgram, startTestTarget, writeRequest, type StreamReader, type TestTarget } from './test-harness.ts';

const ID = 2n;
let target: TestTarget | undefined;
afterEach(async () => {
  await target?.close();
  target = undefined;
});

async function setup(): Promise<{ t: TestTarget; client: P4RuntimeClient; stream: StreamReader; id: ReturnType<typeof ids> }> {
  const t = await startTestTarget({ ports: [1, 2] });
  target = t;
  const client = t.client();
  const stream = arbitrate(client, ID);
  await stream.next('arbitration');
  const id = ids(await pushPipeline(client, readTestProgram(), ID));
  return { t, client, stream, id };
}

function frame(dst: number, src: number, length = 60): Uint8Array {
  const f = new Uint8Array(length);
  f[5] = dst;
  f[11] = src;
  f[12] = 0x08;
  f[20] = 0x5a;
  return f;
}

function collect(t: TestTarget, port: number): Uint8Array[] {
  const got: Uint8Array[] = [];
  t.wires.get(port)!.onFrame((f) => got.push(f));
  return got;
}

async function until(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('PacketOut, PacketIn and digests', () => {
  it('injects a PacketOut on the CPU port: the program sends it out of the port its metadata names', async () => {
    const { t, stream } = await setup();
    const out = collect(t, 2);
    const payload = frame(0x01, 0x02);
    stream.stream.send({ update: { case: 'packet', value: { payload, metadata: [{ metadataId: 1, value: encodeP4Value(2n, 9) }, { metadataId: 2, value: Uint8Array.of(0) }] } } });
    await until(() => out.length === 1);
    expect(Array.from(out[0]!)).toEqual(Array.from(payload));
  });

  it('answers a PacketOut with missing metadata by a StreamError', async () => {
    const { stream } = await setup();
    stream.stream.send({ update: { case: 'packet', value: { payload: frame(1, 2), metadata: [] } } });
    const err = await stream.next('error');
    expect(err.canonicalCode).toBe(3);
    expect(err.message).toContain('egress_port');
  });

  it('delivers a packet sent to the CPU port as a PacketIn with the packet_in header as metadata', async () => {
    const { t, client, stream, id } = await setup();
    await client.write(writeRequest(ID, [{
      type: Update_Type.INSERT,
      entity: { entity: { case: 'tableEntry', value: {
        tableId: id.table('fwd'),
        match: [{ fieldId: 1, fieldMatchType: { case: 'exact', value: { value: encodeP4Value(0xccn, 48) } } }],
        action: { type: { case: 'action', value: { actionId: id.action('to_cpu') } } },
      } } },
    }]));
    const f = frame(0xcc, 0x01);
    t.wires.get(1)!.send(f);
    const pin = await stream.next('packet');
    expect(Array.from(pin.payload)).toEqual(Array.from(f));
    expect(pin.metadata.map((m) => [m.metadataId, Array.from(m.value)])).toEqual([[1, [1]], [2, [0]]]);
    expect(t.host.counters.packetIns).toBe(1);
  });

  it('delivers digests once configured, suppresses repeats until acked, and re-sends unacked lists', async () => {
    const { t, client, stream, id } = await setup();
    const digestId = id.digest('learn_t');
    // Not configured: nothing is delivered.
    t.wires.get(1)!.send(frame(0x01, 0x31));
    await until(() => t.host.counters.received === 1);
    await client.write(writeRequest(ID, [{ type: Update_Type.INSERT, entity: { entity: { case: 'digestEntry', value: { digestId, config: { maxListSize: 1, maxTimeoutNs: 0n, ackTimeoutNs: 0n } } } } }]));
    t.wires.get(1)!.send(frame(0x01, 0x32));
    const list = await stream.next('digest');
    expect(list.digestId).toBe(digestId);
    expect(list.timestamp).toBeGreaterThan(0n);
    expect(list.data).toHaveLength(1);
    const members = list.data[0]!.data;
    expect(members.case).toBe('struct');
    const values = (members.value as { members: { data: { case: string; value: Uint8Array } }[] }).members.map((m) => Array.from(m.data.value));
    expect(values).toEqual([[0x32], [1]]);

    // Same data before the ack: suppressed.
    t.wires.get(1)!.send(frame(0x01, 0x32));
    await until(() => t.host.counters.received === 3);
    await new Promise((r) => setTimeout(r, 30));
    expect(stream.pending('digest')).toBe(0);

    stream.stream.send({ update: { case: 'digestAck', value: { digestId, listId: list.listId } } });
    await until(() => t.host.digests.unacknowledged().length === 0);
    t.wires.get(1)!.send(frame(0x01, 0x32));
    const again = await stream.next('digest');
    expect(again.listId).toBeGreaterThan(list.listId);

    // With an ack timeout, an unacknowledged list comes back with the same list id.
    await client.write(writeRequest(ID, [{ type: Update_Type.MODIFY, entity: { entity: { case: 'digestEntry', value: { digestId, config: { maxListSize: 1, maxTimeoutNs: 0n, ackTimeoutNs: 20_000_000n } } } } }]));
    t.wires.get(1)!.send(frame(0x01, 0x33));
    const first = await stream.next('digest');
    const resent = await stream.next('digest');
    expect(resent.listId).toBe(first.listId);
    stream.stream.send({ update: { case: 'digestAck', value: { digestId, listId: first.listId } } });

    const read = [];
    for await (const r of client.read({ deviceId: 1n, entities: [{ entity: { case: 'digestEntry', value: {} } }] })) read.push(...r.entities);
    expect(read.map((e) => (e.entity.value as { digestId: number }).digestId)).toEqual([digestId]);
  });
});
