/**
 * docs/spec.schema.json, derived from the zod definition so editors validate and complete spec
 * files with the same rules (minus the cross-field ones, which JSON Schema cannot express).
 */
import { z } from 'zod';
import { LbSpecSchema } from './schema.ts';

/** The JSON Schema of what a user may write (input side: fields with defaults are optional). */
export function specJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(LbSpecSchema, { io: 'input', target: 'draft-2020-12' });
  return { ...schema, title: 'p4lb load-balancer spec' };
}

/** The committed file's exact text: two-space JSON with a final newline. */
export function specJsonSchemaText(): string {
  return `${JSON.stringify(specJsonSchema(), null, 2)}\n`;
}
