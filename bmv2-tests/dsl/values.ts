/**
 * Scenario values to the unsigned integers a table holds: numbers, bigints, dotted IPv4, colon
 * MACs, 0x hex and decimal text, checked against the field's width so that a typo fails at the
 * insert that made it rather than as a silent miss.
 */
import { PacketTestError } from './errors.ts';
import type { ScalarValue } from './target.ts';

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
