/** Packet codecs shared by the P4 generator, the controller, the embedded target and the tests. */
export * from './bytes.ts';
export * from './checksum.ts';
export * from './errors.ts';
export * from './fields.ts';
export * from './ethernet.ts';
export * from './ipv4.ts';
export * from './tcp.ts';
export * from './udp.ts';
export * from './tunnel.ts';
export * from './packet.ts';
export * from './tunnel-packet.ts';
export * from './nat.ts';
