/**
 * A small typed listener list: `on` returns the function that removes the listener. Listeners
 * run synchronously in the order they were added; one that throws does not stop the others
 * (its error goes to the `onListenerError` hook, never to the emitter's caller).
 */
export type EventMap = Record<string, unknown>;

export class TypedEvents<M extends EventMap> {
  private readonly listeners = new Map<keyof M, Set<(payload: never) => void>>();

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  on<K extends keyof M>(event: K, listener: (payload: M[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  /** Resolves with the next payload of `event` (for tests and one-shot waits). */
  once<K extends keyof M>(event: K): Promise<M[K]> {
    return new Promise((resolve) => {
      const off = this.on(event, (p) => {
        off();
        resolve(p);
      });
    });
  }

  emit<K extends keyof M>(event: K, payload: M[K]): void {
    for (const l of [...(this.listeners.get(event) ?? [])]) {
      try {
        (l as (p: M[K]) => void)(payload);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
