/**
 * Runs one HealthChecker per (VIP, VM) of a spec, as seen from one gateway, and keeps that
 * gateway's view. Gateways compute their tables independently, so each may have its own
 * monitor; sharing one is allowed, the API does not assume it.
 */
import type { Logger } from 'pino';
import { byCodeUnit } from '../../core/order.ts';
import { vmsOfVip } from '../../core/spec/lookup.ts';
import type { HealthCheck, LbSpec, Vip, Vm } from '../../core/spec/schema.ts';
import { systemClock, type Clock } from './clock.ts';
import { HealthChecker, type HealthTarget, type HealthTransition } from './health-checker.ts';
import type { HealthState, ProbeResult } from './health-state.ts';
import { probeEndpoint, type ProbeEndpoint, type Prober } from './probe.ts';

/** Where to probe a VM for a VIP; tests map it to namespace or loopback addresses. */
export type EndpointResolver = (vip: Vip, vm: Vm, check: HealthCheck) => ProbeEndpoint;

/**
 * The spec's rule: every probe goes to the VM's private address on `healthCheck.port`, in both
 * modes. In tunnel mode every VM owns the VIP, so the VIP address names no single VM to probe.
 */
export const specEndpoint: EndpointResolver = (_vip, vm, check) => ({ host: vm.privateIpv4, port: check.port });

export interface HealthMonitorOptions {
  readonly spec: LbSpec;
  /** The gateway whose view this is (labels logs and events, seeds the jitter). */
  readonly gateway: string;
  readonly logger: Logger;
  readonly resolveEndpoint?: EndpointResolver;
  readonly prober?: Prober;
  readonly clock?: Clock;
  /** Jitter seed shared by the targets (each adds its own name); default: the gateway name. */
  readonly seed?: string;
}

export interface TargetStatus {
  readonly vip: string;
  readonly vm: string;
  readonly endpoint: ProbeEndpoint;
  readonly state: HealthState;
  /** When the state was entered (ms since the epoch); undefined while still in the initial state. */
  readonly since: number | undefined;
  readonly lastResult: ProbeResult | undefined;
}

/** An immutable snapshot of one gateway's health view. */
export interface HealthView {
  readonly gateway: string;
  state(vip: string, vm: string): HealthState;
  /** When that state was entered (ms since the epoch); undefined while still in the initial state. */
  since(vip: string, vm: string): number | undefined;
  /** True only for `healthy`: an `unknown` target takes no traffic until it has passed `rise` probes. */
  isHealthy(vip: string, vm: string): boolean;
  /** Every target, sorted by (VIP, VM). */
  readonly targets: readonly TargetStatus[];
}

export interface GatewayTransition extends HealthTransition {
  readonly gateway: string;
}

const targetKey = (vip: string, vm: string): string => `${vip}\u0000${vm}`;
const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export function healthViewOf(gateway: string, targets: readonly TargetStatus[]): HealthView {
  const sorted = [...targets].sort((a, b) => byCodeUnit(a.vip, b.vip) || byCodeUnit(a.vm, b.vm));
  const byKey = new Map(sorted.map((t) => [targetKey(t.vip, t.vm), t]));
  const state = (vip: string, vm: string): HealthState => byKey.get(targetKey(vip, vm))?.state ?? 'unknown';
  const since = (vip: string, vm: string): number | undefined => byKey.get(targetKey(vip, vm))?.since;
  return { gateway, state, since, isHealthy: (vip, vm) => state(vip, vm) === 'healthy', targets: sorted };
}

export class HealthMonitor {
  readonly gateway: string;
  private checkers: readonly HealthChecker[];
  private readonly listeners = new Set<(t: GatewayTransition) => void>();
  private readonly make: (spec: LbSpec) => Map<string, { readonly target: HealthTarget; readonly check: HealthCheck }>;
  private readonly newChecker: (target: HealthTarget, check: HealthCheck) => HealthChecker;
  private started = false;

  constructor(options: HealthMonitorOptions) {
    const resolve = options.resolveEndpoint ?? specEndpoint;
    const prober = options.prober ?? probeEndpoint;
    const clock = options.clock ?? systemClock();
    const seed = options.seed ?? options.gateway;
    const logger = options.logger.child({ gateway: options.gateway });
    this.gateway = options.gateway;
    this.make = (spec) => {
      const targets = new Map<string, { target: HealthTarget; check: HealthCheck }>();
      for (const vip of spec.vips) {
        for (const vm of vmsOfVip(spec, vip)) {
          targets.set(targetKey(vip.name, vm.name), { target: { vip: vip.name, vm: vm.name, endpoint: resolve(vip, vm, vip.healthCheck) }, check: vip.healthCheck });
        }
      }
      return targets;
    };
    this.newChecker = (target, check) => {
      const checker = new HealthChecker({ target, check, prober, clock, logger, seed: `${seed}/${target.vip}/${target.vm}` });
      checker.onTransition((t) => this.emit(t));
      return checker;
    };
    this.checkers = [...this.make(options.spec).values()].map(({ target, check }) => this.newChecker(target, check));
  }

  /**
   * Follows a changed spec: a (VIP, VM) whose endpoint and check are unchanged keeps its checker
   * and its state (a backend that stays is never reset to unknown); the others are stopped or
   * started. Resolves once the removed checkers have stopped.
   */
  async retarget(spec: LbSpec): Promise<void> {
    const wanted = this.make(spec);
    const kept: HealthChecker[] = [];
    const removed: HealthChecker[] = [];
    for (const c of this.checkers) {
      const w = wanted.get(targetKey(c.target.vip, c.target.vm));
      if (w !== undefined && sameJson(w.target.endpoint, c.target.endpoint) && sameJson(w.check, c.check)) {
        kept.push(c);
        wanted.delete(targetKey(c.target.vip, c.target.vm));
      } else removed.push(c);
    }
    const added = [...wanted.values()].map(({ target, check }) => this.newChecker(target, check));
    this.checkers = [...kept, ...added];
    await Promise.all(removed.map((c) => c.stop()));
    if (this.started) for (const c of added) c.start();
  }

  /** Calls `listener` on every transition of any target; returns the unsubscribe function. */
  onTransition(listener: (t: GatewayTransition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    this.started = true;
    for (const c of this.checkers) c.start();
  }

  /** Stops every checker and waits for probes in flight: no timer or socket is left behind. */
  async stop(): Promise<void> {
    this.started = false;
    await Promise.all(this.checkers.map((c) => c.stop()));
  }

  view(): HealthView {
    return healthViewOf(
      this.gateway,
      this.checkers.map((c) => ({ ...c.target, state: c.state, since: c.since, lastResult: c.lastResult })),
    );
  }

  private emit(t: HealthTransition): void {
    const event: GatewayTransition = { ...t, gateway: this.gateway };
    for (const listener of this.listeners) listener(event);
  }
}

