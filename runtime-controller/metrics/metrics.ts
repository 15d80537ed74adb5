/**
 * Prometheus metrics of the controller (prom-client, own registry). Event-driven metrics (slot
 * changes, write latency, convergence, transitions) are updated from the controller's events;
 * state (health, slots, alarms, tokens, connections) is read from the controller at scrape time;
 * the switches' packet, byte and drop counters are polled every `pollIntervalMs` and added as
 * deltas, so a switch that restarts (counters back to 0) never makes a counter go down.
 */
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Controller } from '../controller/controller.ts';
import type { HealthState } from '../health/index.ts';
import type { TokenState } from '../registry/index.ts';

export type MetricsController = Pick<Controller, 'events' | 'vipStatus' | 'switchStatus' | 'alarms' | 'drainedVms' | 'tokens' | 'tokenPlanSummary' | 'stats' | 'spec'>;

export interface ControllerMetricsOptions {
  readonly controller: MetricsController;
  /** How often to read the switches' counters, ms (default 5000). */
  readonly pollIntervalMs?: number;
  readonly logger?: Logger;
  /**
   * The process's own metrics too (default true): resident memory, heap, GC, event-loop lag,
   * under prom-client's standard names (`process_resident_memory_bytes`, `nodejs_heap_size_used_bytes`, …).
   */
  readonly processMetrics?: boolean;
}

const HEALTH_STATES: readonly HealthState[] = ['unknown', 'healthy', 'unhealthy'];
const TOKEN_STATES: readonly TokenState[] = ['issued', 'installed', 'expired', 'removed'];
/** Seconds: writes of a few entries take milliseconds, a full slot table rewrite can take seconds. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds: from the deciding probe to the acknowledged write (computation, diff, write). */
const CONVERGENCE_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];

export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly controller: MetricsController;
  private readonly pollIntervalMs: number;
  private readonly log: Logger | undefined;
  private readonly offs: (() => void)[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private polling: Promise<void> | undefined;
  private running = false;
  /** Last counter values read, by metric/label key, to add deltas. */
  private readonly last = new Map<string, bigint>();

  private readonly slotChanges: Counter<'gateway'>;
  private readonly entriesWritten: Counter<'switch' | 'type'>;
  private readonly writeLatency: Histogram<'switch' | 'kind'>;
  private readonly convergence: Histogram<'gateway'>;
  private readonly transitions: Counter<'gateway' | 'vip' | 'vm' | 'to'>;
  private readonly vipPackets: Counter<'gateway' | 'vip'>;
  private readonly vipBytes: Counter<'gateway' | 'vip'>;
  private readonly backendPackets: Counter<'gateway' | 'vm'>;
  private readonly backendBytes: Counter<'gateway' | 'vm'>;
  private readonly drops: Counter<'switch' | 'reason'>;
  private readonly pollErrors: Counter<'switch'>;
  private readonly controllerErrors: Counter<'switch'>;

  constructor(options: ControllerMetricsOptions) {
    this.controller = options.controller;
    this.pollIntervalMs = options.pollIntervalMs ?? 5000;
    this.log = options.logger;
    const registers = [this.registry];
    const c = this.controller;
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });

    new Gauge({
      name: 'p4lb_backend_health',
      help: 'Health of a backend VM for a VIP as one gateway sees it: 1 for the current state, 0 for the others',
      labelNames: ['gateway', 'vip', 'vm', 'state'] as const,
      registers,
      collect() {
        this.reset();
        for (const vip of c.vipStatus()) {
          for (const b of vip.backends) {
            for (const [gateway, g] of Object.entries(b.gateways)) {
              for (const state of HEALTH_STATES) this.set({ gateway, vip: vip.name, vm: b.vm, state }, g.health === state ? 1 : 0);
            }
          }
        }
      },
    });
    new Gauge({
      name: 'p4lb_backend_slots',
      help: 'Slots of the VIP slot table a backend VM owns on a gateway',
      labelNames: ['gateway', 'vip', 'vm'] as const,
      registers,
      collect() {
        this.reset();
        for (const vip of c.vipStatus()) for (const b of vip.backends) for (const [gateway, g] of Object.entries(b.gateways)) this.set({ gateway, vip: vip.name, vm: b.vm }, g.slots);
      },
    });
    new Gauge({
      name: 'p4lb_backend_drained',
      help: '1 when the VM is drained (no new flows), else 0',
      labelNames: ['vm'] as const,
      registers,
      collect() {
        // Reset first: a VM removed from the spec while running leaves no series behind.
        this.reset();
        const drained = new Set(c.drainedVms());
        for (const vm of c.spec.vms) this.set({ vm: vm.name }, drained.has(vm.name) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'p4lb_vip_no_backend_alarm',
      help: '1 while the gateway has no backend to select for the VIP (it keeps its last slot table), else 0',
      labelNames: ['gateway', 'vip'] as const,
      registers,
      collect() {
        this.reset();
        const raised = new Set(c.alarms().map((a) => `${a.gateway}\u0000${a.vip}`));
        for (const gw of c.spec.gateways) for (const vip of c.spec.vips) this.set({ gateway: gw.name, vip: vip.name }, raised.has(`${gw.name}\u0000${vip.name}`) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'p4lb_switch_ready',
      help: '1 when the controller is primary on the switch and its pipeline is in place, else 0',
      labelNames: ['switch', 'role'] as const,
      registers,
      collect() {
        for (const s of c.switchStatus()) this.set({ switch: s.name, role: s.role }, s.phase === 'pipeline-ready' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'p4lb_tokens',
      help: 'Tokens recorded in the registry, by switch and state',
      labelNames: ['switch', 'state'] as const,
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const t of c.tokens({ states: TOKEN_STATES })) counts.set(`${t.switch}\u0000${t.state}`, (counts.get(`${t.switch}\u0000${t.state}`) ?? 0) + 1);
        for (const s of c.switchStatus()) for (const state of TOKEN_STATES) this.set({ switch: s.name, state }, counts.get(`${s.name}\u0000${state}`) ?? 0);
      },
    });
    new Gauge({
      name: 'p4lb_token_plan_next_change_timestamp_seconds',
      help: 'When the token plan changes next (a generation is issued, sent or removed), seconds since the epoch',
      registers,
      collect() {
        this.set(c.tokenPlanSummary().nextChangeAt);
      },
    });

    this.slotChanges = new Counter({ name: 'p4lb_slot_changes_total', help: 'Slot-table entries rewritten on a gateway after health, drain or token changes', labelNames: ['gateway'] as const, registers });
    this.entriesWritten = new Counter({ name: 'p4lb_table_entries_written_total', help: 'Table entries written, by switch and update type', labelNames: ['switch', 'type'] as const, registers });
    this.writeLatency = new Histogram({ name: 'p4lb_write_duration_seconds', help: 'Time to an acknowledged write: a diff update, or a whole reconciliation', labelNames: ['switch', 'kind'] as const, buckets: LATENCY_BUCKETS, registers });
    this.convergence = new Histogram({ name: 'p4lb_convergence_seconds', help: 'From the probe result that changed a backend\'s health to the acknowledged write of the gateway\'s new tables', labelNames: ['gateway'] as const, buckets: CONVERGENCE_BUCKETS, registers });
    this.transitions = new Counter({ name: 'p4lb_health_transitions_total', help: 'Health transitions of a backend VM for a VIP, by gateway and new state', labelNames: ['gateway', 'vip', 'vm', 'to'] as const, registers });
    this.vipPackets = new Counter({ name: 'p4lb_vip_packets_total', help: 'Packets a gateway balanced for a VIP (its vip_stats counter)', labelNames: ['gateway', 'vip'] as const, registers });
    this.vipBytes = new Counter({ name: 'p4lb_vip_bytes_total', help: 'Bytes a gateway balanced for a VIP (its vip_stats counter)', labelNames: ['gateway', 'vip'] as const, registers });
    this.backendPackets = new Counter({ name: 'p4lb_backend_packets_total', help: 'Packets a gateway sent to a backend VM (its backend_stats counter)', labelNames: ['gateway', 'vm'] as const, registers });
    this.backendBytes = new Counter({ name: 'p4lb_backend_bytes_total', help: 'Bytes a gateway sent to a backend VM (its backend_stats counter)', labelNames: ['gateway', 'vm'] as const, registers });
    this.drops = new Counter({ name: 'p4lb_drops_total', help: 'Packets a switch dropped, by reason (core/p4-contract.ts)', labelNames: ['switch', 'reason'] as const, registers });
    this.pollErrors = new Counter({ name: 'p4lb_counter_poll_errors_total', help: 'Failed reads of a switch\'s counters', labelNames: ['switch'] as const, registers });
    this.controllerErrors = new Counter({ name: 'p4lb_controller_errors_total', help: 'Errors the controller reported (failed writes, reconciliations, connections)', labelNames: ['switch'] as const, registers });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text (GET /metrics). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Subscribes to the controller's events and starts polling counters. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const ev = this.controller.events;
    this.offs.push(
      ev.on('tables-updated', (u) => {
        if (u.role === 'gateway') this.slotChanges.inc({ gateway: u.switch }, u.slotChanges);
        this.entriesWritten.inc({ switch: u.switch, type: 'insert' }, u.inserted);
        this.entriesWritten.inc({ switch: u.switch, type: 'modify' }, u.modified);
        this.entriesWritten.inc({ switch: u.switch, type: 'delete' }, u.deleted);
        if (u.inserted + u.modified + u.deleted > 0) this.writeLatency.observe({ switch: u.switch, kind: 'update' }, u.writeMs / 1000);
        if (u.convergenceMs !== undefined) this.convergence.observe({ gateway: u.switch }, u.convergenceMs / 1000);
      }),
      ev.on('reconciled', (r) => {
        this.entriesWritten.inc({ switch: r.switch, type: 'insert' }, r.inserted);
        this.entriesWritten.inc({ switch: r.switch, type: 'modify' }, r.modified);
        this.entriesWritten.inc({ switch: r.switch, type: 'delete' }, r.deleted);
        this.writeLatency.observe({ switch: r.switch, kind: 'reconcile' }, r.durationMs / 1000);
      }),
      ev.on('health', (t) => this.transitions.inc({ gateway: t.gateway, vip: t.target.vip, vm: t.target.vm, to: t.to })),
      ev.on('error', (e) => this.controllerErrors.inc({ switch: e.switch ?? '' })),
    );
    this.schedule();
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
        this.schedule();
      });
    }, this.pollIntervalMs);
  }

  /** Adds what a counter grew by since the last read (all of it after a reset to a lower value). */
  private addDelta(counter: Counter<string>, labels: Record<string, string>, value: bigint, metric: string): void {
    const key = `${metric}\u0000${JSON.stringify(labels)}`;
    const before = this.last.get(key);
    this.last.set(key, value);
    const delta = before === undefined || value < before ? value : value - before;
    if (delta > 0n) counter.inc(labels, Number(delta));
  }

  /** Reads the counters of every ready switch once. */
  async poll(): Promise<void> {
    for (const s of this.controller.switchStatus()) {
      if (s.phase !== 'pipeline-ready') continue;
      try {
        const stats = await this.controller.stats(s.name);
        for (const v of stats.vips) {
          this.addDelta(this.vipPackets, { gateway: s.name, vip: v.vip }, v.packets, 'vip_packets');
          this.addDelta(this.vipBytes, { gateway: s.name, vip: v.vip }, v.bytes, 'vip_bytes');
        }
        for (const b of stats.backends) {
          this.addDelta(this.backendPackets, { gateway: s.name, vm: b.vm }, b.packets, 'backend_packets');
          this.addDelta(this.backendBytes, { gateway: s.name, vm: b.vm }, b.bytes, 'backend_bytes');
        }
        for (const d of stats.drops) this.addDelta(this.drops, { switch: s.name, reason: d.reason }, d.packets, 'drops');
      } catch (err) {
        this.pollErrors.inc({ switch: s.name });
        this.log?.warn({ switch: s.name, err: err instanceof Error ? err.message : String(err) }, 'reading counters failed');
      }
    }
  }

  /** Stops polling and listening; a poll in flight finishes on its own. */
  stop(): void {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const off of this.offs.splice(0)) off();
  }

  /** Resolves when no poll is in flight (tests, orderly shutdown). */
  async idle(): Promise<void> {
    await this.polling;
  }
}
