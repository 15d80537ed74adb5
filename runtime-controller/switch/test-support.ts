/** Helpers for the switch tests: a fake clock and a wait for connection events. */
import type { Clock } from './switch-connection.ts';

export class FakeClock implements Clock {
  readonly timers: { fn: () => void; ms: number; id: number }[] = [];
  private nextId = 1;

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ fn, ms, id });
    return id;
  }

  clearTimeout(handle: unknown): void {
    const i = this.timers.findIndex((t) => t.id === handle);
    if (i >= 0) this.timers.splice(i, 1);
  }

  /** Runs the earliest pending timer; returns its delay. */
  fire(): number {
    const t = this.timers.shift();
    if (t === undefined) throw new Error('no timer pending');
    t.fn();
    return t.ms;
  }
}

export async function eventually(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
