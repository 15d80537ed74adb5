/**
 * Runs STF files on BMv2 (simple_switch_grpc) as the embedded STF runner runs them on the
 * interpreter (bmv2-tests/stf/semantics.md): entries written over P4Runtime through p4c's P4Info
 * (STF priority: the larger wins, as P4Runtime), packets sent on veth pairs, outputs compared per
 * named port after the run. A switch serves every file of a program; each file starts on a freshly
 * pushed pipeline. Outputs are matched by content within a port: BMv2 may reorder.
 */
import { decodeCounterEntry, decodeDirectCounterEntry, encodeCounterEntry, type P4Schema, type TableInfo } from '../../runtime-controller/schema/index.ts';
import { comparePortOutputs } from '../stf/expect.ts';
import type { ExpectedPacket, StfActionCall, StfCheckCounter, StfCommand, StfFile, StfKeyMatch } from '../stf/model.ts';
import { checkCounterValue, fail, resolveName, stfActionArgs, stfKeyMatch, StfRunError, type StfRunResult } from '../stf/runner.ts';
import { Update_Type, type TableEntry } from '../../core/p4runtime/gen/p4/v1/p4runtime_pb.ts';
import type { Bmv2Tools } from '../dsl/runner.ts';
import { Bmv2Switch, isNotKernelNoise } from './bmv2-switch.ts';
import { compileForBmv2, type Bmv2Program } from './compile.ts';
import { actionParamsOf, defaultEntryOf, keyFieldsOf, tableEntryOf, tablesOf, type EntryParts } from './schema-entries.ts';

/** Every port an STF file sends on or expects on: the ports that need a veth pair. */
export function stfPorts(files: readonly StfFile[]): number[] {
  const ports = new Set<number>();
  for (const f of files) for (const c of f.commands) if (c.kind === 'packet' || c.kind === 'expect') ports.add(c.port);
  return [...ports].sort((a, b) => a - b);
}

/** Linux refuses to send a frame shorter than an Ethernet header on a veth (dev_validate_header). */
const MIN_VETH_FRAME_BYTES = 14;

/**
 * Why a file cannot run over veth pairs, or undefined: p4testgen writes packets shorter than an
 * Ethernet header (parser-error paths), which p4c's runner feeds BMv2 through pcap files but no
 * AF_PACKET socket can send.
 */
export function vethProblem(stf: StfFile): string | undefined {
  const short = stf.commands.find((c) => c.kind === 'packet' && c.bytes.length < MIN_VETH_FRAME_BYTES);
  if (short === undefined || short.kind !== 'packet') return undefined;
  return `line ${short.line} sends a ${short.bytes.length}-byte frame; a veth carries no frame shorter than an Ethernet header (${MIN_VETH_FRAME_BYTES} bytes)`;
}

function stfActionCall(table: TableInfo, call: StfActionCall, line: number): NonNullable<EntryParts['action']> {
  const action = resolveName('action', call.name, new Map(table.actions.map((r) => [r.action.name, r.action])), line);
  return { action, args: stfActionArgs(actionParamsOf(action), call, line) };
}

function stfEntry(schema: P4Schema, table: TableInfo, keys: readonly StfKeyMatch[], priority: number | undefined, action: EntryParts['action'], line: number): TableEntry {
  const fields = keyFieldsOf(table);
  for (const k of keys) {
    if (!fields.some((f) => f.name === k.name || f.name.endsWith(`.${k.name}`))) fail(line, `table ${table.name} has no key '${k.name}'`);
  }
  const matches = fields.map((f) => stfKeyMatch(table.name, f, keys.find((k) => k.name === f.name) ?? keys.find((k) => f.name.endsWith(`.${k.name}`)), line));
  return tableEntryOf(schema, { table, matches, ...(action === undefined ? {} : { action }), ...(priority === undefined ? {} : { priority }) });
}

export interface Bmv2StfRunner {
  readonly program: Bmv2Program;
  /** Runs one file on a freshly pushed pipeline. */
  run(stf: StfFile): Promise<StfRunResult>;
  /** Stops the switch and removes its veth pairs; never rejects. */
  close(): Promise<void>;
}

export interface Bmv2StfOptions {
  readonly tools: Bmv2Tools;
  readonly p4Text: string;
  readonly fileName: string;
  /** The ports of every file this runner will run (`stfPorts`). */
  readonly ports: readonly number[];
  readonly quietMs?: number;
}

export async function openBmv2Stf(options: Bmv2StfOptions): Promise<Bmv2StfRunner> {
  const program = await compileForBmv2(options.tools.p4c, options.p4Text, options.fileName);
  const sw = await Bmv2Switch.start({
    tools: options.tools,
    ports: options.ports,
    accept: isNotKernelNoise,
    ...(options.quietMs === undefined ? {} : { quietMs: options.quietMs }),
  });
  return { program, run: (stf) => runFile(sw, program, stf), close: () => sw.close() };
}

async function runFile(sw: Bmv2Switch, program: Bmv2Program, stf: StfFile): Promise<StfRunResult> {
  const problem = vethProblem(stf);
  if (problem !== undefined) return { file: stf.file, passed: false, failures: [`not runnable on BMv2 over veth: ${problem}`], packetsSent: 0 };
  await sw.pushPipeline(program);
  const schema = sw.schema;
  const tables = tablesOf(schema);
  const counters = new Map([...schema.counters].map((c) => [c.name, c]));
  const named = new Set<number>();
  const expected = new Map<number, ExpectedPacket[]>();
  const anything = new Set<number>();
  const handles = new Map<string, TableEntry>();
  const added: TableEntry[] = [];
  const defaults = new Set<TableInfo>();
  const received: { port: number; bytes: Uint8Array }[] = [];
  const failures: string[] = [];
  let expectNothing = false;
  let sent = 0;
  const collect = async (): Promise<void> => {
    received.push(...(await sw.outputs()));
  };

  const checkCounter = async (c: StfCheckCounter): Promise<void> => {
    await collect();
    let read: { readonly packets?: bigint; readonly bytes?: bigint } | undefined;
    if (c.index.kind === 'entry') {
      const entry = handles.get(c.index.handle);
      if (entry === undefined) fail(c.line, `no entry was added with handle '${c.index.handle}'`);
      const [e] = await sw.read([{ entity: { case: 'directCounterEntry', value: { tableEntry: entry } } }], `read ${c.counter}($${c.index.handle})`);
      read = e?.entity.case === 'directCounterEntry' ? decodeDirectCounterEntry(schema, e.entity.value) : undefined;
    } else {
      const counter = resolveName('counter', c.counter, counters, c.line);
      const [e] = await sw.read([{ entity: { case: 'counterEntry', value: encodeCounterEntry(schema, { counter: counter.name, index: Number(c.index.value) }) } }], `read ${counter.name}`);
      read = e?.entity.case === 'counterEntry' ? decodeCounterEntry(schema, e.entity.value) : undefined;
    }
    checkCounterValue(c, read?.packets ?? 0n, read?.bytes ?? 0n);
  };

  const run = async (c: StfCommand): Promise<void> => {
    switch (c.kind) {
      case 'add': {
        const table = resolveName('table', c.table, tables, c.line);
        const entry = stfEntry(schema, table, c.keys, c.priority, stfActionCall(table, c.action, c.line), c.line);
        await sw.write([{ type: Update_Type.INSERT, entity: { entity: { case: 'tableEntry', value: entry } } }], `add to ${table.name}`);
        added.push(entry);
        if (c.handle !== undefined) handles.set(c.handle, entry);
        return;
      }
      case 'setdefault': {
        const table = resolveName('table', c.table, tables, c.line);
        const entry = defaultEntryOf(schema, table, stfActionCall(table, c.action, c.line));
        await sw.write([{ type: Update_Type.MODIFY, entity: { entity: { case: 'tableEntry', value: entry } } }], `setdefault ${table.name}`);
        defaults.add(table);
        return;
      }
      case 'packet':
        named.add(c.port);
        sent++;
        sw.send(c.port, c.bytes);
        return;
      case 'expect':
        named.add(c.port);
        if (c.packet === undefined) anything.add(c.port);
        else expected.set(c.port, [...(expected.get(c.port) ?? []), c.packet]);
        return;
      case 'no_packet':
        expectNothing = true;
        return;
      case 'wait':
        await collect();
        return;
      case 'remove': {
        await collect();
        if (c.target.kind === 'all') {
          const entries = added.splice(0);
          if (entries.length > 0) {
            await sw.write(entries.map((e) => ({ type: Update_Type.DELETE, entity: { entity: { case: 'tableEntry' as const, value: e } } })), 'remove all');
          }
          // A default entry without an action goes back to the program's default (P4Runtime §9.1.3).
          for (const t of defaults) await sw.write([{ type: Update_Type.MODIFY, entity: { entity: { case: 'tableEntry', value: defaultEntryOf(schema, t) } } }], `reset default of ${t.name}`);
          defaults.clear();
        } else {
          const table = resolveName('table', c.target.table, tables, c.line);
          const entry = stfEntry(schema, table, c.target.keys, c.target.priority, undefined, c.line);
          await sw.write([{ type: Update_Type.DELETE, entity: { entity: { case: 'tableEntry', value: entry } } }], `remove from ${table.name}`);
        }
        return;
      }
      case 'check_counter':
        await checkCounter(c);
        return;
      case 'bmv2_cli':
        fail(c.line, `${c.name} is a BMv2 CLI command p4lb's BMv2 STF runner does not run (it drives the switch over P4Runtime)`);
    }
  };

  for (const c of stf.commands) {
    try {
      await run(c);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      failures.push(err instanceof StfRunError ? message : `line ${c.line}: ${message}`);
    }
  }
  await collect();
  const byPort = new Map<number, Uint8Array[]>();
  for (const r of received) byPort.set(r.port, [...(byPort.get(r.port) ?? []), r.bytes]);
  for (const port of [...named].sort((a, b) => a - b)) {
    if (anything.has(port)) continue;
    failures.push(...comparePortOutputs(port, expected.get(port) ?? [], byPort.get(port) ?? [], 'by-content'));
  }
  if (expectNothing) {
    for (const [port, list] of byPort) if (named.has(port) && list.length > 0) failures.push(`no_packet: port ${port} sent ${list.length} packet(s)`);
  }
  return { file: stf.file, passed: failures.length === 0, failures, packetsSent: sent };
}
