/** The controller's P4Runtime client of one switch: writes, reads, stream session, registers. */
export * from './errors.ts';
export * from './events.ts';
export * from './registers.ts';
export * from './switch-client.ts';
export * from './switch-stream.ts';
export { Bmv2ThriftConnection, BMV2_THRIFT_PORT, encodeRegisterCall, decodeRegisterReply, type Bmv2ThriftOptions } from './thrift/bmv2-registers.ts';
