/**
 * Loads the native AF_PACKET addon (native/packet_socket.cc, built by binding.gyp into
 * build/Release/p4lb_packet.node) on first use, so that code which never opens an interface port
 * runs where the addon is not built (macOS, a checkout without a compiler).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { PortError } from './port.ts';

/** Opaque socket handle made by `open`; only the addon can use it. */
export type PacketHandle = { readonly __packetHandle: unique symbol };

/** Errors the addon throws or reports: Node's system-error shape plus the interface name. */
export interface PacketSystemError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly ifname: string;
}

export interface PacketSocketInfo {
  readonly ifname: string;
  /** `ifname`, or `ifname in <netns path>`: how error messages name the socket. */
  readonly where: string;
  readonly ifindex: number;
  /** False on kernels before 4.20: our own transmissions are then filtered in user space. */
  readonly kernelIgnoresOutgoing: boolean;
  readonly closed: boolean;
}

/** The addon's exports (native/packet_socket.cc documents each). */
export interface PacketAddon {
  open(ifname: string, netnsPath?: string): PacketHandle;
  startReceiving(
    handle: PacketHandle,
    onFrame: (frame: Buffer) => void,
    onError: (error: PacketSystemError) => void,
  ): void;
  send(handle: PacketHandle, frame: Uint8Array): number;
  info(handle: PacketHandle): PacketSocketInfo;
  close(handle: PacketHandle, onClosed?: () => void): void;
}

export const DEFAULT_ADDON_PATH = fileURLToPath(new URL('../../build/Release/p4lb_packet.node', import.meta.url));

const BUILD_HINT =
  'run `npm ci` (or `npm rebuild`) at the repository root: npm runs node-gyp on binding.gyp, which needs g++, make and python3';

const loaded = new Map<string, PacketAddon>();

/** The addon at `path`, loaded once; throws PORT_ADDON_MISSING or PORT_ADDON_LOAD_FAILED. */
export function loadPacketAddon(path: string = DEFAULT_ADDON_PATH): PacketAddon {
  const cached = loaded.get(path);
  if (cached !== undefined) return cached;
  if (!existsSync(path)) {
    throw new PortError('PORT_ADDON_MISSING', `the native packet addon is not built: ${path} does not exist`, {
      hint: BUILD_HINT,
    });
  }
  let addon: PacketAddon;
  try {
    addon = createRequire(import.meta.url)(path) as PacketAddon;
  } catch (cause) {
    throw new PortError('PORT_ADDON_LOAD_FAILED', `cannot load the native packet addon ${path}: ${String(cause)}`, {
      hint: `rebuild it for this Node version: ${BUILD_HINT}`,
      cause,
    });
  }
  loaded.set(path, addon);
  return addon;
}

/** Whether interface ports can be opened here, and if not, why (for skipping tests and `doctor` output). */
export function packetAddonAvailability(path: string = DEFAULT_ADDON_PATH): { available: true } | { available: false; reason: string } {
  if (process.platform !== 'linux') return { available: false, reason: 'AF_PACKET interface ports need Linux' };
  try {
    loadPacketAddon(path);
    return { available: true };
  } catch (error) {
    return { available: false, reason: error instanceof PortError ? error.describe() : String(error) };
  }
}
