/** Number formatting shared by the text and HTML reports, fixed so equal models give equal bytes. */

/** null (not measured) → "—". */
export const NOT_MEASURED = '—';

export function formatMs(ms: number | null): string {
  if (ms === null) return NOT_MEASURED;
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms)} ms`;
}

/** A fraction 0..1 as a percentage. */
export function formatShare(fraction: number): string {
  return `${(fraction * 100).toFixed(1)} %`;
}

export function formatDeviation(percent: number | null): string {
  if (percent === null) return NOT_MEASURED;
  const rounded = Number(percent.toFixed(1));
  // "-0.0" would read as a negative deviation.
  if (rounded === 0) return '0.0 %';
  return `${rounded > 0 ? '+' : ''}${rounded.toFixed(1)} %`;
}

export function formatCount(n: number): string {
  return String(Math.round(n));
}

/** Seconds since the start, for time axes and event times. */
export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
}

/** `part of whole (x %)`, with whole 0 handled. */
export function formatPartOf(part: number, whole: number): string {
  const pct = whole === 0 ? NOT_MEASURED : `${((part / whole) * 100).toFixed(1)} %`;
  return `${part} of ${whole} (${pct})`;
}
