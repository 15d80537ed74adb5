/**
 * Scalar values as the controller writes them — bigint, safe integer, or text (decimal, 0x hex,
 * dotted IPv4, colon MAC) — checked against a field's bit width. Decoding always yields bigint.
 */
import { SchemaError } from './errors.ts';

export type Scalar = bigint | number | string;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const MAC = /^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$/;
const HEX = /^0x[0-9a-fA-F]+$/;
const DECIMAL = /^\d+$/;

function badValue(path: string, message: string, hint?: string): SchemaError {
  return new SchemaError('SCHEMA_BAD_VALUE', `${path}: ${message}`, { location: { path }, ...(hint === undefined ? {} : { hint }) });
}

function parseText(text: string, path: string): bigint {
  const ip = IPV4.exec(text);
  if (ip !== null) {
    const octets = ip.slice(1).map(Number);
    if (octets.some((o) => o > 255)) throw badValue(path, `'${text}' is not an IPv4 address`);
    return octets.reduce((acc, o) => (acc << 8n) | BigInt(o), 0n);
  }
  if (MAC.test(text)) return BigInt(`0x${text.replaceAll(':', '')}`);
  if (HEX.test(text) || DECIMAL.test(text)) return BigInt(text);
  throw badValue(path, `'${text}' is not a number`, 'use a bigint, an integer, decimal or 0x hex text, an IPv4 or MAC address');
}

/** The value of `v` as a bit<bitwidth>; throws SCHEMA_BAD_VALUE naming `path` when it does not fit. */
export function toBits(v: Scalar, bitwidth: number, path: string): bigint {
  let value: bigint;
  if (typeof v === 'bigint') value = v;
  else if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw badValue(path, `${v} is not a safe integer`, 'pass a bigint for values above 2^53');
    value = BigInt(v);
  } else if (typeof v === 'string') value = parseText(v, path);
  else throw badValue(path, `expected a number, got ${typeof v}`);
  if (value < 0n) throw badValue(path, `${value} is negative`);
  if (value >> BigInt(bitwidth) !== 0n) {
    throw badValue(path, `${value} does not fit in bit<${bitwidth}>`, `bit<${bitwidth}> holds 0..${(1n << BigInt(bitwidth)) - 1n}`);
  }
  return value;
}
