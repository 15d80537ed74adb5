import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { byCodeUnit } from './order.ts';

describe('byCodeUnit', () => {
  it('orders by code unit, not by locale: capitals before lower case, ä after z', () => {
    expect(['b', 'a', 'B', 'ä', 'z', 'a'].sort(byCodeUnit)).toEqual(['B', 'a', 'a', 'b', 'z', 'ä']);
    expect(byCodeUnit('x', 'x')).toBe(0);
  });

  it('agrees with the default sort of strings and is antisymmetric', () => {
    fc.assert(
      fc.property(fc.array(fc.string()), (xs) => {
        expect([...xs].sort(byCodeUnit)).toEqual([...xs].sort());
      }),
    );
    fc.assert(fc.property(fc.string(), fc.string(), (a, b) => byCodeUnit(a, b) === -byCodeUnit(b, a)));
  });
});
