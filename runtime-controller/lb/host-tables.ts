/**
 * The entries a host NIC's program needs: its VMs by tunnel port and NIC port, the request
 * tokens of every gateway for every VIP of each VM, the reply path of each VM (peer and token)
 * and routes to the gateways. Independent of health: a host accepts whatever a gateway sends.
 */
import { backendIdIn, type SpecIds } from '../../core/spec/ids.ts';
import { gatewayByName, hostByName, vmMac, vmsOfHost, vipsOfVm } from '../../core/spec/lookup.ts';
import type { LbSpec } from '../../core/spec/schema.ts';
import { computeToken } from '../../core/token/token.ts';
import type { DefaultAction, TableEntry } from './entry.ts';
import { ANY_IPV4, hostRoute } from './gateway-tables.ts';
import { HOST_ACTIONS, HOST_P4 } from './p4-names.ts';
import { replyGatewayOf, replyTokenFields, requestTokenFields } from '../../core/token/conventions.ts';
import type { TokenKeys } from './tokens.ts';

export { replyGatewayOf };
import { uniqueEntries } from './unique.ts';

export interface HostTables {
  readonly host: string;
  readonly defaults: readonly DefaultAction[];
  readonly entries: readonly TableEntry[];
}

export interface HostTablesOptions {
  readonly spec: LbSpec;
  /** The data-plane ids of the spec's VIPs and VMs (vm_id is the VM's backend id). */
  readonly ids: SpecIds;
  readonly host: string;
  readonly keys: TokenKeys;
  /** Token expiry, seconds since the Unix epoch. */
  readonly expiry: number;
  /** The gateway the VMs' replies go to (default: replyGatewayOf). */
  readonly replyGateway?: string;
}

export function computeHostTables(options: HostTablesOptions): HostTables {
  const { spec, keys, expiry } = options;
  const host = hostByName(spec, options.host);
  const reply = options.replyGateway === undefined ? replyGatewayOf(spec, host) : gatewayByName(spec, options.replyGateway);
  const defaults: DefaultAction[] = [
    { table: HOST_P4.hostConfig, action: HOST_ACTIONS.setHost, params: { underlay_addr: host.underlay.ipv4 } },
  ];
  const entries: TableEntry[] = [];
  for (const vm of vmsOfHost(spec, host)) {
    const id = backendIdIn(options.ids, vm.name);
    entries.push({
      table: HOST_P4.localVm,
      keys: { vm_udp_port: vm.udpPort },
      action: HOST_ACTIONS.deliverToVm,
      params: { vm_id: id, port: vm.nicPort, host_mac: host.underlay.mac, vm_mac: vmMac(vm) },
    });
    entries.push({ table: HOST_P4.vmPort, keys: { port: vm.nicPort }, action: HOST_ACTIONS.fromVm, params: { vm_id: id, vm_udp_port: vm.udpPort } });
    for (const gw of spec.gateways) {
      for (const vip of vipsOfVm(spec, vm)) {
        const token = computeToken(keys.host(host.name), requestTokenFields(spec, gw, vip, vm, expiry));
        entries.push({
          table: HOST_P4.tokenTable,
          keys: { src_addr: gw.underlay.ipv4, src_port: gw.underlay.tunnelUdpPort, vm_udp_port: vm.udpPort, token, expiry },
          action: HOST_ACTIONS.acceptTunnel,
          params: {},
        });
      }
    }
    const replyToken = computeToken(keys.gateway(reply.name), replyTokenFields(spec, reply, vm, expiry));
    entries.push({
      table: HOST_P4.peerTable,
      keys: { vm_id: id, dst_addr: ANY_IPV4 },
      action: HOST_ACTIONS.encapToPeer,
      params: { peer_addr: reply.underlay.ipv4, peer_port: reply.underlay.tunnelUdpPort, token: replyToken, expiry },
    });
  }
  for (const gw of spec.gateways) {
    entries.push({
      table: HOST_P4.routes,
      keys: { dst_addr: hostRoute(gw.underlay.ipv4) },
      action: HOST_ACTIONS.forward,
      params: { port: host.ports.underlay, src_mac: host.underlay.mac, dst_mac: gw.underlay.mac },
    });
  }
  return { host: host.name, defaults, entries: uniqueEntries(entries) };
}
