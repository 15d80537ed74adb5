/**
 * The registry's persistent state in SQLite: secret keys (per gateway, host and VM), VM
 * assignments (host, UDP port, private address), the tokens issued to each switch and their
 * lifecycle, the traffic policy, the drained VMs, the data-plane ids of VIPs and VMs and the
 * counter cells still to be zeroed on each switch. A controller restart reopens the same file and
 * keeps every key, so tokens it computes after the restart equal those already installed; every
 * drain, so a restart does not hand new flows to a VM an operator took out; every id, so
 * flow-state entries (which hold backend ids) keep naming the same VM when VMs and VIPs are added
 * or removed; and every pending counter reset, so a reused id's cell on a switch that was down
 * does not keep the previous owner's count.
 *
 * The I/O half of the registry; token planning (tokens.ts) and policy decisions (policy.ts) are
 * pure and take what this store returns.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { didYouMean } from '../../core/errors.ts';
import { MAX_DATA_PLANE_ID, idsFor, type IdKind, type SpecIds } from '../../core/spec/ids.ts';
import type { LbSpec } from '../../core/spec/schema.ts';
import { TOKEN_KEY_BYTES, generateKey } from '../../core/token/token.ts';
import { RegistryError, fieldError } from './errors.ts';
import { INTERNET, type PolicyInput, type PolicyRule, checkPolicyRule } from './policy.ts';
import { type PlannedTokenEntry, type TokenKeyRing, type TokenKind, tokenHex } from './tokens.ts';

/** The file inside the data folder. */
export const REGISTRY_FILE = 'registry.sqlite';

export type KeyOwnerKind = 'gateway' | 'host' | 'vm';
export const KEY_OWNER_KINDS: readonly KeyOwnerKind[] = ['gateway', 'host', 'vm'];

/**
 * issued: planned and recorded, not yet confirmed on the switch. installed: the switch accepted
 * the write. expired: expiry + skew passed (the controller must delete it if it was installed).
 * removed: deleted from the switch, or dropped from the plan before being installed.
 */
export type TokenState = 'issued' | 'installed' | 'expired' | 'removed';
export const TOKEN_STATES: readonly TokenState[] = ['issued', 'installed', 'expired', 'removed'];

/** Allowed transitions; anything else is a controller bug worth an error. */
const TRANSITIONS: Readonly<Record<TokenState, readonly TokenState[]>> = {
  issued: ['installed', 'expired', 'removed'],
  installed: ['expired', 'removed'],
  expired: ['removed'],
  removed: [],
};

interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

/**
 * Append-only: a released migration never changes (databases in the field have run it); a schema
 * change is a new entry with the next version.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'keys, VM assignments, issued tokens, policy',
    sql: `
      CREATE TABLE keys (
        owner_kind TEXT NOT NULL CHECK (owner_kind IN ('gateway', 'host', 'vm')),
        owner_name TEXT NOT NULL,
        key BLOB NOT NULL CHECK (length(key) = ${TOKEN_KEY_BYTES}),
        created_at INTEGER NOT NULL,
        PRIMARY KEY (owner_kind, owner_name)
      ) STRICT;
      CREATE TABLE vm_assignments (
        vm TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        udp_port INTEGER NOT NULL CHECK (udp_port BETWEEN 1 AND 65535),
        private_ipv4 TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (host, udp_port)
      ) STRICT;
      CREATE TABLE issued_tokens (
        switch TEXT NOT NULL,
        table_name TEXT NOT NULL,
        entry_key TEXT NOT NULL,
        use TEXT NOT NULL CHECK (use IN ('accept', 'send')),
        token_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('request', 'reply', 'vm-to-vm')),
        signer_kind TEXT NOT NULL,
        signer_name TEXT NOT NULL,
        sender_ip TEXT NOT NULL,
        sender_port INTEGER NOT NULL,
        receiver_ip TEXT NOT NULL,
        receiver_port INTEGER NOT NULL,
        inner_src_ip TEXT NOT NULL,
        inner_dst_ip TEXT NOT NULL,
        expiry INTEGER NOT NULL,
        remove_after INTEGER NOT NULL,
        value TEXT NOT NULL CHECK (length(value) = 16),
        state TEXT NOT NULL CHECK (state IN ('issued', 'installed', 'expired', 'removed')),
        issued_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (switch, entry_key, token_id)
      ) STRICT;
      CREATE INDEX issued_tokens_by_state ON issued_tokens (state, remove_after);
      CREATE TABLE policy_rules (
        from_vm TEXT NOT NULL,
        to_vm TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (from_vm, to_vm)
      ) STRICT;
      CREATE TABLE settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 2,
    description: 'drained VMs',
    sql: `
      CREATE TABLE drains (
        vm TEXT PRIMARY KEY,
        drained_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 3,
    description: 'data-plane ids of VIPs and VMs',
    sql: `
      CREATE TABLE data_plane_ids (
        kind TEXT NOT NULL CHECK (kind IN ('vip', 'backend')),
        name TEXT NOT NULL,
        id INTEGER NOT NULL CHECK (id BETWEEN 1 AND ${MAX_DATA_PLANE_ID}),
        assigned_at INTEGER NOT NULL,
        PRIMARY KEY (kind, name),
        UNIQUE (kind, id)
      ) STRICT;
    `,
  },
  {
    version: 4,
    description: 'counter cells to zero, per switch',
    // version: bumped each time the cell is queued again, so a clear after a write that started
    // before the new queueing leaves the row for the next write.
    sql: `
      CREATE TABLE counter_resets (
        switch TEXT NOT NULL,
        counter TEXT NOT NULL,
        cell_index INTEGER NOT NULL CHECK (cell_index >= 0),
        version INTEGER NOT NULL DEFAULT 1,
        queued_at INTEGER NOT NULL,
        PRIMARY KEY (switch, counter, cell_index)
      ) STRICT;
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export interface OpenRegistryOptions {
  /** Folder for the database (created if missing), or ':memory:' for a throwaway registry. */
  readonly dataDir: string;
  /** Seconds since the Unix epoch, for created/updated stamps (default: the system clock). */
  readonly now?: () => number;
  /** Key source (default: core/token generateKey, the OS CSPRNG). */
  readonly generateKey?: () => Uint8Array;
}

export interface VmAssignment {
  readonly vm: string;
  readonly host: string;
  readonly udpPort: number;
  readonly privateIpv4: string;
}

export interface StoredKey {
  readonly kind: KeyOwnerKind;
  readonly name: string;
  readonly key: Uint8Array;
  readonly createdAt: number;
}

export interface ReconcileReport {
  /** Keys generated by this call, as `kind/name`. */
  readonly keysCreated: readonly string[];
  /** Keys whose owner left the spec; kept, so an owner that returns keeps its key. */
  readonly keysUnused: readonly string[];
  readonly assignmentsAdded: readonly string[];
  readonly assignmentsChanged: readonly string[];
  readonly assignmentsRemoved: readonly string[];
  /** Policy rules deleted because a VM they name left the spec. */
  readonly rulesRemoved: readonly PolicyRule[];
  /** Drains deleted because their VM left the spec (a VM that returns starts undrained). */
  readonly drainsRemoved: readonly string[];
  /** Ids given to VIPs and VMs new to the registry, as `vip/name=id` and `backend/name=id`. */
  readonly idsAssigned: readonly string[];
  /** Ids freed because their VIP or VM left the spec, in the same form. */
  readonly idsReleased: readonly string[];
  /** Pending counter resets dropped because their switch left the spec, as `switch/counter[index]`. */
  readonly counterResetsDropped: readonly string[];
}

/** One cell of an indexed counter (P4Runtime CounterEntry: counter name, index). */
export interface CounterCell {
  readonly counter: string;
  readonly index: number;
}

/** A counter cell to zero on one switch. */
export interface CounterReset extends CounterCell {
  readonly switch: string;
}

/**
 * A pending reset as read back: `version` grows each time the cell is queued again, so that
 * clearing what was written does not clear a queueing that came in meanwhile.
 */
export interface PendingCounterReset extends CounterCell {
  readonly version: number;
}

export interface StoredDrain {
  readonly vm: string;
  /** Seconds since the Unix epoch. */
  readonly drainedAt: number;
}

export interface IssuedToken {
  readonly switch: string;
  readonly table: string;
  readonly entryKey: string;
  readonly use: 'accept' | 'send';
  readonly tokenId: string;
  readonly kind: TokenKind;
  readonly signer: { readonly kind: string; readonly name: string };
  readonly fields: {
    readonly senderIp: string;
    readonly senderPort: number;
    readonly receiverIp: string;
    readonly receiverPort: number;
    readonly innerSrcIp: string;
    readonly innerDstIp: string;
    readonly expiry: number;
  };
  readonly value: bigint;
  readonly expiry: number;
  readonly removeAfter: number;
  readonly state: TokenState;
  readonly issuedAt: number;
  readonly updatedAt: number;
}

/** Identifies one recorded token on one switch entry. */
export interface TokenRef {
  readonly switch: string;
  readonly entryKey: string;
  readonly tokenId: string;
}

interface TokenRow {
  switch: string;
  table_name: string;
  entry_key: string;
  use: 'accept' | 'send';
  token_id: string;
  kind: TokenKind;
  signer_kind: string;
  signer_name: string;
  sender_ip: string;
  sender_port: number;
  receiver_ip: string;
  receiver_port: number;
  inner_src_ip: string;
  inner_dst_ip: string;
  expiry: number;
  remove_after: number;
  value: string;
  state: TokenState;
  issued_at: number;
  updated_at: number;
}

function tokenFromRow(r: TokenRow): IssuedToken {
  return {
    switch: r.switch,
    table: r.table_name,
    entryKey: r.entry_key,
    use: r.use,
    tokenId: r.token_id,
    kind: r.kind,
    signer: { kind: r.signer_kind, name: r.signer_name },
    fields: {
      senderIp: r.sender_ip,
      senderPort: r.sender_port,
      receiverIp: r.receiver_ip,
      receiverPort: r.receiver_port,
      innerSrcIp: r.inner_src_ip,
      innerDstIp: r.inner_dst_ip,
      expiry: r.expiry,
    },
    value: BigInt(`0x${r.value}`),
    expiry: r.expiry,
    removeAfter: r.remove_after,
    state: r.state,
    issuedAt: r.issued_at,
    updatedAt: r.updated_at,
  };
}

const SAME_VIP_SETTING = 'policy.sameVip';
const PROGRAM_SPEC_SETTING = 'programs.spec';

function ownerLabel(kind: KeyOwnerKind, name: string): string {
  return `${kind}/${name}`;
}

export class Registry {
  readonly file: string;
  readonly #db: Database.Database;
  readonly #now: () => number;
  readonly #generateKey: () => Uint8Array;

  /** Use openRegistry. */
  constructor(db: Database.Database, file: string, options: OpenRegistryOptions) {
    this.#db = db;
    this.file = file;
    this.#now = options.now ?? (() => Math.floor(Date.now() / 1000));
    this.#generateKey = options.generateKey ?? generateKey;
  }

  close(): void {
    this.#db.close();
  }

  /** The highest migration applied to this database. */
  schemaVersion(): number {
    return schemaVersionOf(this.#db);
  }

  /** The SQLite journal mode in effect ('wal' for a file, 'memory' for ':memory:'). */
  journalMode(): string {
    return String(this.#db.pragma('journal_mode', { simple: true }));
  }

  #stamp(): number {
    const t = this.#now();
    if (!Number.isFinite(t) || t < 0) throw fieldError('REGISTRY_BAD_INPUT', 'now', `clock reading ${t} is not seconds since the epoch`);
    return Math.floor(t);
  }

  /**
   * Brings the registry in line with the spec, in one transaction: a key for every gateway, host
   * and VM that has none (existing keys are never replaced), VM assignments exactly as the spec
   * says, policy rules naming VMs that left the spec deleted, pending counter resets of switches
   * that left it dropped, and data-plane ids: kept for the VIPs and VMs that stay, the lowest free
   * ones for new names (core/spec/ids.ts). A registry without ids (a new deployment, or one from
   * before ids were kept) numbers them by position, the numbers it has been running with. Pending
   * resets of ids that were released stay: zeroing a cell nobody owns is harmless, and the id may
   * be given out again.
   */
  reconcile(spec: LbSpec): ReconcileReport {
    return this.#db.transaction((): ReconcileReport => {
      const now = this.#stamp();
      const owners: [KeyOwnerKind, string][] = [
        ...spec.gateways.map((g): [KeyOwnerKind, string] => ['gateway', g.name]),
        ...spec.hosts.map((h): [KeyOwnerKind, string] => ['host', h.name]),
        ...spec.vms.map((v): [KeyOwnerKind, string] => ['vm', v.name]),
      ];
      const existing = new Set(
        this.#db
          .prepare<[], { owner_kind: KeyOwnerKind; owner_name: string }>('SELECT owner_kind, owner_name FROM keys')
          .all()
          .map((r) => ownerLabel(r.owner_kind, r.owner_name)),
      );
      const insertKey = this.#db.prepare('INSERT INTO keys (owner_kind, owner_name, key, created_at) VALUES (?, ?, ?, ?)');
      const keysCreated: string[] = [];
      const wanted = new Set<string>();
      for (const [kind, name] of owners) {
        const label = ownerLabel(kind, name);
        wanted.add(label);
        if (existing.has(label)) continue;
        const key = this.#generateKey();
        if (key.length !== TOKEN_KEY_BYTES) {
          throw new RegistryError('REGISTRY_BAD_INPUT', `generated key for ${label} is ${key.length} bytes, expected ${TOKEN_KEY_BYTES}`);
        }
        insertKey.run(kind, name, Buffer.from(key), now);
        keysCreated.push(label);
      }
      const keysUnused = [...existing].filter((l) => !wanted.has(l)).sort();

      const before = new Map(this.#assignmentRows().map((a) => [a.vm, a]));
      // Delete then insert: a spec that swaps two VMs' ports would trip UNIQUE (host, udp_port)
      // if rows were updated one at a time.
      this.#db.prepare('DELETE FROM vm_assignments').run();
      const insertVm = this.#db.prepare('INSERT INTO vm_assignments (vm, host, udp_port, private_ipv4, updated_at) VALUES (?, ?, ?, ?, ?)');
      const added: string[] = [];
      const changed: string[] = [];
      for (const vm of spec.vms) {
        const old = before.get(vm.name);
        const same = old !== undefined && old.host === vm.host && old.udpPort === vm.udpPort && old.privateIpv4 === vm.privateIpv4;
        insertVm.run(vm.name, vm.host, vm.udpPort, vm.privateIpv4, same ? old.updatedAt : now);
        if (old === undefined) added.push(vm.name);
        else if (!same) changed.push(vm.name);
      }
      const inSpec = new Set(spec.vms.map((v) => v.name));
      const removed = [...before.keys()].filter((n) => !inSpec.has(n));

      const rulesRemoved = this.policyRules().filter((r) => !inSpec.has(r.from) || (r.to !== INTERNET && !inSpec.has(r.to)));
      const deleteRule = this.#db.prepare('DELETE FROM policy_rules WHERE from_vm = ? AND to_vm = ?');
      for (const r of rulesRemoved) deleteRule.run(r.from, r.to);

      const drainsRemoved = this.drainedVms().filter((vm) => !inSpec.has(vm));
      const deleteDrain = this.#db.prepare('DELETE FROM drains WHERE vm = ?');
      for (const vm of drainsRemoved) deleteDrain.run(vm);

      const { idsAssigned, idsReleased } = this.#reconcileIds(spec, now);
      const counterResetsDropped = this.#dropCounterResetsOfGoneSwitches(spec);

      return {
        idsAssigned,
        idsReleased,
        counterResetsDropped,
        keysCreated,
        keysUnused,
        assignmentsAdded: added.sort(),
        assignmentsChanged: changed.sort(),
        assignmentsRemoved: removed.sort(),
        rulesRemoved,
        drainsRemoved,
      };
    })();
  }

  #reconcileIds(spec: LbSpec, now: number): { idsAssigned: string[]; idsReleased: string[] } {
    const before = this.ids();
    const after = idsFor(spec, before);
    const insert = this.#db.prepare('INSERT INTO data_plane_ids (kind, name, id, assigned_at) VALUES (?, ?, ?, ?)');
    const remove = this.#db.prepare('DELETE FROM data_plane_ids WHERE kind = ? AND name = ?');
    const idsAssigned: string[] = [];
    const idsReleased: string[] = [];
    for (const kind of ['vip', 'backend'] as const satisfies readonly IdKind[]) {
      for (const [name, id] of before[kind]) {
        if (after[kind].has(name)) continue;
        remove.run(kind, name);
        idsReleased.push(`${kind}/${name}=${id}`);
      }
      for (const [name, id] of after[kind]) {
        if (before[kind].has(name)) continue;
        insert.run(kind, name, id, now);
        idsAssigned.push(`${kind}/${name}=${id}`);
      }
    }
    return { idsAssigned, idsReleased };
  }

  /** A switch that left the spec will not be written again: its pending resets go with it. */
  #dropCounterResetsOfGoneSwitches(spec: LbSpec): string[] {
    const switches = new Set([...spec.gateways.map((g) => g.name), ...spec.hosts.map((h) => h.name)]);
    const rows = this.#db
      .prepare<[], { switch: string; counter: string; cell_index: number }>('SELECT switch, counter, cell_index FROM counter_resets ORDER BY switch, counter, cell_index')
      .all()
      .filter((r) => !switches.has(r.switch));
    const remove = this.#db.prepare('DELETE FROM counter_resets WHERE switch = ? AND counter = ? AND cell_index = ?');
    for (const r of rows) remove.run(r.switch, r.counter, r.cell_index);
    return rows.map((r) => `${r.switch}/${r.counter}[${r.cell_index}]`);
  }

  /**
   * The spec the switches' programs were generated from (a controller that applied changes in
   * place runs a spec newer than its programs), as JSON; undefined before a controller recorded one.
   */
  programSpec(): unknown {
    const row = this.#db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE name = ?').get(PROGRAM_SPEC_SETTING);
    return row === undefined ? undefined : (JSON.parse(row.value) as unknown);
  }

  setProgramSpec(spec: LbSpec): void {
    this.#db.prepare('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(PROGRAM_SPEC_SETTING, JSON.stringify(spec));
  }

  /** The data-plane ids the registry keeps (empty before the first reconcile). */
  ids(): SpecIds {
    const rows = this.#db.prepare<[], { kind: IdKind; name: string; id: number }>('SELECT kind, name, id FROM data_plane_ids ORDER BY kind, id').all();
    const of = (kind: IdKind): Map<string, number> => new Map(rows.filter((r) => r.kind === kind).map((r) => [r.name, r.id]));
    return { vip: of('vip'), backend: of('backend') };
  }

  #assignmentRows(): (VmAssignment & { updatedAt: number })[] {
    return this.#db
      .prepare<[], { vm: string; host: string; udp_port: number; private_ipv4: string; updated_at: number }>(
        'SELECT vm, host, udp_port, private_ipv4, updated_at FROM vm_assignments ORDER BY vm',
      )
      .all()
      .map((r) => ({ vm: r.vm, host: r.host, udpPort: r.udp_port, privateIpv4: r.private_ipv4, updatedAt: r.updated_at }));
  }

  /** Every VM assignment, by VM name. */
  assignments(): VmAssignment[] {
    return this.#assignmentRows().map(({ vm, host, udpPort, privateIpv4 }) => ({ vm, host, udpPort, privateIpv4 }));
  }

  /** The key of one owner; REGISTRY_NO_KEY (naming `keys.<kind>.<name>`) when it has none. */
  key(kind: KeyOwnerKind, name: string): Uint8Array {
    const row = this.#db
      .prepare<[string, string], { key: Buffer }>('SELECT key FROM keys WHERE owner_kind = ? AND owner_name = ?')
      .get(kind, name);
    if (row === undefined) {
      const known = this.#db
        .prepare<[string], { owner_name: string }>('SELECT owner_name FROM keys WHERE owner_kind = ?')
        .all(kind)
        .map((r) => r.owner_name);
      throw new RegistryError('REGISTRY_NO_KEY', `no key for ${kind} '${name}'`, {
        location: { path: `keys.${kind}.${name}` },
        hint: didYouMean(name, known) ?? 'reconcile the registry with the spec first',
      });
    }
    return new Uint8Array(row.key);
  }

  /** All keys, by kind then name. */
  keys(): StoredKey[] {
    return this.#db
      .prepare<[], { owner_kind: KeyOwnerKind; owner_name: string; key: Buffer; created_at: number }>(
        'SELECT owner_kind, owner_name, key, created_at FROM keys ORDER BY owner_kind, owner_name',
      )
      .all()
      .map((r) => ({ kind: r.owner_kind, name: r.owner_name, key: new Uint8Array(r.key), createdAt: r.created_at }));
  }

  /**
   * A snapshot of the keys for the planner (tokens.ts): read once, so a plan never mixes keys
   * from two moments.
   */
  keyRing(): TokenKeyRing & { vm(name: string): Uint8Array } {
    const byLabel = new Map(this.keys().map((k) => [ownerLabel(k.kind, k.name), k.key]));
    const get = (kind: KeyOwnerKind, name: string): Uint8Array => byLabel.get(ownerLabel(kind, name)) ?? this.key(kind, name);
    return { gateway: (n) => get('gateway', n), host: (n) => get('host', n), vm: (n) => get('vm', n) };
  }

  // --- policy ---

  policyRules(): PolicyRule[] {
    return this.#db
      .prepare<[], { from_vm: string; to_vm: string }>('SELECT from_vm, to_vm FROM policy_rules ORDER BY created_at, rowid')
      .all()
      .map((r) => ({ from: r.from_vm, to: r.to_vm }));
  }

  /** Adds a rule after checking it against the spec (errors name `rule.from` / `rule.to`). */
  addPolicyRule(spec: LbSpec, rule: PolicyRule): void {
    const r = checkPolicyRule(spec, rule);
    this.#db.prepare('INSERT OR IGNORE INTO policy_rules (from_vm, to_vm, created_at) VALUES (?, ?, ?)').run(r.from, r.to, this.#stamp());
  }

  /** True when the rule existed. */
  removePolicyRule(rule: PolicyRule): boolean {
    return this.#db.prepare('DELETE FROM policy_rules WHERE from_vm = ? AND to_vm = ?').run(rule.from, rule.to).changes > 0;
  }

  setSameVipDefault(allowed: boolean): void {
    if (typeof allowed !== 'boolean') {
      throw fieldError('REGISTRY_BAD_INPUT', 'policy.sameVip', `sameVip must be true or false, not ${JSON.stringify(allowed)}`);
    }
    this.#db.prepare('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(SAME_VIP_SETTING, String(allowed));
  }

  /** The stored policy, ready for compilePolicy. */
  policyInput(): PolicyInput {
    const row = this.#db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE name = ?').get(SAME_VIP_SETTING);
    return { sameVip: row === undefined ? true : row.value === 'true', rules: this.policyRules() };
  }

  // --- drains ---

  /** Drained VMs, by name. */
  drains(): StoredDrain[] {
    return this.#db
      .prepare<[], { vm: string; drained_at: number }>('SELECT vm, drained_at FROM drains ORDER BY vm')
      .all()
      .map((r) => ({ vm: r.vm, drainedAt: r.drained_at }));
  }

  /** Names of the drained VMs, sorted. */
  drainedVms(): string[] {
    return this.drains().map((d) => d.vm);
  }

  /**
   * Records that `vm` is drained (true) or not (false); returns whether this changed anything.
   * The caller checks the name against the spec; the store keeps whatever it is given.
   */
  setDrained(vm: string, drained: boolean): boolean {
    if (typeof vm !== 'string' || vm.length === 0) throw fieldError('REGISTRY_BAD_INPUT', 'vm', `VM name ${JSON.stringify(vm)} is not a name`);
    if (drained) return this.#db.prepare('INSERT OR IGNORE INTO drains (vm, drained_at) VALUES (?, ?)').run(vm, this.#stamp()).changes > 0;
    return this.#db.prepare('DELETE FROM drains WHERE vm = ?').run(vm).changes > 0;
  }

  // --- counter resets ---

  /**
   * Records counter cells to zero, in one transaction. A cell already pending stays one row (its
   * version goes up, see PendingCounterReset). Nothing is checked against the programs: the
   * caller queues cells of ids the running programs hold.
   */
  queueCounterResets(resets: readonly CounterReset[]): void {
    resets.forEach((r, i) => {
      if (typeof r.switch !== 'string' || r.switch.length === 0) throw fieldError('REGISTRY_BAD_INPUT', `resets[${i}].switch`, `switch name ${JSON.stringify(r.switch)} is not a name`);
      if (typeof r.counter !== 'string' || r.counter.length === 0) throw fieldError('REGISTRY_BAD_INPUT', `resets[${i}].counter`, `counter name ${JSON.stringify(r.counter)} is not a name`);
      if (!Number.isSafeInteger(r.index) || r.index < 0) throw fieldError('REGISTRY_BAD_INPUT', `resets[${i}].index`, `counter index ${r.index} is not a cell index`);
    });
    const upsert = this.#db.prepare(`
      INSERT INTO counter_resets (switch, counter, cell_index, queued_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (switch, counter, cell_index) DO UPDATE SET version = version + 1, queued_at = excluded.queued_at`);
    this.#db.transaction(() => {
      const now = this.#stamp();
      for (const r of resets) upsert.run(r.switch, r.counter, r.index, now);
    })();
  }

  /** The cells still to zero on `switchName`, by counter then index. */
  pendingCounterResets(switchName: string): PendingCounterReset[] {
    return this.#db
      .prepare<[string], { counter: string; cell_index: number; version: number }>(
        'SELECT counter, cell_index, version FROM counter_resets WHERE switch = ? ORDER BY counter, cell_index',
      )
      .all(switchName)
      .map((r) => ({ counter: r.counter, index: r.cell_index, version: r.version }));
  }

  /**
   * Clears cells of `switchName` that were written, as pendingCounterResets returned them; a
   * cell queued again since (a higher version) stays. Returns how many were cleared.
   */
  clearCounterResets(switchName: string, cells: readonly PendingCounterReset[]): number {
    const remove = this.#db.prepare('DELETE FROM counter_resets WHERE switch = ? AND counter = ? AND cell_index = ? AND version = ?');
    return this.#db.transaction(() => {
      let cleared = 0;
      for (const c of cells) cleared += remove.run(switchName, c.counter, c.index, c.version).changes;
      return cleared;
    })();
  }

  // --- tokens ---

  /**
   * Records planned entries as 'issued' (entries already recorded are left as they are). Returns
   * how many were new.
   */
  recordIssued(entries: readonly PlannedTokenEntry[]): number {
    const now = this.#stamp();
    const insert = this.#db.prepare(`
      INSERT OR IGNORE INTO issued_tokens (switch, table_name, entry_key, use, token_id, kind, signer_kind, signer_name,
        sender_ip, sender_port, receiver_ip, receiver_port, inner_src_ip, inner_dst_ip, expiry, remove_after, value,
        state, issued_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'issued', ?, ?)`);
    return this.#db.transaction(() => {
      let added = 0;
      for (const e of entries) {
        const t = e.token;
        const f = t.fields;
        added += insert.run(
          e.switch, e.table, e.entryKey, e.use, t.id, t.kind, t.signer.kind, t.signer.name,
          f.senderIp, f.senderPort, f.receiverIp, f.receiverPort, f.innerSrcIp, f.innerDstIp,
          t.expiry, t.removeAfter, tokenHex(t.value), now, now,
        ).changes;
      }
      return added;
    })();
  }

  /** Moves recorded tokens to `state`; an unknown token or a disallowed step is an error and changes nothing. */
  setTokenState(refs: readonly TokenRef[], state: TokenState): void {
    if (!TOKEN_STATES.includes(state)) {
      throw fieldError('REGISTRY_BAD_TOKEN_STATE', 'state', `unknown token state '${String(state)}'`, didYouMean(String(state), TOKEN_STATES));
    }
    const get = this.#db.prepare<[string, string, string], { state: TokenState }>(
      'SELECT state FROM issued_tokens WHERE switch = ? AND entry_key = ? AND token_id = ?',
    );
    const set = this.#db.prepare('UPDATE issued_tokens SET state = ?, updated_at = ? WHERE switch = ? AND entry_key = ? AND token_id = ?');
    this.#db.transaction(() => {
      const now = this.#stamp();
      refs.forEach((ref, i) => {
        const row = get.get(ref.switch, ref.entryKey, ref.tokenId);
        if (row === undefined) {
          throw fieldError('REGISTRY_BAD_TOKEN_STATE', `refs[${i}]`, `no token ${ref.tokenId} recorded for ${ref.switch} ${ref.entryKey}`);
        }
        if (row.state === state) return;
        if (!TRANSITIONS[row.state].includes(state)) {
          throw fieldError('REGISTRY_BAD_TOKEN_STATE', `refs[${i}]`, `token ${ref.tokenId} on ${ref.switch} cannot go from ${row.state} to ${state}`);
        }
        set.run(state, now, ref.switch, ref.entryKey, ref.tokenId);
      });
    })();
  }

  /**
   * Marks every issued or installed token with now > expiry + skew as 'expired' and returns
   * those that were installed: the controller deletes them from their switches, then marks them
   * 'removed'.
   */
  expireTokens(nowSeconds: number): IssuedToken[] {
    if (!Number.isFinite(nowSeconds)) throw fieldError('REGISTRY_BAD_INPUT', 'now', `clock reading ${nowSeconds} is not a number of seconds`);
    return this.#db.transaction(() => {
      const installed = this.#db
        .prepare<[number], TokenRow>("SELECT * FROM issued_tokens WHERE state = 'installed' AND remove_after < ? ORDER BY switch, entry_key, token_id")
        .all(nowSeconds);
      this.#db
        .prepare("UPDATE issued_tokens SET state = 'expired', updated_at = ? WHERE state IN ('issued', 'installed') AND remove_after < ?")
        .run(this.#stamp(), nowSeconds);
      return installed.map((r) => tokenFromRow({ ...r, state: 'expired' }));
    })();
  }

  /** Recorded tokens, optionally of one switch and/or in some states, ordered by switch and entry. */
  tokens(filter: { readonly switch?: string; readonly states?: readonly TokenState[] } = {}): IssuedToken[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.switch !== undefined) {
      where.push('switch = ?');
      args.push(filter.switch);
    }
    if (filter.states !== undefined) {
      where.push(`state IN (${filter.states.map(() => '?').join(', ') || 'NULL'})`);
      args.push(...filter.states);
    }
    const sql = `SELECT * FROM issued_tokens ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY switch, entry_key, token_id`;
    return this.#db.prepare<(string | number)[], TokenRow>(sql).all(...args).map(tokenFromRow);
  }

  /** Deletes records of removed tokens last touched before `beforeSeconds`; returns how many. */
  pruneTokens(beforeSeconds: number): number {
    return this.#db.prepare("DELETE FROM issued_tokens WHERE state = 'removed' AND updated_at < ?").run(beforeSeconds).changes;
  }
}

function schemaVersionOf(db: Database.Database): number {
  const row = db.prepare<[], { v: number | null }>('SELECT max(version) AS v FROM schema_version').get();
  return row?.v ?? 0;
}

/** Applies the migrations the database lacks, each in its own transaction. Idempotent. */
export function migrate(db: Database.Database, now: number): { from: number; to: number } {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const from = schemaVersionOf(db);
  if (from > LATEST_SCHEMA_VERSION) {
    throw new RegistryError(
      'REGISTRY_SCHEMA_TOO_NEW',
      `registry schema version ${from} is newer than this p4lb knows (${LATEST_SCHEMA_VERSION})`,
      { hint: 'run the p4lb version that wrote this registry, or a newer one' },
    );
  }
  for (const m of MIGRATIONS) {
    if (m.version <= from) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)').run(m.version, m.description, now);
    })();
  }
  return { from, to: schemaVersionOf(db) };
}

/** Opens (creating if needed) the registry in `dataDir`, migrated to the latest schema. */
export function openRegistry(options: OpenRegistryOptions): Registry {
  const memory = options.dataDir === ':memory:';
  const file = memory ? ':memory:' : join(options.dataDir, REGISTRY_FILE);
  let db: Database.Database;
  try {
    if (!memory) mkdirSync(options.dataDir, { recursive: true });
    db = new Database(file);
  } catch (err) {
    throw new RegistryError('REGISTRY_STORE', `cannot open registry ${file}: ${err instanceof Error ? err.message : String(err)}`, {
      location: { file },
      cause: err,
    });
  }
  try {
    // WAL: readers (admin API, metrics) do not block the controller's writes, and a crash
    // mid-write leaves the last committed state.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Another process (a second controller starting) may hold the write lock briefly.
    db.pragma('busy_timeout = 5000');
    const now = Math.floor((options.now ?? (() => Date.now() / 1000))());
    migrate(db, now);
  } catch (err) {
    db.close();
    if (err instanceof RegistryError) throw err;
    throw new RegistryError('REGISTRY_STORE', `registry ${file} cannot be used: ${err instanceof Error ? err.message : String(err)}`, {
      location: { file },
      cause: err,
    });
  }
  return new Registry(db, file, options);
}
