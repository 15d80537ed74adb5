/**
 * Records the frames a port receives and hands them out in order with a bounded wait, for tests and
 * packet harnesses ("send this, expect that on port 2 within 1 s").
 */
import { PortError, type Port } from './port.ts';

export interface FrameRecorderOptions {
  /** Frames for which this returns false are ignored (e.g. IPv6 router solicitations on veth). */
  readonly accept?: (frame: Uint8Array) => boolean;
}

interface Waiter {
  readonly count: number;
  readonly resolve: (frames: Uint8Array[]) => void;
  readonly reject: (error: PortError) => void;
  readonly timer: NodeJS.Timeout;
}

export class FrameRecorder {
  private readonly pending: Uint8Array[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly port: Port;

  constructor(port: Port, options: FrameRecorderOptions = {}) {
    this.port = port;
    const accept = options.accept ?? (() => true);
    port.onFrame((frame) => {
      if (!accept(frame)) return;
      this.pending.push(frame);
      this.settle();
    });
  }

  /** Frames received and not yet taken. */
  get queued(): number {
    return this.pending.length;
  }

  /**
   * The next `count` frames, in arrival order, once they are all there. Rejects with
   * PORT_RECEIVE_TIMEOUT after `timeoutMs`, saying how many had come; those stay queued.
   */
  take(count: number, timeoutMs: number): Promise<Uint8Array[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(
          new PortError(
            'PORT_RECEIVE_TIMEOUT',
            `port ${this.port.number}: expected ${count} frame(s) within ${timeoutMs} ms, ${this.pending.length} arrived`,
            { port: this.port.number },
          ),
        );
      }, timeoutMs);
      const waiter: Waiter = { count, resolve, reject, timer };
      this.waiters.push(waiter);
      this.settle();
    });
  }

  /** The next frame; see `take`. */
  async next(timeoutMs: number): Promise<Uint8Array> {
    const [frame] = await this.take(1, timeoutMs);
    return frame!;
  }

  /** Frames received and not yet taken, removed from the queue (to assert that nothing else came). */
  drain(): Uint8Array[] {
    return this.pending.splice(0, this.pending.length);
  }

  private settle(): void {
    // Waiters are served in the order they asked, each only when all its frames are there.
    while (this.waiters.length > 0 && this.pending.length >= this.waiters[0]!.count) {
      const waiter = this.waiters.shift()!;
      clearTimeout(waiter.timer);
      waiter.resolve(this.pending.splice(0, waiter.count));
    }
  }
}
