// doc/architecture.md §5 "deliver-result", §6: once every target group answered, the outcome is
// recorded and the message finishes, waits for an absent group, is retried on the schedule, or at
// its deliver limit goes to the dead letters (kept, never dropped). It leaves flight only after.
import assert from 'node:assert/strict';
import { directBinding } from '../../binding/binding';
import { createDeliverResultStage } from '../../handler/deliver-result';
import { InFlightSet } from '../../handler/delivery-in-flight';
import { DeliveryJob } from '../../handler/delivery-job';
import type { DeliveryRequest } from '../../handler/events';
import type { DeliveryResult } from '../../store/contract';
import { aMessage } from '../support/messages';

describe("deliver-result stage - what an attempt's outcome leads to", () => {
  const nowMs = 1_000_000_000;
  let inFlight: InFlightSet;
  let log: string[];
  let recorded: DeliveryResult[];
  let scheduled: number[];
  let retried: DeliveryRequest[];
  let deadReasons: string[];
  let recordFails: boolean;
  let settle: ReturnType<typeof createDeliverResultStage>;

  beforeEach(() => {
    inFlight = new InFlightSet();
    log = [];
    recorded = [];
    scheduled = [];
    retried = [];
    deadReasons = [];
    recordFails = false;
    settle = createDeliverResultStage({
      inFlight,
      nowMs: () => nowMs,
      finish: () => void log.push('finish'),
      park: (r) => void log.push(`park ${r.message.deliverCount}`),
      isOnline: () => false,
      record: async (_id, result) => {
        if (recordFails) throw new Error('store unreachable');
        recorded.push(result);
      },
      toDeliverPrepare: (r) => retried.push(r),
      schedule: (_id, atMs) => scheduled.push(atMs),
      deadLetter: (_r, reason) => void deadReasons.push(reason),
      onError: () => void log.push('error'),
    });
  });

  const groups = ['s-a', 's-b'].map((g) => directBinding(g, 'trade', 'pay-succ'));
  function attempt(n: number, deliverLimit = 100, targets = groups, fly = false) {
    const job = new DeliveryJob(aMessage({ deliverLimit }), n, targets, fly);
    inFlight.add(job.messageId);
    return job;
  }
  const settled = () => new Promise((r) => setImmediate(r));

  it('finishes a message every group acked, and only then lets it leave flight', async () => {
    const job = attempt(1);
    settle(job, 's-a', true);
    assert.deepEqual(log, [], 'one group still owes an answer');
    settle(job, 's-b', true);
    await settled();
    assert.deepEqual([log, recorded, inFlight.has(job.messageId)], [['finish'], [], false]);
  });

  it('retries a failed group at once for attempts 2 and 3, recording who acked', async () => {
    const job = attempt(2);
    settle(job, 's-a', true);
    settle(job, 's-b', false);
    await settled();
    assert.deepEqual([recorded[0].succGroups, recorded[0].failGroups, recorded[0].deliverCount], [['s-a'], ['s-b'], 2]);
    assert.deepEqual(
      [retried.length, retried[0].attempt, retried[0].message.succGroups, scheduled],
      [1, 3, ['s-a'], []],
    );
  });

  it('schedules the retry after attempt 3 fails 5 s later (doc/architecture.md §6)', async () => {
    const job = attempt(3);
    settle(job, 's-a', false);
    settle(job, 's-b', false);
    await settled();
    assert.deepEqual(
      [scheduled, retried.length, recorded[0].nextDeliverTime],
      [[nowMs + 5000], 0, (nowMs + 5000) / 1000],
    );
    assert.equal(inFlight.has(job.messageId), false);
  });

  it('dead-letters at the deliver limit, after recording which groups acked', async () => {
    const job = attempt(3, 3);
    settle(job, 's-a', true);
    settle(job, 's-b', false);
    await settled();
    assert.deepEqual(
      recorded.map((r) => r.succGroups),
      [['s-a']],
    );
    assert.deepEqual(deadReasons, ['deliverLimit 3 reached; failed groups: s-b']);
    assert.deepEqual([retried.length, scheduled.length], [0, 0]);
  });

  it('when the store cannot take the outcome, reports it and looks at the message again later', async () => {
    recordFails = true;
    const job = attempt(1);
    settle(job, 's-a', false);
    settle(job, 's-b', false);
    await settled();
    assert.deepEqual(
      [log, scheduled, retried.length, inFlight.has(job.messageId)],
      [['error'], [nowMs + 1000], 0, false],
    );
  });

  it('parks a message whose only missing group has no consumer online, instead of burning an attempt', async () => {
    const job = attempt(1);
    job.waiting = ['s-c'];
    settle(job, 's-a', true);
    settle(job, 's-b', true);
    await settled();
    assert.deepEqual([log, recorded, retried], [['park 1'], [], []]);
  });

  it('parks a delivery handed back by every target uncounted; one another group received counts', async () => {
    const unsent = attempt(3);
    settle(unsent, 's-a', false, true);
    settle(unsent, 's-b', false, true);
    await settled();
    assert.deepEqual([log, recorded, retried, scheduled], [['park 2'], [], [], []], 'attempt 3 not counted');
    log.length = 0;
    const half = attempt(3);
    settle(half, 's-a', true);
    settle(half, 's-b', false, true);
    await settled();
    assert.deepEqual([log, recorded, retried], [['park 3'], [], []], 's-a got attempt 3; s-b waits');
    assert.equal(inFlight.has(half.messageId), false);
  });

  it('records nothing for a fly message: it was never stored', async () => {
    const job = attempt(1, 100, groups, true);
    settle(job, 's-a', false);
    settle(job, 's-b', true);
    await settled();
    assert.deepEqual([log, recorded, retried, scheduled, inFlight.has(job.messageId)], [[], [], [], [], false]);
  });
});
