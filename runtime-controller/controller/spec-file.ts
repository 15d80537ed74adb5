/**
 * The spec file of a running controller, which stays the operator's source of truth (a restart
 * reads it): `reload` applies what the file says, `setBackend` edits one VIP's backends in the
 * file's text (only that sequence changes, so comments and layout stay), applies the result and
 * then puts the new text in place atomically. Every operation runs after the previous one has
 * finished, so a SIGHUP reload and an API edit never interleave. On any failure the file keeps
 * its text and the controller its spec.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isScalar, isSeq, parse, parseDocument, type Scalar } from 'yaml';
import { didYouMean, formatDiagnostic, P4lbError, type Diagnostic, type P4lbErrorOptions } from '../../core/errors.ts';
import { parseSpec, SpecError } from '../../core/spec/load.ts';
import type { LbSpec } from '../../core/spec/schema.ts';
import type { Controller } from './controller.ts';
import type { SpecApplied } from './spec-change.ts';

export type SpecFileErrorCode =
  /** No VIP of that name in the spec. */
  | 'SPEC_FILE_UNKNOWN_VIP'
  /** No VM of that name in the spec's `vms`. */
  | 'SPEC_FILE_UNKNOWN_VM'
  /** The file no longer holds the spec in force (edited and not reloaded, or edited during our edit). */
  | 'SPEC_FILE_CHANGED'
  /** The backends are not a sequence of names this module can edit without touching anything else. */
  | 'SPEC_FILE_LAYOUT'
  /** The new text could not be put in place. */
  | 'SPEC_FILE_WRITE';

export class SpecFileError extends P4lbError {
  /** The problems of the file on disk, when it is not a valid spec (SPEC_FILE_CHANGED). */
  readonly diagnostics: readonly Diagnostic[];

  constructor(code: SpecFileErrorCode, message: string, options: P4lbErrorOptions & { readonly diagnostics?: readonly Diagnostic[] } = {}) {
    super(code, message, options);
    this.diagnostics = options.diagnostics ?? [];
  }

  override describe(): string {
    return [super.describe(), ...this.diagnostics.map((d) => `  ${formatDiagnostic(d)}`)].join('\n');
  }
}

/** What the spec file needs of the controller: the spec in force and a way to change it. */
export type SpecFileController = Pick<Controller, 'applySpec' | 'spec'>;

export interface SpecFileOptions {
  /** The spec file the controller was started from. */
  readonly path: string;
  readonly controller: SpecFileController;
  /** Renames the temporary file over the spec file (default fs.rename; tests make it fail). */
  readonly rename?: (from: string, to: string) => Promise<void>;
}

/** What `setBackend` did. */
export interface BackendEdit {
  readonly vip: string;
  readonly vm: string;
  /** Whether `vm` is a backend of `vip` now. */
  readonly present: boolean;
  /** False when it already was (or was not): then neither file nor controller were touched. */
  readonly changed: boolean;
  /** The VIP's backends now, in file order. */
  readonly backends: readonly string[];
  readonly applied: SpecApplied;
}

export const NOTHING_APPLIED: SpecApplied = { vmsAdded: [], vmsRemoved: [], vipsAdded: [], vipsRemoved: [], backends: [] };

/** The text of a backends sequence after an edit, and the sequence. */
export interface BackendsTextEdit {
  readonly text: string;
  readonly backends: readonly string[];
}

const layout = (path: string, message: string): SpecFileError =>
  new SpecFileError('SPEC_FILE_LAYOUT', message, { location: { path }, hint: 'edit the spec file by hand and reload it (p4lb reload, or SIGHUP)' });

/** `name` as a YAML scalar: plain when it reads back as that string, else double-quoted (a VM named `123` or `null`). */
function scalarText(name: string): string {
  let plain: unknown;
  try {
    plain = parse(name);
  } catch {
    plain = undefined;
  }
  return plain === name && !/[\s#,[\]{}:]/.test(name) ? name : JSON.stringify(name);
}

/**
 * `text` with `vm` added at the end of, or removed from, the backends of `vips[vipIndex]`. Only
 * the text of that sequence changes: a flow sequence gets or loses `, vm`, a block sequence a
 * `- vm` line with the indentation of its neighbours. Refuses (SPEC_FILE_LAYOUT) a sequence it
 * cannot edit in place: an alias, tagged or anchored items, two items on a line. Pure; the
 * caller validates the result.
 */
export function editBackendsText(text: string, vipIndex: number, vm: string, present: boolean): BackendsTextEdit {
  const at = `vips[${vipIndex}].backends`;
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) throw layout(at, `the spec file is not valid YAML: ${doc.errors[0]!.message}`);
  const node = doc.getIn(['vips', vipIndex, 'backends'], true);
  if (!isSeq(node) || node.range == null) throw layout(at, `${at} is not a sequence written in the file (an alias or a merge key?)`);
  const items = node.items.map((item, k) => {
    if (!isScalar(item) || typeof item.value !== 'string' || item.range == null || item.anchor !== undefined || item.tag !== undefined) {
      throw layout(`${at}[${k}]`, `${at}[${k}] is not a plain VM name`);
    }
    return item as Scalar<string> & { range: [number, number, number] };
  });
  const names = items.map((i) => i.value);
  const k = names.indexOf(vm);
  if (present === (k >= 0)) return { text, backends: names };
  const splice = (from: number, to: number, insert: string): string => text.slice(0, from) + insert + text.slice(to);
  const [start, valueEnd] = node.range;

  if (node.flow === true) {
    if (present) {
      if (items.length === 0) return { text: splice(start, valueEnd, `[${scalarText(vm)}]`), backends: [vm] };
      const last = items.at(-1)!.range[1];
      return { text: splice(last, last, `, ${scalarText(vm)}`), backends: [...names, vm] };
    }
    const [from, to] = items.length === 1 ? [items[0]!.range[0], items[0]!.range[1]] : k > 0 ? [items[k - 1]!.range[1], items[k]!.range[1]] : [items[0]!.range[0], items[1]!.range[0]];
    return { text: splice(from, to, ''), backends: names.filter((n) => n !== vm) };
  }

  // Block sequence: each item must be alone on its line as `<indent>- name [# comment]`.
  const line = (item: (typeof items)[number], index: number) => {
    const lineStart = text.lastIndexOf('\n', item.range[0] - 1) + 1;
    const prefix = text.slice(lineStart, item.range[0]);
    const newline = text.indexOf('\n', item.range[1]);
    const lineEnd = newline < 0 ? text.length : newline;
    if (!/^[ \t]*-[ \t]+$/.test(prefix) || !/^[ \t]*(#.*)?\r?$/.test(text.slice(item.range[1], lineEnd))) {
      throw layout(`${at}[${index}]`, `${at}[${index}] does not stand alone on its line as '- name'`);
    }
    return { lineStart, prefix, lineEnd, next: newline < 0 ? text.length : newline + 1 };
  };
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  if (present) {
    const last = line(items.at(-1)!, items.length - 1);
    const added = `${last.prefix}${scalarText(vm)}`;
    const edited = last.lineEnd === text.length ? splice(text.length, text.length, `${eol}${added}`) : splice(last.next, last.next, `${added}${eol}`);
    return { text: edited, backends: [...names, vm] };
  }
  const gone = line(items[k]!, k);
  if (items.length === 1) {
    // An empty block sequence cannot be written: an empty flow one in its place keeps the text valid YAML.
    const dash = gone.lineStart + gone.prefix.indexOf('-');
    return { text: splice(dash, items[k]!.range[1], '[]'), backends: [] };
  }
  return { text: splice(gone.lineStart, gone.next, ''), backends: names.filter((n) => n !== vm) };
}

/** JSON with bigints as strings: equality of specs. */
const json = (value: unknown): string => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

/** The first top-level field in which two specs differ. */
function firstDifference(a: LbSpec, b: LbSpec): string | undefined {
  const ra = a as unknown as Record<string, unknown>;
  const rb = b as unknown as Record<string, unknown>;
  return [...new Set([...Object.keys(ra), ...Object.keys(rb)])].find((key) => json(ra[key]) !== json(rb[key]));
}

const errorText = (err: unknown): string => (err instanceof P4lbError ? err.describe() : err instanceof Error ? err.message : String(err));

export class SpecFile {
  readonly path: string;
  private readonly controller: SpecFileController;
  private readonly renameFile: (from: string, to: string) => Promise<void>;
  /** The tail of the operations queue; never rejects. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: SpecFileOptions) {
    this.path = options.path;
    this.controller = options.controller;
    this.renameFile = options.rename ?? rename;
  }

  /** Reads the file, validates it and applies it; refused (nothing changed) when invalid or when the controller cannot take it. */
  reload(): Promise<SpecApplied> {
    return this.serialized(async () => this.controller.applySpec(parseSpec(await this.read(), this.path)));
  }

  /** Adds `vm` to (present) or removes it from the backends of `vip`, in the file and in the controller. */
  setBackend(vip: string, vm: string, present: boolean): Promise<BackendEdit> {
    return this.serialized(() => this.edit(vip, vm, present));
  }

  /** Resolves once every operation queued so far has finished. */
  async idle(): Promise<void> {
    await this.queue;
  }

  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async read(): Promise<string> {
    try {
      return await readFile(this.path, 'utf8');
    } catch (err) {
      throw new P4lbError('SPEC_UNREADABLE', `cannot read spec file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { location: { file: this.path }, cause: err });
    }
  }

  private async edit(vip: string, vm: string, present: boolean): Promise<BackendEdit> {
    const text = await this.read();
    const current = this.controller.spec;
    let onDisk: LbSpec;
    try {
      onDisk = parseSpec(text, this.path);
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      throw this.changed(`${this.path} is not a valid spec now, so it no longer holds the spec in force`, undefined, err.diagnostics);
    }
    const differs = firstDifference(current, onDisk);
    if (differs !== undefined) throw this.changed(`${this.path} differs from the spec in force (${differs}): it was edited and not reloaded`, differs);

    const vipIndex = current.vips.findIndex((v) => v.name === vip);
    if (vipIndex < 0) {
      throw new SpecFileError('SPEC_FILE_UNKNOWN_VIP', `no VIP named '${vip}' in ${this.path}`, { location: { path: 'vip' }, hint: didYouMean(vip, current.vips.map((v) => v.name)) ?? `the VIPs are ${current.vips.map((v) => v.name).join(', ')}` });
    }
    if (!current.vms.some((v) => v.name === vm)) {
      const add = `a new VM must first be added to vms in ${this.path} and reloaded (p4lb reload)`;
      const near = didYouMean(vm, current.vms.map((v) => v.name));
      throw new SpecFileError('SPEC_FILE_UNKNOWN_VM', `no VM named '${vm}' in the vms of ${this.path}`, { location: { path: 'vm' }, hint: near === undefined ? add : `${near} Otherwise ${add}` });
    }
    const before = current.vips[vipIndex]!.backends;
    if (before.includes(vm) === present) return { vip, vm, present, changed: false, backends: before, applied: NOTHING_APPLIED };

    const edited = editBackendsText(text, vipIndex, vm, present);
    // Positions in these diagnostics are in the edited text, which is not on disk.
    const next = parseSpec(edited.text, `${this.path} (edited)`);
    const expected: LbSpec = { ...current, vips: current.vips.map((v, i) => (i === vipIndex ? { ...v, backends: [...edited.backends] } : v)) };
    const stray = firstDifference(expected, next);
    if (stray !== undefined) throw layout(`vips[${vipIndex}].backends`, `editing vips[${vipIndex}].backends in ${this.path} would change ${stray} too (an anchor shared with another field?)`);

    // A symlinked spec file: replace the file it points to, not the link.
    const target = await realpath(this.path).catch(() => this.path);
    const temp = await this.writeTemp(target, edited.text);
    let applied: SpecApplied;
    try {
      applied = await this.controller.applySpec(next);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    // An editor may have saved the file while the switches were written: theirs wins, ours is undone.
    const now = await this.read().catch(() => undefined);
    if (now !== text) {
      await unlink(temp).catch(() => undefined);
      await this.rollback(current, `${this.path} was changed while the edit was applied`);
      throw this.changed(`${this.path} was changed while the edit was applied; the controller is back on the spec it had`, undefined);
    }
    try {
      await this.renameFile(temp, target);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      await this.rollback(current, `cannot replace ${target}: ${errorText(err)}`);
      throw new SpecFileError('SPEC_FILE_WRITE', `cannot replace ${target}: ${errorText(err)}; the controller is back on the spec it had`, { location: { file: target }, cause: err });
    }
    return { vip, vm, present, changed: true, backends: edited.backends, applied };
  }

  private changed(message: string, path: string | undefined, diagnostics: readonly Diagnostic[] = []): SpecFileError {
    return new SpecFileError('SPEC_FILE_CHANGED', message, {
      location: { file: this.path, ...(path === undefined ? {} : { path }) },
      hint: 'apply the file with p4lb reload (or SIGHUP), or undo its edit, then try again',
      diagnostics,
    });
  }

  /** Applies the spec the controller had before an edit whose file could not be written. */
  private async rollback(previous: LbSpec, why: string): Promise<void> {
    try {
      await this.controller.applySpec(previous);
    } catch (err) {
      throw new SpecFileError('SPEC_FILE_WRITE', `${why}, and applying the previous spec again failed: ${errorText(err)}; the controller runs the edited spec, the file does not hold it`, { location: { file: this.path }, cause: err });
    }
  }

  /** Writes `text` to a new file beside `target` with its permissions, flushed to disk. */
  private async writeTemp(target: string, text: string): Promise<string> {
    const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      const mode = (await stat(target)).mode & 0o7777;
      const handle = await open(temp, 'wx', mode);
      try {
        await handle.writeFile(text, 'utf8');
        // The umask may have narrowed the mode given to open.
        await handle.chmod(mode);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return temp;
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw new SpecFileError('SPEC_FILE_WRITE', `cannot write the edited spec beside ${target}: ${errorText(err)}`, { location: { file: target }, cause: err });
    }
  }
}
