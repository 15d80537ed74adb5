import { PacketEncodeError, PacketError } from './errors.ts';

/** Throws "truncated <what>: N bytes left, need M" unless `need` bytes remain before `end`. */
export function requireBytes(
  b: Uint8Array,
  at: number,
  end: number,
  need: number,
  field: string,
  what: string,
): void {
  const left = Math.max(0, Math.min(end, b.length) - at);
  if (left < need) throw new PacketError(at, field, `truncated ${what}: ${left} bytes left, need ${need}`);
}

/** Checks an integer field value fits `bits` bits before it is encoded. */
export function checkField(value: number, bits: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    throw new PacketEncodeError(field, `${field} = ${value} does not fit ${bits} bits`);
  }
}
