/**
 * STF numbers: the literal forms p4c's STF lexer accepts, and their resolution against a key or
 * parameter width once the program is known.
 *
 * Forms (tools/stf/stf_lexer.py): decimal `123`; hex `0x0A0B` whose digits may be `*`; binary
 * `0b0101` whose digits may be `*`; in a match key also `VALUE/PREFIX`. There is no `&&&` form
 * and no octal: p4c's lexer rejects both.
 */
import type { ErrorLocation } from '../../core/errors.ts';
import { StfValueError } from './errors.ts';
import type { StfNumberLiteral } from './model.ts';

const HEX_LITERAL = /^0[xX]([0-9a-fA-F*]+)$/;
const BIN_LITERAL = /^0[bB]([01*]+)$/;
const DEC_LITERAL = /^[0-9]+$/;

/** The literal a number token spells, or undefined when it is not one of the STF forms. */
export function parseNumberLiteral(text: string): StfNumberLiteral | undefined {
  const hex = HEX_LITERAL.exec(text);
  if (hex !== null) return literal(text, 16, hex[1]!);
  const bin = BIN_LITERAL.exec(text);
  if (bin !== null) return literal(text, 2, bin[1]!);
  if (DEC_LITERAL.test(text)) return literal(text, 10, text);
  return undefined;
}

function literal(text: string, radix: 2 | 10 | 16, digits: string): StfNumberLiteral {
  const upper = digits.toUpperCase();
  return { text, radix, digits: upper, hasWildcards: upper.includes('*') };
}

/** A key value against its width: which bits must match (`mask`) and what they must be. */
export interface ResolvedKeyValue {
  readonly bitwidth: number;
  /** Wildcard bits are zero. */
  readonly value: bigint;
  /** 1 = the bit must equal `value`'s bit; `bitwidth` bits. */
  readonly mask: bigint;
  /**
   * The most specific match kind the value can be installed as: `exact` (every bit cared; fits
   * exact, lpm /bitwidth and ternary), `lpm` (cared bits are a leading run; fits lpm and ternary),
   * `ternary` (any other mask).
   */
  readonly shape: 'exact' | 'lpm' | 'ternary';
  /** For `exact` (= bitwidth) and `lpm` shapes; undefined for `ternary`. */
  readonly prefixLength: number | undefined;
}

/**
 * Resolves a key value as written (`0x0A0B****`, `0b1011****`, `42`, `0x0A000000/8`) for a key
 * of `bitwidth` bits.
 *
 * - Each hex digit is 4 bits, each binary digit 1; a `*` digit leaves its bits unmatched.
 * - The written digits are right-aligned. Digits written past the width must be zero or `*`
 *   (p4testgen writes a bit<10> key as `0x3F5`). Bits not written at all (a short literal) are
 *   matched as zeros, as a number would be; p4c's runner instead leaves them unmatched for a
 *   ternary key, which no full-width value written by p4testgen can notice.
 * - `VALUE/PREFIX` matches the leading PREFIX bits; bits of VALUE past the prefix are dropped.
 */
export function resolveKeyValue(text: string, bitwidth: number, location?: ErrorLocation): ResolvedKeyValue {
  checkWidth(bitwidth, location);
  const slash = text.indexOf('/');
  const valueText = slash < 0 ? text : text.slice(0, slash);
  const lit = parseNumberLiteral(valueText);
  if (lit === undefined) {
    throw new StfValueError(`'${text}' is not an STF key value`, location, 'write 0x…, 0b… or decimal digits');
  }
  const widthMask = (1n << BigInt(bitwidth)) - 1n;
  const bits = literalBits(lit);
  if ((bits.value & ~widthMask) !== 0n) {
    throw new StfValueError(`'${text}' does not fit in bit<${bitwidth}>`, location);
  }
  let mask: bigint;
  if (slash >= 0) {
    const prefixText = text.slice(slash + 1);
    if (lit.hasWildcards || !DEC_LITERAL.test(prefixText)) {
      throw new StfValueError(`'${text}' is not an STF key value`, location, 'write VALUE/PREFIX with a decimal prefix and no * digits');
    }
    const prefix = Number(prefixText);
    if (prefix > bitwidth) {
      throw new StfValueError(`prefix length /${prefix} is longer than the key (bit<${bitwidth}>)`, location);
    }
    mask = widthMask ^ ((1n << BigInt(bitwidth - prefix)) - 1n);
  } else {
    // Unwritten leading bits are cared-for zeros: a short literal is a number, not a pattern.
    const unwritten = bits.writtenBits >= bitwidth ? 0n : widthMask ^ ((1n << BigInt(bits.writtenBits)) - 1n);
    mask = (bits.care | unwritten) & widthMask;
  }
  const value = bits.value & mask;
  if (mask === widthMask) return { bitwidth, value, mask, shape: 'exact', prefixLength: bitwidth };
  const unmatched = widthMask ^ mask;
  // A leading run of ones leaves the unmatched bits as 0…01…1, i.e. one less than a power of two.
  if ((unmatched & (unmatched + 1n)) === 0n) {
    return { bitwidth, value, mask, shape: 'lpm', prefixLength: bitwidth - bitLength(unmatched) };
  }
  return { bitwidth, value, mask, shape: 'ternary', prefixLength: undefined };
}

/** An action parameter value (`0x1FF`, `42`) checked against the parameter's width. */
export function resolveArgValue(text: string, bitwidth: number, location?: ErrorLocation): bigint {
  checkWidth(bitwidth, location);
  const lit = parseNumberLiteral(text);
  if (lit === undefined || lit.hasWildcards) {
    throw new StfValueError(`'${text}' is not an STF parameter value`, location, 'write 0x…, 0b… or decimal digits, without *');
  }
  const value = literalValue(lit);
  if (value >> BigInt(bitwidth) !== 0n) {
    throw new StfValueError(`'${text}' does not fit in bit<${bitwidth}>`, location);
  }
  return value;
}

/** The value of a literal without wildcards (a `*` digit counts as zero). */
export function literalValue(lit: StfNumberLiteral): bigint {
  return literalBits(lit).value;
}

const BITS_PER_DIGIT = { 2: 1, 16: 4 } as const;

/** Value and cared-bits of the written digits; a decimal literal is written in "all" its bits. */
function literalBits(lit: StfNumberLiteral): { value: bigint; care: bigint; writtenBits: number } {
  if (lit.radix === 10) {
    const value = BigInt(lit.digits);
    return { value, care: -1n, writtenBits: Number.POSITIVE_INFINITY };
  }
  const bitsPerDigit = BITS_PER_DIGIT[lit.radix];
  const digitMask = (1n << BigInt(bitsPerDigit)) - 1n;
  let value = 0n;
  let care = 0n;
  for (const digit of lit.digits) {
    value <<= BigInt(bitsPerDigit);
    care <<= BigInt(bitsPerDigit);
    if (digit !== '*') {
      value |= BigInt(parseInt(digit, 16));
      care |= digitMask;
    }
  }
  return { value, care, writtenBits: lit.digits.length * bitsPerDigit };
}

function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

function checkWidth(bitwidth: number, location: ErrorLocation | undefined): void {
  if (!Number.isInteger(bitwidth) || bitwidth < 1) {
    throw new StfValueError(`bit width ${bitwidth} is not a positive integer`, location);
  }
}
