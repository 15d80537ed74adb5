/**
 * A switch port on a Linux interface (a veth end, a NIC) through the native AF_PACKET addon, so the
 * embedded switch can stand in a network-namespace topology as BMv2's `simple_switch -i N@veth` does.
 *
 * The socket is promiscuous, sees every EtherType, and does not read back its own transmissions.
 * Frames are exactly what the kernel hands over. On veth with checksum offload on (the default),
 * frames that local TCP/UDP sockets sent carry only a partial checksum (CHECKSUM_PARTIAL): whoever
 * builds the topology should run `ethtool -K <veth> tx off` (and `gro off`/`tso off` to keep frames
 * at MTU size) on both ends of every link a switch port is on.
 */
import { readdirSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { didYouMean } from '../../core/errors.ts';
import { loadPacketAddon, type PacketAddon, type PacketHandle, type PacketSystemError } from './packet-addon.ts';
import { checkFrame, checkPortNumber, closedPortError, PortError, type Port } from './port.ts';
import { ifnameProblem } from './port-binding.ts';

export interface InterfacePortOptions {
  readonly number: number;
  readonly ifname: string;
  /**
   * Network namespace the interface is in: a name made by `ip netns add` or a path such as
   * /proc/PID/ns/net. The socket is opened inside it; the rest of the process stays where it is.
   */
  readonly netns?: string;
  /** Where the built addon is; defaults to build/Release/p4lb_packet.node in this repository. */
  readonly addonPath?: string;
}

export interface InterfacePortCounters {
  readonly received: number;
  readonly sent: number;
  /** Frames the kernel refused for a transient link condition (queue full, link down). */
  readonly sendDropped: number;
  readonly receiveErrors: number;
}

/** Link conditions a switch port meets in normal life: the frame is dropped and counted. */
const TRANSIENT_SEND_ERRORS = new Set(['ENOBUFS', 'EAGAIN', 'EWOULDBLOCK', 'ENETDOWN']);

/** `ip netns add NAME` bind-mounts the namespace here. */
const NETNS_RUN_DIR = '/var/run/netns';

function isSystemError(error: unknown): error is PacketSystemError {
  return error instanceof Error && typeof (error as Partial<PacketSystemError>).code === 'string';
}

export class InterfacePort implements Port {
  readonly number: number;
  readonly ifname: string;
  readonly netns: string | undefined;
  private readonly addon: PacketAddon;
  private readonly handle: PacketHandle;
  private readonly frameListeners: ((frame: Uint8Array) => void)[] = [];
  private readonly errorListeners: ((error: PortError) => void)[] = [];
  private receiving = false;
  private closing: Promise<void> | undefined;
  private stats = { received: 0, sent: 0, sendDropped: 0, receiveErrors: 0 };

  private constructor(options: InterfacePortOptions, addon: PacketAddon, handle: PacketHandle) {
    this.number = options.number;
    this.ifname = options.ifname;
    this.netns = options.netns;
    this.addon = addon;
    this.handle = handle;
  }

  /**
   * Opens the interface. Throws PortError: PORT_NUMBER_INVALID, PORT_BINDING_INVALID (a name the
   * kernel cannot have), PORT_ADDON_MISSING / PORT_ADDON_LOAD_FAILED, PORT_OPEN_FAILED (with
   * `systemCode`, e.g. ENODEV for no such interface, EPERM without CAP_NET_RAW).
   */
  static open(options: InterfacePortOptions): InterfacePort {
    checkPortNumber(options.number);
    const problem = ifnameProblem(options.ifname);
    if (problem !== undefined) {
      throw new PortError('PORT_BINDING_INVALID', `port ${options.number}: ${problem}`, { port: options.number });
    }
    const addon = loadPacketAddon(options.addonPath);
    const netnsPath = options.netns === undefined ? undefined : resolveNetns(options.netns);
    let handle: PacketHandle;
    try {
      handle = addon.open(options.ifname, netnsPath);
    } catch (error) {
      throw openError(options, error);
    }
    return new InterfacePort(options, addon, handle);
  }

  get counters(): InterfacePortCounters {
    return { ...this.stats };
  }

  /** False on kernels before 4.20, where our own transmissions are filtered in user space. */
  get kernelIgnoresOutgoing(): boolean {
    return this.addon.info(this.handle).kernelIgnoresOutgoing;
  }

  /**
   * Sends one frame. A frame the kernel refuses for a transient link condition (ENOBUFS, EAGAIN,
   * ENETDOWN) is dropped and counted in `counters.sendDropped`, as a switch drops on a congested or
   * down port; anything else throws PORT_SEND_FAILED (e.g. EMSGSIZE, larger than the MTU).
   */
  send(frame: Uint8Array): void {
    if (this.closing !== undefined) throw closedPortError(this.number, 'send');
    checkFrame(frame, this.number);
    try {
      this.addon.send(this.handle, frame);
      this.stats.sent++;
    } catch (error) {
      if (isSystemError(error) && TRANSIENT_SEND_ERRORS.has(error.code)) {
        this.stats.sendDropped++;
        return;
      }
      throw this.systemError('PORT_SEND_FAILED', error);
    }
  }

  /** Receiving starts with the first listener; frames that arrived since open() wait in the socket. */
  onFrame(listener: (frame: Uint8Array) => void): void {
    if (this.closing !== undefined) throw closedPortError(this.number, 'add a frame listener');
    this.frameListeners.push(listener);
    if (this.receiving) return;
    this.receiving = true;
    this.addon.startReceiving(
      this.handle,
      (frame) => this.deliver(frame),
      (error) => this.receiveFailed(error),
    );
  }

  /**
   * Receive-side errors (PORT_RECEIVE_FAILED: ENETDOWN when the link went down, an oversized GRO
   * frame). Receiving goes on after them; without a listener they are only counted.
   */
  onError(listener: (error: PortError) => void): void {
    this.errorListeners.push(listener);
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.addon.close(this.handle, resolve);
    });
    return this.closing;
  }

  private deliver(frame: Buffer): void {
    this.stats.received++;
    const many = this.frameListeners.length > 1;
    for (const listener of [...this.frameListeners]) listener(many ? new Uint8Array(frame) : frame);
  }

  private receiveFailed(error: PacketSystemError): void {
    this.stats.receiveErrors++;
    const portError = this.systemError('PORT_RECEIVE_FAILED', error);
    for (const listener of [...this.errorListeners]) listener(portError);
  }

  private systemError(code: string, error: unknown): PortError {
    const message = error instanceof Error ? error.message : String(error);
    return new PortError(code, `port ${this.number}: ${message}`, {
      port: this.number,
      systemCode: isSystemError(error) ? error.code : undefined,
      cause: error,
    });
  }
}

/** A bare name means `ip netns add NAME`'s bind mount; a path is used as it is. */
export function resolveNetns(netns: string): string {
  return isAbsolute(netns) ? netns : join(NETNS_RUN_DIR, netns);
}

function openError(options: InterfacePortOptions, error: unknown): PortError {
  const systemCode = isSystemError(error) ? error.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  let hint: string | undefined;
  if (systemCode === 'EPERM' || systemCode === 'EACCES') {
    hint = 'AF_PACKET sockets need CAP_NET_RAW (and CAP_SYS_ADMIN to enter a namespace): run as root';
  } else if (systemCode === 'ENODEV' && options.netns === undefined) {
    hint = didYouMean(options.ifname, listInterfaces()) ?? 'see `ip link`';
  } else if (systemCode === 'ENODEV') {
    hint = `see \`ip -n ${options.netns} link\``;
  }
  return new PortError('PORT_OPEN_FAILED', `port ${options.number}: ${message}`, {
    port: options.number,
    systemCode,
    hint,
    cause: error,
  });
}

/** Interfaces of this process's namespace, for "did you mean"; empty when sysfs is not there. */
function listInterfaces(): string[] {
  try {
    return readdirSync('/sys/class/net');
  } catch {
    return [];
  }
}
