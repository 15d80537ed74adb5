/** Switch ports of the embedded target: the Port contract, its two implementations, `-i` bindings. */
export { type Port, PortError, type PortErrorOptions, MAX_PORT_NUMBER, ETHERNET_HEADER_BYTES, checkPortNumber } from './port.ts';
export { InProcessPort, type InProcessPairOptions } from './in-process-port.ts';
export { InterfacePort, type InterfacePortOptions, type InterfacePortCounters, resolveNetns } from './interface-port.ts';
export { FrameRecorder, type FrameRecorderOptions } from './frame-recorder.ts';
export {
  type PortBinding,
  type PortBindingSource,
  parsePortBinding,
  parsePortBindings,
  formatPortBinding,
  ifnameProblem,
  MAX_IFNAME_BYTES,
} from './port-binding.ts';
export { loadPacketAddon, packetAddonAvailability, DEFAULT_ADDON_PATH } from './packet-addon.ts';
