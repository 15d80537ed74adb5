/**
 * Scenario values to the unsigned integers a table holds: numbers, bigints, dotted IPv4, colon
 * MACs, 0x hex and decimal text, checked against the field's width so that a typo fails at the
 * insert that made it rather than as a silent miss; and a scenario's keys and action parameters
 * to typed matches and arguments, the same for every target.
 */
import { didYouMean } from '../../core/errors.ts';
import type { FieldMatch, KeyField, MatchKind } from '../../target/interpreter/tables.ts';
import { PacketTestError } from './errors.ts';
import type { KeyValue, ScalarValue } from './target.ts';

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const MAC = /^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$/;
const HEX = /^0x[0-9a-fA-F]+$/;
const DECIMAL = /^\d+$/;

function bad(what: string, message: string): PacketTestError {
  return new PacketTestError('PACKET_TEST_BAD_VALUE', `${what}: ${message}`, { location: { path: what } });
}

/** The value as an unbounded unsigned integer (no width check). */
export function scalarToBigInt(value: ScalarValue, what: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw bad(what, `${value} is not a safe integer`);
    return BigInt(value);
  }
  const text = value.trim();
  const ip = IPV4.exec(text);
  if (ip !== null) {
    let n = 0n;
    for (let i = 1; i <= 4; i++) {
      const octet = Number(ip[i]);
      if (octet > 255) throw bad(what, `'${text}' has an octet above 255`);
      n = (n << 8n) | BigInt(octet);
    }
    return n;
  }
  if (MAC.test(text)) return BigInt(`0x${text.replaceAll(':', '')}`);
  if (HEX.test(text) || DECIMAL.test(text)) return BigInt(text);
  throw bad(what, `'${text}' is not an IPv4 address, a MAC, 0x hex or a decimal number`);
}

/** The value as an unsigned integer of `width` bits; negative or wider values are errors. */
export function scalarToBits(value: ScalarValue, width: number, what: string): bigint {
  const n = scalarToBigInt(value, what);
  if (n < 0n) throw bad(what, `${n} is negative`);
  if (n >> BigInt(width) !== 0n) throw bad(what, `0x${n.toString(16)} does not fit in ${width} bits`);
  return n;
}

function isRange(v: KeyValue): v is Exclude<KeyValue, ScalarValue> {
  return typeof v === 'object';
}

const SHAPES: Record<MatchKind, string> = {
  exact: 'a value',
  optional: 'a value',
  lpm: 'a value or {value, prefixLength}',
  ternary: 'a value or {value, mask}',
  range: 'a value or {low, high}',
};

/**
 * A scenario's key value as the typed match of one key field, by the field's match kind, every
 * value checked against the field's width. A bare value is an exact match in every kind (full
 * prefix, full mask, one-point range). Both targets read keys through this, so a scenario means
 * the same on each.
 */
export function keyValueToMatch(table: string, field: KeyField, value: KeyValue): FieldMatch {
  const what = `${table}: key '${field.name}'`;
  const bits = (v: ScalarValue, part = ''): bigint => scalarToBits(v, field.width, `${what}${part}`);
  const wrongShape = (): PacketTestError =>
    new PacketTestError('PACKET_TEST_BAD_VALUE', `${what} is ${field.matchKind}; the value has another shape`, { hint: SHAPES[field.matchKind] });
  switch (field.matchKind) {
    case 'exact':
    case 'optional':
      if (isRange(value)) throw wrongShape();
      return { kind: field.matchKind, value: bits(value) };
    case 'lpm':
      if (!isRange(value)) return { kind: 'lpm', value: bits(value), prefixLength: field.width };
      if (!('prefixLength' in value)) throw wrongShape();
      return { kind: 'lpm', value: bits(value.value), prefixLength: value.prefixLength };
    case 'ternary':
      if (!isRange(value)) return { kind: 'ternary', value: bits(value), mask: (1n << BigInt(field.width)) - 1n };
      if (!('mask' in value)) throw wrongShape();
      return { kind: 'ternary', value: bits(value.value, ' value'), mask: bits(value.mask, ' mask') };
    case 'range':
      if (!isRange(value)) return { kind: 'range', low: bits(value), high: bits(value) };
      if (!('low' in value)) throw wrongShape();
      return { kind: 'range', low: bits(value.low, ' low'), high: bits(value.high, ' high') };
  }
}

/**
 * Every key field's match, in the order of `fields`: an unknown key name is an error, a missing
 * exact key too, and any other missing key is a wildcard (undefined).
 */
export function keyValuesToMatches(table: string, fields: readonly KeyField[], keys: Readonly<Record<string, KeyValue>>): (FieldMatch | undefined)[] {
  checkNames(`key in ${table}`, Object.keys(keys), fields.map((f) => f.name));
  return fields.map((f) => {
    const v = keys[f.name];
    if (v !== undefined) return keyValueToMatch(table, f, v);
    if (f.matchKind === 'exact') throw new PacketTestError('PACKET_TEST_BAD_VALUE', `${table}: exact key '${f.name}' needs a value`);
    return undefined;
  });
}

/** Throws PACKET_TEST_UNKNOWN_NAME for the first of `given` that is not `known`. */
export function checkNames(kind: string, given: readonly string[], known: readonly string[]): void {
  for (const name of given) {
    if (!known.includes(name)) {
      throw new PacketTestError('PACKET_TEST_UNKNOWN_NAME', `no ${kind} '${name}'`, {
        hint: didYouMean(name, known) ?? `expected: ${known.join(', ') || 'none'}`,
      });
    }
  }
}

/** An action's parameters by name as its arguments in declaration order, each checked against its width. */
export function actionArgs(
  action: { readonly name: string; readonly params: readonly { readonly name: string; readonly width: number }[] },
  params: Readonly<Record<string, ScalarValue>>,
): bigint[] {
  checkNames(`parameter of ${action.name}`, Object.keys(params), action.params.map((p) => p.name));
  return action.params.map((p) => {
    const v = params[p.name];
    if (v === undefined) throw new PacketTestError('PACKET_TEST_BAD_VALUE', `${action.name}: parameter '${p.name}' is missing`);
    return scalarToBits(v, p.width, `${action.name}(${p.name})`);
  });
}
