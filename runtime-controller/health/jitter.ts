/**
 * Seeded jitter for probe schedules: targets probed on the same interval drift apart instead of
 * firing together, and a given seed gives the same schedule on every run (tests, replays).
 */

/**
 * Each delay is the interval scaled by a factor in (1 - f, 1]: never later than the interval, so
 * a target that fails is declared down within interval × fall of its failure (plus the last
 * probe's own time), as the spec's timings promise.
 */
export const JITTER_FRACTION = 0.1;

/** FNV-1a (32-bit) of the UTF-16 code units: turns a seed text into a PRNG state. */
export function seedFromText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a small 32-bit PRNG; plenty for spreading timers, never for secrets. */
export function seededRandom(seed: number | string): () => number {
  let state = (typeof seed === 'string' ? seedFromText(seed) : seed) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** `intervalMs` scaled by 1 − JITTER_FRACTION·u for `u` in [0, 1), rounded to whole ms (at most the interval). */
export function jitteredInterval(intervalMs: number, u: number): number {
  return Math.min(intervalMs, Math.round(intervalMs * (1 - JITTER_FRACTION * u)));
}

/** Delay before a target's first probe: up to JITTER_FRACTION of the interval, so a fleet starts spread out. */
export function initialDelay(intervalMs: number, u: number): number {
  return Math.floor(intervalMs * JITTER_FRACTION * u);
}
