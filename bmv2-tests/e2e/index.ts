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
export { startVmServer, startVmServers, vmListenAddresses, VM_SERVER_SCRIPT, type VmServers, type VmServer, type ListenAddress } from './vm-servers.ts';
export {
  runBurst, runBulk, startHold, HoldSession, parseTrafficLine, burstArgs, holdArgs, bulkArgs, TRAFFIC_CLIENT_SCRIPT,
  type TrafficHost, type TrafficTarget, type BurstOptions, type HoldOptions, type BulkOptions, type BurstResult,
  type BurstConnection, type HoldProgress, type HoldReady, type HoldResult, type BulkResult, type TrafficLine,
} from './traffic.ts';
export { startSystem, e2eSpecText, RunningSystem, E2E_HEALTH, EXAMPLE_SPEC_FILE, type SystemOptions, type SystemTarget, type Bmv2Tools as SystemBmv2Tools } from './system.ts';
export { UnderlayTap, readTunnelFrame, forgeToken, type TunnelFrame } from './underlay-tap.ts';
export { parseMetrics, metricSum, type Sample } from './metrics-text.ts';
