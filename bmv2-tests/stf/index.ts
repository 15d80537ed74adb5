/** STF (p4c's simple test format): parse a file, resolve its values, match expected packets. */
export { parseStf } from './parser.ts';
export { parseNumberLiteral, resolveArgValue, resolveKeyValue, type ResolvedKeyValue } from './values.ts';
export {
  comparePortOutputs,
  describeMismatch,
  formatExpected,
  matchExpected,
  type DescribeMismatchOptions,
  type MatchResult,
  type MismatchReason,
  type PacketMismatch,
  type PortOrder,
} from './expect.ts';
export { STF_SYNTAX, STF_VALUE, StfSyntaxError, StfSyntaxErrors, StfValueError } from './errors.ts';
export type * from './model.ts';
export { BMV2_CLI_COMMANDS } from './model.ts';
