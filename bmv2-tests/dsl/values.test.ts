import { describe, expect, it } from 'vitest';
import { scalarToBigInt, scalarToBits } from './values.ts';

describe('scalar values', () => {
  it('reads dotted IPv4, colon MACs, hex and decimal text', () => {
    expect(scalarToBigInt('10.0.1.2', 'x')).toBe(0x0a000102n);
    expect(scalarToBigInt('02:00:00:00:01:ff', 'x')).toBe(0x0200000001ffn);
    expect(scalarToBigInt('0x19eb', 'x')).toBe(6635n);
    expect(scalarToBigInt('6635', 'x')).toBe(6635n);
    expect(scalarToBigInt(7, 'x')).toBe(7n);
  });

  it('refuses values wider than the field, naming the field', () => {
    expect(() => scalarToBits(512, 9, 'forward(port)')).toThrow('forward(port): 0x200 does not fit in 9 bits');
    expect(scalarToBits(511, 9, 'forward(port)')).toBe(511n);
  });

  it('refuses text that is no known form and octets above 255', () => {
    expect(() => scalarToBigInt('10.0.0.256', 'a')).toThrow(/octet above 255/);
    expect(() => scalarToBigInt('ten', 'a')).toThrow(/not an IPv4 address, a MAC/);
    expect(() => scalarToBits(-1n, 8, 'a')).toThrow(/negative/);
  });
});
