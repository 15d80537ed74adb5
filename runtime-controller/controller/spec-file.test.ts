import { mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseSpec } from '../../core/spec/load.ts';
import type { LbSpec } from '../../core/spec/schema.ts';
import { backendIdIn, vipIdIn } from '../../core/spec/ids.ts';
import { GATEWAY_P4 } from '../lb/index.ts';
import { ControllerError } from './errors.ts';
import { describeSpecChange, type SpecApplied } from './spec-change.ts';
import { editBackendsText, SpecFile, type SpecFileController } from './spec-file.ts';
import { eventually, EXAMPLE_SPEC, exampleSpecText, startDeploymentOn, type SwitchDeployment } from './test-setup.ts';

const EXAMPLE_TEXT = await readFile(EXAMPLE_SPEC, 'utf8');
const API_BACKENDS = '    backends: [vm-a1, vm-a2, vm-b1, vm-b2]\n    healthCheck: { type: tcp';

/**
 * The example spec as an operator keeps it (comments, flow collections, aligned comments), with a
 * fifth VM that serves no VIP yet and an `api` VIP sized for two backends.
 */
const FIXTURE = EXAMPLE_TEXT
  .replace(/( {2}- \{ name: vm-b2[^\n]*\n)/, '$1  - { name: vm-a3, host: host-a, privateIpv4: 192.168.1.13, udpPort: 7005, nicPort: 4 }   # spare\n')
  .replace(API_BACKENDS, '    slots: 256                # room for two backends\n    backends: [vm-a1, vm-a2]\n    healthCheck: { type: tcp');

/** A controller that holds a spec and takes any change it is given, as applySpec promises (or refuses, when told to). */
class FakeController implements SpecFileController {
  readonly applied: LbSpec[] = [];
  refusal: Error | undefined;
  /** Runs inside applySpec, before the spec changes (a slow write, an editor saving the file). */
  during: (() => Promise<void>) | undefined;
  active = 0;
  maxActive = 0;

  constructor(public spec: LbSpec) {}

  async applySpec(next: LbSpec): Promise<SpecApplied> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      await this.during?.();
      if (this.refusal !== undefined) throw this.refusal;
      const change = describeSpecChange(this.spec, next);
      this.applied.push(next);
      this.spec = next;
      return change;
    } finally {
      this.active--;
    }
  }
}

const linesOf = (text: string): string[] => text.split('\n');
/** The lines of `after` that differ from `before`'s, as [before, after] pairs (same line count). */
const changedLines = (before: string, after: string): [string, string][] =>
  linesOf(before).flatMap((line, i): [string, string][] => (line === linesOf(after)[i] ? [] : [[line, linesOf(after)[i]!]]));

describe('editBackendsText', () => {
  it('adds to and removes from a flow sequence, touching nothing else', () => {
    const text = 'vips:\n  - name: web   # main\n    backends: [a, b, c]   # all of them\n    slots: 512\n';
    expect(editBackendsText(text, 0, 'd', true)).toEqual({ text: 'vips:\n  - name: web   # main\n    backends: [a, b, c, d]   # all of them\n    slots: 512\n', backends: ['a', 'b', 'c', 'd'] });
    expect(editBackendsText(text, 0, 'a', false).text).toBe('vips:\n  - name: web   # main\n    backends: [b, c]   # all of them\n    slots: 512\n');
    expect(editBackendsText(text, 0, 'b', false).text).toContain('backends: [a, c]   # all');
    expect(editBackendsText(text, 0, 'c', false).text).toContain('backends: [a, b]   # all');
    expect(editBackendsText('vips:\n  - backends: [ a ]\n', 0, 'a', false).text).toBe('vips:\n  - backends: [  ]\n');
    expect(editBackendsText('vips:\n  - backends: []\n', 0, 'a', true)).toEqual({ text: 'vips:\n  - backends: [a]\n', backends: ['a'] });
    // Already there, or not there: the same text.
    expect(editBackendsText(text, 0, 'b', true)).toEqual({ text, backends: ['a', 'b', 'c'] });
    expect(editBackendsText(text, 0, 'z', false)).toEqual({ text, backends: ['a', 'b', 'c'] });
  });

  it('adds and removes lines of a block sequence with their neighbours\' indentation and keeps the comments of the others', () => {
    const text = 'vips:\n  - name: web\n    backends:\n    # east first\n    -   a   # east\n    -   b\n    slots: 512\n  - name: api\n    backends:\n      - a\n';
    expect(editBackendsText(text, 0, 'c', true).text).toBe('vips:\n  - name: web\n    backends:\n    # east first\n    -   a   # east\n    -   b\n    -   c\n    slots: 512\n  - name: api\n    backends:\n      - a\n');
    expect(editBackendsText(text, 0, 'a', false).text).toBe('vips:\n  - name: web\n    backends:\n    # east first\n    -   b\n    slots: 512\n  - name: api\n    backends:\n      - a\n');
    // The file's last line, without a newline; and CRLF line ends.
    expect(editBackendsText(text, 1, 'b', true).text).toBe(`${text}      - b\n`);
    expect(editBackendsText('vips:\n  - backends:\n      - a', 0, 'b', true).text).toBe('vips:\n  - backends:\n      - a\n      - b');
    expect(editBackendsText('vips:\r\n  - backends:\r\n      - a\r\n', 0, 'b', true).text).toBe('vips:\r\n  - backends:\r\n      - a\r\n      - b\r\n');
    // The last item: an empty flow sequence keeps the text YAML (the spec check then refuses it).
    expect(editBackendsText(text, 1, 'a', false)).toEqual({ text: text.replace('      - a\n', '      []\n'), backends: [] });
  });

  it('quotes a name that would not read back as a string', () => {
    expect(editBackendsText('vips:\n  - backends: [a]\n', 0, '123', true).text).toBe('vips:\n  - backends: [a, "123"]\n');
    expect(parse(editBackendsText('vips:\n  - backends:\n      - a\n', 0, 'null', true).text)).toEqual({ vips: [{ backends: ['a', 'null'] }] });
  });

  it('refuses sequences it cannot edit in place, naming the field', () => {
    const refused = (text: string, vm: string, present: boolean) => {
      try {
        editBackendsText(text, 1, vm, present);
      } catch (err) {
        return err;
      }
      throw new Error('not refused');
    };
    // An alias: editing its anchor would change the other VIP too.
    expect(refused('vips:\n  - backends: &all [a, b]\n  - backends: *all\n', 'c', true)).toMatchObject({ code: 'SPEC_FILE_LAYOUT', location: { path: 'vips[1].backends' } });
    expect(refused('vips:\n  - {}\n  - backends: [a, !!str b]\n', 'c', true)).toMatchObject({ code: 'SPEC_FILE_LAYOUT', location: { path: 'vips[1].backends[1]' } });
    expect(refused('vips:\n  - {}\n  - backends:\n    - a\n    - &x b\n', 'b', false)).toMatchObject({ code: 'SPEC_FILE_LAYOUT', location: { path: 'vips[1].backends[1]' } });
    expect(refused('vips:\n  - {}\n  - backends: a\n', 'b', true)).toMatchObject({ code: 'SPEC_FILE_LAYOUT' });
  });

  it('adding then removing a name gives back the text, and the sequence reads as expected, in any layout', () => {
    const names = fc.uniqueArray(fc.constantFrom('vm-a1', 'vm-a2', 'vm-b1', 'vm-b2', 'web-1', '7', 'true'), { minLength: 1, maxLength: 6 });
    const layout = fc.record({
      flow: fc.boolean(),
      pad: fc.constantFrom('', ' '),
      indent: fc.constantFrom('  ', '    ', ''),
      comment: fc.boolean(),
      eol: fc.constantFrom('\n', '\r\n'),
    });
    fc.assert(
      fc.property(names, fc.nat(), layout, (all, pick, l) => {
        const newcomer = all[pick % all.length]!;
        const list = all.filter((n) => n !== newcomer);
        const item = (n: string) => (/^(\d+|true)$/.test(n) ? `"${n}"` : n);
        // An empty flow sequence gets its first item as `[x]`, so removing it gives `[]`.
        const pad = list.length === 0 ? '' : l.pad;
        const seq = l.flow || list.length === 0
          ? ` [${pad}${list.map(item).join(', ')}${pad}]${l.comment ? '  # flow' : ''}`
          : list.map((n, i) => `${l.eol}    ${l.indent}- ${item(n)}${l.comment && i === 0 ? '  # first' : ''}`).join('');
        const text = ['# notes', 'vips:', '  - name: web', '    slots: 512', `    backends:${seq}`, '    mode: nat   # rewrite', ''].join(l.eol);
        const added = editBackendsText(text, 0, newcomer, true);
        expect(added.backends).toEqual([...list, newcomer]);
        expect(parse(added.text)).toEqual({ vips: [{ name: 'web', slots: 512, backends: [...list, newcomer], mode: 'nat' }] });
        expect(added.text).toContain('# notes');
        const removed = editBackendsText(added.text, 0, newcomer, false);
        expect(removed).toEqual({ text, backends: list });
      }),
      { numRuns: 300 },
    );
  });
});

describe('SpecFile with a controller that takes what it is given', () => {
  let dir: string;
  let path: string;
  let controller: FakeController;
  let file: SpecFile;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'p4lb-spec-file-'));
    path = join(dir, 'lb.yaml');
    await writeFile(path, FIXTURE, { mode: 0o640 });
    controller = new FakeController(parseSpec(FIXTURE, path));
    file = new SpecFile({ path, controller });
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const onDisk = () => readFile(path, 'utf8');
  const onlyTheSpecFile = async () => expect(await readdir(dir)).toEqual(['lb.yaml']);

  it('removes a backend: one line of the file changes, the controller gets the spec of the new file', async () => {
    const edit = await file.setBackend('web', 'vm-b2', false);
    expect(edit).toEqual({
      vip: 'web', vm: 'vm-b2', present: false, changed: true, backends: ['vm-a1', 'vm-a2', 'vm-b1'],
      applied: { vmsAdded: [], vmsRemoved: [], vipsAdded: [], vipsRemoved: [], backends: [{ vip: 'web', added: [], removed: ['vm-b2'] }] },
    });
    const text = await onDisk();
    expect(changedLines(FIXTURE, text)).toEqual([['    backends: [vm-a1, vm-a2, vm-b1, vm-b2]', '    backends: [vm-a1, vm-a2, vm-b1]']]);
    expect(controller.spec).toEqual(parseSpec(text, path));
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    await onlyTheSpecFile();
  });

  it('adds a backend at the end of the sequence and says what the VIP has now', async () => {
    const edit = await file.setBackend('web', 'vm-a3', true);
    expect(edit).toMatchObject({ present: true, changed: true, backends: ['vm-a1', 'vm-a2', 'vm-b1', 'vm-b2', 'vm-a3'], applied: { backends: [{ vip: 'web', added: ['vm-a3'], removed: [] }] } });
    expect(changedLines(FIXTURE, await onDisk())).toEqual([['    backends: [vm-a1, vm-a2, vm-b1, vm-b2]', '    backends: [vm-a1, vm-a2, vm-b1, vm-b2, vm-a3]']]);
    expect(controller.spec.vips[0]!.backends).toEqual(['vm-a1', 'vm-a2', 'vm-b1', 'vm-b2', 'vm-a3']);
  });

  it('changes nothing, and says so, when the backend is already there or already gone', async () => {
    const before = await stat(path);
    expect(await file.setBackend('web', 'vm-a1', true)).toMatchObject({ present: true, changed: false, backends: ['vm-a1', 'vm-a2', 'vm-b1', 'vm-b2'], applied: { backends: [] } });
    expect(await file.setBackend('api', 'vm-b1', false)).toMatchObject({ present: false, changed: false, backends: ['vm-a1', 'vm-a2'] });
    expect(controller.applied).toEqual([]);
    expect((await stat(path)).mtimeMs).toBe(before.mtimeMs);
  });

  it('refuses unknown VIPs and VMs with a hint, leaving file and controller as they were', async () => {
    const spec = controller.spec;
    await expect(file.setBackend('wbe', 'vm-a1', true)).rejects.toMatchObject({ code: 'SPEC_FILE_UNKNOWN_VIP', location: { path: 'vip' }, hint: "did you mean 'web'?" });
    await expect(file.setBackend('web', 'vm-a9', true)).rejects.toMatchObject({ code: 'SPEC_FILE_UNKNOWN_VM', location: { path: 'vm' }, hint: expect.stringMatching(/^did you mean 'vm-a\d'\? .*add.* to vms in .*lb\.yaml and reloaded/) as unknown });
    await expect(file.setBackend('web', 'db-7', false)).rejects.toMatchObject({ code: 'SPEC_FILE_UNKNOWN_VM', hint: expect.stringMatching(/^a new VM must first be added to vms/) as unknown });
    expect(controller.spec).toBe(spec);
    expect(await onDisk()).toBe(FIXTURE);
  });

  it('refuses an edit that makes the spec invalid with the spec check\'s diagnostics: too few slots, no backend left', async () => {
    const tooMany = await file.setBackend('api', 'vm-b1', true).catch((e: unknown) => e);
    expect(tooMany).toMatchObject({ code: 'SPEC_INVALID', diagnostics: [{ message: '256 slots is less than 100 x 3 backends = 300', location: { path: 'vips[1].slots' }, hint: 'use 512' }] });
    await file.setBackend('api', 'vm-a2', false);
    const text = await onDisk();
    const none = await file.setBackend('api', 'vm-a1', false).catch((e: unknown) => e);
    expect(none).toMatchObject({ code: 'SPEC_INVALID', diagnostics: [{ location: { path: 'vips[1].backends', file: `${path} (edited)` } }] });
    expect(await onDisk()).toBe(text);
    expect(controller.spec.vips[1]!.backends).toEqual(['vm-a1']);
    expect(controller.applied).toHaveLength(1);
    await onlyTheSpecFile();
  });

  it('leaves the file as it was when the controller refuses the change', async () => {
    controller.refusal = new ControllerError('CONTROLLER_SPEC_CHANGE', 'the running controller cannot apply this spec', { location: { path: 'vips[].backends' } });
    await expect(file.setBackend('web', 'vm-a3', true)).rejects.toMatchObject({ code: 'CONTROLLER_SPEC_CHANGE', location: { path: 'vips[].backends' } });
    expect(await onDisk()).toBe(FIXTURE);
    await onlyTheSpecFile();
  });

  it('puts the previous spec back in force when the new file cannot be renamed into place', async () => {
    const failing = new SpecFile({ path, controller, rename: async () => Promise.reject(Object.assign(new Error('EXDEV: cross-device link'), { code: 'EXDEV' })) });
    const original = controller.spec;
    await expect(failing.setBackend('web', 'vm-b2', false)).rejects.toMatchObject({ code: 'SPEC_FILE_WRITE', message: expect.stringContaining('back on the spec it had') as unknown });
    expect(controller.applied.map((s) => s.vips[0]!.backends.length)).toEqual([3, 4]);
    expect(controller.spec).toBe(original);
    expect(await onDisk()).toBe(FIXTURE);
    await onlyTheSpecFile();
  });

  it('refuses to edit a file that no longer holds the spec in force, until it is reloaded', async () => {
    const edited = FIXTURE.replace('ports: [8080]', 'ports: [8081]');
    await writeFile(path, edited);
    await expect(file.setBackend('web', 'vm-b2', false)).rejects.toMatchObject({ code: 'SPEC_FILE_CHANGED', location: { path: 'vips' }, hint: expect.stringContaining('p4lb reload') as unknown });
    await writeFile(path, FIXTURE.replace('vm-a1, vm-a2]', 'vm-a1, vm-a7]'));
    const invalid = await file.setBackend('web', 'vm-b2', false).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ code: 'SPEC_FILE_CHANGED', diagnostics: [{ message: "unknown VM 'vm-a7'" }] });
    expect((invalid as Error & { describe(): string }).describe()).toContain("vips[1].backends[1]: unknown VM 'vm-a7'");
    await expect(file.reload()).rejects.toMatchObject({ code: 'SPEC_INVALID' });
    expect(controller.applied).toEqual([]);

    await writeFile(path, edited);
    expect(await file.reload()).toEqual({ vmsAdded: [], vmsRemoved: [], vipsAdded: [], vipsRemoved: [], backends: [] });
    expect(controller.spec.vips[1]!.ports).toEqual([8081]);
    await file.setBackend('web', 'vm-b2', false);
    expect(await onDisk()).toBe(edited.replace('[vm-a1, vm-a2, vm-b1, vm-b2]', '[vm-a1, vm-a2, vm-b1]'));
  });

  it('keeps an editor\'s save that lands while the change is applied, and undoes the change', async () => {
    const saved = FIXTURE.replace('# VIPs: the addresses clients use.', '# VIPs: edited meanwhile.');
    controller.during = async () => {
      controller.during = undefined;
      await writeFile(path, saved);
    };
    await expect(file.setBackend('web', 'vm-b2', false)).rejects.toMatchObject({ code: 'SPEC_FILE_CHANGED' });
    expect(controller.applied.map((s) => s.vips[0]!.backends.length)).toEqual([3, 4]);
    expect(await onDisk()).toBe(saved);
    await onlyTheSpecFile();
  });

  it('runs one operation at a time: concurrent edits and reloads all land, none is lost', async () => {
    controller.during = () => new Promise((r) => setTimeout(r, 20));
    const results = await Promise.all([
      file.setBackend('web', 'vm-b2', false),
      file.setBackend('api', 'vm-a2', false),
      file.reload(),
      file.setBackend('web', 'vm-a3', true),
    ]);
    expect(controller.maxActive).toBe(1);
    expect(results.map((r) => ('changed' in r ? r.changed : 'reload'))).toEqual([true, true, 'reload', true]);
    const text = await onDisk();
    expect(parse(text)).toMatchObject({ vips: [{ backends: ['vm-a1', 'vm-a2', 'vm-b1', 'vm-a3'] }, { backends: ['vm-a1'] }] });
    expect(controller.spec).toEqual(parseSpec(text, path));
    await file.idle();
  });

  it('edits the file a symlink points to, and leaves the link', async () => {
    const link = join(dir, 'current.yaml');
    await symlink(path, link);
    await new SpecFile({ path: link, controller }).setBackend('web', 'vm-a1', false);
    expect((await readFile(path, 'utf8')).includes('backends: [vm-a2, vm-b1, vm-b2]')).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['current.yaml', 'lb.yaml']);
  });
});

describe('SpecFile driving a running controller (embedded switches)', () => {
  let d: SwitchDeployment;
  let dir: string;
  let path: string;
  let file: SpecFile;
  let original: string;

  const slotOwners = async (gateway: string, vip: string): Promise<Set<number>> => {
    const id = vipIdIn(d.controller.dataPlaneIds, vip);
    return new Set((await d.readEntries(gateway, GATEWAY_P4.slotTable)).filter((e) => Number(e.keys['vip_id']) === id).map((e) => Number(e.params['backend_id'])));
  };
  const hasBackendEntry = async (gateway: string, vip: string, vm: string): Promise<boolean> => {
    const [v, b] = [vipIdIn(d.controller.dataPlaneIds, vip), backendIdIn(d.controller.dataPlaneIds, vm)];
    return (await d.readEntries(gateway, GATEWAY_P4.backendTable)).some((e) => Number(e.keys['vip_id']) === v && Number(e.keys['backend_id']) === b);
  };

  beforeAll(async () => {
    d = await startDeploymentOn({ kind: 'embedded' }, { prober: async () => ({ ok: true, latencyMs: 0 }), resolveEndpoint: () => ({ host: '127.0.0.1', port: 9 }) });
    await d.controller.waitUntilReconciled(60_000);
    await d.controller.settled();
    dir = await mkdtemp(join(tmpdir(), 'p4lb-spec-file-'));
    path = join(dir, 'lb.yaml');
    const addresses = Object.fromEntries([...d.switches].map(([name, s]) => [name, s.address]));
    // The operator's comments, which an edit must keep.
    original = `# lab deployment: do not remove vm-a1\n${exampleSpecText(addresses).replace('      - vm-a1\n', '      - vm-a1   # east, first\n')}`;
    await writeFile(path, original);
    file = new SpecFile({ path, controller: d.controller });
  }, 120_000);

  afterAll(async () => {
    await d?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('removes a backend from a VIP on every gateway and in the file, and adds it back', async () => {
    const b2 = backendIdIn(d.controller.dataPlaneIds, 'vm-b2');
    await eventually(async () => (await slotOwners('gw-west', 'web')).has(b2), 10_000, 'vm-b2 owns web slots on gw-west');

    const removed = await file.setBackend('web', 'vm-b2', false);
    expect(removed).toMatchObject({ changed: true, backends: ['vm-a1', 'vm-a2', 'vm-b1'], applied: { backends: [{ vip: 'web', added: [], removed: ['vm-b2'] }] } });
    expect(d.controller.vipStatus().find((v) => v.name === 'web')!.backends.map((b) => b.vm)).toEqual(['vm-a1', 'vm-a2', 'vm-b1']);
    for (const gw of ['gw-east', 'gw-west']) {
      expect((await slotOwners(gw, 'web')).has(b2)).toBe(false);
      expect(await hasBackendEntry(gw, 'web', 'vm-b2')).toBe(false);
      expect(await hasBackendEntry(gw, 'api', 'vm-b2')).toBe(true);
    }
    const text = await readFile(path, 'utf8');
    expect(text).toBe(original.replace('      - vm-b2\n', ''));
    expect(text).toContain('# lab deployment: do not remove vm-a1\n');
    expect(text).toContain('      - vm-a1   # east, first\n');

    expect(await file.setBackend('web', 'vm-b2', false)).toMatchObject({ changed: false });
    expect(await file.setBackend('web', 'vm-b2', true)).toMatchObject({ changed: true, backends: ['vm-a1', 'vm-a2', 'vm-b1', 'vm-b2'] });
    expect(await readFile(path, 'utf8')).toBe(original);
    // Added back: it gets slots once its check has passed `rise` times.
    await eventually(async () => (await slotOwners('gw-west', 'web')).has(b2), 10_000, 'vm-b2 back in web');
  }, 60_000);

  it('leaves file and controller as they were when an edit or a reload is refused', async () => {
    const spec = d.controller.spec;
    await expect(file.setBackend('web', 'vm-c1', true)).rejects.toMatchObject({ code: 'SPEC_FILE_UNKNOWN_VM' });
    expect(await readFile(path, 'utf8')).toBe(original);

    // A change the running controller refuses: the deployment's name.
    const renamed = original.replace('deployment: example', 'deployment: other');
    await writeFile(path, renamed);
    await expect(file.reload()).rejects.toMatchObject({ code: 'CONTROLLER_SPEC_CHANGE', location: { path: 'deployment' } });
    expect(d.controller.spec).toBe(spec);
    await expect(file.setBackend('web', 'vm-b2', false)).rejects.toMatchObject({ code: 'SPEC_FILE_CHANGED', location: { path: 'deployment' } });
    expect(await readFile(path, 'utf8')).toBe(renamed);
    expect(d.controller.spec).toBe(spec);
    expect(d.controller.vipStatus().find((v) => v.name === 'web')!.backends.map((b) => b.vm)).toEqual(['vm-a1', 'vm-a2', 'vm-b1', 'vm-b2']);

    await writeFile(path, original);
    expect(await file.reload()).toEqual({ vmsAdded: [], vmsRemoved: [], vipsAdded: [], vipsRemoved: [], backends: [], switches: { written: ['gw-east', 'gw-west', 'host-a', 'host-b'], pending: [] } });
  }, 60_000);
});
