/**
 * Validation of an already-parsed value (no YAML, no positions): the zod schema plus the
 * cross-field rules, every problem collected as a path-addressed SpecIssue.
 */
import { z } from 'zod';
import { didYouMean } from '../errors.ts';
import { LbSpecSchema, type LbSpec } from './schema.ts';
import { checkSemantics, formatPath, type SpecIssue, type SpecPath } from './semantics.ts';

export type ValidationResult =
  | { readonly ok: true; readonly spec: LbSpec }
  | { readonly ok: false; readonly issues: readonly SpecIssue[] };

/** Validates a plain value (what YAML or JSON parsing produced) against the whole spec. */
export function validateSpec(value: unknown): ValidationResult {
  const parsed = LbSpecSchema.safeParse(value, { reportInput: true });
  const schemaIssues = parsed.success ? [] : parsed.error.issues.flatMap((i) => fromZodIssue(i, value));
  // A field the schema already rejected is not reported again by a cross-field rule.
  const rejected = new Set(schemaIssues.map((i) => formatPath(i.path)));
  const issues = [...schemaIssues];
  const seen = new Set<string>();
  for (const issue of checkSemantics(value)) {
    const key = `${formatPath(issue.path)}\n${issue.message}`;
    if (rejected.has(formatPath(issue.path)) || seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  if (parsed.success && issues.length === 0) return { ok: true, spec: parsed.data };
  return { ok: false, issues };
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `'${v}'`;
  return String(v);
}

const EXPECTED_TYPE: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
};

function valueAt(root: unknown, path: SpecPath): unknown {
  let v = root;
  for (const seg of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

function fromZodIssue(issue: z.core.$ZodIssue, root: unknown): SpecIssue[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const input: unknown = 'input' in issue ? issue.input : valueAt(root, path);
  const last = path.at(-1);
  const parent = valueAt(root, path.slice(0, -1));
  const absent =
    typeof last === 'string' && typeof parent === 'object' && parent !== null && !Array.isArray(parent) && !(last in parent);
  if (absent && (issue.code === 'invalid_type' || issue.code === 'invalid_value')) {
    return [{ path, message: `missing required field '${last}'` }];
  }
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED_TYPE[issue.expected] ?? issue.expected;
      return [{ path, message: `expected ${expected}, got ${describeValue(input)}` }];
    }
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const cmp = issue.code === 'too_small' ? (issue.inclusive === false ? '>' : '>=') : issue.inclusive === false ? '<' : '<=';
      if (issue.origin === 'array') {
        const word = issue.code === 'too_small' ? 'at least' : 'at most';
        return [{ path, message: `must have ${word} ${String(bound)} item(s)` }];
      }
      if (issue.origin === 'string') {
        return [{ path, message: `length must be ${cmp} ${String(bound)}` }];
      }
      return [{ path, message: `must be ${cmp} ${String(bound)}, got ${describeValue(input)}` }];
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => String(v));
      return [
        {
          path,
          message: `expected one of ${values.map((v) => `'${v}'`).join(' | ')}, got ${describeValue(input)}`,
          hint: typeof input === 'string' ? didYouMean(input, values) : undefined,
        },
      ];
    }
    case 'invalid_union': {
      const options = 'options' in issue && issue.options !== undefined ? issue.options.map((o) => String(o)) : undefined;
      if (issue.discriminator !== undefined && options !== undefined) {
        const given = valueAt(root, path);
        if (given === undefined) {
          return [{ path, message: `missing required field '${issue.discriminator}' (one of ${options.join(' | ')})` }];
        }
        return [
          {
            path,
            message: `expected one of ${options.map((o) => `'${o}'`).join(' | ')}, got ${describeValue(given)}`,
            hint: typeof given === 'string' ? didYouMean(given, options) : undefined,
          },
        ];
      }
      return [{ path, message: issue.message }];
    }
    case 'unrecognized_keys': {
      const { known, elsewhere } = keysAt(LbSpecSchema, root, path);
      return issue.keys.map((key) => ({
        path: [...path, key],
        at: 'key' as const,
        message: `unknown field '${key}'`,
        hint: elsewhere.get(key) ?? didYouMean(key, known),
      }));
    }
    case 'invalid_format':
    case 'custom':
      return [{ path, message: input === undefined ? issue.message : `${issue.message}, got ${describeValue(input)}` }];
    default:
      return [{ path, message: issue.message }];
  }
}

/** Strips wrappers that do not change which fields an object has. */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap();
    else if (s instanceof z.ZodPipe) s = s.in;
    else return s;
  }
}

/** The option of a discriminated union that `value` selects. */
function pickOption(union: z.ZodDiscriminatedUnion, value: unknown): z.ZodObject | undefined {
  const tag = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[union.def.discriminator] : undefined;
  for (const option of union.options) {
    const o = unwrap(option);
    if (!(o instanceof z.ZodObject)) continue;
    const lit = unwrap(o.shape[union.def.discriminator] as z.core.$ZodType);
    if (lit instanceof z.ZodLiteral && lit.values.has(tag as never)) return o;
  }
  return undefined;
}

/**
 * The field names allowed at `path`, for "did you mean" on an unknown field, and for fields that
 * belong to another variant of a union, a hint naming that variant.
 */
function keysAt(schema: z.core.$ZodType, root: unknown, path: SpecPath): { known: string[]; elsewhere: Map<string, string> } {
  let s = unwrap(schema);
  let v = root;
  for (const seg of path) {
    if (s instanceof z.ZodDiscriminatedUnion) s = pickOption(s, v) ?? s;
    if (s instanceof z.ZodObject && typeof seg === 'string') s = unwrap(s.shape[seg] as z.core.$ZodType);
    else if (s instanceof z.ZodArray) s = unwrap(s.element);
    else return { known: [], elsewhere: new Map() };
    v = typeof v === 'object' && v !== null ? (v as Record<string | number, unknown>)[seg] : undefined;
  }
  const elsewhere = new Map<string, string>();
  if (s instanceof z.ZodDiscriminatedUnion) {
    const union = s;
    const chosen = pickOption(union, v);
    for (const option of union.options) {
      const o = unwrap(option);
      if (!(o instanceof z.ZodObject) || o === chosen) continue;
      const lit = unwrap(o.shape[union.def.discriminator] as z.core.$ZodType);
      const tag = lit instanceof z.ZodLiteral ? String([...lit.values][0]) : '?';
      for (const k of Object.keys(o.shape)) {
        if (chosen === undefined || !(k in chosen.shape)) elsewhere.set(k, `only allowed when ${union.def.discriminator} is '${tag}'`);
      }
    }
    s = chosen ?? s;
  }
  return { known: s instanceof z.ZodObject ? Object.keys(s.shape) : [], elsewhere };
}
