/**
 * Frames for port tests: locally administered MACs and EtherType 0x88B5 (IEEE 802 "local
 * experimental"), which no kernel protocol handler claims, so test traffic stays at layer 2.
 */
export const TEST_ETHERTYPE = 0x88b5;

/** 02:xx:... has the locally administered bit set and the multicast bit clear. */
export function testMac(id: number): Uint8Array {
  return Uint8Array.of(0x02, 0x70, 0x34, 0x6c, 0x62, id & 0xff);
}

/** dst MAC, src MAC, 0x88B5, then `payload`. */
export function testFrame(options: { from: number; to: number; payload: Uint8Array }): Uint8Array {
  const frame = new Uint8Array(14 + options.payload.length);
  frame.set(testMac(options.to), 0);
  frame.set(testMac(options.from), 6);
  frame[12] = TEST_ETHERTYPE >> 8;
  frame[13] = TEST_ETHERTYPE & 0xff;
  frame.set(options.payload, 14);
  return frame;
}

/** Whether `frame` is a test frame sent from station `from` (filters out the kernel's own chatter). */
export function isTestFrameFrom(frame: Uint8Array, from: number): boolean {
  const mac = testMac(from);
  return (
    frame.length >= 14 &&
    frame[12] === TEST_ETHERTYPE >> 8 &&
    frame[13] === (TEST_ETHERTYPE & 0xff) &&
    mac.every((byte, i) => frame[6 + i] === byte)
  );
}
