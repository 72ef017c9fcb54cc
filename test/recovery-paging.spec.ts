// doc/architecture.md §6 recovery manager, alone: a page's store writes (parks for an offline group)
// are done before the next page is read, and a parked message's recheck stays off the retry heap.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { BindingTable } from '../binding/matcher';
import { createDeliverPrepareStage } from '../handler/deliver-prepare';
import { InFlightSet } from '../handler/delivery-in-flight';
import { DELIVER_AT_PROPERTY } from '../protocol/deliver-at';
import type { DeliveryRequest } from '../handler/events';
import { clockWithNow, VirtualClock } from '../server/clock';
import { silentLogger } from '../server/logger';
import { RecoveryManager, type RecoveryDeps } from '../server/recovery';
import type { DueQuery, MessageStore, StoredMessage } from '../store/contract';
import { countdown } from './support/events';
import { aMessage } from './support/messages';

const NOW_MS = Math.floor(Date.now() / 1000) * 1000; // the messages expire an hour from now
const NOW = NOW_MS / 1000;

function due(overrides: Partial<StoredMessage> = {}): StoredMessage {
  return { ...aMessage({ topic: 'trade', messageType: 'pay-succ' }), nextDeliverTime: NOW - 1, ...overrides };
}

/** A store that answers pageDue from `pages`, one per call, and notes each query. */
function pagedStore(pages: StoredMessage[][], queries: DueQuery[]): MessageStore {
  return {
    pageDue: async (query: DueQuery) => (queries.push(query), pages[queries.length - 1] ?? []),
  } as unknown as MessageStore;
}

function recovery(store: MessageStore, overrides: Partial<RecoveryDeps>): RecoveryManager {
  return new RecoveryManager({
    store,
    log: silentLogger(),
    clock: clockWithNow(() => NOW_MS),
    inFlight: new InFlightSet(),
    isScheduled: () => false,
    schedule: () => true,
    toDeliverPrepare: () => undefined,
    canReceive: () => true,
    pageSize: 2,
    maxInFlight: 100,
    intervalMs: 3_600_000,
    ...overrides,
  });
}

describe('recovery paging - store writes of a page come first', () => {
  it('reads the next page only once the writes its previous page caused are done', async () => {
    const pages = [[due(), due()], [due()]];
    const queries: DueQuery[] = [];
    const taken = countdown(2, 5000, 'messages of the first page taken');
    const writesDone: Array<() => void> = [];
    let holdWrites = true;
    const manager = recovery(pagedStore(pages, queries), {
      toDeliverPrepare: () => {
        taken.tick();
        return holdWrites ? new Promise<void>((resolve) => writesDone.push(resolve)) : Promise.resolve();
      },
    });
    const scan = manager.scan({ lookaheadSec: 0, redriveParked: false });
    await taken.done;
    await new Promise((resolve) => setImmediate(resolve)); // the page is taken; nothing else is due to happen
    assert.equal(queries.length, 1, "the second page waits for the first page's parks");
    holdWrites = false;
    for (const done of writesDone.splice(0)) done();
    assert.deepEqual(await scan, { redriven: 3, scheduled: 0 });
    assert.equal(queries.length, 2);
    assert.deepEqual(queries[1]!.after, { nextDeliverTime: NOW - 1, messageId: pages[0]![1]!.header.messageId });
    await manager.stop();
  });

  it('leaves a parked message that is not yet due to the scan that finds it due; a retry goes on the heap', async () => {
    const parkedLater = due({ nextDeliverTime: NOW + 3 });
    const retryLater = due({ nextDeliverTime: NOW + 3, failGroups: ['s-nack'], deliverCount: 4 });
    const parkedNow = due();
    const scheduled: string[] = [];
    const driven: string[] = [];
    const deps = {
      pageSize: 10,
      schedule: (id: string) => (scheduled.push(id), true),
      toDeliverPrepare: (request: DeliveryRequest) => void driven.push(request.message.header.messageId),
    };
    const periodic = recovery(pagedStore([[parkedNow, parkedLater, retryLater]], []), deps);
    assert.deepEqual(await periodic.scan({ lookaheadSec: 5, redriveParked: false }), { redriven: 1, scheduled: 1 });
    assert.deepEqual([driven, scheduled], [[parkedNow.header.messageId], [retryLater.header.messageId]]);
    await periodic.stop();

    // a binding change or a group's first consumer still re-drives every parked one at once
    driven.length = 0;
    scheduled.length = 0;
    const rebound = recovery(pagedStore([[parkedNow, parkedLater, retryLater]], []), deps);
    assert.deepEqual(await rebound.scan({ lookaheadSec: 60, redriveParked: true }), { redriven: 2, scheduled: 1 });
    assert.deepEqual(driven, [parkedNow.header.messageId, parkedLater.header.messageId]);
    await rebound.stop();
  });
});

describe('recovery - a scan nobody waits for is paced (doc/delivery.md "Recovery manager")', () => {
  /** a store whose every page of due messages takes `readMs` of the clock to read */
  function slowStore(clock: VirtualClock, total: number, readMs: number, queries: DueQuery[]): MessageStore {
    let left = total;
    return {
      pageDue: async (query: DueQuery) => {
        queries.push(query);
        clock.advance(readMs);
        const page = Array.from({ length: Math.min(query.limit, left) }, () => due());
        left -= page.length;
        return page;
      },
    } as unknown as MessageStore;
  }

  it('walks a backlog due at start in pages of at most 200, resting as long as each page took', async () => {
    const clock = new VirtualClock(NOW_MS);
    const queries: DueQuery[] = [];
    const manager = recovery(slowStore(clock, 1_000, 40, queries), { clock, pageSize: 500 });
    const scan = manager.scan({ lookaheadSec: 0, redriveParked: false });
    const settle = async () => {
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    await settle();
    assert.equal(queries.length, 1);
    assert.equal(queries[0]!.limit, 200, 'page size of a background scan');
    clock.advance(39);
    await settle();
    assert.equal(queries.length, 1, 'rests as long as the page took (40 ms)');
    clock.advance(1);
    await settle();
    assert.equal(queries.length, 2);
    for (let i = 0; i < 10; i++) {
      clock.advance(40);
      await settle();
    }
    assert.deepEqual(await scan, { redriven: 1_000, scheduled: 0 });
    assert.equal(queries.length, 6, '5 pages of 200, then the short one that ends the scan');
    await manager.stop();
  });

  it('does not pace a scan a consumer or a binding change started', async () => {
    const clock = new VirtualClock(NOW_MS);
    const queries: DueQuery[] = [];
    const manager = recovery(slowStore(clock, 1_000, 40, queries), { clock, pageSize: 500 });
    assert.deepEqual(await manager.scan({ lookaheadSec: 3600, redriveParked: true }), {
      redriven: 1_000,
      scheduled: 0,
    });
    assert.deepEqual(
      queries.map((q) => q.limit),
      [500, 500, 500],
    );
    await manager.stop();
  });

  it('ends its rest at once when the broker stops', async () => {
    const clock = new VirtualClock(NOW_MS);
    const manager = recovery(slowStore(clock, 1_000, 40, []), { clock });
    void manager.scan({ lookaheadSec: 0, redriveParked: false });
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    await manager.stop(); // would wait for the virtual clock to move, forever
  });
});

describe('recovery - scheduled messages (doc/delayed-delivery.md)', () => {
  const scheduledAt = (atMs: number, overrides: Partial<StoredMessage> = {}): StoredMessage => {
    const message = due({ nextDeliverTime: Math.ceil(atMs / 1000), ...overrides });
    return {
      ...message,
      header: { ...message.header, properties: [{ key: DELIVER_AT_PROPERTY, value: String(atMs) }] },
    };
  };

  it('puts one due before the next scan on the heap at its exact millisecond, never re-drives it as parked', async () => {
    const soon = scheduledAt(NOW_MS + 2_345);
    const later = scheduledAt(NOW_MS + 30 * 60_000); // within the parked-message scan's hour, beyond the next scan
    const committedLate = scheduledAt(NOW_MS + 1_500, { nextDeliverTime: NOW + 1 }); // still the check-back's due time
    const scheduled: [string, number][] = [];
    const driven: string[] = [];
    const manager = recovery(pagedStore([[committedLate, soon, later]], []), {
      pageSize: 10,
      intervalMs: 5000,
      schedule: (id, atMs) => (scheduled.push([id, atMs]), true),
      toDeliverPrepare: (request) => void driven.push(request.message.header.messageId),
    });
    assert.deepEqual(await manager.scan({ lookaheadSec: 3600, redriveParked: true }), { redriven: 0, scheduled: 1 });
    assert.deepEqual(scheduled, [[soon.header.messageId, NOW_MS + 2_345]]);
    assert.deepEqual(driven, [committedLate.header.messageId], 'deliver-prepare defers it and writes its time');
    await manager.stop();
  });
});

describe('deliver-prepare - hands back the store write that settled a message', () => {
  const stage = (online: boolean, written: Promise<void>) =>
    createDeliverPrepareStage({
      bindings: () => new BindingTable([directBinding('s-durable', 'trade', 'pay-succ')]),
      isOnline: () => online,
      inFlight: new InFlightSet(),
      nowMs: () => NOW_MS,
      deadLetter: () => written,
      park: () => written,
      defer: () => written,
      finish: () => written,
      toDeliverQos: () => undefined,
      onUncommitted: () => undefined,
    });

  it('returns the park, the dead letter; nothing for an attempt', () => {
    const written = Promise.resolve();
    assert.equal(
      stage(false, written)({ message: due(), attempt: 1, fly: false }),
      written,
      'parked: no consumer online',
    );
    assert.equal(
      stage(true, written)({ message: due(), attempt: 101, fly: false }),
      written,
      'dead letter past deliverLimit',
    );
    assert.equal(
      stage(true, written)({ message: due(), attempt: 1, fly: false }),
      undefined,
      'an attempt is in flight instead',
    );
  });
});
