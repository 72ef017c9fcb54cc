// doc/architecture.md §5 deliver-prepare and deliver-result, alone: in-flight dedup, expiry and deliverLimit,
// acked groups never targeted again, the message in flight until the store has the outcome.
import assert from 'node:assert/strict';
import { directBinding, type Binding } from '../../binding/binding';
import { BindingTable } from '../../binding/matcher';
import { createDeliverPrepareStage } from '../../handler/deliver-prepare';
import { createDeliverResultStage } from '../../handler/deliver-result';
import { InFlightSet } from '../../handler/delivery-in-flight';
import type { DeliveryJob } from '../../handler/delivery-job';
import type { DeliveryRequest } from '../../handler/events';
import { DELIVER_AT_PROPERTY } from '../../protocol/deliver-at';
import type { DeliveryResult } from '../../store/contract';
import { aMessage } from '../support/messages';

describe('deliver-prepare stage - targets, dedup, limits', () => {
  const now = Date.now();
  let inFlight: InFlightSet;
  let jobs: DeliveryJob[];
  let dead: string[];
  let parked: number;
  let finished: DeliveryRequest[];
  let uncommitted: DeliveryRequest[];
  let deferred: [DeliveryRequest, number][];
  let online: Set<string>;
  let bindings: Binding[];
  let prepare: ReturnType<typeof createDeliverPrepareStage>;

  beforeEach(() => {
    inFlight = new InFlightSet();
    jobs = [];
    dead = [];
    parked = 0;
    finished = [];
    uncommitted = [];
    deferred = [];
    online = new Set(['s-a', 's-b']);
    bindings = [directBinding('s-a', 'trade', 'pay-succ'), directBinding('s-b', 'trade', 'pay-succ')];
    prepare = createDeliverPrepareStage({
      bindings: () => new BindingTable(bindings),
      isOnline: (g) => online.has(g),
      inFlight,
      nowMs: () => now,
      deadLetter: (_r, reason) => dead.push(reason),
      park: () => parked++,
      defer: (r, atMs) => deferred.push([r, atMs]),
      finish: (r) => finished.push(r),
      toDeliverQos: (job) => jobs.push(job),
      onUncommitted: (r) => uncommitted.push(r),
    });
  });

  const message = (overrides = {}) => aMessage({ topic: 'trade', messageType: 'pay-succ', ...overrides });

  it('never puts one message in flight twice', () => {
    const m = message();
    prepare({ message: m, attempt: 1, fly: false });
    prepare({ message: m, attempt: 1, fly: false });
    assert.equal(jobs.length, 1);
    inFlight.release(m.header.messageId);
    prepare({ message: m, attempt: 2, fly: false });
    assert.equal(jobs.length, 2);
  });

  it('never delivers a prepared message, whatever hands it over', () => {
    const m = message({ commit: false });
    assert.equal(prepare({ message: m, attempt: 1, fly: false }), undefined);
    assert.deepEqual(
      [jobs.length, parked, finished.length, dead.length, inFlight.has(m.header.messageId)],
      [0, 0, 0, 0, false],
    );
    assert.deepEqual(
      uncommitted.map((r) => r.message.header.messageId),
      [m.header.messageId],
    );
  });

  it('defers a scheduled message reaching it before its time, whatever hands it over; delivers it from that time', () => {
    const at = now + 1;
    const m = message({ properties: [{ key: DELIVER_AT_PROPERTY, value: String(at) }] });
    prepare({ message: m, attempt: 1, fly: false });
    assert.deepEqual([jobs.length, parked, inFlight.size], [0, 0, 0]);
    assert.deepEqual(
      deferred.map(([r, ms]) => [r.message.header.messageId, ms]),
      [[m.header.messageId, at]],
    );
    const onTime = message({ properties: [{ key: DELIVER_AT_PROPERTY, value: String(now) }] });
    prepare({ message: onTime, attempt: 1, fly: false });
    assert.deepEqual([jobs.length, deferred.length], [1, 1]);
  });

  it('targets only the groups that have not acked', () => {
    prepare({ message: { ...message(), succGroups: ['s-a'] }, attempt: 2, fly: false });
    assert.deepEqual(
      jobs[0].targets.map((b) => b.groupId),
      ['s-b'],
    );
  });

  it('finishes when every bound group has acked', () => {
    prepare({ message: { ...message(), succGroups: ['s-a', 's-b'] }, attempt: 2, fly: false });
    assert.deepEqual([jobs.length, finished.length, inFlight.size], [0, 1, 0]);
  });

  it('dead-letters past deliverLimit and past expiredTime, with the reason', () => {
    prepare({ message: message({ deliverLimit: 3 }), attempt: 4, fly: false });
    prepare({ message: message({ expiredTime: Math.floor(now / 1000) - 1 }), attempt: 1, fly: false });
    assert.equal(jobs.length, 0);
    assert.match(dead[0], /deliverLimit 3/);
    assert.match(dead[1], /^expired at /);
  });

  it('parks a message no group is bound to', () => {
    bindings = [];
    prepare({ message: message(), attempt: 1, fly: false });
    assert.deepEqual([parked, jobs.length, inFlight.size], [1, 0, 0]);
  });

  it('counts a non-persistent group with no consumer online as delivered', () => {
    bindings = [
      directBinding('s-a', 'trade', 'pay-succ'),
      directBinding('s-gone', 'trade', 'pay-succ', { persistent: false }),
    ];
    prepare({ message: message(), attempt: 1, fly: false });
    assert.deepEqual(
      jobs[0].targets.map((b) => b.groupId),
      ['s-a'],
    );
    assert.deepEqual(jobs[0].succeeded, ['s-gone']);
  });
});

describe('deliver-result stage - outcome recorded before the message leaves flight', () => {
  it('keeps the message in flight until recordDelivery resolves, then retries at once (attempt 2)', async () => {
    const inFlight = new InFlightSet();
    const retried: DeliveryRequest[] = [];
    let resolveRecord!: () => void;
    const recorded: DeliveryResult[] = [];
    const settle = createDeliverResultStage({
      inFlight,
      nowMs: () => 1_000_000,
      finish: () => undefined,
      park: () => assert.fail('nothing waits: both groups are online'),
      isOnline: () => true,
      record: (_id, result) => (recorded.push(result), new Promise<void>((r) => (resolveRecord = r))),
      toDeliverPrepare: (r) => retried.push(r),
      schedule: () => true,
      deadLetter: () => undefined,
      onError: (error) => assert.fail(String(error)),
    });
    const jobs: DeliveryJob[] = [];
    const prepare = createDeliverPrepareStage({
      bindings: () =>
        new BindingTable([directBinding('s-a', 'trade', 'pay-succ'), directBinding('s-b', 'trade', 'pay-succ')]),
      isOnline: () => true,
      inFlight,
      nowMs: () => 1_000_000,
      deadLetter: () => undefined,
      park: () => undefined,
      defer: () => assert.fail('not scheduled'),
      finish: () => undefined,
      toDeliverQos: (job) => jobs.push(job),
      onUncommitted: () => assert.fail('committed'),
    });
    const m = aMessage({ topic: 'trade', messageType: 'pay-succ' });
    prepare({ message: m, attempt: 1, fly: false });
    settle(jobs[0], 's-a', true);
    settle(jobs[0], 's-b', false);
    await Promise.resolve();
    assert.ok(inFlight.has(m.header.messageId), 'still in flight while the store writes');
    const watch = inFlight.openWatch();
    assert.deepEqual([recorded[0].succGroups, recorded[0].failGroups, recorded[0].deliverCount], [['s-a'], ['s-b'], 1]);
    resolveRecord();
    await new Promise((r) => setImmediate(r));
    assert.ok(watch.has(m.header.messageId), 'a reader paging the store meanwhile is told');
    assert.equal(retried.length, 1);
    assert.deepEqual([retried[0].attempt, retried[0].message.succGroups], [2, ['s-a']]);
  });
});
