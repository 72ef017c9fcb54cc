// doc/architecture.md §6: the retry heap under one timer, on a virtual clock; O(log n) per message.
import assert from 'node:assert/strict';
import { VirtualClock } from '../server/clock';
import { DueHeap } from '../server/min-heap';
import { RetryScheduler } from '../server/retry-scheduler';

/** counts timer callbacks: each is one turn of the event loop on a real clock */
class TurnCountingClock extends VirtualClock {
  turns = 0;
  constructor() {
    super(0);
  }
  override setTimeout(fn: () => void, ms: number): unknown {
    return super.setTimeout(() => {
      this.turns++;
      fn();
    }, ms);
  }
}

describe('delivery scheduler - retry heap on a virtual clock', () => {
  it('pops ids in due order', () => {
    const heap = new DueHeap();
    const dues = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000);
    dues.forEach((d, i) => heap.push(d, `id${i}`));
    const out: number[] = [];
    while (heap.size > 0) out.push(heap.pop()!.dueMs);
    assert.deepEqual(
      out,
      [...dues].sort((a, b) => a - b),
    );
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
    assert.deepEqual(fired, [
      ['a', 5000],
      ['b', 10_000],
      ['c', 160_000],
    ]);
    assert.equal(scheduler.size, 0);
  });

  it('refuses past maxScheduled, leaving the message to the recovery scan', () => {
    const clock = new VirtualClock(0);
    const scheduler = new RetryScheduler({ clock, maxScheduled: 2, onDue: () => undefined });
    assert.deepEqual(
      [scheduler.schedule('a', 1), scheduler.schedule('b', 1), scheduler.schedule('c', 1)],
      [true, true, false],
    );
  });

  it('releases retries due in the same millisecond in slices, one timer turn each', () => {
    const clock = new TurnCountingClock();
    const turnOf: number[] = [];
    const scheduler = new RetryScheduler({
      clock,
      maxScheduled: 10_000,
      sliceSize: 400,
      onDue: () => turnOf.push(clock.turns),
    });
    for (let i = 0; i < 1000; i++) scheduler.schedule(`id${i}`, 5000); // nextDeliverTime is whole seconds
    clock.advance(5000);
    assert.equal(turnOf.length, 1000, 'all of them, within the same advance');
    const perTurn = [...new Set(turnOf)].map((turn) => turnOf.filter((t) => t === turn).length);
    assert.deepEqual(perTurn, [400, 400, 200]);
    assert.equal(scheduler.size, 0);
  });

  it('holds due retries while deliveries are at their bound, and releases them as room returns', () => {
    const clock = new VirtualClock(0);
    let inFlight = 0;
    const fired: string[] = [];
    const scheduler = new RetryScheduler({
      clock,
      maxScheduled: 10_000,
      hasRoom: () => inFlight < 300,
      onDue: (id) => (fired.push(id), inFlight++),
    });
    for (let i = 0; i < 1000; i++) scheduler.schedule(`id${i}`, 1000);
    clock.advance(60_000);
    assert.equal(fired.length, 300, 'up to the bound, however long it waits');
    const waiting = Array.from({ length: 1000 }, (_, i) => `id${i}`).filter((id) => !fired.includes(id));
    assert.ok(
      waiting.length === 700 && waiting.every((id) => scheduler.has(id)),
      'the rest stay scheduled (the recovery scan leaves them alone)',
    );
    inFlight = 0; // the consumers acked
    clock.advance(20);
    assert.equal(fired.length, 600);
    inFlight = 0;
    clock.advance(20);
    inFlight = 0;
    clock.advance(20);
    inFlight = 0;
    clock.advance(20);
    assert.equal(fired.length, 1000);
    assert.equal(new Set(fired).size, 1000, 'each once');
    assert.equal(clock.pending, 0, 'no timer left behind');
  });
});
