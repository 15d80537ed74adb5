/**
 * The runtime controller: one SwitchConnection per gateway and host, one HealthMonitor per
 * gateway (each gateway computes from its own view), the registry's keys and token plan, and the
 * glue. At every pipeline-ready a switch is reconciled (read back, diff, write); after that, a
 * health transition, a drain, a token or policy change recomputes the affected switches and
 * writes only the diff against what was last acknowledged. Writes to one switch never overlap.
 */
import type { Logger } from 'pino';
import { didYouMean } from '../../core/errors.ts';
import { byCodeUnit } from '../../core/order.ts';
import { decodeFlowEntry, GATEWAY_DROP_REASONS, HOST_DROP_REASONS } from '../../core/p4-contract.ts';
import { idsFor, namesById, positionalIds, sameIds, type SpecIds } from '../../core/spec/ids.ts';
import { hostByName } from '../../core/spec/lookup.ts';
import { programChangeProblems } from '../../generator/program-change.ts';
import { LbSpecSchema, type Gateway, type LbSpec } from '../../core/spec/schema.ts';
import { replyGatewayOf } from '../../core/token/conventions.ts';
import { TypedEvents } from '../client/events.ts';
import { selectRegisterAccess, type RegisterAccess, type RegisterAccessChoice } from '../client/registers.ts';
import type { SwitchClient } from '../client/switch-client.ts';
import { HealthMonitor, systemClock, type Clock, type EndpointResolver, type GatewayTransition, type HealthState, type Prober } from '../health/index.ts';
import {
  diffDefaults, diffEntries, gatewayView, GATEWAY_P4, GATEWAY_TABLE_ORDER, HOST_P4, HOST_TABLE_ORDER,
  type EntryUpdate, type GatewayTables, type GatewayTablesSummary, type LbAlarm,
} from '../lb/index.ts';
import {
  checkPolicyRule, compilePolicy, INTERNET, openRegistry, planTokens,
  type IssuedToken, type PendingCounterReset, type PolicyInput, type PolicyReason, type PolicyRule, type Registry, type TokenPlan, type TokenRef, type TokenState,
} from '../registry/index.ts';
import type { UpdateValue } from '../schema/entities.ts';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from '../switch/backoff.ts';
import type { Phase } from '../switch/connection-state.ts';
import { reconcile, type ReconcileReport } from '../switch/reconcile.ts';
import { SwitchConnection } from '../switch/switch-connection.ts';
import { gatewayDesired, hostDesired, toClientEntry, toDesiredState, type SwitchTables } from './desired.ts';
import { ControllerError } from './errors.ts';
import { buildPipelines, type PipelineKind, type RolePipelines } from './pipelines.ts';
import { describeSpecChange, specChangeProblems, writeOutcome, type SpecApplied, type WriteOutcome } from './spec-change.ts';

export type SwitchRole = 'gateway' | 'host';

export interface ControllerOptions {
  readonly spec: LbSpec;
  /** Folder of the registry (keys, tokens), or ':memory:'. */
  readonly dataDir: string;
  readonly logger: Logger;
  /** Time for health checks and the token schedule (default: the system clock). */
  readonly clock?: Clock;
  /** 'embedded' (device config = P4 source, default) or 'bmv2' (p4c JSON, needs p4c). */
  readonly pipeline?: PipelineKind;
  /** Ready pipelines (skips generation; tests and callers that generated already). */
  readonly pipelines?: RolePipelines;
  /** Where to probe a VM (default: the spec's rule). */
  readonly resolveEndpoint?: EndpointResolver;
  readonly prober?: Prober;
  /**
   * P4Runtime election id on every switch, instead of each one's `p4runtime.electionId`: a standby
   * controller runs the same spec with a lower id and takes over when the primary leaves.
   */
  readonly electionId?: bigint;
  /** Overrides of a switch's P4Runtime address (by switch name); read at each reconnect. */
  readonly addresses?: Readonly<Record<string, string>>;
  readonly backoff?: BackoffOptions;
  readonly batchSize?: number;
  readonly connectTimeoutMs?: number;
  /**
   * Deadline of each P4Runtime call, ms (default 10,000): a write batch, a pipeline push, a whole
   * streamed read of a table. A switch slower than this is taken as unreachable and reconnected.
   */
  readonly callTimeoutMs?: number;
  /** BMv2's Thrift register service per switch, for flow inspection (its P4Runtime lacks registers). */
  readonly registerAccess?: (switchName: string) => RegisterAccessChoice;
}

/** What set off a table update. */
export type UpdateCause =
  | { readonly kind: 'health'; readonly transition: GatewayTransition }
  | { readonly kind: 'drain' | 'undrain'; readonly vm: string }
  | { readonly kind: 'tokens' }
  | { readonly kind: 'spec' }
  | { readonly kind: 'policy' }
  /** A failed reconcile tried again (the switch stayed pipeline-ready, unsure of its contents). */
  | { readonly kind: 'retry' };

/** A change of the traffic policy (changePolicy). */
export type PolicyChange =
  | { readonly kind: 'allow'; readonly rule: PolicyRule }
  | { readonly kind: 'remove'; readonly rule: PolicyRule }
  | { readonly kind: 'same-vip'; readonly allowed: boolean };

export interface PolicyChanged {
  /** False when the policy was that way already (nothing written). */
  readonly changed: boolean;
  readonly switches: WriteOutcome;
}

/** What a change that needed no write answers. */
const NOTHING_WRITTEN: WriteOutcome = { written: [], pending: [] };

export interface TablesUpdated {
  readonly switch: string;
  readonly role: SwitchRole;
  readonly causes: readonly UpdateCause[];
  readonly inserted: number;
  readonly modified: number;
  readonly deleted: number;
  /** Entries per table changed by this update. */
  readonly slotChanges: number;
  /** Time of the write call, ms. */
  readonly writeMs: number;
  /** For health causes: from the deciding probe's result to the acknowledged write, ms (clock time). */
  readonly convergenceMs: number | undefined;
}

export type ControllerEvents = {
  connection: { readonly switch: string; readonly role: SwitchRole; readonly from: Phase; readonly to: Phase };
  reconciled: ReconcileReport & { readonly switch: string; readonly role: SwitchRole; readonly pipelinePushed: boolean; readonly durationMs: number };
  'tables-updated': TablesUpdated;
  health: GatewayTransition;
  alarm: LbAlarm;
  'alarm-cleared': { readonly gateway: string; readonly vip: string };
  'tokens-planned': { readonly plan: TokenPlan };
  error: { readonly switch?: string; readonly error: unknown };
};

interface SwitchRuntime {
  readonly name: string;
  readonly role: SwitchRole;
  readonly connection: SwitchConnection;
  /** What the switch holds as far as we know: set by a reconcile or an acknowledged write, cleared on doubt. */
  installed: SwitchTables | undefined;
  /**
   * The gateway's last computed tables (kept-last needs them), without their entry list: the
   * entries are in `installed` (merged with the token plan), one list of ~131,000 is enough.
   */
  tables: GatewayTablesSummary | undefined;
  alarms: readonly LbAlarm[];
  monitor: HealthMonitor | undefined;
  queue: Promise<void>;
  /** Causes of the update waiting in the queue; new causes join it instead of queueing another. */
  pending: UpdateCause[] | undefined;
  /** What the waiting update will answer: why the switch does not hold the change, or undefined. */
  pendingResult: Promise<string | undefined> | undefined;
  /** The retry of a failed reconcile, while the switch stays pipeline-ready. */
  retryTimer: ReturnType<Clock['setTimer']> | undefined;
  /** Failed reconciles in a row: the retry's backoff attempt; 0 after a success. */
  retryAttempt: number;
  /** The pipeline was pushed at the last pipeline-ready and no reconcile has succeeded since. */
  pushUnreconciled: boolean;
  registers: RegisterAccess | undefined;
  reconciledAt: number | undefined;
  lastError: string | undefined;
  /** Left pipeline-ready: the reconcile of the next pipeline-ready installs what is current then. */
  awaitingReady: boolean;
  /** Clock time the switch last acknowledged a write of its tables (a reconcile or a change that wrote something). */
  writtenAt: number | undefined;
  /** Gateways: per VIP, when a change of its slot table was last acknowledged (a reconcile that wrote anything counts for every VIP). */
  readonly slotsWrittenAt: Map<string, number>;
}

export interface SwitchStatus {
  readonly name: string;
  readonly role: SwitchRole;
  readonly address: string;
  readonly phase: Phase;
  readonly primary: boolean;
  readonly failures: number;
  readonly reconciledAt: number | undefined;
  /** When the switch last acknowledged a write of its tables (ms since the epoch). */
  readonly writtenAt: number | undefined;
  readonly lastError: string | undefined;
}

export interface VipStatus {
  readonly name: string;
  readonly address: string;
  readonly protocol: string;
  readonly ports: readonly number[];
  readonly mode: string;
  readonly backends: readonly {
    readonly vm: string;
    readonly drained: boolean;
    /** Per gateway: its health view of this VM for this VIP (and since when, ms since the epoch; undefined before the first change), and the slots the VM owns there. */
    readonly gateways: Readonly<Record<string, { readonly health: HealthState; readonly healthSince: number | undefined; readonly slots: number; readonly backendEntry: boolean }>>;
  }[];
  /** Per gateway: ok / kept-last / empty. */
  readonly tableStatus: Readonly<Record<string, string>>;
  /** Per gateway that wrote it: when it last acknowledged a change of this VIP's slot table (ms since the epoch). */
  readonly slotsWrittenAt: Readonly<Record<string, number>>;
}

export interface FlowRecord {
  readonly gateway: string;
  readonly way: 0 | 1;
  readonly index: number;
  readonly signature: number;
  readonly backendId: number;
  readonly backend: string | undefined;
  readonly lastSeenTicks: number;
}

/** Why a policy allows something (compilePolicy's decision), as JSON carries it. */
export interface PolicyGrant {
  readonly reason: PolicyReason;
  /** The VIP behind a 'same-vip' or 'serves-vip' grant. */
  readonly vip?: string;
  /** Index into `rules` of the rule behind a 'rule' grant. */
  readonly rule?: number;
}

/** The traffic policy as the registry stores it, and what it allows for the spec in force. */
export interface PolicyStatus {
  /** The default rule: VMs serving a common VIP may talk to each other. */
  readonly sameVip: boolean;
  /** The explicit rules, in the order they were added. */
  readonly rules: readonly PolicyRule[];
  /** Ordered pairs that get vm-to-vm tokens (each conversation both ways), sorted by (from, to). */
  readonly vmPairs: readonly (PolicyGrant & { readonly from: string; readonly to: string })[];
  /** VMs allowed Internet egress (reply tokens), by name. */
  readonly internetEgress: readonly (PolicyGrant & { readonly vm: string })[];
}

export interface SwitchStats {
  readonly switch: string;
  readonly role: SwitchRole;
  readonly vips: readonly { readonly vip: string; readonly packets: bigint; readonly bytes: bigint }[];
  readonly backends: readonly { readonly vm: string; readonly packets: bigint; readonly bytes: bigint }[];
  readonly drops: readonly { readonly reason: string; readonly packets: bigint }[];
}

const FLOW_REGISTERS = [GATEWAY_P4.flowWay0, GATEWAY_P4.flowWay1] as const;
/** setTimeout's limit (2^31 − 1 ms); a longer wait is cut and replanned. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function updateValues(updates: readonly EntryUpdate[], defaults: SwitchTables['defaults']): UpdateValue[] {
  const out: UpdateValue[] = updates.map((u) => {
    const value = toClientEntry(u.entry);
    if (u.type === 'DELETE') return { type: 'delete', entity: { kind: 'tableEntry', value: { table: value.table, match: value.match ?? {}, ...(value.priority === undefined ? {} : { priority: value.priority }) } } };
    return { type: u.type === 'INSERT' ? 'insert' : 'modify', entity: { kind: 'tableEntry', value } };
  });
  for (const d of defaults) out.push({ type: 'modify', entity: { kind: 'tableEntry', value: { table: d.table, isDefaultAction: true, action: d.action, params: d.params } } });
  return out;
}

function summaryOf(t: GatewayTables): GatewayTablesSummary {
  return { gateway: t.gateway, defaults: t.defaults, vips: t.vips, alarms: t.alarms };
}

/** VM↔VM rules are symmetric, so `a → b` and `b → a` are one rule; an egress rule has one direction. */
function samePolicyRule(a: PolicyRule, b: PolicyRule): boolean {
  if (a.from === b.from && a.to === b.to) return true;
  return a.to !== INTERNET && b.to !== INTERNET && a.from === b.to && a.to === b.from;
}

function grantOf(d: { readonly reason: PolicyReason; readonly vip?: string; readonly rule?: number }): PolicyGrant {
  return { reason: d.reason, ...(d.vip === undefined ? {} : { vip: d.vip }), ...(d.rule === undefined ? {} : { rule: d.rule }) };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Why a switch in `phase` (or pipeline-ready, its reconcile still queued) was not written now. */
function notReadyReason(phase: Phase): string {
  switch (phase) {
    case 'backup':
      return 'not primary: another controller is';
    case 'primary':
      return 'connected, its pipeline not in place yet';
    case 'pipeline-ready':
      return 'reconnected, its reconcile still queued';
    default:
      return 'not connected';
  }
}

export class Controller {
  readonly events = new TypedEvents<ControllerEvents>((error) => this.options.logger.error({ err: error }, 'controller listener failed'));
  /** The spec in force: `applySpec` may change VIPs' backends and checks while running. */
  private currentSpec: LbSpec;
  get spec(): LbSpec {
    return this.currentSpec;
  }
  /** The data-plane ids of the spec's VIPs and VMs (the registry's once started). */
  get dataPlaneIds(): SpecIds {
    return this.ids;
  }
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly switches = new Map<string, SwitchRuntime>();
  private readonly drained = new Set<string>();
  private readonly addresses = new Map<string, string>();
  private registry: Registry | undefined;
  private plan: TokenPlan | undefined;
  /** The stored policy `plan` was computed from: another controller sharing the registry may change it. */
  private plannedPolicy: PolicyInput | undefined;
  /** Each host's reply gateway as the current token plan has it. */
  private replyGateways = new Map<string, string>();
  /** The spec the switches' programs were generated from: a changed spec must fit them (program-change.ts). */
  private programSpec: LbSpec;
  /** Data-plane ids of the spec in force, as the registry keeps them. */
  private ids: SpecIds;
  /** Gateways that have been pipeline-ready under this controller. */
  private readonly gatewaysSeenReady = new Set<string>();
  private tokenTimer: ReturnType<Clock['setTimer']> | undefined;
  private running = false;
  private readonly detach: (() => void)[] = [];

  constructor(private readonly options: ControllerOptions) {
    this.currentSpec = options.spec;
    this.programSpec = options.spec;
    this.clock = options.clock ?? systemClock();
    this.log = options.logger;
    if (options.batchSize !== undefined && (!Number.isInteger(options.batchSize) || options.batchSize < 1)) {
      throw new ControllerError('CONTROLLER_BAD_OPTIONS', `batch size ${options.batchSize} must be a positive integer`, { location: { path: 'batchSize' } });
    }
    // P4Runtime election ids are uint128 and 0 means none (a backup that can never be primary).
    if (options.electionId !== undefined && (options.electionId < 1n || options.electionId >= 1n << 128n)) {
      throw new ControllerError('CONTROLLER_BAD_OPTIONS', `election id ${options.electionId} must be in 1..2^128-1`, { location: { path: 'electionId' } });
    }
    const names = new Set([...this.spec.gateways.map((g) => g.name), ...this.spec.hosts.map((h) => h.name)]);
    for (const [name, address] of Object.entries(options.addresses ?? {})) {
      if (!names.has(name)) {
        throw new ControllerError('CONTROLLER_BAD_OPTIONS', `address override for unknown switch '${name}'`, { location: { path: `addresses.${name}` }, hint: didYouMean(name, names) });
      }
      this.addresses.set(name, address);
    }
    // Until start() reads the registry's.
    this.ids = positionalIds(options.spec);
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Opens the registry, plans tokens, starts every connection and health monitor. Does not wait for the switches. */
  async start(): Promise<void> {
    if (this.running) return;
    const registry = openRegistry({ dataDir: this.options.dataDir, now: () => Math.floor(this.clock.now() / 1000) });
    let pipelines: RolePipelines;
    try {
      const ids = idsFor(this.spec, registry.ids());
      this.programSpec = this.chooseProgramSpec(registry.programSpec(), ids);
      pipelines = this.options.pipelines ?? (await buildPipelines(this.programSpec, this.options.pipeline ?? 'embedded'));
      const changes = registry.reconcile(this.spec);
      if (changes.keysCreated.length > 0) this.log.info({ keys: changes.keysCreated }, 'registry: keys created');
      if (changes.drainsRemoved.length > 0) this.log.info({ vms: changes.drainsRemoved }, 'registry: drains of VMs gone from the spec removed');
      if (changes.idsAssigned.length > 0 || changes.idsReleased.length > 0) this.log.info({ assigned: changes.idsAssigned, released: changes.idsReleased }, 'registry: data-plane ids');
      this.ids = ids;
      registry.setProgramSpec(this.programSpec);
      // Drains outlive the process: the first tables computed after a restart already leave them out.
      this.drained.clear();
      for (const vm of registry.drainedVms()) this.drained.add(vm);
      if (this.drained.size > 0) this.log.info({ vms: [...this.drained] }, 'drains restored');
      this.registry = registry;
      this.running = true;
      this.replan(false);
    } catch (error) {
      // Nothing else runs yet: leave no open database or timer behind.
      this.running = false;
      if (this.tokenTimer !== undefined) this.clock.clearTimer(this.tokenTimer);
      this.tokenTimer = undefined;
      this.registry = undefined;
      registry.close();
      throw error;
    }
    for (const gw of this.spec.gateways) this.addSwitch(gw.name, 'gateway', gw.p4runtime, pipelines.gateway);
    for (const host of this.spec.hosts) this.addSwitch(host.name, 'host', host.p4runtime, pipelines.host);
    for (const rt of this.switches.values()) {
      rt.monitor?.start();
      rt.connection.start();
    }
    this.log.info({ gateways: this.spec.gateways.length, hosts: this.spec.hosts.length }, 'controller started');
  }

  /**
   * The spec to generate the switches' programs from. After changes applied in place the switches
   * run the programs of an older spec: when those still hold the spec and its ids, a restart keeps
   * them, so the switches need no pipeline push (which would clear every pinned flow). Otherwise
   * the spec's own programs, which the ids must fit.
   */
  private chooseProgramSpec(stored: unknown, ids: SpecIds): LbSpec {
    const parsed = stored === undefined ? undefined : LbSpecSchema.safeParse(stored);
    if (parsed?.success === true && parsed.data.deployment === this.spec.deployment) {
      const problems = [...specChangeProblems(parsed.data, this.spec), ...programChangeProblems(parsed.data, this.spec, ids)];
      if (problems.length === 0) return parsed.data;
      this.log.info({ problems }, 'the programs in the registry cannot hold this spec: generating new ones (a pipeline push clears flow state)');
    }
    const problems = programChangeProblems(this.spec, this.spec, ids);
    if (problems.length > 0) {
      throw new ControllerError('CONTROLLER_IDS', `the registry's data-plane ids do not fit the spec's programs: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, { location: { path: problems[0]!.path } });
    }
    return this.spec;
  }

  private addSwitch(name: string, role: SwitchRole, target: LbSpec['gateways'][number]['p4runtime'], pipeline: RolePipelines['gateway']): void {
    const connection = new SwitchConnection({
      address: () => this.addressOf(name),
      deviceId: BigInt(target.deviceId),
      electionId: this.options.electionId ?? BigInt(target.electionId),
      pipeline,
      ...(this.options.backoff === undefined ? {} : { backoff: this.options.backoff }),
      ...(this.options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: this.options.connectTimeoutMs }),
      ...(this.options.callTimeoutMs === undefined ? {} : { callTimeoutMs: this.options.callTimeoutMs }),
    });
    const rt: SwitchRuntime = {
      name, role, connection, installed: undefined, tables: undefined, alarms: [], monitor: undefined,
      queue: Promise.resolve(), pending: undefined, pendingResult: undefined, retryTimer: undefined, retryAttempt: 0, pushUnreconciled: false, registers: undefined, reconciledAt: undefined, lastError: undefined, awaitingReady: true, writtenAt: undefined, slotsWrittenAt: new Map(),
    };
    const log = this.log.child({ switch: name });
    this.detach.push(
      connection.events.on('state', ({ from, to }) => {
        if (to !== 'pipeline-ready') {
          // Anything but pipeline-ready may mean a new device: trust nothing until the next reconcile.
          rt.installed = undefined;
          rt.awaitingReady = true;
          // The reconcile of the next pipeline-ready replaces any retry.
          this.cancelRetry(rt);
          rt.registers?.close();
          rt.registers = undefined;
        }
        log.info({ from, to }, 'switch connection');
        this.events.emit('connection', { switch: name, role, from, to });
        if (role === 'gateway' && to === 'pipeline-ready') this.gatewaysSeenReady.add(name);
        if (role === 'gateway' && (from === 'pipeline-ready' || to === 'pipeline-ready')) this.followReplyGateways();
      }),
      connection.events.on('pipeline-ready', ({ client, pushed }) => {
        // A controller that was backup may have missed drains the primary made in a shared registry.
        this.refreshDrains(rt);
        // Likewise its policy: replanned before the reconcile below is queued, so that reconcile installs it.
        this.refreshPolicy();
        this.checkRegistryIds();
        void this.enqueue(rt, async () => {
          rt.awaitingReady = false;
          rt.pushUnreconciled = pushed;
          await this.fullReconcile(rt, client, pushed);
          return undefined;
        });
      }),
      connection.events.on('pipeline-retry-scheduled', ({ attempt, delayMs, error }) => {
        // The usual cause of a refusal that repeats: the device config is for the other kind of switch.
        const hint = this.options.pipeline === 'bmv2'
          ? 'pushing p4c\'s BMv2 JSON (--bmv2): if this switch is the embedded target (p4lb target), run without --bmv2'
          : 'pushing P4 source for the embedded target: if this switch is simple_switch_grpc, run with --bmv2 (needs p4c)';
        log.warn({ attempt, delayMs, err: message(error), hint }, 'pipeline push failed; retry scheduled');
      }),
      connection.events.on('reconnect-scheduled', ({ attempt, delayMs, error }) => {
        rt.lastError = error === undefined ? rt.lastError : message(error);
        log.warn({ attempt, delayMs, err: error === undefined ? undefined : message(error) }, 'switch reconnect scheduled');
      }),
      connection.events.on('error', ({ error }) => {
        rt.lastError = message(error);
        log.error({ err: message(error) }, 'switch error');
        this.events.emit('error', { switch: name, error });
      }),
    );
    if (role === 'gateway') {
      const monitor = new HealthMonitor({
        spec: this.spec,
        gateway: name,
        logger: this.log,
        clock: this.clock,
        ...(this.options.resolveEndpoint === undefined ? {} : { resolveEndpoint: this.options.resolveEndpoint }),
        ...(this.options.prober === undefined ? {} : { prober: this.options.prober }),
      });
      rt.monitor = monitor;
      this.detach.push(
        monitor.onTransition((transition) => {
          this.events.emit('health', transition);
          this.requestUpdate(rt, { kind: 'health', transition });
        }),
      );
    }
    this.switches.set(name, rt);
  }

  private addressOf(name: string): string {
    const override = this.addresses.get(name);
    if (override !== undefined) return override;
    const sw = this.spec.gateways.find((g) => g.name === name) ?? this.spec.hosts.find((h) => h.name === name);
    return sw!.p4runtime.address;
  }

  /** Points a switch at a new address (it moved); used at its next (re)connect. */
  setAddress(switchName: string, address: string): void {
    this.runtime(switchName);
    this.addresses.set(switchName, address);
  }

  private runtime(name: string, role?: SwitchRole): SwitchRuntime {
    const rt = this.switches.get(name);
    if (rt === undefined || (role !== undefined && rt.role !== role)) {
      const candidates = [...this.switches.values()].filter((s) => role === undefined || s.role === role).map((s) => s.name);
      throw new ControllerError('CONTROLLER_UNKNOWN_GATEWAY', `no ${role ?? 'switch'} named '${name}'`, { location: { path: role ?? 'switch' }, hint: didYouMean(name, candidates) });
    }
    return rt;
  }

  /**
   * Runs `job` after every earlier job of the switch; answers why the switch does not hold what
   * the job was to write (undefined: it does). A failure is reported, never thrown to the queue.
   * After each job, a switch left unsure of its contents gets a reconcile retry (followRetry).
   */
  private enqueue(rt: SwitchRuntime, job: () => Promise<string | undefined>): Promise<string | undefined> {
    const run = rt.queue
      .then(job)
      .then(
        (notWritten) => notWritten,
        (error: unknown) => {
          this.reportJobError(rt, error);
          return `write failed: ${message(error)}`;
        },
      )
      .then((notWritten) => {
        this.followRetry(rt);
        return notWritten;
      });
    rt.queue = run.then(() => undefined);
    return run;
  }

  private reportJobError(rt: SwitchRuntime, error: unknown): void {
    rt.lastError = message(error);
    this.log.error({ switch: rt.name, err: message(error) }, 'switch job failed');
    this.events.emit('error', { switch: rt.name, error });
  }

  /**
   * A switch that is pipeline-ready but unsure of its contents (its reconcile, or a write and the
   * read-back after it, failed) is reconciled again after a capped backoff, rather than waiting
   * for an unrelated change (the next token rotation may be 40 minutes away). A switch that holds
   * its tables again resets the backoff.
   */
  private followRetry(rt: SwitchRuntime): void {
    const unsure = this.running && rt.connection.state.phase === 'pipeline-ready' && !rt.awaitingReady && rt.installed === undefined;
    if (!unsure) {
      if (rt.installed !== undefined) this.cancelRetry(rt);
      return;
    }
    if (rt.retryTimer !== undefined) return;
    rt.retryAttempt++;
    const delayMs = backoffDelay(rt.retryAttempt, this.options.backoff ?? DEFAULT_BACKOFF, Math.random());
    this.log.warn({ switch: rt.name, attempt: rt.retryAttempt, delayMs, err: rt.lastError }, 'switch not reconciled; reconcile retry scheduled');
    rt.retryTimer = this.clock.setTimer(() => {
      rt.retryTimer = undefined;
      void this.requestUpdate(rt, { kind: 'retry' });
    }, delayMs);
  }

  private cancelRetry(rt: SwitchRuntime): void {
    if (rt.retryTimer !== undefined) this.clock.clearTimer(rt.retryTimer);
    rt.retryTimer = undefined;
    rt.retryAttempt = 0;
  }

  /** Queues a diff update of `rt`, or adds `cause` to the one already waiting; answers as enqueue does. */
  private requestUpdate(rt: SwitchRuntime, cause: UpdateCause): Promise<string | undefined> {
    if (rt.pending !== undefined && rt.pendingResult !== undefined) {
      rt.pending.push(cause);
      return rt.pendingResult;
    }
    const causes: UpdateCause[] = [cause];
    rt.pending = causes;
    const result = this.enqueue(rt, async () => {
      rt.pending = undefined;
      rt.pendingResult = undefined;
      return this.update(rt, causes);
    });
    rt.pendingResult = result;
    return result;
  }

  /** Updates every switch of `rts` for `cause` and says which hold the change now and which do not yet. */
  private async writeSwitches(rts: readonly SwitchRuntime[], cause: UpdateCause): Promise<WriteOutcome> {
    return writeOutcome(await Promise.all(rts.map(async (rt) => [rt.name, await this.requestUpdate(rt, cause)] as const)));
  }

  private desiredOf(rt: SwitchRuntime): SwitchTables {
    const plan = this.plan!;
    const keys = this.registry!.keyRing();
    if (rt.role === 'host') return hostDesired({ spec: this.spec, ids: this.ids, host: rt.name, keys, plan, replyGateway: this.replyGateways.get(rt.name) ?? this.replyGatewayFor(rt.name) });
    const { tables, desired } = gatewayDesired({
      spec: this.spec,
      ids: this.ids,
      gateway: rt.name,
      view: gatewayView(rt.monitor!.view(), this.drained),
      keys,
      plan,
      ...(rt.tables === undefined ? {} : { previous: rt.tables }),
    });
    rt.tables = summaryOf(tables);
    this.noteAlarms(rt, tables.alarms);
    return desired;
  }

  private noteAlarms(rt: SwitchRuntime, alarms: readonly LbAlarm[]): void {
    const before = new Map(rt.alarms.map((a) => [a.vip, a]));
    for (const a of alarms) {
      const old = before.get(a.vip);
      if (old === undefined || old.reason !== a.reason || old.keptLastTable !== a.keptLastTable) {
        this.log.warn({ gateway: a.gateway, vip: a.vip, reason: a.reason, keptLastTable: a.keptLastTable }, a.message);
        this.events.emit('alarm', a);
      }
    }
    const now = new Set(alarms.map((a) => a.vip));
    for (const vip of before.keys()) {
      if (!now.has(vip)) {
        this.log.info({ gateway: rt.name, vip }, 'alarm cleared: the VIP has a backend again');
        this.events.emit('alarm-cleared', { gateway: rt.name, vip });
      }
    }
    rt.alarms = alarms;
  }

  private ownedTables(rt: SwitchRuntime): readonly string[] {
    return rt.role === 'gateway' ? GATEWAY_TABLE_ORDER : HOST_TABLE_ORDER;
  }

  private async fullReconcile(rt: SwitchRuntime, client: SwitchClient, pushed: boolean): Promise<void> {
    if (!this.running) return;
    const started = Date.now();
    const desired = this.desiredOf(rt);
    let registers: RegisterAccess | undefined;
    let registerProblem: string | undefined;
    if (pushed && rt.role === 'gateway') {
      try {
        registers = await this.registerAccess(rt, client);
      } catch (error) {
        // The tables must go in regardless. The clear is a safeguard only: a pipeline push starts
        // every register at zero on BMv2 and on the embedded target, so flow state is empty anyway.
        registerProblem = `no register access after the pipeline push (${message(error)}): tables reconciled without clearing the flow-state registers`;
        this.log.error({ switch: rt.name, err: message(error) }, 'no register access after a pipeline push; reconciling the tables without clearing the flow-state registers');
        this.events.emit('error', { switch: rt.name, error });
      }
    }
    const clearOnPush = rt.role === 'gateway' && registerProblem === undefined ? FLOW_REGISTERS : [];
    const state = toDesiredState(desired, this.ownedTables(rt), clearOnPush);
    const report = await reconcile(client, state, {
      pipelinePushed: pushed,
      ...(this.options.batchSize === undefined ? {} : { batchSize: this.options.batchSize }),
      ...(registers === undefined ? {} : { registers }),
    });
    rt.installed = desired;
    rt.reconciledAt = this.clock.now();
    if (report.inserted + report.modified + report.deleted > 0) {
      rt.writtenAt = rt.reconciledAt;
      if (rt.role === 'gateway') for (const vip of this.spec.vips) rt.slotsWrittenAt.set(vip.name, rt.reconciledAt);
    }
    rt.pushUnreconciled = false;
    // Kept in the status until a reconcile has register access again.
    rt.lastError = registerProblem;
    this.markTokensInstalled(rt.name);
    await this.zeroCounters(rt, client, pushed);
    const durationMs = Date.now() - started;
    this.log.info({ switch: rt.name, pushed, ...report, durationMs }, 'switch reconciled');
    this.events.emit('reconciled', { ...report, switch: rt.name, role: rt.role, pipelinePushed: pushed, durationMs });
  }

  /** Writes the difference to what `rt` holds; answers why it was not written (undefined: it was). */
  private async update(rt: SwitchRuntime, causes: readonly UpdateCause[]): Promise<string | undefined> {
    if (!this.running) return 'the controller stopped';
    const desired = this.desiredOf(rt);
    const client = rt.connection.client;
    const installed = rt.installed;
    // Not live, or live but its pipeline-ready reconcile is still queued: that reconcile installs what is current then.
    if (rt.connection.state.phase !== 'pipeline-ready' || client === undefined || rt.awaitingReady) return notReadyReason(rt.connection.state.phase);
    // Live but unsure of its contents (a failed write or reconcile): read back and reconcile now,
    // rather than waiting for a pipeline-ready that a healthy session never sends again.
    if (installed === undefined) {
      await this.fullReconcile(rt, client, rt.pushUnreconciled);
      return undefined;
    }
    const updates = diffEntries(installed.entries, desired.entries, { tableOrder: this.ownedTables(rt) });
    const defaults = diffDefaults(installed.defaults, desired.defaults);
    const values = updateValues(updates, defaults);
    const started = Date.now();
    if (values.length > 0) {
      try {
        // Computed entries, encoded a batch at a time; a bad one fails the write and the read-back below repairs.
        await client.write(values, { validateFirst: false, ...(this.options.batchSize === undefined ? {} : { batchSize: this.options.batchSize }) });
      } catch (error) {
        // Part of the write may have landed: read the switch back and reconcile from what it holds.
        rt.installed = undefined;
        this.log.warn({ switch: rt.name, err: message(error) }, 'diff write failed; reconciling from a read-back');
        if (rt.connection.state.phase !== 'pipeline-ready') throw error;
        await this.fullReconcile(rt, client, false);
        // The read-back reconcile installed the change: report the failed write, count it written.
        this.reportJobError(rt, error);
        return undefined;
      }
    }
    const writeMs = Date.now() - started;
    let slotChanges = 0;
    if (values.length > 0) {
      rt.writtenAt = this.clock.now();
      const vipIds = new Set<number>();
      for (const u of updates) {
        if (u.entry.table !== GATEWAY_P4.slotTable) continue;
        slotChanges++;
        vipIds.add(Number(u.entry.keys['vip_id']));
      }
      const vipNames = namesById(this.ids.vip);
      for (const id of vipIds) {
        const vip = vipNames.get(id);
        if (vip !== undefined) rt.slotsWrittenAt.set(vip, rt.writtenAt);
      }
    }
    rt.installed = desired;
    this.markTokensInstalled(rt.name);
    await this.zeroCounters(rt, client);
    const health = causes.flatMap((c) => (c.kind === 'health' ? [c.transition.at] : []));
    const convergenceMs = health.length === 0 ? undefined : this.clock.now() - Math.min(...health);
    const count = (t: EntryUpdate['type']) => updates.filter((u) => u.type === t).length;
    const result: TablesUpdated = {
      switch: rt.name,
      role: rt.role,
      causes,
      inserted: count('INSERT'),
      modified: count('MODIFY') + defaults.length,
      deleted: count('DELETE'),
      slotChanges,
      writeMs,
      convergenceMs,
    };
    this.log.info({ switch: rt.name, causes: causes.map((c) => c.kind), inserted: result.inserted, modified: result.modified, deleted: result.deleted, convergenceMs }, 'tables updated');
    this.events.emit('tables-updated', result);
    return undefined;
  }

  // --- reply gateways ---

  /**
   * The gateway a host's VMs reply through: the preferred one among the gateways that are up. A
   * gateway this controller has not had ready yet counts as up, so that starting (or taking
   * over) does not move reply paths back and forth while the switches come up one by one.
   */
  private replyGatewayFor(host: string): string {
    const up = (gw: Gateway): boolean => !this.gatewaysSeenReady.has(gw.name) || this.switches.get(gw.name)?.connection.state.phase === 'pipeline-ready';
    return replyGatewayOf(this.spec, hostByName(this.spec, host), up).name;
  }

  /**
   * A gateway came up or went down: hosts whose reply gateway changes get a new reply path (and
   * the token plan that signs for it) at once, so the VMs' answers do not go to a lost gateway.
   */
  private followReplyGateways(): void {
    if (!this.running || this.registry === undefined) return;
    const moved = this.spec.hosts.filter((h) => this.replyGatewayFor(h.name) !== this.replyGateways.get(h.name));
    if (moved.length === 0) return;
    for (const h of moved) this.log.info({ host: h.name, from: this.replyGateways.get(h.name), to: this.replyGatewayFor(h.name) }, 'reply gateway changes');
    this.replan(true);
  }

  // --- tokens ---

  private replan(push: boolean, cause: UpdateCause = { kind: 'tokens' }): void {
    if (!this.running) return;
    const registry = this.registry!;
    const nowSeconds = this.clock.now() / 1000;
    this.replyGateways = new Map(this.spec.hosts.map((h) => [h.name, this.replyGatewayFor(h.name)]));
    const replyGateways = this.replyGateways;
    const policy = registry.policyInput();
    this.plan = planTokens({
      spec: this.spec,
      ids: this.ids,
      keys: registry.keyRing(),
      policy: compilePolicy(this.spec, policy),
      now: nowSeconds,
      replyGateway: (host) => replyGateways.get(host.name)!,
    });
    try {
      registry.recordIssued(this.plan.entries);
      registry.expireTokens(Math.floor(nowSeconds));
    } catch (error) {
      this.log.error({ err: message(error) }, 'registry: recording the token plan failed');
    }
    this.plannedPolicy = policy;
    this.events.emit('tokens-planned', { plan: this.plan });
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, this.plan.nextChangeAt * 1000 - this.clock.now()));
    // One timer at a time: a replan for another reason (a spec change, a reply path) replaces the pending one.
    if (this.tokenTimer !== undefined) this.clock.clearTimer(this.tokenTimer);
    this.tokenTimer = this.clock.setTimer(() => {
      this.tokenTimer = undefined;
      this.replan(true);
    }, delay);
    if (push) for (const rt of this.switches.values()) void this.requestUpdate(rt, cause);
  }

  /** The plan's tokens of a switch are on it now; expired ones it no longer holds are removed. */
  private markTokensInstalled(switchName: string): void {
    const registry = this.registry;
    const plan = this.plan;
    if (registry === undefined || plan === undefined) return;
    try {
      const refs: TokenRef[] = plan.entries.filter((e) => e.switch === switchName).map((e) => ({ switch: e.switch, entryKey: e.entryKey, tokenId: e.token.id }));
      registry.setTokenState(refs, 'installed');
      const planned = new Set(refs.map((r) => `${r.entryKey}\u0000${r.tokenId}`));
      const gone = registry.tokens({ switch: switchName, states: ['expired'] }).filter((t) => !planned.has(`${t.entryKey}\u0000${t.tokenId}`));
      registry.setTokenState(gone.map((t) => ({ switch: t.switch, entryKey: t.entryKey, tokenId: t.tokenId })), 'removed');
    } catch (error) {
      this.log.error({ switch: switchName, err: message(error) }, 'registry: recording installed tokens failed');
    }
  }

  /** Recorded tokens (default: issued and installed). */
  tokens(filter: { readonly switch?: string; readonly states?: readonly TokenState[] } = {}): IssuedToken[] {
    return this.requireRegistry().tokens({ states: ['issued', 'installed'], ...filter });
  }

  /** The current plan's schedule: when it changes next, and how many entries each switch needs. */
  tokenPlanSummary(): { readonly now: number; readonly nextChangeAt: number; readonly ttlSeconds: number; readonly entriesBySwitch: Readonly<Record<string, number>> } {
    const plan = this.plan;
    if (plan === undefined) throw new ControllerError('CONTROLLER_NOT_RUNNING', 'the controller has not started');
    const counts: Record<string, number> = {};
    for (const e of plan.entries) counts[e.switch] = (counts[e.switch] ?? 0) + 1;
    return { now: plan.now, nextChangeAt: plan.nextChangeAt, ttlSeconds: plan.schedule.ttlSeconds, entriesBySwitch: counts };
  }

  private requireRegistry(): Registry {
    if (this.registry === undefined) throw new ControllerError('CONTROLLER_NOT_RUNNING', 'the controller has not started');
    return this.registry;
  }

  // --- drain ---

  private checkVm(vm: string): void {
    const names = this.spec.vms.map((v) => v.name);
    if (!names.includes(vm)) throw new ControllerError('CONTROLLER_UNKNOWN_VM', `no VM named '${vm}'`, { location: { path: 'vm' }, hint: didYouMean(vm, names) });
  }

  /**
   * Gives the VM no new flows on any gateway (its backend entries stay for pinned flows). The drain
   * is recorded in the registry first, so it survives a restart; resolves once every gateway was
   * tried, with those that hold it and those that do not yet (down, or their write failed: they
   * get it when pipeline-ready again). Nothing is written when the VM was drained already.
   */
  async drain(vm: string): Promise<WriteOutcome> {
    this.checkVm(vm);
    const registry = this.requireRunningRegistry();
    if (this.drained.has(vm)) return NOTHING_WRITTEN;
    registry.setDrained(vm, true);
    this.drained.add(vm);
    this.log.info({ vm }, 'drain');
    return this.updateGateways({ kind: 'drain', vm });
  }

  /** Gives a drained VM new flows again; answers as drain does. */
  async undrain(vm: string): Promise<WriteOutcome> {
    this.checkVm(vm);
    const registry = this.requireRunningRegistry();
    if (!this.drained.has(vm)) return NOTHING_WRITTEN;
    registry.setDrained(vm, false);
    this.drained.delete(vm);
    this.log.info({ vm }, 'undrain');
    return this.updateGateways({ kind: 'undrain', vm });
  }

  // --- traffic policy ---

  /** The stored policy and what it compiles to for the spec in force. */
  policy(): PolicyStatus {
    const input = this.requireRegistry().policyInput();
    const compiled = compilePolicy(this.spec, input);
    const vms = this.spec.vms.map((v) => v.name).sort(byCodeUnit);
    return {
      sameVip: input.sameVip,
      rules: input.rules,
      vmPairs: compiled.vmPairs().map(([from, to]) => ({ from, to, ...grantOf(compiled.decide(from, to)) })),
      internetEgress: vms.flatMap((vm) => {
        const d = compiled.decide(vm, INTERNET);
        return d.allowed ? [{ vm, ...grantOf(d) }] : [];
      }),
    };
  }

  /**
   * Changes the stored policy and resolves once every switch was tried, with those that hold the
   * change and those that do not yet (down, or their write failed: they get it when pipeline-ready
   * again); `changed` false, nothing written, when the policy was that way already. `allow` adds a
   * rule (`to` a VM, both ways, or INTERNET), `remove` removes one in either direction. A rule
   * naming a VM the spec lacks is refused (REGISTRY_BAD_POLICY_RULE naming `rule.from` /
   * `rule.to`), and a same-VIP value that is not a boolean (naming `policy.sameVip`), changing nothing.
   */
  async changePolicy(change: PolicyChange): Promise<PolicyChanged> {
    const registry = this.requireRunningRegistry();
    switch (change.kind) {
      case 'allow': {
        const checked = checkPolicyRule(this.spec, change.rule);
        if (registry.policyRules().some((r) => samePolicyRule(r, checked))) return { changed: false, switches: NOTHING_WRITTEN };
        registry.addPolicyRule(this.spec, checked);
        this.log.info({ rule: checked }, 'policy: rule added');
        break;
      }
      case 'remove': {
        const checked = checkPolicyRule(this.spec, change.rule);
        const stored = registry.policyRules().filter((r) => samePolicyRule(r, checked));
        if (stored.length === 0) return { changed: false, switches: NOTHING_WRITTEN };
        for (const r of stored) registry.removePolicyRule(r);
        this.log.info({ rule: checked }, 'policy: rule removed');
        break;
      }
      case 'same-vip':
        if (registry.policyInput().sameVip === change.allowed) return { changed: false, switches: NOTHING_WRITTEN };
        // The registry refuses anything but a boolean (naming `policy.sameVip`) before writing.
        registry.setSameVipDefault(change.allowed);
        this.log.info({ sameVip: change.allowed }, 'policy: same-VIP default changed');
        break;
    }
    return { changed: true, switches: await this.replanAndWriteAll({ kind: 'policy' }) };
  }

  /**
   * Plans tokens from the spec and policy now in force, writes every switch's difference and waits
   * until every switch was tried (a spec or policy change).
   */
  private async replanAndWriteAll(cause: UpdateCause): Promise<WriteOutcome> {
    this.replan(false);
    const switches = await this.writeSwitches([...this.switches.values()], cause);
    await this.settled();
    return switches;
  }

  /**
   * Takes the registry's policy as the truth at a pipeline-ready: a controller that was backup
   * planned with the policy of its last replan, and the primary may have changed it since.
   */
  private refreshPolicy(): void {
    const registry = this.registry;
    if (!this.running || registry === undefined || this.plannedPolicy === undefined) return;
    let stored: PolicyInput;
    try {
      stored = registry.policyInput();
    } catch (error) {
      this.log.error({ err: message(error) }, 'registry: reading the policy failed; keeping the plan');
      return;
    }
    const before = this.plannedPolicy;
    const same = stored.sameVip === before.sameVip && stored.rules.length === before.rules.length && stored.rules.every((r, i) => r.from === before.rules[i]!.from && r.to === before.rules[i]!.to);
    if (same) return;
    this.log.info({ sameVip: stored.sameVip, rules: stored.rules }, 'policy changed in the registry');
    this.replan(true, { kind: 'policy' });
  }

  /**
   * Another controller sharing the data folder (a standby, or one started with another spec) may
   * have applied a spec with other VMs and VIPs: its ids are the registry's now, and this
   * controller's tables would name VMs by ids that mean others there. Said loudly, since only
   * the operator can fix it (give every controller of a deployment the same spec, then SIGHUP).
   */
  private checkRegistryIds(): void {
    let stored: SpecIds;
    try {
      stored = this.requireRegistry().ids();
    } catch {
      return;
    }
    if (sameIds(stored, this.ids)) return;
    this.log.error(
      { registry: { vips: Object.fromEntries(stored.vip), vms: Object.fromEntries(stored.backend) }, controller: { vips: Object.fromEntries(this.ids.vip), vms: Object.fromEntries(this.ids.backend) } },
      'the registry holds other data-plane ids than this controller: another controller applied a different spec; give every controller of the deployment the same spec file and reload it',
    );
  }

  /**
   * Takes the registry's drains as the truth (another controller sharing the data folder may have
   * changed them while this one was backup); gateways other than `except` are updated for any change.
   */
  private refreshDrains(except: SwitchRuntime): void {
    const registry = this.registry;
    if (!this.running || registry === undefined) return;
    let stored: string[];
    try {
      stored = registry.drainedVms().filter((vm) => this.spec.vms.some((v) => v.name === vm));
    } catch (error) {
      this.log.error({ err: message(error) }, 'registry: reading drains failed; keeping the ones in memory');
      return;
    }
    const now = new Set(stored);
    const causes: UpdateCause[] = [
      ...stored.filter((vm) => !this.drained.has(vm)).map((vm): UpdateCause => ({ kind: 'drain', vm })),
      ...[...this.drained].filter((vm) => !now.has(vm)).map((vm): UpdateCause => ({ kind: 'undrain', vm })),
    ];
    if (causes.length === 0) return;
    this.drained.clear();
    for (const vm of stored) this.drained.add(vm);
    this.log.info({ drained: stored }, 'drains changed in the registry');
    for (const rt of this.switches.values()) {
      if (rt === except || rt.role !== 'gateway') continue;
      for (const cause of causes) void this.requestUpdate(rt, cause);
    }
  }

  private requireRunningRegistry(): Registry {
    if (!this.running || this.registry === undefined) throw new ControllerError('CONTROLLER_NOT_RUNNING', 'the controller is not running');
    return this.registry;
  }

  drainedVms(): string[] {
    return [...this.drained].sort();
  }

  private async updateGateways(cause: UpdateCause): Promise<WriteOutcome> {
    if (!this.running) throw new ControllerError('CONTROLLER_NOT_RUNNING', 'the controller is not running');
    return this.writeSwitches([...this.switches.values()].filter((s) => s.role === 'gateway'), cause);
  }

  // --- status ---

  switchStatus(): SwitchStatus[] {
    return [...this.switches.values()].map((rt) => {
      const s = rt.connection.state;
      return {
        name: rt.name,
        role: rt.role,
        address: this.addressOf(rt.name),
        phase: s.phase,
        primary: s.phase === 'primary' || s.phase === 'pipeline-ready',
        failures: s.failures,
        reconciledAt: rt.reconciledAt,
        writtenAt: rt.writtenAt,
        lastError: rt.lastError,
      };
    });
  }

  /** Resolves once every switch has been reconciled at least once (or rejects after `timeoutMs`). */
  async waitUntilReconciled(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const waiting = [...this.switches.values()].filter((s) => s.reconciledAt === undefined || s.installed === undefined);
      if (waiting.length === 0) return;
      if (Date.now() > deadline) {
        throw new ControllerError('CONTROLLER_NOT_CONNECTED', `switches not reconciled within ${timeoutMs} ms: ${waiting.map((s) => `${s.name} (${s.connection.state.phase})`).join(', ')}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Resolves after every queued job of every switch (tests; the API's drain answers after its write). */
  async settled(): Promise<void> {
    await Promise.all([...this.switches.values()].map((s) => s.queue));
  }

  /** The gateway's last computed tables (what lb gave, but for the entry list), or undefined before the first computation. */
  gatewayTables(gateway: string): GatewayTablesSummary | undefined {
    return this.runtime(gateway, 'gateway').tables;
  }

  /** The entries the controller believes the switch holds (undefined when unsure). */
  installedEntries(switchName: string): SwitchTables | undefined {
    return this.runtime(switchName).installed;
  }

  alarms(): LbAlarm[] {
    return [...this.switches.values()].flatMap((s) => s.alarms);
  }

  vipStatus(): VipStatus[] {
    const gateways = [...this.switches.values()].filter((s) => s.role === 'gateway');
    return this.spec.vips.map((vip) => {
      const perGateway = gateways.map((g) => {
        const t = g.tables?.vips.find((v) => v.vip === vip.name);
        const slots = new Map<string, number>();
        if (t?.slotTable !== undefined) for (const owner of t.slotTable.owner) slots.set(t.slotTable.backends[owner]!, (slots.get(t.slotTable.backends[owner]!) ?? 0) + 1);
        return { g, t, slots, view: g.monitor!.view() };
      });
      return {
        name: vip.name,
        address: vip.address,
        protocol: vip.protocol,
        ports: vip.ports,
        mode: vip.mode,
        backends: vip.backends.map((vm) => ({
          vm,
          drained: this.drained.has(vm),
          gateways: Object.fromEntries(perGateway.map(({ g, t, slots, view }) => [g.name, {
            health: view.state(vip.name, vm),
            healthSince: view.since(vip.name, vm),
            slots: slots.get(vm) ?? 0,
            backendEntry: t?.backendVms.includes(vm) ?? false,
          }])),
        })),
        tableStatus: Object.fromEntries(perGateway.map(({ g, t }) => [g.name, t?.status ?? 'not-computed'])),
        slotsWrittenAt: Object.fromEntries(perGateway.flatMap(({ g }) => {
          const at = g.slotsWrittenAt.get(vip.name);
          return at === undefined ? [] : [[g.name, at]];
        })),
      };
    });
  }

  private liveClient(rt: SwitchRuntime): SwitchClient {
    const client = rt.connection.client;
    if (rt.connection.state.phase !== 'pipeline-ready' || client === undefined) {
      throw new ControllerError('CONTROLLER_NOT_CONNECTED', `${rt.name} is not ready (${rt.connection.state.phase})`, { location: { path: rt.role } });
    }
    return client;
  }

  private async registerAccess(rt: SwitchRuntime, client: SwitchClient): Promise<RegisterAccess> {
    if (rt.registers === undefined) rt.registers = await selectRegisterAccess(client, this.options.registerAccess?.(rt.name) ?? {});
    return rt.registers;
  }

  /** The gateway's pinned flows from its flow-state registers, optionally only those of one backend VM. */
  async flows(gateway: string, filter: { readonly backend?: string } = {}): Promise<FlowRecord[]> {
    return (await this.flowReport(gateway, filter)).flows;
  }

  /**
   * flows(), and how many occupied cells could not be read: BMv2's Thrift register service
   * saturates 64-bit values at 2^63, so entries whose signature has its top bit set are lost to
   * it (about half); their backend is unknown, so a backend filter cannot exclude them.
   */
  async flowReport(gateway: string, filter: { readonly backend?: string } = {}): Promise<{ readonly flows: FlowRecord[]; readonly unreadable: number }> {
    const rt = this.runtime(gateway, 'gateway');
    if (filter.backend !== undefined) this.checkVm(filter.backend);
    const client = this.liveClient(rt);
    const registers = await this.registerAccess(rt, client);
    const names = namesById(this.ids.backend);
    const out: FlowRecord[] = [];
    let unreadable = 0;
    for (const [way, register] of FLOW_REGISTERS.entries()) {
      for (const cell of await registers.read(register)) {
        // BMv2's Thrift service cannot return a 64-bit cell of 2^63 or more (a signature with its top bit set).
        if (cell.saturated === true) {
          unreadable++;
          continue;
        }
        const e = decodeFlowEntry(cell.value);
        if (e === undefined) continue;
        const backend = names.get(e.backendId);
        if (filter.backend !== undefined && backend !== filter.backend) continue;
        out.push({ gateway, way: way as 0 | 1, index: cell.index, signature: e.signature, backendId: e.backendId, backend, lastSeenTicks: e.lastSeenTicks });
      }
    }
    if (unreadable > 0) this.log.warn({ gateway, unreadable }, 'flow-state entries the register service could not read (BMv2 Thrift saturates values of 2^63 and more)');
    return { flows: out, unreadable };
  }

  /** Packet and byte counters by VIP and backend (gateways), drops by reason (every switch). */
  async stats(switchName: string): Promise<SwitchStats> {
    const rt = this.runtime(switchName);
    const client = this.liveClient(rt);
    const cells = async (name: string) => new Map((await client.readCounters(name)).map((c) => [c.index ?? 0, c]));
    if (rt.role === 'host') {
      const drops = await cells(HOST_P4.drops);
      return { switch: rt.name, role: rt.role, vips: [], backends: [], drops: HOST_DROP_REASONS.slice(1).map((r) => ({ reason: r.label, packets: drops.get(r.code)?.packets ?? 0n })) };
    }
    const [vipCells, backendCells, dropCells] = [await cells(GATEWAY_P4.vipStats), await cells(GATEWAY_P4.backendStats), await cells(GATEWAY_P4.drops)];
    const named = <T>(ids: ReadonlyMap<string, number>, map: Map<number, { packets?: bigint; bytes?: bigint }>, make: (name: string, packets: bigint, bytes: bigint) => T): T[] =>
      [...ids].sort((a, b) => a[1] - b[1]).map(([n, id]) => make(n, map.get(id)?.packets ?? 0n, map.get(id)?.bytes ?? 0n));
    return {
      switch: rt.name,
      role: rt.role,
      vips: named(this.ids.vip, vipCells, (vip, packets, bytes) => ({ vip, packets, bytes })),
      backends: named(this.ids.backend, backendCells, (vm, packets, bytes) => ({ vm, packets, bytes })),
      drops: GATEWAY_DROP_REASONS.slice(1).map((r) => ({ reason: r.label, packets: dropCells.get(r.code)?.packets ?? 0n })),
    };
  }

  /**
   * Applies a changed spec to the running controller: VMs and VIPs added or removed, VIPs'
   * backends, weights, health checks, algorithms, tokens. VIPs and VMs that stay keep their ids
   * (new ones take free ids, kept by the registry), so pinned flows keep their VM; health checks
   * of unchanged (VIP, VM) pairs keep their state; every switch then gets the difference. Refused,
   * with the field at fault and nothing changed, when the switches would change or the running
   * programs cannot hold the new spec (program-change.ts): that needs new programs, and pushing
   * them clears flow state. Resolves once every switch was tried: `switches` says which hold the
   * change and which get it when they are pipeline-ready again.
   */
  async applySpec(next: LbSpec): Promise<SpecApplied> {
    if (!this.running || this.registry === undefined) throw new ControllerError('CONTROLLER_NOT_RUNNING', 'the controller is not running');
    const nextIds = idsFor(next, this.ids);
    const problems = specChangeProblems(this.spec, next);
    if (problems.length === 0) problems.push(...programChangeProblems(this.programSpec, next, nextIds));
    if (problems.length > 0) {
      throw new ControllerError('CONTROLLER_SPEC_CHANGE', `the running controller cannot apply this spec: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, {
        location: { path: problems[0]!.path },
        hint: 'restart p4lb run with the new spec and regenerated programs (a pipeline push clears flow state)',
      });
    }
    const change = describeSpecChange(this.spec, next);
    const report = this.registry.reconcile(next);
    const kept = this.registry.ids();
    // The registry computes ids the same way from the same ids; a difference is a bug worth stopping for.
    if (!sameIds(kept, nextIds)) {
      throw new ControllerError('CONTROLLER_IDS', `the registry's ids (${report.idsAssigned.join(', ')}) differ from the controller's`);
    }
    // Should this throw, applying the same spec again queues the same cells (they are computed against this.ids).
    this.queueCounterResets(this.registry, nextIds);
    this.currentSpec = next;
    this.ids = nextIds;
    for (const vm of [...this.drained]) if (!nextIds.backend.has(vm)) this.drained.delete(vm);
    await Promise.all([...this.switches.values()].map((rt) => rt.monitor?.retarget(next)));
    this.log.info({ ...change, idsAssigned: report.idsAssigned, idsReleased: report.idsReleased }, 'spec applied');
    return { ...change, switches: await this.replanAndWriteAll({ kind: 'spec' }) };
  }

  /**
   * Ids new to `nextIds` may have been a removed VIP's or VM's: their counter cells start again
   * from zero. Recorded in the registry before any write, so a switch that is down, or a
   * controller restart, does not lose them.
   */
  private queueCounterResets(registry: Registry, nextIds: SpecIds): void {
    const fresh = (kind: keyof SpecIds): number[] => [...nextIds[kind]].filter(([name]) => !this.ids[kind].has(name)).map(([, id]) => id);
    const vips = fresh('vip');
    const backends = fresh('backend');
    if (vips.length === 0 && backends.length === 0) return;
    const resets = [...this.switches.values()].flatMap((rt) => {
      const cells = rt.role === 'gateway'
        ? [...vips.map((index) => ({ counter: GATEWAY_P4.vipStats, index })), ...backends.map((index) => ({ counter: GATEWAY_P4.backendStats, index }))]
        : backends.flatMap((index) => [{ counter: HOST_P4.vmRx, index }, { counter: HOST_P4.vmTx, index }]);
      return cells.map((c) => ({ switch: rt.name, ...c }));
    });
    registry.queueCounterResets(resets);
  }

  /**
   * Zeroes the counter cells the registry has pending for `rt` and clears those written; they
   * stay pending when the write fails. A restarted controller finds them there at its first write.
   * After a pipeline push every counter already starts at zero (and an index may not exist in new
   * programs): the pending cells are cleared without a write.
   */
  private async zeroCounters(rt: SwitchRuntime, client: SwitchClient, pipelinePushed = false): Promise<void> {
    const registry = this.registry;
    if (registry === undefined) return;
    let cells: PendingCounterReset[];
    try {
      cells = registry.pendingCounterResets(rt.name);
    } catch (error) {
      this.log.error({ switch: rt.name, err: message(error) }, 'registry: reading the counters to zero failed; retried at the next write');
      return;
    }
    if (cells.length === 0) return;
    if (!pipelinePushed) {
      try {
        await client.write(cells.map(({ counter, index }) => ({ type: 'modify' as const, entity: { kind: 'counterEntry' as const, value: { counter, index, packets: 0n, bytes: 0n } } })));
      } catch (error) {
        this.log.warn({ switch: rt.name, err: message(error) }, 'zeroing the counters of new ids failed; retried at the next write');
        return;
      }
    }
    try {
      registry.clearCounterResets(rt.name, cells);
    } catch (error) {
      // They stay pending: the next write zeroes them again, losing what they counted since.
      this.log.error({ switch: rt.name, err: message(error) }, 'registry: clearing the zeroed counters failed');
    }
  }

  /** Stops health checks, the token timer and every connection, waits for jobs, closes the registry. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.tokenTimer !== undefined) this.clock.clearTimer(this.tokenTimer);
    this.tokenTimer = undefined;
    for (const rt of this.switches.values()) this.cancelRetry(rt);
    await Promise.all([...this.switches.values()].map((s) => s.monitor?.stop()));
    for (const rt of this.switches.values()) rt.connection.stop();
    for (const off of this.detach.splice(0)) off();
    await this.settled();
    for (const rt of this.switches.values()) {
      rt.registers?.close();
      rt.registers = undefined;
    }
    this.registry?.close();
    this.registry = undefined;
    this.log.info('controller stopped');
  }
}
