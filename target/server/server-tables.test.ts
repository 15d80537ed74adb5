import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeP4Value, encodeP4ValuePadded } from '../../core/p4runtime/bytes.ts';
import { Update_Type, WriteRequest_Atomicity, type Entity, type ReadRequest, type TableEntry } from '../../core/p4runtime/gen/p4/v1/p4runtime_pb.ts';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ReadRequestSchema, TableEntrySchema } from '../../core/p4runtime/gen/p4/v1/p4runtime_pb.ts';
import type { P4RuntimeClient } from '../../core/p4runtime/service.ts';
import { GrpcStatus, P4RuntimeRpcError, updateErrorsFromStatus } from '../../core/p4runtime/status.ts';
import type { P4Info } from '../../core/p4runtime/gen/p4/config/v1/p4info_pb.ts';
import { arbitrate, ids, pushPipeline, readTestProgram, startTestTarget, writeRequest, type TestTarget, type WriteInit } from './test-harness.ts';

const ID = 7n;
let target: TestTarget;
let client: P4RuntimeClient;
let p4info: P4Info;
let id: ReturnType<typeof ids>;

beforeAll(async () => {
  target = await startTestTarget();
  client = target.client();
  await arbitrate(client, ID).next('arbitration');
  p4info = await pushPipeline(client, readTestProgram(), ID);
  id = ids(p4info);
});
afterAll(async () => {
  await target.close();
});

type Updates = NonNullable<WriteInit['updates']>;
type TableEntryInit = Exclude<MessageInitShape<typeof TableEntrySchema>, TableEntry>;

const v = (x: bigint, w: number) => encodeP4Value(x, w);
/** Big-endian bytes without a width check, to send values that do not fit. */
const raw = (x: bigint) => encodeP4Value(x, 64);
const MAC_A = 0x0000_0000_00aan;
const MAC_B = 0x0000_0000_00bbn;

function fwdEntry(mac: bigint, port?: bigint): TableEntryInit {
  return {
    tableId: id.table('fwd'),
    match: [{ fieldId: 1, fieldMatchType: { case: 'exact', value: { value: v(mac, 48) } } }],
    ...(port === undefined ? {} : { action: { type: { case: 'action', value: { actionId: id.action('forward'), params: [{ paramId: 1, value: raw(port) }] } } } }),
  };
}

function update(type: Update_Type, entry: TableEntryInit): Updates[number] {
  return { type, entity: { entity: { case: 'tableEntry', value: entry } } };
}

async function write(...updates: Updates): Promise<void> {
  await client.write(writeRequest(ID, updates));
}

async function readAll(request: MessageInitShape<typeof ReadRequestSchema>): Promise<Entity[]> {
  const out: Entity[] = [];
  for await (const r of client.read(request)) out.push(...r.entities);
  return out;
}

function tableEntries(entities: Entity[]) {
  return entities.map((e) => (e.entity.case === 'tableEntry' ? e.entity.value : undefined)).filter((x) => x !== undefined);
}

async function writeError(updates: Updates, extra: Partial<WriteInit> = {}): Promise<P4RuntimeRpcError> {
  const err = await client.write({ ...writeRequest(ID, updates), ...extra } as WriteInit).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(P4RuntimeRpcError);
  return err as P4RuntimeRpcError;
}

/** The canonical code of each update of a failed batch. */
function codes(err: P4RuntimeRpcError): number[] {
  return updateErrorsFromStatus(err.status!).map((u) => u.canonicalCode);
}

describe('Write and Read of table entries', () => {
  it('inserts, reads back canonically, modifies and deletes an exact entry', async () => {
    // Padded bytes in, canonical bytes out.
    const padded = fwdEntry(MAC_A, 3n);
    padded.match![0]!.fieldMatchType = { case: 'exact', value: { value: encodeP4ValuePadded(MAC_A, 48) } };
    await write(update(Update_Type.INSERT, padded));
    let entries = tableEntries(await readAll({ deviceId: 1n, entities: [{ entity: { case: 'tableEntry', value: { tableId: id.table('fwd') } } }] }));
    expect(entries).toHaveLength(1);
    const e = entries[0]!;
    expect(Array.from((e.match[0]!.fieldMatchType.value as { value: Uint8Array }).value)).toEqual([0xaa]);
    expect(e.action?.type.case).toBe('action');
    const action = e.action?.type.value as { actionId: number; params: { paramId: number; value: Uint8Array }[] };
    expect(action.actionId).toBe(id.action('forward'));
    expect(Array.from(action.params[0]!.value)).toEqual([3]);

    await write(update(Update_Type.MODIFY, fwdEntry(MAC_A, 4n)));
    entries = tableEntries(await readAll({ deviceId: 1n, entities: [{ entity: { case: 'tableEntry', value: fwdEntry(MAC_A) } }] }));
    expect(Array.from((entries[0]!.action?.type.value as { params: { value: Uint8Array }[] }).params[0]!.value)).toEqual([4]);

    await write(update(Update_Type.DELETE, fwdEntry(MAC_A)));
    entries = tableEntries(await readAll({ deviceId: 1n, entities: [{ entity: { case: 'tableEntry', value: { tableId: id.table('fwd') } } }] }));
    expect(entries).toHaveLength(0);
  });

  it('reads every table with table_id 0 and returns counter data when asked', async () => {
    await write(update(Update_Type.INSERT, fwdEntry(MAC_B, 2n)), update(Update_Type.INSERT, {
      tableId: id.table('routes'),
      match: [{ fieldId: 1, fieldMatchType: { case: 'lpm', value: { value: v(0xaabbcc000000n, 48), prefixLen: 24 } } }],
      action: { type: { case: 'action', value: { actionId: id.action('forward'), params: [{ paramId: 1, value: v(1n, 9) }] } } },
    }));
    const all = tableEntries(await readAll({ deviceId: 1n, entities: [{ entity: { case: 'tableEntry', value: { counterData: {} } } }] }));
    expect(all.map((e) => e.tableId).sort()).toEqual([id.table('fwd'), id.table('routes')].sort());
    expect(all.find((e) => e.tableId === id.table('fwd'))?.counterData).toMatchObject({ packetCount: 0n, byteCount: 0n });
    expect(all.find((e) => e.tableId === id.table('routes'))?.counterData).toBeUndefined();
    await write(update(Update_Type.DELETE, fwdEntry(MAC_B)), update(Update_Type.DELETE, {
      tableId: id.table('routes'),
      match: [{ fieldId: 1, fieldMatchType: { case: 'lpm', value: { value: v(0xaabbcc000000n, 48), prefixLen: 24 } } }],
    }));
  });

  it('stores ternary, range and optional matches with a priority and omits don\'t-care fields on read', async () => {
    const entry: TableEntryInit = {
      tableId: id.table('acl'),
      priority: 10,
      match: [
        { fieldId: 1, fieldMatchType: { case: 'ternary', value: { value: v(0xaa0000n, 48), mask: v(0xff0000n, 48) } } },
        { fieldId: 2, fieldMatchType: { case: 'range', value: { low: v(0x0800n, 16), high: v(0x08ffn, 16) } } },
      ],
      action: { type: { case: 'action', value: { actionId: id.action('deny') } } },
    };
    await write(update(Update_Type.INSERT, entry));
    const got = tableEntries(await readAll({ deviceId: 1n, entities: [{ entity: { case: 'tableEntry', value: { tableId: id.table('acl') } } }] }));
    expect(got).toHaveLength(1);
    expect(got[0]!.priority).toBe(10);
    expect(got[0]!.match.map((m) => m.fieldId)).toEqual([1, 2]);
    // Without a priority it is INVALID_ARGUMENT; a second one with another priority is a new entry.
    const err = await writeError([update(Update_Type.INSERT, { ...entry, priority: 0 })]);
    expect(codes(err)).toEqual([GrpcStatus.INVALID_ARGUMENT]);
    await write(update(Update_Type.INSERT, {
      ...entry,
      priority: 20,
      match: [...entry.match!, { fieldId: 3, fieldMatchType: { case: 'optional', value: { value: v(5n, 9) } } }],
    }));
    expect(tableEntries(await readAll({ deviceId: 1n, entities: [{ entity: { case: 'tableEntry', value: { tableId: id.table('acl') } } }] }))).toHaveLength(2);
  });

  it('filters a read by priority and by action id; a match filter needs a table id', async () => {
    const read = async (value: TableEntryInit) => tableEntries(await readAll({ deviceId: 1n, entities: [{ entity: { case: 'tableEntry', value } }] }));
    expect((await read({ tableId: id.table('acl'), priority: 20 })).map((e) => e.priority)).toEqual([20]);
    expect(await read({ tableId: id.table('acl'), action: { type: { case: 'action', value: { actionId: id.action('NoAction') } } } })).toHaveLength(0);
    expect(await read({ tableId: id.table('acl'), action: { type: { case: 'action', value: { actionId: id.action('deny') } } } })).toHaveLength(2);
    const err = await read({ tableId: 0, match: fwdEntry(MAC_A).match }).then(() => undefined, (e: unknown) => e);
    expect((err as P4RuntimeRpcError).grpcCode).toBe(GrpcStatus.INVALID_ARGUMENT);
  });

  it('reads and modifies the default entry; DELETE of it is INVALID_ARGUMENT; MODIFY without action resets it', async () => {
    const read = async () => tableEntries(await readAll({ deviceId: 1n, entities: [{ entity: { case: 'tableEntry', value: { tableId: id.table('fwd'), isDefaultAction: true } } }] }))[0]!;
    const before = await read();
    expect(before.isDefaultAction).toBe(true);
    expect((before.action?.type.value as { actionId: number }).actionId).toBe(id.action('drop'));
    await write(update(Update_Type.MODIFY, { tableId: id.table('fwd'), isDefaultAction: true, action: { type: { case: 'action', value: { actionId: id.action('to_cpu') } } } }));
    expect(((await read()).action?.type.value as { actionId: number }).actionId).toBe(id.action('to_cpu'));
    const err = await writeError([update(Update_Type.DELETE, { tableId: id.table('fwd'), isDefaultAction: true })]);
    expect(codes(err)).toEqual([GrpcStatus.INVALID_ARGUMENT]);
    await write(update(Update_Type.MODIFY, { tableId: id.table('fwd'), isDefaultAction: true }));
    expect(((await read()).action?.type.value as { actionId: number }).actionId).toBe(id.action('drop'));
  });

  it('reports each update of a CONTINUE_ON_ERROR batch, applying the valid ones (overall UNKNOWN)', async () => {
    const badAction = fwdEntry(0x10n, 1n);
    badAction.action = { type: { case: 'action', value: { actionId: id.action('deny') } } };
    const err = await writeError([
      update(Update_Type.INSERT, fwdEntry(0x11n, 1n)), // OK
      update(Update_Type.INSERT, fwdEntry(0x11n, 1n)), // duplicate
      update(Update_Type.MODIFY, fwdEntry(0x12n, 1n)), // no such entry
      update(Update_Type.DELETE, fwdEntry(0x13n)), // no such entry
      update(Update_Type.INSERT, { ...fwdEntry(0x14n, 1n), tableId: 0x02ffffff }), // unknown table
      update(Update_Type.INSERT, {
        tableId: id.table('fwd'),
        match: [{ fieldId: 1, fieldMatchType: { case: 'exact', value: { value: Uint8Array.of(1, 0, 0, 0, 0, 0, 0) } } }],
        action: { type: { case: 'action', value: { actionId: id.action('forward'), params: [{ paramId: 1, value: v(1n, 9) }] } } },
      }), // 2^48 does not fit bit<48>
      update(Update_Type.INSERT, fwdEntry(0x15n, 600n)), // 600 does not fit bit<9>
      update(Update_Type.INSERT, badAction), // action not in the table
      update(Update_Type.INSERT, fwdEntry(0x16n)), // no action
      update(Update_Type.INSERT, { ...fwdEntry(0x17n, 1n), priority: 3 }), // priority on an exact table
      update(Update_Type.INSERT, fwdEntry(0x18n, 2n)), // OK
    ]);
    expect(err.grpcCode).toBe(GrpcStatus.UNKNOWN);
    expect(codes(err)).toEqual([
      GrpcStatus.OK,
      GrpcStatus.ALREADY_EXISTS,
      GrpcStatus.NOT_FOUND,
      GrpcStatus.NOT_FOUND,
      GrpcStatus.NOT_FOUND,
      GrpcStatus.OUT_OF_RANGE,
      GrpcStatus.OUT_OF_RANGE,
      GrpcStatus.INVALID_ARGUMENT,
      GrpcStatus.INVALID_ARGUMENT,
      GrpcStatus.INVALID_ARGUMENT,
      GrpcStatus.OK,
    ]);
    const entries = tableEntries(await readAll({ deviceId: 1n, entities: [{ entity: { case: 'tableEntry', value: { tableId: id.table('fwd') } } }] }));
    expect(entries).toHaveLength(2);
  });

  it('refuses bad match fields with precise codes', async () => {
    const err = await writeError([
      update(Update_Type.INSERT, { tableId: id.table('fwd'), match: [], action: fwdEntry(1n, 1n).action }), // exact missing
      update(Update_Type.INSERT, { ...fwdEntry(0x20n, 1n), match: [{ fieldId: 9, fieldMatchType: { case: 'exact', value: { value: v(1n, 48) } } }] }),
      update(Update_Type.INSERT, { ...fwdEntry(0x21n, 1n), match: [{ fieldId: 1, fieldMatchType: { case: 'lpm', value: { value: v(1n, 48), prefixLen: 48 } } }] }),
      update(Update_Type.INSERT, { ...fwdEntry(0x22n, 1n), match: [{ fieldId: 1, fieldMatchType: { case: 'exact', value: { value: new Uint8Array() } } }] }),
      update(Update_Type.INSERT, {
        tableId: id.table('acl'), priority: 1,
        match: [{ fieldId: 1, fieldMatchType: { case: 'ternary', value: { value: v(0xffn, 48), mask: v(0x0fn, 48) } } }],
        action: { type: { case: 'action', value: { actionId: id.action('deny') } } },
      }), // value outside mask
      update(Update_Type.INSERT, {
        tableId: id.table('routes'),
        match: [{ fieldId: 1, fieldMatchType: { case: 'lpm', value: { value: v(0xffn, 48), prefixLen: 8 } } }],
        action: { type: { case: 'action', value: { actionId: id.action('forward'), params: [{ paramId: 1, value: v(1n, 9) }] } } },
      }), // bits beyond the prefix
    ]);
    expect(codes(err)).toEqual([
      GrpcStatus.INVALID_ARGUMENT,
      GrpcStatus.INVALID_ARGUMENT,
      GrpcStatus.INVALID_ARGUMENT,
      GrpcStatus.INVALID_ARGUMENT,
      GrpcStatus.INVALID_ARGUMENT,
      GrpcStatus.INVALID_ARGUMENT,
    ]);
  });

  it('answers atomicity other than CONTINUE_ON_ERROR with UNIMPLEMENTED, a backup with PERMISSION_DENIED, another device with NOT_FOUND', async () => {
    const atomic = await writeError([update(Update_Type.INSERT, fwdEntry(0x30n, 1n))], { atomicity: WriteRequest_Atomicity.ROLLBACK_ON_ERROR });
    expect(atomic.grpcCode).toBe(GrpcStatus.UNIMPLEMENTED);
    const backup = await writeError([update(Update_Type.INSERT, fwdEntry(0x30n, 1n))], { electionId: { high: 0n, low: 3n } });
    expect(backup.grpcCode).toBe(GrpcStatus.PERMISSION_DENIED);
    const device = await writeError([update(Update_Type.INSERT, fwdEntry(0x30n, 1n))], { deviceId: 2n });
    expect(device.grpcCode).toBe(GrpcStatus.NOT_FOUND);
    // Reads are open to anyone, but not of unknown tables.
    const other = target.client();
    const err = await readAll({ deviceId: 1n, entities: [{ entity: { case: 'tableEntry', value: { tableId: 0x02abcdef } } }] }).then(() => undefined, (e: unknown) => e);
    expect((err as P4RuntimeRpcError).grpcCode).toBe(GrpcStatus.NOT_FOUND);
    const rows: ReadRequest['entities'] = [];
    for await (const r of other.read({ deviceId: 1n, entities: [{ entity: { case: 'tableEntry', value: {} } }] })) rows.push(...r.entities);
    expect(rows.length).toBeGreaterThan(0);
  });
});
