// design §6: the retry heap under one timer, on a virtual clock; O(log n) per message.
import assert from 'node:assert/strict';
import { VirtualClock } from '../server/clock';
import { DueHeap } from '../server/min-heap';
import { RetryScheduler } from '../server/retry-scheduler';

describe('delivery scheduler - retry heap on a virtual clock', () => {
  it('pops ids in due order', () => {
    const heap = new DueHeap();
    const dues = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000);
    dues.forEach((d, i) => heap.push(d, `id${i}`));
    const out: number[] = [];
    while (heap.size > 0) out.push(heap.pop()!.dueMs);
    assert.deepEqual(out, [...dues].sort((a, b) => a - b));
  });

  it('fires each id once at its time, with one timer pending at most', () => {
    const clock = new VirtualClock(0);
    const fired: [string, number][] = [];
    const scheduler = new RetryScheduler({ clock, maxScheduled: 10, onDue: (id) => fired.push([id, clock.nowMs()]) });
    scheduler.schedule('b', 10_000);
    scheduler.schedule('a', 5000);
    scheduler.schedule('a', 7000); // already scheduled: kept at its first time
    scheduler.schedule('c', 160_000);
    assert.equal(clock.pending, 1);
    clock.advance(4999);
    assert.deepEqual(fired, []);
    clock.advance(200_000);
    assert.deepEqual(fired, [['a', 5000], ['b', 10_000], ['c', 160_000]]);
    assert.equal(scheduler.size, 0);
  });

  it('refuses past maxScheduled, leaving the message to the recovery scan', () => {
    const clock = new VirtualClock(0);
    const scheduler = new RetryScheduler({ clock, maxScheduled: 2, onDue: () => undefined });
    assert.deepEqual([scheduler.schedule('a', 1), scheduler.schedule('b', 1), scheduler.schedule('c', 1)], [true, true, false]);
  });
});
