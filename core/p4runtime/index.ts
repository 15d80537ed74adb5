/**
 * p4lb's P4Runtime protocol layer, shared by the embedded target's server and the controller's
 * client. Generated message types are re-exported as namespaces because P4Info and P4Runtime
 * both define messages named `Action` (p4config.Action vs p4v1.Action).
 */
export * from './bytes.ts';
export * from './errors.ts';
export * from './match-kinds.ts';
export * from './service.ts';
export * from './status.ts';
export * from './text-format.ts';
export * from './write-codec.ts';
export * as p4v1 from './gen/p4/v1/p4runtime_pb.ts';
export * as p4data from './gen/p4/v1/p4data_pb.ts';
export * as p4config from './gen/p4/config/v1/p4info_pb.ts';
export * as p4types from './gen/p4/config/v1/p4types_pb.ts';
export * as rpc from './gen/google/rpc/status_pb.ts';
