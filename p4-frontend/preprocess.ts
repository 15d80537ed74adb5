/**
 * The small preprocessor P4 programs need: `#include <core.p4>`/`<v1model.p4>` (our own built-in
 * declarations), `#include "file"` relative to the including file, object-like `#define NAME
 * tokens`, `#undef`, `#ifdef`/`#ifndef`/`#else`/`#endif`. Works on token streams.
 */
import { posix } from 'node:path';
import type { Span } from './ast.ts';
import { BUILTIN_FILES } from './builtins.ts';
import { P4SyntaxError } from './errors.ts';
import { tokenize, type Token } from './lexer.ts';

export interface PreprocessOptions {
  /** Reads a file named by `#include "..."`; the path is resolved against the including file. */
  readonly readInclude?: ((path: string) => string) | undefined;
}

const BUILTIN_GUARDS: Readonly<Record<string, string>> = { 'core.p4': '_CORE_P4_', 'v1model.p4': '_V1_MODEL_P4_' };

interface Context {
  readonly defines: Map<string, Token[]>;
  readonly included: Set<string>;
  readonly options: PreprocessOptions;
  readonly stack: string[];
}

export function preprocess(text: string, fileName: string, options: PreprocessOptions = {}): Token[] {
  const ctx: Context = { defines: new Map(), included: new Set(), options, stack: [fileName] };
  const out = expandFile(text, fileName, ctx);
  const eof = tokenize('', fileName).at(-1)!;
  out.push({ ...eof, span: endSpan(text, fileName) });
  return out;
}

function endSpan(text: string, file: string): Span {
  const lines = text.split('\n');
  return { file, line: lines.length, col: lines.at(-1)!.length + 1, offset: text.length, end: text.length };
}

function expandFile(text: string, fileName: string, ctx: Context): Token[] {
  const tokens = tokenize(text, fileName);
  const out: Token[] = [];
  // Conditional stack: each entry says whether the current branch is live.
  const live: { active: boolean; seenElse: boolean; parentActive: boolean; span: Span }[] = [];
  const isActive = (): boolean => live.every((l) => l.active);
  for (const tok of tokens) {
    if (tok.kind === 'eof') break;
    if (tok.kind === 'directive') {
      const m = /^(\w+)\s*(.*)$/.exec(tok.text);
      const name = m?.[1] ?? '';
      const rest = (m?.[2] ?? '').trim();
      switch (name) {
        case 'ifdef':
        case 'ifndef': {
          const defined = ctx.defines.has(rest);
          live.push({ active: name === 'ifdef' ? defined : !defined, seenElse: false, parentActive: isActive(), span: tok.span });
          continue;
        }
        case 'else': {
          const top = live.at(-1);
          if (top === undefined || top.seenElse) throw new P4SyntaxError('#else without #if', tok.span);
          top.active = !top.active;
          top.seenElse = true;
          continue;
        }
        case 'endif':
          if (live.pop() === undefined) throw new P4SyntaxError('#endif without #if', tok.span);
          continue;
        default:
          break;
      }
      if (!isActive()) continue;
      switch (name) {
        case 'include':
          out.push(...include(rest, tok.span, fileName, ctx));
          continue;
        case 'define': {
          const d = /^([A-Za-z_]\w*)(\(?)\s*(.*)$/.exec(rest);
          if (d === null) throw new P4SyntaxError(`malformed #define`, tok.span);
          if (d[2] === '(') throw new P4SyntaxError(`macros with parameters are not supported`, tok.span);
          const body = tokenize(d[3]!, fileName).filter((t) => t.kind !== 'eof').map((t) => ({ ...t, span: tok.span }));
          ctx.defines.set(d[1]!, body);
          continue;
        }
        case 'undef':
          ctx.defines.delete(rest);
          continue;
        case 'pragma':
          continue;
        default:
          throw new P4SyntaxError(`unsupported preprocessor directive '#${name}'`, tok.span);
      }
    }
    if (!isActive()) continue;
    const macro = tok.kind === 'ident' ? ctx.defines.get(tok.text) : undefined;
    if (macro !== undefined) {
      out.push(...macro.map((t) => ({ ...t, span: tok.span })));
      continue;
    }
    out.push(tok);
  }
  const open = live.at(-1);
  if (open !== undefined) throw new P4SyntaxError('#if without #endif', open.span);
  return out;
}

function include(arg: string, span: Span, fromFile: string, ctx: Context): Token[] {
  const angle = /^<([^>]+)>$/.exec(arg);
  const quoted = /^"([^"]+)"$/.exec(arg);
  // `#include "v1model.p4"` also means our built-in: we never read a copy of p4c's files.
  if (angle !== null || (quoted !== null && BUILTIN_FILES[quoted[1]!] !== undefined)) {
    const name = (angle ?? quoted)![1]!;
    const builtin = BUILTIN_FILES[name];
    if (builtin === undefined) {
      throw new P4SyntaxError(`unknown system include <${name}>`, span, 'only <core.p4> and <v1model.p4> are built in');
    }
    if (ctx.included.has(name)) return [];
    ctx.included.add(name);
    const out = expandFile(builtin, name, ctx);
    // The include guards p4c's files define; programs test them with #ifdef.
    const guard = BUILTIN_GUARDS[name];
    if (guard !== undefined) ctx.defines.set(guard, []);
    return out;
  }
  if (quoted === null) throw new P4SyntaxError(`malformed #include`, span);
  const path = posix.normalize(posix.join(posix.dirname(fromFile), quoted[1]!));
  if (ctx.options.readInclude === undefined) {
    throw new P4SyntaxError(`cannot include "${quoted[1]}": no include reader given`, span);
  }
  if (ctx.stack.includes(path)) throw new P4SyntaxError(`recursive #include of "${quoted[1]}"`, span);
  let text: string;
  try {
    text = ctx.options.readInclude(path);
  } catch (cause) {
    throw new P4SyntaxError(`cannot read included file "${path}": ${String(cause)}`, span);
  }
  ctx.stack.push(path);
  try {
    return expandFile(text, path, ctx);
  } finally {
    ctx.stack.pop();
  }
}
