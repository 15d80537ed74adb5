/**
 * Reads the Prometheus text exposition the controller serves at /metrics (what a scraper sees),
 * so end-to-end checks use the operator's view: health, slot counts, drops, convergence.
 */
import { E2eError } from './errors.ts';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/gy;

function unescapeLabel(text: string): string {
  return text.replace(/\\(["\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : c));
}

/** Prometheus reads the special values case-insensitively (prom-client writes NaN as "Nan"). */
function parseValue(text: string, line: number): number {
  const lower = text.toLowerCase();
  if (lower === '+inf' || lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (lower === 'nan') return NaN;
  const value = Number(text);
  if (text === '' || Number.isNaN(value)) throw new E2eError('E2E_BAD_METRICS', `metrics line ${line}: '${text}' is not a number`);
  return value;
}

/** Every sample of the text; comments and blank lines skipped; a malformed line names its number. */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = SAMPLE.exec(line);
    if (m === null) throw new E2eError('E2E_BAD_METRICS', `metrics line ${i + 1} is not a sample: ${line.slice(0, 120)}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    LABEL.lastIndex = 0;
    let consumed = 0;
    for (let l = LABEL.exec(body); l !== null; l = LABEL.exec(body)) {
      labels[l[1]!] = unescapeLabel(l[2]!);
      consumed = LABEL.lastIndex;
    }
    if (consumed !== body.length) throw new E2eError('E2E_BAD_METRICS', `metrics line ${i + 1}: malformed labels {${body}}`);
    samples.push({ name: m[1]!, labels, value: parseValue(m[3]!, i + 1) });
  });
  return samples;
}

/** The sum of the samples named `name` whose labels include `match`. */
export function metricSum(samples: readonly Sample[], name: string, match: Readonly<Record<string, string>> = {}): number {
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}
