import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { InProcessPort } from './in-process-port.ts';
import { FrameRecorder } from './frame-recorder.ts';
import { PortError } from './port.ts';
import { testFrame } from './test-frames.ts';

const TIMEOUT_MS = 2000;

function frame(from: number, seq: number): Uint8Array {
  return testFrame({ from, to: 9, payload: Uint8Array.of(seq) });
}

/** Lets every queued setImmediate delivery run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

describe('InProcessPort', () => {
  it('delivers what one end sends to the other, in order, and not back to the sender', async () => {
    const [a, b] = InProcessPort.pair(1);
    const atA = new FrameRecorder(a);
    const atB = new FrameRecorder(b);
    a.send(frame(1, 0));
    a.send(frame(1, 1));
    b.send(frame(2, 7));
    expect(await atB.take(2, TIMEOUT_MS)).toEqual([frame(1, 0), frame(1, 1)]);
    expect(await atA.take(1, TIMEOUT_MS)).toEqual([frame(2, 7)]);
    await settle();
    expect(atA.drain()).toEqual([]);
    expect(atB.drain()).toEqual([]);
    expect(a.counters).toEqual({ sent: 2, received: 1 });
    expect(b.counters).toEqual({ sent: 1, received: 2 });
  });

  it('numbers both ends alike unless told otherwise', () => {
    const [a, b] = InProcessPort.pair(3);
    expect([a.number, b.number]).toEqual([3, 3]);
    const [c, d] = InProcessPort.pair(3, { peerNumber: 0 });
    expect([c.number, d.number]).toEqual([3, 0]);
  });

  it('delivers asynchronously, never inside send()', async () => {
    const [a, b] = InProcessPort.pair(1);
    const seen: number[] = [];
    b.onFrame((f) => seen.push(f[14]!));
    a.send(frame(1, 5));
    expect(seen).toEqual([]);
    await settle();
    expect(seen).toEqual([5]);
  });

  it('copies the frame at send time', async () => {
    const [a, b] = InProcessPort.pair(1);
    const atB = new FrameRecorder(b);
    const buffer = frame(1, 1);
    a.send(buffer);
    buffer[14] = 99;
    expect(await atB.next(TIMEOUT_MS)).toEqual(frame(1, 1));
  });

  it('keeps frames that arrive before the first listener', async () => {
    const [a, b] = InProcessPort.pair(1);
    a.send(frame(1, 1));
    a.send(frame(1, 2));
    await settle();
    expect(await new FrameRecorder(b).take(2, TIMEOUT_MS)).toEqual([frame(1, 1), frame(1, 2)]);
  });

  it('gives every listener its own copy', async () => {
    const [a, b] = InProcessPort.pair(1);
    const first: Uint8Array[] = [];
    const second: Uint8Array[] = [];
    b.onFrame((f) => {
      first.push(f);
      f[14] = 42;
    });
    b.onFrame((f) => second.push(f));
    a.send(frame(1, 1));
    await settle();
    expect(second).toEqual([frame(1, 1)]);
    expect(first[0]![14]).toBe(42);
  });

  it('lets a listener send without recursing (two ends answering each other)', async () => {
    const [a, b] = InProcessPort.pair(1);
    let depth = 0;
    let maxDepth = 0;
    // Each end answers frame n with n + 1 until 10: a sends 0, 2, ..., 10; b sends 1, 3, ..., 9.
    const answer = (port: InProcessPort, id: number) => (f: Uint8Array) => {
      depth++;
      maxDepth = Math.max(maxDepth, depth);
      if (f[14]! < 10) port.send(frame(id, f[14]! + 1));
      depth--;
    };
    a.onFrame(answer(a, 1));
    b.onFrame(answer(b, 2));
    const last = new FrameRecorder(b, { accept: (f) => f[14] === 10 });
    a.send(frame(1, 0));
    await last.next(TIMEOUT_MS);
    expect(maxDepth).toBe(1);
    expect([a.counters.sent, b.counters.sent]).toEqual([6, 5]);
  });

  it('rejects frames shorter than an Ethernet header', () => {
    const [a] = InProcessPort.pair(4);
    expect(() => a.send(new Uint8Array(13))).toThrowError(
      expect.objectContaining({ code: 'PORT_FRAME_INVALID', port: 4 }) as unknown as Error,
    );
    expect(() => a.send(new Uint8Array(14))).not.toThrow();
  });

  it('rejects port numbers outside 0..510', () => {
    for (const n of [-1, 511, 1.5, Number.NaN]) {
      expect(() => InProcessPort.pair(n)).toThrowError(PortError);
    }
    expect(() => InProcessPort.pair(1, { peerNumber: 600 })).toThrowError(/port number 600/);
  });

  it('refuses to send once closed, drops what the far end sends to it, and closes idempotently', async () => {
    const [a, b] = InProcessPort.pair(1);
    const seen: Uint8Array[] = [];
    a.onFrame((f) => seen.push(f));
    await a.close();
    await a.close();
    expect(a.isClosed).toBe(true);
    expect(() => a.send(frame(1, 0))).toThrowError(/port 1 is closed: cannot send/);
    expect(() => a.onFrame(() => undefined)).toThrowError(PortError);
    b.send(frame(2, 0));
    await settle();
    expect(seen).toEqual([]);
  });

  it('drops frames still queued when the receiving end closes', async () => {
    const [a, b] = InProcessPort.pair(1);
    const seen: Uint8Array[] = [];
    b.onFrame((f) => seen.push(f));
    a.send(frame(1, 0));
    await b.close();
    await settle();
    expect(seen).toEqual([]);
  });

  it('delivers any sequence of frames intact and in order', async () => {
    const frames = fc.array(fc.uint8Array({ minLength: 14, maxLength: 200 }), { maxLength: 20 });
    await fc.assert(
      fc.asyncProperty(frames, async (sent) => {
        const [a, b] = InProcessPort.pair(1);
        const atB = new FrameRecorder(b);
        for (const f of sent) a.send(f);
        expect(await atB.take(sent.length, TIMEOUT_MS)).toEqual(sent.map((f) => new Uint8Array(f)));
      }),
      { numRuns: 50 },
    );
  });
});
