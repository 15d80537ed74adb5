import { describe, expect, it } from 'vitest';
import { DigestEngine, type DigestScheduler, type OutgoingDigestList } from './digests.ts';

function fakeScheduler() {
  let now = 0;
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let next = 1;
  const scheduler: DigestScheduler = {
    setTimeout: (fn, ms) => {
      const id = next++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (h) => {
      const i = timers.findIndex((t) => t.id === h);
      if (i >= 0) timers.splice(i, 1);
    },
    nowNs: () => BigInt(now) * 1_000_000n,
  };
  const advance = (ms: number) => {
    now += ms;
    for (;;) {
      const due = timers.filter((t) => t.at <= now).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) return;
      timers.splice(timers.indexOf(due), 1);
      due.fn();
    }
  };
  return { scheduler, advance };
}

const rec = (v: bigint) => [{ value: v, width: 16 }];

describe('DigestEngine', () => {
  it('delivers only configured digests, one list per packet, split by max_list_size', () => {
    const sent: OutgoingDigestList[] = [];
    const { scheduler } = fakeScheduler();
    const e = new DigestEngine((l) => sent.push(l) > 0, scheduler);
    e.offer(5, [rec(1n)]);
    expect(sent).toHaveLength(0);
    e.insert(5, { maxListSize: 2, maxTimeoutNs: 0n, ackTimeoutNs: 0n });
    e.offer(5, [rec(1n), rec(2n), rec(3n), rec(2n)]);
    expect(sent.map((l) => l.data.length)).toEqual([2, 1]);
    expect(sent.map((l) => l.listId)).toEqual([1n, 2n]);
  });

  it('suppresses data of unacknowledged lists until the ack', () => {
    const sent: OutgoingDigestList[] = [];
    const e = new DigestEngine((l) => sent.push(l) > 0, fakeScheduler().scheduler);
    e.insert(5, { maxListSize: 0, maxTimeoutNs: 0n, ackTimeoutNs: 0n });
    e.offer(5, [rec(1n)]);
    e.offer(5, [rec(1n)]);
    expect(sent).toHaveLength(1);
    expect(e.ack(5, 99n)).toBe(false);
    expect(e.ack(5, sent[0]!.listId)).toBe(true);
    e.offer(5, [rec(1n)]);
    expect(sent).toHaveLength(2);
  });

  it('re-sends an unacknowledged list after ack_timeout, until acked', () => {
    const sent: OutgoingDigestList[] = [];
    const { scheduler, advance } = fakeScheduler();
    const e = new DigestEngine((l) => sent.push(l) > 0, scheduler);
    e.insert(5, { maxListSize: 0, maxTimeoutNs: 0n, ackTimeoutNs: 10_000_000n });
    e.offer(5, [rec(1n)]);
    advance(10);
    advance(10);
    expect(sent.map((l) => l.listId)).toEqual([1n, 1n, 1n]);
    e.ack(5, 1n);
    advance(50);
    expect(sent).toHaveLength(3);
  });

  it('forgets a list nobody could take, so its data is not suppressed for ever', () => {
    let online = false;
    const sent: OutgoingDigestList[] = [];
    const e = new DigestEngine((l) => online && sent.push(l) > 0, fakeScheduler().scheduler);
    e.insert(5, { maxListSize: 0, maxTimeoutNs: 0n, ackTimeoutNs: 0n });
    e.offer(5, [rec(1n)]);
    expect(e.unacknowledged()).toEqual([]);
    online = true;
    e.offer(5, [rec(1n)]);
    expect(sent).toHaveLength(1);
  });

  it('INSERT twice is ALREADY_EXISTS, MODIFY or DELETE of an unknown digest NOT_FOUND', () => {
    const e = new DigestEngine(() => true, fakeScheduler().scheduler);
    const c = { maxListSize: 0, maxTimeoutNs: 0n, ackTimeoutNs: 0n };
    e.insert(5, c);
    expect(() => e.insert(5, c)).toThrow(expect.objectContaining({ code: 'ALREADY_EXISTS' }) as Error);
    expect(() => e.modify(6, c)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }) as Error);
    expect(() => e.delete(6)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }) as Error);
    e.delete(5);
    expect(e.configuredIds()).toEqual([]);
  });
});
