import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GrpcStatus } from '../../core/p4runtime/status.ts';
import { Arbitration, MAX_STREAMS } from './arbitration.ts';
import { ServerError } from './errors.ts';

describe('Arbitration', () => {
  it('answers the first client OK and a lower one ALREADY_EXISTS with the primary\'s id', () => {
    const a = new Arbitration(1n);
    expect(a.update(1, 1n, 10n)).toEqual([{ streamId: 1, primaryElectionId: 10n, code: GrpcStatus.OK, message: 'you are the primary' }]);
    expect(a.update(2, 1n, 5n)).toEqual([
      { streamId: 2, primaryElectionId: 10n, code: GrpcStatus.ALREADY_EXISTS, message: 'another client is the primary' },
    ]);
    expect(a.mayWrite(10n)).toBe(true);
    expect(a.mayWrite(5n)).toBe(false);
    expect(a.mayWrite(undefined)).toBe(false);
  });

  it('notifies every stream when a higher id takes over and when the primary leaves', () => {
    const a = new Arbitration(1n);
    a.update(1, 1n, 10n);
    a.update(2, 1n, 5n);
    const takeover = a.update(3, 1n, 20n);
    expect(takeover.map((n) => [n.streamId, n.code, n.primaryElectionId])).toEqual([
      [1, GrpcStatus.ALREADY_EXISTS, 20n],
      [2, GrpcStatus.ALREADY_EXISTS, 20n],
      [3, GrpcStatus.OK, 20n],
    ]);
    expect(a.remove(2)).toEqual([]);
    const failover = a.remove(3);
    expect(failover.map((n) => [n.streamId, n.code, n.primaryElectionId])).toEqual([[1, GrpcStatus.OK, 10n]]);
  });

  it('refuses another device (NOT_FOUND) and a duplicate election id (INVALID_ARGUMENT)', () => {
    const a = new Arbitration(1n);
    a.update(1, 1n, 10n);
    expect(() => a.update(2, 2n, 11n)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }) as ServerError);
    expect(() => a.update(2, 1n, 10n)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as ServerError);
    // The same stream may repeat its own id.
    expect(a.update(1, 1n, 10n)[0]?.code).toBe(GrpcStatus.OK);
  });

  it('keeps a client without an election id a backup; with no primary every stream hears NOT_FOUND', () => {
    const a = new Arbitration(1n);
    expect(a.mayWrite(undefined)).toBe(true);
    expect(a.update(1, 1n, undefined)).toEqual([{ streamId: 1, primaryElectionId: undefined, code: GrpcStatus.NOT_FOUND, message: 'there is no primary' }]);
    expect(a.mayWrite(undefined)).toBe(false);
    a.update(2, 1n, 0n);
    expect(a.primaryStream()).toBe(2);
    expect(a.remove(2).map((n) => [n.streamId, n.code, n.primaryElectionId])).toEqual([[1, GrpcStatus.NOT_FOUND, 0n]]);
  });

  it('refuses a device change on a joined stream (FAILED_PRECONDITION) and a 17th client (RESOURCE_EXHAUSTED)', () => {
    const a = new Arbitration(1n);
    a.update(1, 1n, 1n);
    expect(() => a.update(1, 2n, 1n)).toThrow(expect.objectContaining({ code: 'FAILED_PRECONDITION' }) as ServerError);
    for (let i = 2; i <= MAX_STREAMS; i++) a.update(i, 1n, BigInt(i));
    expect(() => a.update(99, 1n, 99n)).toThrow(expect.objectContaining({ code: 'RESOURCE_EXHAUSTED' }) as ServerError);
  });

  it('always makes the highest joined election id the primary', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), { minLength: 1, maxLength: 8 }), fc.array(fc.nat(7)), (ids, leaves) => {
        const a = new Arbitration(1n);
        ids.forEach((id, i) => a.update(i, 1n, id));
        const alive = new Map(ids.map((id, i) => [i, id]));
        for (const l of leaves) {
          a.remove(l);
          alive.delete(l);
        }
        const best = [...alive.values()].reduce<bigint | undefined>((m, x) => (m === undefined || x > m ? x : m), undefined);
        expect(a.primaryElectionId()).toBe(best);
      }),
    );
  });
});
