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
  readonly lastResult: ProbeResult | undefined;
}

/** An immutable snapshot of one gateway's health view. */
export interface HealthView {
  readonly gateway: string;
  state(vip: string, vm: string): HealthState;
  /** True only for `healthy`: an `unknown` target takes no traffic until it has passed `rise` probes. */
  isHealthy(vip: string, vm: string): boolean;
  /** Every target, sorted by (VIP, VM). */
  readonly targets: readonly TargetStatus[];
}

export interface GatewayTransition extends HealthTransition {
  readonly gateway: string;
}

const targetKey = (vip: string, vm: string): string => `${vip}\u0000${vm}`;

export function healthViewOf(gateway: string, targets: readonly TargetStatus[]): HealthView {
  const sorted = [...targets].sort((a, b) => byCodeUnit(a.vip, b.vip) || byCodeUnit(a.vm, b.vm));
  const byKey = new Map(sorted.map((t) => [targetKey(t.vip, t.vm), t.state]));
  const state = (vip: string, vm: string): HealthState => byKey.get(targetKey(vip, vm)) ?? 'unknown';
  return { gateway, state, isHealthy: (vip, vm) => state(vip, vm) === 'healthy', targets: sorted };
}

export class HealthMonitor {
  readonly gateway: string;
  private readonly checkers: readonly HealthChecker[];
  private readonly listeners = new Set<(t: GatewayTransition) => void>();

  constructor(options: HealthMonitorOptions) {
    const resolve = options.resolveEndpoint ?? specEndpoint;
    const prober = options.prober ?? probeEndpoint;
    const clock = options.clock ?? systemClock();
    const seed = options.seed ?? options.gateway;
    const logger = options.logger.child({ gateway: options.gateway });
    this.gateway = options.gateway;
    const checkers: HealthChecker[] = [];
    for (const vip of options.spec.vips) {
      for (const vm of vmsOfVip(options.spec, vip)) {
        const target: HealthTarget = { vip: vip.name, vm: vm.name, endpoint: resolve(vip, vm, vip.healthCheck) };
        const checker = new HealthChecker({
          target, check: vip.healthCheck, prober, clock, logger, seed: `${seed}/${vip.name}/${vm.name}`,
        });
        checker.onTransition((t) => this.emit(t));
        checkers.push(checker);
      }
    }
    this.checkers = checkers;
  }

  /** Calls `listener` on every transition of any target; returns the unsubscribe function. */
  onTransition(listener: (t: GatewayTransition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    for (const c of this.checkers) c.start();
  }

  /** Stops every checker and waits for probes in flight: no timer or socket is left behind. */
  async stop(): Promise<void> {
    await Promise.all(this.checkers.map((c) => c.stop()));
  }

  view(): HealthView {
    return healthViewOf(
      this.gateway,
      this.checkers.map((c) => ({ ...c.target, state: c.state, lastResult: c.lastResult })),
    );
  }

  private emit(t: HealthTransition): void {
    const event: GatewayTransition = { ...t, gateway: this.gateway };
    for (const listener of this.listeners) listener(event);
  }
}

