/**
 * Runs an STF file on the embedded target the way p4c's BMv2 STF runner judges it
 * (bmv2-tests/stf/semantics.md): a freshly loaded program per file; control-plane commands take
 * effect before the next packet; every port named in a `packet` or `expect` line keeps a FIFO of
 * expectations compared in order after the run; a named port with no expectation must stay
 * silent; output to a port the file never names is not observed.
 */
import { closestName, didYouMean } from '../../core/errors.ts';
import type { CheckedProgram } from '../../p4-frontend/checker.ts';
import type { ActionInfo, FieldMatch, KeyField, Table, TableEntryData } from '../../target/interpreter/tables.ts';
import { V1ModelSwitch } from '../../target/interpreter/switch.ts';
import { StfValueError } from './errors.ts';
import { comparePortOutputs } from './expect.ts';
import type { ExpectedPacket, StfActionCall, StfAdd, StfCheckCounter, StfCommand, StfFile, StfKeyMatch } from './model.ts';
import { resolveArgValue, resolveKeyValue } from './values.ts';
import { maskOf } from '../../target/interpreter/values.ts';

export interface StfRunResult {
  readonly file: string;
  readonly passed: boolean;
  /** One message per failed expectation or command, with the STF line where it helps. */
  readonly failures: readonly string[];
  readonly packetsSent: number;
}

export interface StfRunOptions {
  /** Collect and return each packet's trace with the failures. */
  readonly trace?: boolean;
}

/** A failure of one STF line; its message starts with `line N:`. */
export class StfRunError extends Error {}

export function fail(line: number, message: string): never {
  throw new StfRunError(`line ${line}: ${message}`);
}

/** Resolves a control-plane name exactly, else by a unique dotted suffix (`NoAction`, `slot`). */
export function resolveName<T>(what: string, name: string, known: ReadonlyMap<string, T>, line: number): T {
  const exact = known.get(name);
  if (exact !== undefined) return exact;
  const bySuffix = [...known.keys()].filter((k) => k.endsWith(`.${name}`));
  if (bySuffix.length === 1) return known.get(bySuffix[0]!)!;
  if (bySuffix.length > 1) fail(line, `${what} '${name}' is ambiguous: ${bySuffix.join(', ')}`);
  const hint = didYouMean(name, known.keys()) ?? suffixHint(name, known.keys());
  return fail(line, `unknown ${what} '${name}'${hint === undefined ? '' : ` (${hint})`}`);
}

function suffixHint(name: string, known: Iterable<string>): string | undefined {
  const lastParts = new Map([...known].map((k) => [k.split('.').pop()!, k] as const));
  const near = closestName(name.split('.').pop()!, lastParts.keys());
  return near === undefined ? undefined : `did you mean '${lastParts.get(near)}'?`;
}

/** An STF key value as the field's match; undefined is a don't care. Shared by the embedded and the BMv2 runner. */
export function stfKeyMatch(table: string, key: KeyField, m: StfKeyMatch | undefined, line: number): FieldMatch | undefined {
  if (m === undefined) {
    // p4c's runner fills a missing key with 0&&&0 (ternary), 0/0 (lpm) or 0 (exact).
    return key.matchKind === 'exact' ? { kind: 'exact', value: 0n } : undefined;
  }
  let v;
  try {
    v = resolveKeyValue(m.text, key.width, { line, column: m.column });
  } catch (err) {
    if (err instanceof StfValueError) fail(line, `${table} key '${key.name}': ${err.message}`);
    throw err;
  }
  const full = maskOf(key.width);
  switch (key.matchKind) {
    case 'exact':
      if (v.mask !== full) fail(line, `${table} key '${key.name}' is exact: wildcards are not allowed`);
      return { kind: 'exact', value: v.value };
    case 'optional':
      if (v.mask === 0n) return undefined;
      if (v.mask !== full) fail(line, `${table} key '${key.name}' is optional: all or nothing`);
      return { kind: 'optional', value: v.value };
    case 'ternary':
      return v.mask === 0n ? undefined : { kind: 'ternary', value: v.value & v.mask, mask: v.mask };
    case 'lpm':
      if (v.prefixLength === undefined) fail(line, `${table} key '${key.name}' is lpm: the wildcards must be trailing`);
      return v.prefixLength === 0 ? undefined : { kind: 'lpm', value: v.value & v.mask, prefixLength: v.prefixLength };
    case 'range':
      if (v.mask !== full) fail(line, `${table} key '${key.name}' is a range: wildcards are not allowed`);
      return { kind: 'range', low: v.value, high: v.value };
  }
}

/** An STF action call's arguments in the order of the action's parameters, each checked against its width. */
export function stfActionArgs(
  action: { readonly name: string; readonly params: readonly { readonly name: string; readonly width: number }[] },
  call: StfActionCall,
  line: number,
): bigint[] {
  const args = action.params.map((p) => {
    const a = call.args.find((x) => x.name === p.name);
    if (a === undefined) fail(line, `${action.name}: missing parameter '${p.name}'`);
    try {
      return resolveArgValue(a.text, p.width, { line, column: a.column });
    } catch (err) {
      if (err instanceof StfValueError) fail(line, `${action.name} parameter '${p.name}': ${err.message}`);
      throw err;
    }
  });
  for (const a of call.args) {
    if (!action.params.some((p) => p.name === a.name)) {
      const hint = didYouMean(a.name, action.params.map((p) => p.name));
      fail(line, `${action.name} has no parameter '${a.name}'${hint === undefined ? '' : ` (${hint})`}`);
    }
  }
  return args;
}

function actionCall(table: Table, call: StfActionCall, line: number): { action: ActionInfo; args: bigint[] } {
  const byName = new Map(table.actions.map((a) => [a.action.name, a.action] as const));
  const action = resolveName('action', call.name, byName, line);
  return { action, args: stfActionArgs(action, call, line) };
}

function entryOf(sw: V1ModelSwitch, c: StfAdd): { table: Table; entry: TableEntryData } {
  const table = resolveName('table', c.table, sw.tables, c.line);
  const keysByName = new Map(c.keys.map((k) => [k.name, k] as const));
  for (const k of c.keys) {
    if (!table.keys.some((tk) => tk.name === k.name || tk.name.endsWith(`.${k.name}`))) {
      const hint = didYouMean(k.name, table.keys.map((tk) => tk.name));
      fail(c.line, `table ${table.name} has no key '${k.name}'${hint === undefined ? '' : ` (${hint})`}`);
    }
  }
  const matches = table.keys.map((key) => {
    const m = keysByName.get(key.name) ?? c.keys.find((k) => key.name.endsWith(`.${k.name}`));
    return stfKeyMatch(table.name, key, m, c.line);
  });
  return {
    table,
    entry: { matches, priority: table.needsPriority ? (c.priority ?? 1) : 0, action: actionCall(table, c.action, c.line) },
  };
}

function checkCounter(sw: V1ModelSwitch, c: StfCheckCounter, handles: ReadonlyMap<string, { table: Table; entry: TableEntryData }>): void {
  let packets: bigint;
  let bytes: bigint;
  if (c.index.kind === 'entry') {
    const h = handles.get(c.index.handle);
    if (h === undefined) fail(c.line, `no entry was added with handle '${c.index.handle}'`);
    const stored = h.table.find(h.entry);
    if (stored === undefined) fail(c.line, `the entry '${c.index.handle}' is gone`);
    packets = stored.packets;
    bytes = stored.bytes;
  } else {
    const counter = resolveName('counter', c.counter, sw.counters, c.line);
    const i = Number(c.index.value);
    if (i >= counter.size) fail(c.line, `counter ${counter.name} has ${counter.size} cells, index ${i}`);
    packets = counter.packets[i]!;
    bytes = counter.bytes[i]!;
  }
  checkCounterValue(c, packets, bytes);
}

/** Judges a `check_counter` line against the counter's cells as read; fails the line otherwise. */
export function checkCounterValue(c: StfCheckCounter, packets: bigint, bytes: bigint): void {
  const check = c.check ?? { counterType: 'packets' as const, op: '==' as const, value: 0n };
  const actual = check.counterType === 'bytes' ? bytes : packets;
  const ok =
    check.op === '==' ? actual === check.value
    : check.op === '!=' ? actual !== check.value
    : check.op === '<' ? actual < check.value
    : check.op === '<=' ? actual <= check.value
    : check.op === '>' ? actual > check.value
    : actual >= check.value;
  if (!ok) fail(c.line, `check_counter ${c.counter}: ${check.counterType} is ${actual}, expected ${check.op} ${check.value}`);
}

/** Runs one STF file on a freshly loaded program. */
export function runStf(program: CheckedProgram, stf: StfFile, options: StfRunOptions = {}): StfRunResult {
  const sw = new V1ModelSwitch(program, { trace: options.trace ?? false, clock: () => 0n });
  const named = new Set<number>();
  const received = new Map<number, Uint8Array[]>();
  const expected = new Map<number, ExpectedPacket[]>();
  const anything = new Set<number>();
  const handles = new Map<string, { table: Table; entry: TableEntryData }>();
  const failures: string[] = [];
  const traces: string[] = [];
  let expectNothing = false;
  let sent = 0;
  const run = (c: StfCommand): void => {
    switch (c.kind) {
      case 'add': {
        const { table, entry } = entryOf(sw, c);
        try {
          table.insert(entry);
        } catch (err) {
          fail(c.line, (err as Error).message);
        }
        if (c.handle !== undefined) handles.set(c.handle, { table, entry });
        return;
      }
      case 'setdefault': {
        const table = resolveName('table', c.table, sw.tables, c.line);
        try {
          table.setDefault(actionCall(table, c.action, c.line));
        } catch (err) {
          fail(c.line, (err as Error).message);
        }
        return;
      }
      case 'packet': {
        named.add(c.port);
        sent++;
        const r = sw.process(c.port, c.bytes);
        if (options.trace) traces.push(`packet line ${c.line}:`, ...r.trace.map((t) => `  ${t}`));
        if (r.output !== undefined) {
          const list = received.get(r.output.port) ?? [];
          list.push(r.output.bytes);
          received.set(r.output.port, list);
        }
        return;
      }
      case 'expect': {
        named.add(c.port);
        if (c.packet === undefined) anything.add(c.port);
        else {
          const list = expected.get(c.port) ?? [];
          list.push(c.packet);
          expected.set(c.port, list);
        }
        return;
      }
      case 'no_packet':
        expectNothing = true;
        return;
      case 'wait':
        // One interpreter, packets processed as they are sent: everything has drained already.
        return;
      case 'remove':
        if (c.target.kind === 'all') {
          for (const t of sw.tables.values()) t.clear();
        } else {
          const target = c.target;
          const { table, entry } = entryOf(sw, { kind: 'add', line: c.line, table: target.table, priority: target.priority, keys: target.keys, action: { name: 'NoAction', args: [], column: 0 }, handle: undefined });
          try {
            table.delete(entry);
          } catch (err) {
            fail(c.line, (err as Error).message);
          }
        }
        return;
      case 'check_counter':
        checkCounter(sw, c, handles);
        return;
      case 'bmv2_cli':
        fail(c.line, `${c.name} is a BMv2 CLI command the embedded target does not run`);
    }
  };
  for (const c of stf.commands) {
    try {
      run(c);
    } catch (err) {
      if (err instanceof StfRunError) failures.push(err.message);
      else throw err;
    }
  }
  for (const port of [...named].sort((a, b) => a - b)) {
    if (anything.has(port)) continue;
    failures.push(...comparePortOutputs(port, expected.get(port) ?? [], received.get(port) ?? [], 'in-order'));
  }
  if (expectNothing) {
    for (const [port, list] of received) if (list.length > 0) failures.push(`no_packet: port ${port} sent ${list.length} packet(s)`);
  }
  if (failures.length > 0 && options.trace) failures.push(traces.join('\n'));
  return { file: stf.file, passed: failures.length === 0, failures, packetsSent: sent };
}
