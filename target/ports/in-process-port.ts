/**
 * Two port ends joined in memory, like the two ends of a veth pair: what one end sends, the other
 * receives. Tests and harnesses give one end to the switch and keep the other.
 *
 * Behaviour chosen to match an interface port, so code tested here behaves the same on veth:
 * - delivery is asynchronous (a later macrotask, in send order), so a listener that sends from
 *   inside a listener never recurses, and two ends reflecting frames cannot starve timers;
 * - the frame is copied at send time, so the sender may reuse its buffer;
 * - frames that arrive before the first listener wait for it (a bound socket queues them too);
 * - frames sent to a closed end are dropped, as on a link whose far side stopped listening.
 */
import { checkFrame, checkPortNumber, closedPortError, type Port } from './port.ts';

export interface InProcessPairOptions {
  /** Number of the far end; defaults to the near end's number (both ends of one wire). */
  readonly peerNumber?: number;
}

export class InProcessPort implements Port {
  readonly number: number;
  private peer: InProcessPort | undefined;
  private readonly listeners: ((frame: Uint8Array) => void)[] = [];
  private readonly inbox: Uint8Array[] = [];
  private deliveryScheduled = false;
  private closed = false;
  private framesSent = 0;
  private framesReceived = 0;

  private constructor(number: number) {
    this.number = checkPortNumber(number);
  }

  /** Creates two joined ends: `[near, far]`. */
  static pair(number: number, options: InProcessPairOptions = {}): [InProcessPort, InProcessPort] {
    const near = new InProcessPort(number);
    const far = new InProcessPort(options.peerNumber ?? number);
    near.peer = far;
    far.peer = near;
    return [near, far];
  }

  /** Frames this end has sent and received (delivered to its listeners) so far. */
  get counters(): { readonly sent: number; readonly received: number } {
    return { sent: this.framesSent, received: this.framesReceived };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(frame: Uint8Array): void {
    if (this.closed) throw closedPortError(this.number, 'send');
    checkFrame(frame, this.number);
    this.framesSent++;
    this.peer?.enqueue(new Uint8Array(frame));
  }

  onFrame(listener: (frame: Uint8Array) => void): void {
    if (this.closed) throw closedPortError(this.number, 'add a frame listener');
    this.listeners.push(listener);
    if (this.listeners.length === 1) this.scheduleDelivery();
  }

  close(): Promise<void> {
    this.closed = true;
    this.inbox.length = 0;
    this.listeners.length = 0;
    return Promise.resolve();
  }

  private enqueue(frame: Uint8Array): void {
    if (this.closed) return;
    this.inbox.push(frame);
    this.scheduleDelivery();
  }

  private scheduleDelivery(): void {
    if (this.deliveryScheduled || this.inbox.length === 0 || this.listeners.length === 0) return;
    this.deliveryScheduled = true;
    setImmediate(() => this.deliver());
  }

  private deliver(): void {
    this.deliveryScheduled = false;
    // Only the frames present now: frames sent by listeners during delivery go to a later turn.
    let count = this.inbox.length;
    while (count-- > 0 && !this.closed && this.listeners.length > 0) {
      const frame = this.inbox.shift()!;
      this.framesReceived++;
      // A listener that throws makes an uncaught exception, as a throwing socket listener would;
      // the frames still queued are delivered in a later turn.
      if (count > 0) this.scheduleDelivery();
      for (const listener of [...this.listeners]) {
        listener(this.listeners.length > 1 ? new Uint8Array(frame) : frame);
      }
    }
    this.scheduleDelivery();
  }
}
