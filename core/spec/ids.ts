/**
 * The numbers VIPs and VMs carry in the data plane (vip_id, backend_id = vm_id). Flow-state
 * entries hold backend ids and counters are indexed by them, so a running deployment must never
 * renumber: ids are assigned once, kept by the registry, and a VM or VIP added later takes the
 * lowest free id instead of shifting the others. A deployment starts with its VIPs and VMs
 * numbered by position in the name-sorted lists (`positionalIds`), which is what every id was
 * before ids were kept. Pure.
 */
import { P4lbError, didYouMean } from '../errors.ts';
import { byCodeUnit } from '../order.ts';
import type { LbSpec } from './schema.ts';

/** Id 0 means "no VIP" / "no backend" in the data plane (a table miss, an empty slot). */
export const NO_ID = 0;
/** Ids travel in 16-bit fields of the data plane (vip_id, backend_id, vm_id). */
export const MAX_DATA_PLANE_ID = 0xffff;

export type IdKind = 'vip' | 'backend';

/** Name → id for the spec's VIPs and VMs. */
export interface SpecIds {
  readonly vip: ReadonlyMap<string, number>;
  readonly backend: ReadonlyMap<string, number>;
}

/** A name that the spec does not define (a caller bug once the spec has been validated). */
export class SpecLookupError extends P4lbError {
  constructor(kind: string, name: string, known: Iterable<string>) {
    super('SPEC_UNKNOWN_NAME', `unknown ${kind} '${name}'`, { hint: didYouMean(name, known) });
  }
}

/**
 * Ids for `names`: a name in `kept` keeps its id; the others, in code-unit order, take the
 * lowest ids that are free. Names of `kept` not in `names` release their ids. With nothing kept
 * this numbers the names 1, 2, … in sorted order.
 */
export function assignIds(kind: IdKind, names: readonly string[], kept: ReadonlyMap<string, number> = new Map()): Map<string, number> {
  const out = new Map<string, number>();
  const used = new Set<number>();
  for (const name of names) {
    const id = kept.get(name);
    if (id === undefined) continue;
    if (!Number.isInteger(id) || id <= NO_ID || id > MAX_DATA_PLANE_ID) throw new P4lbError('SPEC_BAD_ID', `${kind} '${name}' has id ${id}, outside 1..${MAX_DATA_PLANE_ID}`);
    if (used.has(id)) throw new P4lbError('SPEC_BAD_ID', `${kind} id ${id} is held by two names`, { hint: `'${name}' and '${[...out].find(([, v]) => v === id)?.[0]}'` });
    out.set(name, id);
    used.add(id);
  }
  let next = NO_ID + 1;
  for (const name of [...new Set(names)].filter((n) => !out.has(n)).sort(byCodeUnit)) {
    while (used.has(next)) next += 1;
    if (next > MAX_DATA_PLANE_ID) throw new P4lbError('SPEC_TOO_MANY', `no ${kind} id left for '${name}': ids are 16 bits`);
    out.set(name, next);
    used.add(next);
  }
  return out;
}

/** The ids a deployment starts with: positions in the name-sorted VIP and VM lists. */
export function positionalIds(spec: LbSpec): SpecIds {
  return {
    vip: assignIds('vip', spec.vips.map((v) => v.name)),
    backend: assignIds('backend', spec.vms.map((v) => v.name)),
  };
}

/** The spec's ids, keeping those of `kept` for names that stay. */
export function idsFor(spec: LbSpec, kept: SpecIds): SpecIds {
  return {
    vip: assignIds('vip', spec.vips.map((v) => v.name), kept.vip),
    backend: assignIds('backend', spec.vms.map((v) => v.name), kept.backend),
  };
}

export function vipIdIn(ids: SpecIds, name: string): number {
  const id = ids.vip.get(name);
  if (id === undefined) throw new SpecLookupError('VIP', name, ids.vip.keys());
  return id;
}

export function backendIdIn(ids: SpecIds, name: string): number {
  const id = ids.backend.get(name);
  if (id === undefined) throw new SpecLookupError('VM', name, ids.backend.keys());
  return id;
}

/** Id → name, for decoding what the data plane reports (undefined for a free id). */
export function namesById(map: ReadonlyMap<string, number>): ReadonlyMap<number, string> {
  return new Map([...map].map(([name, id]) => [id, name]));
}

/** Whether two id tables give every VIP and VM the same id. */
export function sameIds(a: SpecIds, b: SpecIds): boolean {
  const same = (x: ReadonlyMap<string, number>, y: ReadonlyMap<string, number>): boolean => x.size === y.size && [...x].every(([name, id]) => y.get(name) === id);
  return same(a.vip, b.vip) && same(a.backend, b.backend);
}

/** The largest id in use, NO_ID when none. */
export function maxId(map: ReadonlyMap<string, number>): number {
  let max = NO_ID;
  for (const id of map.values()) if (id > max) max = id;
  return max;
}
