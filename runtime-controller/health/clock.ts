/**
 * Time as a parameter: the health checker reads the time and sets timers only through a Clock,
 * so tests drive it with FakeClock and never wait for real intervals.
 */

export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** The process clock: Date.now and setTimeout. */
export function systemClock(): Clock {
  const timers = new Map<number, ReturnType<typeof setTimeout>>();
  let next = 1;
  return {
    now: () => Date.now(),
    setTimer(callback, delayMs) {
      const id = next++;
      timers.set(
        id,
        setTimeout(() => {
          timers.delete(id);
          callback();
        }, delayMs),
      );
      return { id };
    },
    clearTimer(handle) {
      const t = timers.get(handle.id);
      if (t !== undefined) clearTimeout(t);
      timers.delete(handle.id);
    },
  };
}

interface FakeTimer {
  readonly id: number;
  readonly due: number;
  readonly callback: () => void;
}

/**
 * A clock that moves only when told. `advance` fires due timers in time order and lets
 * promise callbacks (an async probe's continuation) run between them.
 */
export class FakeClock implements Clock {
  private time: number;
  private nextId = 1;
  private readonly timers = new Map<number, FakeTimer>();

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, due: this.time + Math.max(0, delayMs), callback });
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    this.timers.delete(handle.id);
  }

  /** Timers not yet fired or cleared. */
  pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing each timer due on the way at its due time. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await settle();
    for (;;) {
      const next = this.earliest();
      if (next === undefined || next.due > end) break;
      this.timers.delete(next.id);
      this.time = next.due;
      next.callback();
      await settle();
    }
    this.time = end;
  }

  private earliest(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers.values()) if (best === undefined || t.due < best.due || (t.due === best.due && t.id < best.id)) best = t;
    return best;
  }
}

/** Lets queued promise continuations run (a macrotask turn drains the microtask queue). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The system clock, counting the timers still set: a stopped controller must leave none. */
export function countingClock(): Clock & { readonly live: number } {
  const inner = systemClock();
  const live = new Set<number>();
  return {
    now: () => inner.now(),
    setTimer(callback, delayMs) {
      const handle = inner.setTimer(() => {
        live.delete(handle.id);
        callback();
      }, delayMs);
      live.add(handle.id);
      return handle;
    },
    clearTimer(handle) {
      live.delete(handle.id);
      inner.clearTimer(handle);
    },
    get live() {
      return live.size;
    },
  };
}
