/**
 * The embedded target's P4Runtime server: `SwitchHost` (pipeline, ports, packets, digests) and
 * `P4RuntimeTargetServer` (the gRPC service over it). See docs/embedded-target.md.
 */
export { P4RuntimeTargetServer, P4RUNTIME_API_VERSION } from './server.ts';
export {
  SwitchHost,
  DEVICE_CONFIG_FILE,
  type SwitchHostOptions,
  type TraceEvent,
  type PacketInMessage,
  type HostCounters,
  type PreparedPipeline,
} from './switch-host.ts';
export { Arbitration, MAX_STREAMS, type ArbitrationNotice } from './arbitration.ts';
export { DigestEngine, realScheduler, type DigestConfig, type DigestScheduler, type OutgoingDigestList } from './digests.ts';
export { bindPipeline, type Pipeline, type TableBinding, type ActionBinding, type ControllerHeader } from './pipeline.ts';
export { buildPacketOut, splitPacketIn, type MetadataValue } from './packet-io.ts';
export { ServerError, toGrpcCode, type ServerErrorCode } from './errors.ts';
