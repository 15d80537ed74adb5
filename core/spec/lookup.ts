/**
 * Canonical, pure questions about a validated spec: positions and lookups by name.
 * `vipId` and `backendId` are the ids a deployment starts with (core/spec/ids.ts): a running
 * controller takes its ids from the registry, which keeps them when VMs and VIPs come and go.
 */
import { P4lbError } from '../errors.ts';
import { byCodeUnit } from '../order.ts';
import { NO_ID, SpecLookupError } from './ids.ts';
import type { Gateway, Host, LbSpec, Location, Vip, Vm } from './schema.ts';

export { NO_ID, SpecLookupError };

/** Code-unit order, not locale order: ids must not depend on the machine's locale. */
function byName(a: { name: string }, b: { name: string }): number {
  return byCodeUnit(a.name, b.name);
}

function idIn(kind: string, list: readonly { name: string }[], name: string): number {
  const sorted = [...list].sort(byName);
  const index = sorted.findIndex((x) => x.name === name);
  if (index < 0) throw new SpecLookupError(kind, name, list.map((x) => x.name));
  return index + 1;
}

/** 1-based position of the VIP in the name-sorted VIP list; 0 is reserved for "none". */
export function vipId(spec: LbSpec, vipName: string): number {
  return idIn('VIP', spec.vips, vipName);
}

/** 1-based position of the VM in the name-sorted VM list (global, not per VIP); 0 is "none". */
export function backendId(spec: LbSpec, vmName: string): number {
  return idIn('VM', spec.vms, vmName);
}

/** 1-based position of the gateway in the name-sorted gateway list. */
export function gatewayId(spec: LbSpec, gatewayName: string): number {
  return idIn('gateway', spec.gateways, gatewayName);
}

/** 1-based position of the host in the name-sorted host list. */
export function hostId(spec: LbSpec, hostName: string): number {
  return idIn('host', spec.hosts, hostName);
}


function indexByName<T extends { name: string }>(list: readonly T[]): ReadonlyMap<string, T> {
  return new Map(list.map((x) => [x.name, x]));
}

export const gatewaysByName = (spec: LbSpec): ReadonlyMap<string, Gateway> => indexByName(spec.gateways);
export const hostsByName = (spec: LbSpec): ReadonlyMap<string, Host> => indexByName(spec.hosts);
export const vmsByName = (spec: LbSpec): ReadonlyMap<string, Vm> => indexByName(spec.vms);
export const vipsByName = (spec: LbSpec): ReadonlyMap<string, Vip> => indexByName(spec.vips);
export const locationsByName = (spec: LbSpec): ReadonlyMap<string, Location> => indexByName(spec.locations ?? []);

function find<T extends { name: string }>(kind: string, list: readonly T[], name: string): T {
  const found = list.find((x) => x.name === name);
  if (found === undefined) throw new SpecLookupError(kind, name, list.map((x) => x.name));
  return found;
}

export const vipByName = (spec: LbSpec, name: string): Vip => find('VIP', spec.vips, name);
export const vmByName = (spec: LbSpec, name: string): Vm => find('VM', spec.vms, name);
export const hostByName = (spec: LbSpec, name: string): Host => find('host', spec.hosts, name);
export const gatewayByName = (spec: LbSpec, name: string): Gateway => find('gateway', spec.gateways, name);

/** The VMs behind a VIP, in the order its `backends` lists them. */
export function vmsOfVip(spec: LbSpec, vip: Vip | string): Vm[] {
  const v = typeof vip === 'string' ? vipByName(spec, vip) : vip;
  return v.backends.map((name) => vmByName(spec, name));
}

export function hostOfVm(spec: LbSpec, vm: Vm | string): Host {
  const v = typeof vm === 'string' ? vmByName(spec, vm) : vm;
  return hostByName(spec, v.host);
}

/** The VMs running on a host, in spec order. */
export function vmsOfHost(spec: LbSpec, host: Host | string): Vm[] {
  const name = typeof host === 'string' ? host : host.name;
  return spec.vms.filter((vm) => vm.host === name);
}

/** The VIPs a VM serves, in spec order. */
export function vipsOfVm(spec: LbSpec, vm: Vm | string): Vip[] {
  const name = typeof vm === 'string' ? vm : vm.name;
  return spec.vips.filter((vip) => vip.backends.includes(name));
}

/** A VM's location name: its own, else its host's; undefined when neither is set. */
export function locationNameOfVm(spec: LbSpec, vm: Vm | string): string | undefined {
  const v = typeof vm === 'string' ? vmByName(spec, vm) : vm;
  return v.location ?? hostOfVm(spec, v).location;
}

/** The location's coordinates, when the spec has a `locations` list that names it. */
export function locationOf(spec: LbSpec, name: string | undefined): Location | undefined {
  return name === undefined ? undefined : spec.locations?.find((l) => l.name === name);
}

/** Mean Earth radius (IUGG), for great-circle distances between locations. */
const EARTH_RADIUS_KM = 6371.0088;

/** Great-circle (haversine) distance in kilometres. */
export function distanceKm(a: Pick<Location, 'latitude' | 'longitude'>, b: Pick<Location, 'latitude' | 'longitude'>): number {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The four bytes of a dotted-quad IPv4 address, or undefined when `text` is not one. */
export function ipv4Bytes(text: string): [number, number, number, number] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(?:0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.map(Number) as [number, number, number, number];
}

/**
 * The MAC a VM gets when its spec gives none: 02:00 followed by the four bytes of its private
 * IPv4 address. 0x02 sets the locally-administered bit and leaves the multicast bit clear
 * (IEEE 802 U/L and I/G bits), so it never clashes with a vendor-assigned address.
 */
export function defaultVmMac(privateIpv4: string): string {
  const bytes = ipv4Bytes(privateIpv4);
  if (bytes === undefined) throw new P4lbError('SPEC_BAD_IPV4', `not an IPv4 address: '${privateIpv4}'`);
  return [0x02, 0x00, ...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** A VM's MAC address: its own (lower-cased by the schema), else the default of its private address. */
export function vmMac(vm: Pick<Vm, 'mac' | 'privateIpv4'>): string {
  return vm.mac ?? defaultVmMac(vm.privateIpv4);
}

/** Splits a P4Runtime `host:port` address (IPv6 hosts keep no brackets). */
export function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon);
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port: Number(address.slice(colon + 1)) };
}
