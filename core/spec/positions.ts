/**
 * Maps a spec path (`['vips', 0, 'slots']`) back to a line and column in the YAML source, so a
 * diagnostic points at the offending node; when the path does not exist (a missing field) it
 * points at the deepest node that does, i.e. the parent mapping.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter } from 'yaml';
import type { SpecPath } from './semantics.ts';

export interface SourcePosition {
  /** 1-based. */
  readonly line: number;
  readonly column: number;
}

interface Ranged {
  range?: readonly [number, number, number] | null;
}

export function positionOf(
  doc: Document,
  lineCounter: LineCounter,
  path: SpecPath,
  at: 'key' | 'value' = 'value',
): SourcePosition {
  let node: unknown = doc.contents;
  let best: Ranged | undefined = rangedOrUndefined(node);
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    if (isAlias(node)) node = node.resolve(doc);
    let next: unknown;
    let key: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (pair === undefined) break;
      key = pair.key;
      next = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      next = node.items[seg];
    } else break;
    const last = i === path.length - 1;
    // An unknown field, or a key with no value (`name:`), is shown at its key.
    const target = (last && at === 'key') || next === null || next === undefined ? key : next;
    const ranged = rangedOrUndefined(target);
    if (ranged === undefined) break;
    best = ranged;
    node = next;
  }
  const offset = best?.range?.[0] ?? 0;
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function rangedOrUndefined(node: unknown): Ranged | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  const r = (node as Ranged).range;
  return Array.isArray(r) ? (node as Ranged) : undefined;
}
