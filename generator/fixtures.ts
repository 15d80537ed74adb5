/**
 * The example deployment for the generator's tests: its spec, edited variants of it, and its
 * generated output, computed once per test file.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSpec } from '../core/spec/load.ts';
import type { LbSpec } from '../core/spec/schema.ts';
import { generateDeployment, type GeneratedDeployment } from './generate.ts';

export const EXAMPLE_SPEC_PATH = fileURLToPath(new URL('../examples/example.yaml', import.meta.url));
/** The committed output of the example (the golden files). */
export const EXAMPLE_OUTPUT_DIR = fileURLToPath(new URL('../p4out/example/', import.meta.url));

export function exampleSpecText(): string {
  return readFileSync(EXAMPLE_SPEC_PATH, 'utf8');
}

/** The example spec with text replacements ([search, replacement] pairs); fails loudly if a search text is gone. */
export function editedExample(...edits: readonly (readonly [string, string])[]): LbSpec {
  let text = exampleSpecText();
  for (const [search, replacement] of edits) {
    if (!text.includes(search)) throw new Error(`examples/example.yaml no longer contains ${JSON.stringify(search)}`);
    text = text.replace(search, replacement);
  }
  return parseSpec(text, 'example.yaml');
}

export function exampleSpec(): LbSpec {
  return parseSpec(exampleSpecText(), 'example.yaml');
}

let cached: GeneratedDeployment | undefined;

/** The example's generated output (generated once, shared by a test file's tests). */
export function generatedExample(): GeneratedDeployment {
  cached ??= generateDeployment(exampleSpec());
  return cached;
}
