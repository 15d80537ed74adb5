/** One fixed-width header field, in wire order. Widths are in bits, as a P4 `header` type needs. */
export interface FieldSpec {
  readonly name: string;
  readonly bits: number;
}

/** Sum of the widths in bytes; the field lists here are all whole bytes. */
export function fieldsByteLength(fields: readonly FieldSpec[]): number {
  const bits = fields.reduce((n, f) => n + f.bits, 0);
  return bits / 8;
}

/** Byte offset of each field from the start of its header (bit-fields share their first byte). */
export function fieldByteOffsets(fields: readonly FieldSpec[]): Record<string, number> {
  const out: Record<string, number> = {};
  let bit = 0;
  for (const f of fields) {
    out[f.name] = Math.floor(bit / 8);
    bit += f.bits;
  }
  return out;
}
