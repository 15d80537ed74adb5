import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startTestTarget, type TestTarget } from '../../target/server/test-harness.ts';
import { decodeTableEntry, encodeTableEntry, type DecodedTableEntry, type TableEntryValue } from '../schema/codec.ts';
import { insertEntry, deleteEntry } from '../schema/entities.ts';
import { SchemaError } from '../schema/errors.ts';
import { TEST_P4INFO, TEST_PROGRAM, TEST_SCHEMA as schema } from '../schema/test-fixtures.ts';
import { P4RuntimeRegisterAccess } from '../client/registers.ts';
import { autoReconcile, diffDefaultActions, diffTables, reconcile, type DesiredState } from './reconcile.ts';
import { SwitchConnection } from './switch-connection.ts';

const fwd = (dst: number, port: number): TableEntryValue => ({ table: 'MyIngress.fwd', match: { dst }, action: 'forward', params: { port } });
const decoded = (e: TableEntryValue): DecodedTableEntry => decodeTableEntry(schema, encodeTableEntry(schema, e));

/** Applies updates to a model of the installed entries, as a switch would. */
function apply(installed: DecodedTableEntry[], updates: ReturnType<typeof diffTables>): DecodedTableEntry[] {
  const key = (e: TableEntryValue) => JSON.stringify([e.table, e.match, e.priority], (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
  const map = new Map(installed.map((e) => [key(e), e]));
  for (const u of updates) {
    if (u.entity.kind !== 'tableEntry') continue;
    const e = decoded(u.entity.value.action === undefined ? { ...u.entity.value, action: 'drop' } : u.entity.value);
    if (u.type === 'insert') {
      expect(map.has(key(e))).toBe(false);
      map.set(key(e), e);
    } else if (u.type === 'modify') {
      expect(map.has(key(e))).toBe(true);
      map.set(key(e), e);
    } else {
      expect(map.delete(key(e))).toBe(true);
    }
  }
  return [...map.values()];
}

describe('diffTables (pure)', () => {
  it('inserts what is missing, modifies what changed, deletes what is stale, and leaves the rest', () => {
    const installed = [fwd(1, 1), fwd(2, 2), fwd(3, 3)].map(decoded);
    const updates = diffTables(schema, installed, { fwd: [fwd(1, 1), fwd(2, 9), fwd(4, 4)] });
    expect(updates.map((u) => [u.type, u.entity.kind === 'tableEntry' && u.entity.value.match?.dst])).toEqual([
      ['modify', 2n],
      ['insert', 4n],
      ['delete', 3n],
    ]);
  });

  it('leaves tables that are not listed alone, and refuses a desired key given twice', () => {
    const installed = [decoded({ table: 'routes', match: { dst_prefix: { value: 0, prefixLength: 8 } }, action: 'NoAction' })];
    expect(diffTables(schema, installed, { fwd: [] })).toEqual([]);
    expect(() => diffTables(schema, [], { fwd: [fwd(1, 1), { ...fwd(1, 2), match: { dst: '0x1' } }] })).toThrow(SchemaError);
  });

  it('reaches the desired set from any installed set, and then has nothing left to do', () => {
    const entries = fc.uniqueArray(fc.record({ dst: fc.integer({ min: 0, max: 20 }), port: fc.integer({ min: 0, max: 3 }) }), { selector: (e) => e.dst, maxLength: 12 });
    fc.assert(
      fc.property(entries, entries, (have, want) => {
        const installed = have.map((e) => decoded(fwd(e.dst, e.port)));
        const desired = want.map((e) => fwd(e.dst, e.port));
        const after = apply(installed, diffTables(schema, installed, { fwd: desired }));
        expect(diffTables(schema, after, { fwd: desired })).toEqual([]);
        expect(after.length).toBe(desired.length);
      }),
    );
  });

  it('modifies a default action only when it differs', () => {
    const installed = [decoded({ table: 'fwd', isDefaultAction: true, action: 'drop' })];
    expect(diffDefaultActions(schema, installed, [{ table: 'fwd', action: 'drop' }])).toEqual([]);
    expect(diffDefaultActions(schema, installed, [{ table: 'fwd', action: 'to_cpu' }])).toMatchObject([{ type: 'modify' }]);
  });
});

// ------------------------------------------------------------------------------------- end to end

const desired: DesiredState = {
  tables: {
    fwd: [fwd(0x10, 1), fwd(0x11, 2), fwd(0x12, 3)],
    acl: [
      { table: 'acl', match: { src: { value: 0xaa00, mask: 0xff00 }, etherType: { low: 0x800, high: 0x8ff } }, action: 'deny', priority: 10 },
      { table: 'acl', match: { in_port: 3 }, action: 'deny', priority: 5 },
    ],
    routes: [{ table: 'routes', match: { dst_prefix: { value: 0x0a0000000000n, prefixLength: 8 } }, action: 'forward', params: { port: 4 } }],
  },
  defaultActions: [{ table: 'fwd', action: 'to_cpu' }],
  digests: [{ digest: 'learn_t', maxTimeoutNs: 0n, maxListSize: 1, ackTimeoutNs: 1_000_000_000n }],
  registersToClearOnPush: ['last_length'],
};

const targets: TestTarget[] = [];
const connections: SwitchConnection[] = [];
afterEach(async () => {
  for (const c of connections.splice(0)) c.stop();
  for (const t of targets.splice(0)) await t.close();
});

async function snapshot(conn: SwitchConnection) {
  const c = conn.client!;
  const sort = (xs: DecodedTableEntry[]) => xs.map((x) => JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).sort();
  return {
    entries: sort(await c.readTableEntries()),
    fwdDefault: (await c.readDefaultEntry('fwd')).action,
    digests: await c.readDigestConfigs(),
  };
}

describe('reconcile against the embedded target', () => {
  it('installs the desired state, repairs drift with only the difference, and restores it after a restart', async () => {
    let t = await startTestTarget();
    targets.push(t);
    const conn = new SwitchConnection({
      address: () => t.address,
      electionId: 10n,
      pipeline: { p4info: TEST_P4INFO, deviceConfig: new TextEncoder().encode(TEST_PROGRAM) },
      backoff: { baseMs: 20, capMs: 100, jitter: 0 },
      connectTimeoutMs: 1000,
    });
    connections.push(conn);
    const reports: unknown[] = [];
    const auto = autoReconcile(conn, () => desired);
    auto.events.on('reconciled', ({ pipelinePushed: _pushed, ...r }) => reports.push(r));
    auto.events.on('error', ({ error }) => reports.push(error));
    conn.start();
    await conn.waitFor('pipeline-ready');
    await waitFor(() => reports.length === 1);
    expect(reports[0]).toEqual({ inserted: 7, modified: 1, deleted: 0, registersCleared: ['MyIngress.last_length'] });
    const expected = await snapshot(conn);
    expect(expected.entries.length).toBe(6);
    expect(expected.fwdDefault).toBe('MyIngress.to_cpu');

    // Drift: a stale entry, a changed one, a missing one, a register value.
    const c = conn.client!;
    await c.write([
      insertEntry(fwd(0x99, 7)),
      { type: 'modify', entity: { kind: 'tableEntry', value: fwd(0x10, 6) } },
      deleteEntry({ table: 'routes', match: { dst_prefix: { value: 0x0a0000000000n, prefixLength: 8 } } }),
    ]);
    await new P4RuntimeRegisterAccess(c).write('last_length', 1, 77);
    expect(await reconcile(c, desired, { pipelinePushed: false })).toEqual({ inserted: 1, modified: 1, deleted: 1, registersCleared: [] });
    expect(await snapshot(conn)).toEqual(expected);
    // Without a push, flow state stays; and a second pass has nothing to do.
    expect((await c.readRegisters('last_length', 1))[0]!.value).toBe(77n);
    expect(await reconcile(c, desired, { pipelinePushed: false })).toEqual({ inserted: 0, modified: 0, deleted: 0, registersCleared: [] });

    // Restart: the switch comes back empty on another port; the controller reconnects, pushes, reconciles.
    await t.close();
    targets.splice(0);
    t = await startTestTarget();
    targets.push(t);
    await waitFor(() => reports.length === 2, 5000);
    expect(reports[1]).toEqual({ inserted: 7, modified: 1, deleted: 0, registersCleared: ['MyIngress.last_length'] });
    expect(conn.state.phase).toBe('pipeline-ready');
    expect(await snapshot(conn)).toEqual(expected);
  });

  it('lets a backup take over the state as it is: the new primary reconciles without pushing or rewriting', async () => {
    const t = await startTestTarget();
    targets.push(t);
    const pipeline = { p4info: TEST_P4INFO, deviceConfig: new TextEncoder().encode(TEST_PROGRAM) };
    const first = new SwitchConnection({ address: t.address, electionId: 20n, pipeline });
    const second = new SwitchConnection({ address: t.address, electionId: 10n, pipeline });
    connections.push(first, second);
    autoReconcile(first, () => desired);
    const secondReports: unknown[] = [];
    const auto = autoReconcile(second, () => desired);
    auto.events.on('reconciled', ({ pipelinePushed, ...r }) => secondReports.push([pipelinePushed, r]));
    auto.events.on('error', ({ error }) => secondReports.push(error));
    first.start();
    await first.waitFor('pipeline-ready');
    await waitFor(async () => (await first.client!.readTableEntries()).length === 6);
    second.start();
    await second.waitFor('backup');
    first.stop();
    await waitFor(() => secondReports.length === 1);
    expect(secondReports[0]).toEqual([false, { inserted: 0, modified: 0, deleted: 0, registersCleared: [] }]);
    expect((await second.client!.readTableEntries()).length).toBe(6);
  });
});

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
