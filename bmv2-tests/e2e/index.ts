/** End-to-end topology for p4lb: network namespaces, veth, an ECMP router, an underlay bridge, VM servers. */
export { E2eError, type E2eErrorCode } from './errors.ts';
export { run, runSync, inNamespace, hasEthtool, formatCommand, type Command, type RunOptions, type RunResult } from './run.ts';
export {
  planTopology,
  planHostStandIn,
  commandsOf,
  describeStep,
  namespaceName,
  interfaceName,
  checkTag,
  NAMESPACE_PREFIX,
  TAG_PATTERN,
  VM_GATEWAY_ADDRESS,
  UNDERLAY_MTU,
  EDGE_MTU,
  MAX_CLIENTS,
  MAX_GATEWAYS,
  type BuildStep,
  type PlanOptions,
  type TopologyPlan,
  type TopologyLayout,
  type SwitchPlacement,
  type SwitchPorts,
  type SwitchPort,
  type ClientLayout,
  type RouterLayout,
  type GatewayLinkLayout,
  type UnderlayLayout,
  type VmLayout,
  type HostStandInLayout,
} from './plan.ts';
export { buildTopology, topologySupport, randomTag, Topology, DEFAULT_CLIENTS, type BuildOptions, type HostStandIn, type TopologySupport } from './topology.ts';
export { SpawnedProcess, type SpawnOptions, type ProcessExit } from './spawned-process.ts';
export { findLeaks, findLeaksSync, hasLeaks, describeLeaks, removeTag, removeTagSync, type Leaks } from './leaks.ts';
export { startVmServers, vmListenAddresses, VM_SERVER_SCRIPT, type VmServers, type VmServer, type ListenAddress } from './vm-servers.ts';
