/**
 * InterfacePort on real veth pairs. Each test makes its own network namespace and veth pair, named
 * after this process id, and removes them afterwards even when the test fails. Only layer-2 frames
 * with EtherType 0x88B5 and locally administered MACs are sent, so no kernel stack acts on them.
 * Needs root (CAP_NET_ADMIN for `ip`, CAP_NET_RAW for AF_PACKET) and the built addon.
 */
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameRecorder } from './frame-recorder.ts';
import { InterfacePort } from './interface-port.ts';
import { packetAddonAvailability } from './packet-addon.ts';
import { PortError } from './port.ts';
import { isTestFrameFrom, testFrame } from './test-frames.ts';

const RECEIVE_TIMEOUT_MS = 3000;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root to create veth pairs and open AF_PACKET sockets';
  const addon = packetAddonAvailability();
  if (!addon.available) return addon.reason;
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'needs the `ip` command (iproute2)';
  }
  return undefined;
}

const reason = skipReason();
// pid has at most 7 digits, so `p4lbt-<pid>-a` fits Linux's 15-byte interface names.
const NETNS = `p4lbt-${process.pid}`;
const END_A = `p4lbt-${process.pid}-a`;
const END_B = `p4lbt-${process.pid}-b`;

const openPorts: InterfacePort[] = [];
const cleanups: (() => void)[] = [];

function open(options: Parameters<typeof InterfacePort.open>[0]): InterfacePort {
  const port = InterfacePort.open(options);
  openPorts.push(port);
  return port;
}

const LINK_UP_TIMEOUT_MS = 5000;

/**
 * Waits until the kernel reports the link operationally up. Until then its transmit queue is still
 * the noop qdisc, which drops frames silently (send() succeeds); the kernel's link watcher
 * activates it, later when the rtnl lock is busy (e.g. while a namespace is being deleted).
 */
async function waitUntilUp(netns: string | undefined, ifname: string): Promise<void> {
  const args = [...(netns === undefined ? [] : ['-n', netns]), '-j', 'link', 'show', 'dev', ifname];
  const deadline = Date.now() + LINK_UP_TIMEOUT_MS;
  for (;;) {
    const [link] = JSON.parse(execFileSync('ip', args, { encoding: 'utf8' })) as { operstate?: string }[];
    if (link?.operstate === 'UP') return;
    if (Date.now() > deadline) {
      throw new Error(`${ifname} is not up after ${LINK_UP_TIMEOUT_MS} ms (operstate ${link?.operstate})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A veth pair with both ends up, inside a fresh namespace, or in this one when `inNamespace` is false. */
async function createVethPair(inNamespace: boolean): Promise<void> {
  const netns = inNamespace ? NETNS : undefined;
  const inNetns = netns === undefined ? [] : ['-n', netns];
  if (netns !== undefined) {
    ip('netns', 'add', netns);
    cleanups.push(() => ip('netns', 'del', netns)); // deleting the namespace deletes its veths
  }
  ip(...inNetns, 'link', 'add', END_A, 'type', 'veth', 'peer', 'name', END_B);
  if (netns === undefined) cleanups.push(() => ip('link', 'del', END_A)); // and its peer
  ip(...inNetns, 'link', 'set', END_A, 'up');
  ip(...inNetns, 'link', 'set', END_B, 'up');
  await waitUntilUp(netns, END_A);
  await waitUntilUp(netns, END_B);
}

afterEach(async () => {
  const failures: unknown[] = [];
  for (const port of openPorts.splice(0)) await port.close().catch((e: unknown) => failures.push(e));
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      cleanup();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, 'interface test cleanup failed');
});

/** A test frame from station `from` of `padTo` bytes (at least 16), carrying `seq`. */
function frame(from: number, seq: number, padTo = 0): Uint8Array {
  const payload = new Uint8Array(Math.max(2, padTo - 14));
  payload[0] = seq;
  payload[payload.length - 1] = 0xee;
  return testFrame({ from, to: from === 2 ? 1 : 2, payload });
}

describe.skipIf(reason !== undefined)(`InterfacePort on a veth pair${reason === undefined ? '' : ` (skipped: ${reason})`}`, () => {
  it('exchanges frames both ways inside a namespace, without reading what leaves its interface', async () => {
    await createVethPair(true);
    const a = open({ number: 1, ifname: END_A, netns: NETNS });
    const b = open({ number: 2, ifname: END_B, netns: NETNS });
    // A second socket on a's interface: what it sends leaves through END_A, so a must not read it
    // (the kernel never loops a frame back to its own socket, so a's own frames prove nothing).
    const alsoOnA = open({ number: 3, ifname: END_A, netns: NETNS });
    const anyStation = (f: Uint8Array) => [1, 2, 3].some((id) => isTestFrameFrom(f, id));
    const atA = new FrameRecorder(a, { accept: anyStation });
    const atB = new FrameRecorder(b, { accept: anyStation });

    // Frames shorter than Ethernet's 60-byte minimum go out and arrive unpadded on veth.
    const fromA = [frame(1, 0), frame(1, 1, 60), frame(1, 2, 1514)];
    const fromAlsoOnA = frame(3, 0);
    const fromB = [frame(2, 0, 100), frame(2, 1)];
    for (const f of fromA) a.send(f);
    alsoOnA.send(fromAlsoOnA);
    for (const f of fromB) b.send(f);

    const expectedAtB = [...fromA, fromAlsoOnA].map((f) => Buffer.from(f));
    expect(await atB.take(expectedAtB.length, RECEIVE_TIMEOUT_MS)).toEqual(expectedAtB);
    expect(await atA.take(fromB.length, RECEIVE_TIMEOUT_MS)).toEqual(fromB.map((f) => Buffer.from(f)));
    // Outgoing frames would have been read before b's replies: nothing else is queued.
    expect(atA.drain()).toEqual([]);
    expect(atB.drain()).toEqual([]);
    // `received` also counts the namespace's IPv6 chatter, so only the send side is exact.
    expect(a.counters).toMatchObject({ sent: 3, sendDropped: 0, receiveErrors: 0 });
    expect(b.counters).toMatchObject({ sent: 2, sendDropped: 0, receiveErrors: 0 });
    expect(a.kernelIgnoresOutgoing).toBe(true); // every kernel since 4.20
  });

  it('works on interfaces of its own namespace too', async () => {
    await createVethPair(false);
    const a = open({ number: 1, ifname: END_A });
    const b = open({ number: 2, ifname: END_B });
    const atB = new FrameRecorder(b, { accept: (f) => isTestFrameFrom(f, 1) });
    a.send(frame(1, 9));
    expect(await atB.next(RECEIVE_TIMEOUT_MS)).toEqual(Buffer.from(frame(1, 9)));
  });

  it('reports a missing interface with its name and the namespace', async () => {
    await createVethPair(true);
    let error: unknown;
    try {
      open({ number: 3, ifname: 'p4lbt-nope', netns: NETNS });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PortError);
    expect(error).toMatchObject({
      code: 'PORT_OPEN_FAILED',
      port: 3,
      systemCode: 'ENODEV',
      message: `port 3: if_nametoindex on p4lbt-nope in /var/run/netns/${NETNS}: no such interface (ENODEV)`,
      hint: `see \`ip -n ${NETNS} link\``,
    });
  });

  it('throws the kernel error for a frame over the MTU, and refuses to send once closed', async () => {
    await createVethPair(true);
    const a = open({ number: 1, ifname: END_A, netns: NETNS });
    expect(() => a.send(frame(1, 0, 1515))).toThrowError(
      expect.objectContaining({ code: 'PORT_SEND_FAILED', systemCode: 'EMSGSIZE' }) as unknown as Error,
    );
    await a.close();
    await a.close();
    expect(() => a.send(frame(1, 0))).toThrowError(expect.objectContaining({ code: 'PORT_CLOSED' }) as unknown as Error);
  });
});
