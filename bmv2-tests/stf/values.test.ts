import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { P4lbError } from '../../core/errors.ts';
import { StfValueError } from './errors.ts';
import { parseNumberLiteral, resolveArgValue, resolveKeyValue } from './values.ts';

function valueError(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(StfValueError);
    expect((e as P4lbError).code).toBe('STF_VALUE');
    return (e as P4lbError).describe();
  }
  throw new Error('expected an StfValueError');
}

describe('parseNumberLiteral', () => {
  it('reads the three STF forms and nothing else', () => {
    expect(parseNumberLiteral('0x0a**')).toEqual({ text: '0x0a**', radix: 16, digits: '0A**', hasWildcards: true });
    expect(parseNumberLiteral('0B1*0')).toEqual({ text: '0B1*0', radix: 2, digits: '1*0', hasWildcards: true });
    expect(parseNumberLiteral('0042')).toEqual({ text: '0042', radix: 10, digits: '0042', hasWildcards: false });
    for (const bad of ['0x', '0b', '0b012', '0o17', '12*', '0xG1', '-1', '1.5']) expect(parseNumberLiteral(bad)).toBeUndefined();
  });
});

describe('resolveKeyValue', () => {
  it('reads trailing * hex digits as an lpm prefix, which is also a ternary mask', () => {
    expect(resolveKeyValue('0x0A0B****', 32)).toEqual({
      bitwidth: 32,
      value: 0x0a0b0000n,
      mask: 0xffff0000n,
      shape: 'lpm',
      prefixLength: 16,
    });
  });

  it('reads binary wildcards bit by bit (lbmini_14.stf routes entry)', () => {
    expect(resolveKeyValue('0b0101001111110011001100110*******', 32)).toEqual({
      bitwidth: 32,
      value: 0x53f33300n,
      mask: 0xffffff80n,
      shape: 'lpm',
      prefixLength: 25,
    });
  });

  it('reads wildcards that are not a suffix as ternary', () => {
    expect(resolveKeyValue('0x0A**0B**', 32)).toEqual({
      bitwidth: 32,
      value: 0x0a000b00n,
      mask: 0xff00ff00n,
      shape: 'ternary',
      prefixLength: undefined,
    });
  });

  it('reads all wildcards as a zero mask, a /0 prefix', () => {
    expect(resolveKeyValue('0b****************', 16)).toMatchObject({ value: 0n, mask: 0n, shape: 'lpm', prefixLength: 0 });
  });

  it('reads a full value as exact, usable as lpm /width', () => {
    expect(resolveKeyValue('0xC9A03ED357D8', 48)).toEqual({
      bitwidth: 48,
      value: 0xc9a03ed357d8n,
      mask: 0xffffffffffffn,
      shape: 'exact',
      prefixLength: 48,
    });
    expect(resolveKeyValue('6', 8)).toMatchObject({ value: 6n, mask: 0xffn, shape: 'exact' });
  });

  it('accepts digits past the width when they are zero (bit<10> written as 0x3F5)', () => {
    expect(resolveKeyValue('0x3F5', 10)).toMatchObject({ value: 0x3f5n, mask: 0x3ffn, shape: 'exact' });
    expect(resolveKeyValue('0x**5', 4)).toMatchObject({ value: 5n, mask: 0xfn, shape: 'exact' });
  });

  it('matches the unwritten high bits of a short literal as zeros', () => {
    expect(resolveKeyValue('0x0A**', 32)).toMatchObject({ value: 0x0a00n, mask: 0xffffff00n, shape: 'lpm', prefixLength: 24 });
  });

  it('reads VALUE/PREFIX, dropping value bits past the prefix', () => {
    expect(resolveKeyValue('0x0a000000/8', 32)).toEqual({ bitwidth: 32, value: 0x0a000000n, mask: 0xff000000n, shape: 'lpm', prefixLength: 8 });
    expect(resolveKeyValue('0x010a/12', 16)).toMatchObject({ value: 0x0100n, mask: 0xfff0n, prefixLength: 12 });
    expect(resolveKeyValue('0x0a000001/32', 32)).toMatchObject({ shape: 'exact', prefixLength: 32 });
  });

  it('rejects values that do not fit, and prefixes longer than the key', () => {
    expect(valueError(() => resolveKeyValue('0x1FF', 8, { file: 'a.stf', line: 3, column: 9 }))).toBe(
      "a.stf:3:9: '0x1FF' does not fit in bit<8>",
    );
    expect(valueError(() => resolveKeyValue('256', 8))).toBe("'256' does not fit in bit<8>");
    expect(valueError(() => resolveKeyValue('0x0a/40', 32))).toBe('prefix length /40 is longer than the key (bit<32>)');
    expect(valueError(() => resolveKeyValue('0x1&&&0xF', 8))).toBe("'0x1&&&0xF' is not an STF key value (write 0x…, 0b… or decimal digits)");
    expect(valueError(() => resolveKeyValue('1', 0))).toBe('bit width 0 is not a positive integer');
  });

  it('property: a binary prefix followed by * digits resolves to that lpm prefix', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 128 }).chain((width) =>
          fc.tuple(fc.constant(width), fc.array(fc.constantFrom('0', '1'), { minLength: 0, maxLength: width })),
        ),
        ([width, prefixBits]) => {
          const text = `0b${prefixBits.join('')}${'*'.repeat(width - prefixBits.length)}`;
          const r = resolveKeyValue(text, width);
          const expectedValue = prefixBits.length === 0 ? 0n : BigInt(`0b${prefixBits.join('')}`) << BigInt(width - prefixBits.length);
          expect(r.prefixLength).toBe(prefixBits.length);
          expect(r.shape).toBe(prefixBits.length === width ? 'exact' : 'lpm');
          expect(r.value).toBe(expectedValue);
          // The mask is exactly the prefix: `prefixLength` leading ones.
          expect(r.mask.toString(2).padStart(width, '0')).toBe('1'.repeat(prefixBits.length) + '0'.repeat(width - prefixBits.length));
        },
      ),
    );
  });

  it('property: a key value matches exactly the numbers that agree with it on the cared bits', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('0', '1', '*'), { minLength: 1, maxLength: 40 }), fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }), (digits, probe) => {
        const width = digits.length;
        const x = probe & ((1n << BigInt(width)) - 1n);
        const r = resolveKeyValue(`0b${digits.join('')}`, width);
        const agrees = digits.every((d, i) => d === '*' || BigInt(d) === ((x >> BigInt(width - 1 - i)) & 1n));
        expect((x & r.mask) === r.value).toBe(agrees);
      }),
    );
  });
});

describe('resolveArgValue', () => {
  it('reads parameter values of their width', () => {
    expect(resolveArgValue('0x1FF', 9)).toBe(0x1ffn);
    expect(resolveArgValue('0x000000000000', 48)).toBe(0n);
    expect(resolveArgValue('12', 4)).toBe(12n);
  });

  it('rejects values too wide for the parameter, and wildcards', () => {
    expect(valueError(() => resolveArgValue('0x200', 9))).toBe("'0x200' does not fit in bit<9>");
    expect(valueError(() => resolveArgValue('0x1*', 8))).toBe(
      "'0x1*' is not an STF parameter value (write 0x…, 0b… or decimal digits, without *)",
    );
  });
});
