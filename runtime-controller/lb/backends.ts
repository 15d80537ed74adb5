/**
 * Which VMs a gateway gives a VIP's slots to, from that gateway's view alone: healthy, not
 * drained, and with geoPreference the nearest location that has one. Pure; two gateways with
 * the same view and location choose the same set.
 */
import { distanceKm, locationNameOfVm, locationOf, vmsOfVip } from '../../core/spec/lookup.ts';
import type { Gateway, LbSpec, Vip, Vm } from '../../core/spec/schema.ts';

/** What the table computation needs to know about backends, as one gateway sees them. */
export interface GatewayView {
  /** Whether `vm` passes `vip`'s health check from this gateway (unknown counts as not healthy). */
  isHealthy(vip: string, vm: string): boolean;
  /** A drained VM takes no new flows but keeps serving the flows pinned to it. */
  isDrained(vm: string): boolean;
}

/** A view from a health source (such as a HealthView) and a set of drained VMs. */
export function gatewayView(health: Pick<GatewayView, 'isHealthy'>, drained: Iterable<string> = []): GatewayView {
  const set = new Set(drained);
  return { isHealthy: (vip, vm) => health.isHealthy(vip, vm), isDrained: (vm) => set.has(vm) };
}

/** Every backend healthy, none drained: the view of a fresh deployment in tests. */
export const ALL_HEALTHY: GatewayView = { isHealthy: () => true, isDrained: () => false };

/**
 * `local`: the gateway's own location; `closest`: the nearest location (great circle) with a
 * candidate; `all`: no preference applies (off, no locations, or no candidate located).
 */
export type SelectionScope = 'local' | 'closest' | 'all';

export type BackendSelection =
  | {
      readonly ok: true;
      /** The VMs that get slots, in the VIP's `backends` order. */
      readonly vms: readonly Vm[];
      readonly scope: SelectionScope;
      /** The chosen location, for `local` and `closest`. */
      readonly location?: string;
    }
  | {
      readonly ok: false;
      /** `no-healthy-backend`: none passes its check; `all-drained`: the healthy ones are all drained. */
      readonly reason: 'no-healthy-backend' | 'all-drained';
    };

export function healthyBackends(spec: LbSpec, gateway: Gateway, vip: Vip, view: GatewayView): BackendSelection {
  const healthy = vmsOfVip(spec, vip).filter((vm) => view.isHealthy(vip.name, vm.name));
  if (healthy.length === 0) return { ok: false, reason: 'no-healthy-backend' };
  const candidates = healthy.filter((vm) => !view.isDrained(vm.name));
  if (candidates.length === 0) return { ok: false, reason: 'all-drained' };
  if (!vip.geoPreference) return { ok: true, vms: candidates, scope: 'all' };

  const at = (vm: Vm) => locationNameOfVm(spec, vm);
  if (gateway.location !== undefined) {
    const local = candidates.filter((vm) => at(vm) === gateway.location);
    if (local.length > 0) return { ok: true, vms: local, scope: 'local', location: gateway.location };
  }
  const here = locationOf(spec, gateway.location);
  if (here !== undefined) {
    let best: { location: string; distance: number } | undefined;
    for (const vm of candidates) {
      const name = at(vm);
      const there = locationOf(spec, name);
      if (name === undefined || there === undefined) continue;
      const distance = distanceKm(here, there);
      // Ties go to the smaller name so the choice does not depend on list order.
      if (best === undefined || distance < best.distance || (distance === best.distance && name < best.location)) {
        best = { location: name, distance };
      }
    }
    if (best !== undefined) {
      const location = best.location;
      return { ok: true, vms: candidates.filter((vm) => at(vm) === location), scope: 'closest', location };
    }
  }
  return { ok: true, vms: candidates, scope: 'all' };
}
