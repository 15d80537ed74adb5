import { afterEach, describe, expect, it } from 'vitest';
import { GrpcStatus } from '../../core/p4runtime/status.ts';
import { startTestTarget, type TestTarget } from '../../target/server/test-harness.ts';
import { deleteEntry, insertEntry, modifyEntry, type UpdateValue } from '../schema/entities.ts';
import { SchemaError } from '../schema/errors.ts';
import { TEST_P4INFO, TEST_PROGRAM, TEST_SCHEMA } from '../schema/test-fixtures.ts';
import { ClientError, WriteError } from './errors.ts';
import { P4RuntimeRegisterAccess, selectRegisterAccess } from './registers.ts';
import { SwitchClient } from './switch-client.ts';
import type { SwitchStream } from './switch-stream.ts';

let target: TestTarget | undefined;
const clients: SwitchClient[] = [];
const streams: SwitchStream[] = [];
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  for (const c of clients.splice(0)) c.close();
  await target?.close();
  target = undefined;
});

function client(t: TestTarget, electionId: bigint): SwitchClient {
  const c = new SwitchClient({ address: t.address, electionId, schema: TEST_SCHEMA });
  clients.push(c);
  return c;
}

async function primary(t: TestTarget, electionId = 10n): Promise<{ c: SwitchClient; s: SwitchStream }> {
  const c = client(t, electionId);
  const s = c.openStream();
  streams.push(s);
  const a = await s.events.once('arbitration');
  expect(a.primary).toBe(true);
  await c.setPipeline({ p4info: TEST_P4INFO, deviceConfig: new TextEncoder().encode(TEST_PROGRAM), cookie: 7n });
  return { c, s };
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

const fwd = (dst: number, port = 1) => ({ table: 'fwd', match: { dst }, action: 'forward', params: { port } });

describe('SwitchClient writes', () => {
  it('writes in batches and reports every failed update with its index in the whole list', async () => {
    target = await startTestTarget();
    const { c } = await primary(target);
    await c.write([insertEntry(fwd(1)), insertEntry(fwd(2))]);
    const updates: UpdateValue[] = [
      insertEntry(fwd(3)), // ok
      insertEntry(fwd(1)), // ALREADY_EXISTS
      modifyEntry(fwd(2, 5)), // ok
      deleteEntry({ table: 'fwd', match: { dst: 99 } }), // NOT_FOUND
      insertEntry(fwd(4)), // ok
      insertEntry(fwd(2)), // ALREADY_EXISTS
    ];
    const err = await caught(c.write(updates, { batchSize: 4 }));
    expect(err).toBeInstanceOf(WriteError);
    const w = err as WriteError;
    expect(w.code).toBe('P4RT_WRITE_FAILED');
    expect(w.failures.map((f) => [f.index, f.codeName])).toEqual([
      [1, 'ALREADY_EXISTS'],
      [3, 'NOT_FOUND'],
      [5, 'ALREADY_EXISTS'],
    ]);
    expect(w.failures[1]!.update).toBe(updates[3]);
    expect(w.isAlreadyExists()).toBe(true);
    expect(w.isNotFound()).toBe(true);
    expect(w.onlyCode(GrpcStatus.ALREADY_EXISTS)).toBe(false);
    expect(w.isNotPrimary()).toBe(false);
    expect(w.message).toMatch(/^3 of 6 updates failed: #1 ALREADY_EXISTS/);
    const entries = await c.readTableEntries('fwd');
    expect(entries.map((e) => [e.match.dst, e.params.port]).sort()).toEqual([[1n, 1n], [2n, 5n], [3n, 1n], [4n, 1n]]);
  });

  it('refuses a bad update before sending anything, naming its index', async () => {
    target = await startTestTarget();
    const { c } = await primary(target);
    const err = await caught(c.write([insertEntry(fwd(1)), insertEntry({ table: 'fwd', match: { dst: 1 }, action: 'forwrd' })]));
    expect(err).toBeInstanceOf(SchemaError);
    expect((err as SchemaError).location?.path).toBe('updates[1].MyIngress.fwd');
    expect((err as SchemaError).hint).toBe("did you mean 'forward'?");
    expect(await c.readTableEntries('fwd')).toEqual([]);
  });

  it('without validateFirst, encodes a batch at a time: batches before a bad update are written, none after', async () => {
    target = await startTestTarget();
    const { c } = await primary(target);
    const updates = [1, 2, 3, 4, 5].map((d) => insertEntry(fwd(d)));
    updates.splice(3, 0, insertEntry({ table: 'fwd', match: { dst: 9 }, action: 'forwrd' }));
    const err = await caught(c.write(updates, { batchSize: 2, validateFirst: false }));
    expect(err).toBeInstanceOf(SchemaError);
    expect((err as SchemaError).location?.path).toBe('updates[3].MyIngress.fwd');
    expect((await c.readTableEntries('fwd')).map((e) => e.match.dst).sort()).toEqual([1n, 2n]);
  });

  it('reports a backup\'s write as not primary, with the updates it never sent', async () => {
    target = await startTestTarget();
    await primary(target, 10n);
    const backup = client(target, 5n);
    const s = backup.openStream();
    streams.push(s);
    expect(await s.events.once('arbitration')).toMatchObject({ primary: false, primaryElectionId: 10n });
    const err = (await caught(backup.write([insertEntry(fwd(1)), insertEntry(fwd(2)), insertEntry(fwd(3))], { batchSize: 2 }))) as WriteError;
    expect(err.isNotPrimary()).toBe(true);
    expect(err.failures.map((f) => f.index)).toEqual([0, 1]);
    expect(err.notSent).toEqual([2]);
  });

  it('knows when no pipeline is installed', async () => {
    target = await startTestTarget();
    const c = client(target, 1n);
    const s = c.openStream();
    streams.push(s);
    await s.events.once('arbitration');
    expect(await c.getPipeline()).toBeUndefined();
    const err = (await caught(c.write([insertEntry(fwd(1))]))) as ClientError;
    expect(err.isPipelineMissing()).toBe(true);
    const readErr = (await caught(c.readTableEntries())) as ClientError;
    expect(readErr).toBeInstanceOf(ClientError);
    expect(readErr.code).toBe('P4RT_FAILED_PRECONDITION');
  });
});

describe('SwitchClient reads and registers', () => {
  it('reads entries, default entries, counters and direct counters decoded', async () => {
    target = await startTestTarget();
    const { c } = await primary(target);
    expect((await c.getPipeline())?.cookie).toBe(7n);
    expect(await c.apiVersion()).toBe('1.3.0');
    await c.write([
      insertEntry(fwd(0x10, 3)),
      insertEntry({ table: 'acl', match: { src: { value: 0x100, mask: 0xf00 }, in_port: 4 }, action: 'deny', priority: 20 }),
      modifyEntry({ table: 'fwd', isDefaultAction: true, action: 'to_cpu' }),
      { type: 'modify', entity: { kind: 'counterEntry', value: { counter: 'port_packets', index: 3, packets: 5n, bytes: 500n } } },
    ]);
    expect(await c.readTableEntries('acl')).toEqual([
      { table: 'MyIngress.acl', match: { src: { value: 0x100n, mask: 0xf00n }, in_port: 4n }, action: 'MyIngress.deny', params: {}, priority: 20 },
    ]);
    expect((await c.readTableEntries()).length).toBe(2);
    expect(await c.readDefaultEntry('fwd')).toMatchObject({ isDefaultAction: true, action: 'MyIngress.to_cpu' });
    expect(await c.readCounters('port_packets', 3)).toEqual([{ counter: 'MyIngress.port_packets', index: 3, packets: 5n, bytes: 500n }]);
    expect((await c.readCounters('port_packets')).length).toBe(16);
    expect(await c.readDirectCounters('fwd')).toEqual([{ entry: { table: 'MyIngress.fwd', match: { dst: 0x10n } }, packets: 0n, bytes: 0n }]);
    expect(await c.readTableEntry({ table: 'fwd', match: { dst: 0x10 } })).toMatchObject({ params: { port: 3n } });
    expect(await c.readTableEntry({ table: 'fwd', match: { dst: 0x11 } })).toBeUndefined();
  });

  it('selects P4Runtime register access on the embedded target and reads, writes and clears', async () => {
    target = await startTestTarget();
    const { c } = await primary(target);
    const regs = await selectRegisterAccess(c);
    expect(regs).toBeInstanceOf(P4RuntimeRegisterAccess);
    await regs.write('last_length', 2, 1500);
    await regs.write('last_length', 5, 0xffffffffn);
    expect(await regs.read('last_length', 2)).toEqual([{ index: 2, value: 1500n }]);
    const all = await regs.read('last_length');
    expect(all.length).toBe(16);
    expect(all.filter((x) => x.value !== 0n)).toEqual([{ index: 2, value: 1500n }, { index: 5, value: 0xffffffffn }]);
    await regs.clear('last_length');
    expect((await regs.read('last_length')).every((x) => x.value === 0n)).toBe(true);
  });
});

describe('SwitchStream', () => {
  it('acks digest lists by itself and delivers them decoded; PacketOut and PacketIn go by metadata name', async () => {
    target = await startTestTarget({ ports: [1, 2] });
    const { c, s } = await primary(target);
    await c.write([
      { type: 'insert', entity: { kind: 'digestEntry', value: { digest: 'learn_t', maxTimeoutNs: 0n, maxListSize: 1, ackTimeoutNs: 1_000_000_000n } } },
      modifyEntry({ table: 'fwd', isDefaultAction: true, action: 'to_cpu' }),
    ]);
    expect(await c.readDigestConfigs()).toEqual([{ digest: 'learn_t', maxTimeoutNs: 0n, maxListSize: 1, ackTimeoutNs: 1_000_000_000n }]);
    const frame = new Uint8Array(60);
    frame[5] = 0x01;
    frame[11] = 0x42;
    frame[12] = 0x08;
    const digests: unknown[] = [];
    s.on('digest', (d) => digests.push(d.data));
    const packetIn = s.events.once('packetIn');
    target.wires.get(1)!.send(frame);
    expect((await packetIn).metadata).toEqual({ ingress_port: 1n, pad: 0n });
    await new Promise((r) => setTimeout(r, 50));
    // Acked, so the same data comes again for the next packet (unacked data would be suppressed).
    target.wires.get(1)!.send(frame);
    await new Promise((r) => setTimeout(r, 100));
    expect(digests).toEqual([[{ src: 0x42n, port: 1n }], [{ src: 0x42n, port: 1n }]]);

    const out: Uint8Array[] = [];
    target.wires.get(2)!.onFrame((f) => out.push(f));
    s.packetOut({ payload: frame, metadata: { egress_port: 2, pad: 0 } });
    for (let i = 0; i < 100 && out.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(out.length).toBe(1);
  });

  it('reports the end of the stream when the switch goes away', async () => {
    target = await startTestTarget();
    const { s } = await primary(target);
    const end = s.events.once('end');
    await target.close();
    target = undefined;
    await end;
    expect(s.ended).toBe(true);
  });
});
