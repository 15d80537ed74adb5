/**
 * Control-plane names of the tables and actions in templates/gateway.p4.hbs and templates/host.p4.hbs.
 * Each is checked by type against the generated bindings of the example (p4out/example, the
 * committed golden; names come from the templates, not the spec), so a renamed table in the
 * templates fails type-checking here. A type-only import: the controller loads no bindings.
 */
import type { GatewayActionName, GatewayCounterName, GatewayRegisterName, GatewayTableName } from '../../p4out/example/gateway/gateway.bindings.ts';
import type { HostActionName, HostCounterName, HostRegisterName, HostTableName } from '../../p4out/example/host/host.bindings.ts';

export const GATEWAY_P4 = {
  gatewayConfig: 'GatewayIngress.gateway_config',
  vipTable: 'GatewayIngress.vip_table',
  slotTable: 'GatewayIngress.slot_table',
  backendTable: 'GatewayIngress.backend_table',
  tokenTable: 'GatewayIngress.token_table',
  natReverse: 'GatewayIngress.nat_reverse',
  routes: 'GatewayIngress.routes',
  drops: 'GatewayIngress.drops',
  vipStats: 'GatewayIngress.vip_stats',
  backendStats: 'GatewayIngress.backend_stats',
  flowWay0: 'GatewayIngress.flow_way0',
  flowWay1: 'GatewayIngress.flow_way1',
} as const satisfies Record<string, GatewayTableName | GatewayCounterName | GatewayRegisterName>;

export const GATEWAY_ACTIONS = {
  setGateway: 'GatewayIngress.set_gateway',
  setVip: 'GatewayIngress.set_vip',
  setSlotBackend: 'GatewayIngress.set_slot_backend',
  setBackend: 'GatewayIngress.set_backend',
  acceptTunnel: 'GatewayIngress.accept_tunnel',
  natToVip: 'GatewayIngress.nat_to_vip',
  forward: 'GatewayIngress.forward',
} as const satisfies Record<string, GatewayActionName>;

export const HOST_P4 = {
  hostConfig: 'HostIngress.host_config',
  localVm: 'HostIngress.local_vm',
  tokenTable: 'HostIngress.token_table',
  vmPort: 'HostIngress.vm_port',
  peerTable: 'HostIngress.peer_table',
  routes: 'HostIngress.routes',
  drops: 'HostIngress.drops',
  vmRx: 'HostIngress.vm_rx',
  vmTx: 'HostIngress.vm_tx',
} as const satisfies Record<string, HostTableName | HostCounterName | HostRegisterName>;

export const HOST_ACTIONS = {
  setHost: 'HostIngress.set_host',
  deliverToVm: 'HostIngress.deliver_to_vm',
  fromVm: 'HostIngress.from_vm',
  acceptTunnel: 'HostIngress.accept_tunnel',
  encapToPeer: 'HostIngress.encap_to_peer',
  forward: 'HostIngress.forward',
} as const satisfies Record<string, HostActionName>;

/**
 * Make-before-break order of the gateway's tables: an entry is written after the entries it
 * leads to (a slot after the backend it names, a VIP after its slots) and deleted before them.
 */
export const GATEWAY_TABLE_ORDER: readonly string[] = [
  GATEWAY_P4.routes,
  GATEWAY_P4.tokenTable,
  GATEWAY_P4.natReverse,
  GATEWAY_P4.backendTable,
  GATEWAY_P4.slotTable,
  GATEWAY_P4.vipTable,
];

/** The host's tables in the same make-before-break order. */
export const HOST_TABLE_ORDER: readonly string[] = [
  HOST_P4.routes,
  HOST_P4.peerTable,
  HOST_P4.tokenTable,
  HOST_P4.vmPort,
  HOST_P4.localVm,
];
