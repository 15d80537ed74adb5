import { describe, it, expect, vi, afterEach } from 'vitest';
import { FrameRecorder } from './frame-recorder.ts';
import { InProcessPort } from './in-process-port.ts';
import { testFrame, isTestFrameFrom } from './test-frames.ts';

function frame(from: number, seq: number): Uint8Array {
  return testFrame({ from, to: 9, payload: Uint8Array.of(seq) });
}

afterEach(() => {
  vi.useRealTimers();
});

describe('FrameRecorder', () => {
  it('serves waiters in the order they asked', async () => {
    const [a, b] = InProcessPort.pair(1);
    const atB = new FrameRecorder(b);
    const first = atB.take(2, 2000);
    const second = atB.next(2000);
    for (const seq of [1, 2, 3]) a.send(frame(1, seq));
    expect(await first).toEqual([frame(1, 1), frame(1, 2)]);
    expect(await second).toEqual(frame(1, 3));
    expect(atB.queued).toBe(0);
  });

  it('ignores frames the filter rejects', async () => {
    const [a, b] = InProcessPort.pair(1);
    const atB = new FrameRecorder(b, { accept: (f) => isTestFrameFrom(f, 1) });
    a.send(frame(7, 1));
    a.send(frame(1, 2));
    expect(await atB.next(2000)).toEqual(frame(1, 2));
    expect(atB.drain()).toEqual([]);
  });

  it('rejects with PORT_RECEIVE_TIMEOUT, keeping the frames that came', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const [a, b] = InProcessPort.pair(5);
    const atB = new FrameRecorder(b);
    a.send(frame(1, 1));
    const waiting = atB.take(2, 1000);
    const outcome = expect(waiting).rejects.toMatchObject({
      code: 'PORT_RECEIVE_TIMEOUT',
      port: 5,
      message: 'port 5: expected 2 frame(s) within 1000 ms, 1 arrived',
    });
    await new Promise((resolve) => setImmediate(resolve));
    await vi.advanceTimersByTimeAsync(1000);
    await outcome;
    expect(atB.drain()).toEqual([frame(1, 1)]);
  });
});
