/**
 * p4lb's P4_16 front end: `parseP4` (lexer + preprocessor + parser → AST), `checkProgram`
 * (names, types, widths; annotates the AST), `compileP4` (both), `deriveP4Info` and
 * `formatP4InfoText` (P4Info as p4c writes it).
 */
import { checkProgram, type CheckedProgram } from './checker.ts';
import { parseP4, type ParseOptions } from './parser.ts';

export type * from './ast.ts';
export type { P4Type, FieldType } from './types.ts';
export { typeToString, sameType, widthOf } from './types.ts';
export { tokenize, type Token, type TokenKind } from './lexer.ts';
export { parseP4, type ParseOptions } from './parser.ts';
export { checkProgram, truncate, type CheckedProgram, type PipelineBlock } from './checker.ts';
export { P4SyntaxError, P4TypeError, P4CheckErrors } from './errors.ts';
export { deriveP4Info, jenkinsOneAtATime, keyExpressionText, ID_PREFIX } from './p4info.ts';
export type * from './p4info.ts';
export { formatP4InfoText } from './p4info-text.ts';
export { BUILTIN_FILES } from './builtins.ts';

/** Parses and checks a P4 program; throws P4SyntaxError or P4CheckErrors. */
export function compileP4(text: string, fileName: string, options: ParseOptions = {}): CheckedProgram {
  return checkProgram(parseP4(text, fileName, options));
}
