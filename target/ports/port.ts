/**
 * A switch port: where the embedded target receives frames and sends them. Two implementations:
 * `InProcessPort` (a pair of ends joined in memory, for tests and harnesses) and `InterfacePort`
 * (a Linux interface through an AF_PACKET socket, for network-namespace topologies).
 */
import { P4lbError, type P4lbErrorOptions } from '../../core/errors.ts';

export interface Port {
  /** The switch's port number (v1model `standard_metadata.ingress_port` / `egress_spec`). */
  readonly number: number;
  /** Sends one whole Ethernet frame (header included, no FCS). */
  send(frame: Uint8Array): void;
  /** Adds a listener for every frame received from now on; frames are not shared between calls. */
  onFrame(listener: (frame: Uint8Array) => void): void;
  /** Stops receiving and releases the port. Idempotent. */
  close(): Promise<void>;
}

/**
 * Highest usable port number: v1model's port is 9 bits and BMv2 reserves 511 as its drop port,
 * so `simple_switch -i N@ifname` accepts 0..510.
 */
export const MAX_PORT_NUMBER = 510;

/** Destination MAC, source MAC, EtherType: a frame shorter than this cannot be sent. */
export const ETHERNET_HEADER_BYTES = 14;

export interface PortErrorOptions extends P4lbErrorOptions {
  /** The port number, when the error concerns one port. */
  readonly port?: number;
  /** The operating-system error name behind the failure (`ENODEV`, `EPERM`, ...). */
  readonly systemCode?: string;
}

/** Errors of the ports layer; `code` is one of the `PORT_*` codes documented where thrown. */
export class PortError extends P4lbError {
  readonly port: number | undefined;
  readonly systemCode: string | undefined;

  constructor(code: string, message: string, options: PortErrorOptions = {}) {
    super(code, message, options);
    this.port = options.port;
    this.systemCode = options.systemCode;
  }
}

/** Throws PORT_NUMBER_INVALID unless `n` is an integer in 0..MAX_PORT_NUMBER. */
export function checkPortNumber(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > MAX_PORT_NUMBER) {
    throw new PortError('PORT_NUMBER_INVALID', `port number ${n} is not an integer from 0 to ${MAX_PORT_NUMBER}`, {
      hint: `${MAX_PORT_NUMBER + 1} is BMv2's drop port`,
    });
  }
  return n;
}

/** Throws PORT_FRAME_INVALID unless `frame` is a Uint8Array holding at least an Ethernet header. */
export function checkFrame(frame: Uint8Array, port: number): void {
  if (!(frame instanceof Uint8Array)) {
    throw new PortError('PORT_FRAME_INVALID', `port ${port}: a frame must be a Uint8Array`, { port });
  }
  if (frame.length < ETHERNET_HEADER_BYTES) {
    throw new PortError(
      'PORT_FRAME_INVALID',
      `port ${port}: a frame of ${frame.length} bytes is shorter than an Ethernet header (${ETHERNET_HEADER_BYTES})`,
      { port },
    );
  }
}

export function closedPortError(port: number, operation: string): PortError {
  return new PortError('PORT_CLOSED', `port ${port} is closed: cannot ${operation}`, { port });
}
