// doc/architecture.md §6: attempts 1–3 immediate, then the back-off table, run on a virtual clock
// (server/clock.ts) over real sockets, so minutes of schedule take milliseconds.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { buildStringMessage, type KiteQClient } from '../client';
import { VirtualClock } from '../server/clock';
import { retryDelaySec } from '../handler/retry-schedule';
import { eventually } from './support/events';
import { withBroker } from './support/with-broker';

describe('delivery retry schedule - virtual clock', function () {
  this.timeout(30_000);
  let clock: VirtualClock;
  const env = withBroker(
    () => ({
      bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
      brokerOptions: { clock: (clock = new VirtualClock()) },
    }),
    { perTest: true },
  );

  function client(groupId: string, listener?: (m: { header: { messageId: string } }) => boolean): Promise<KiteQClient> {
    const bindings = groupId.startsWith('s-') ? [directBinding(groupId, 'trade', 'pay-succ')] : [];
    return env.startClient({ groupId, bindings, publishTopics: ['trade'], listener });
  }

  /** Advances to just before the retry is due (nothing may happen), then onto it. */
  async function advanceToNextAttempt(
    expectedDelayMs: number,
    attemptsBefore: number,
    attempts: number[],
  ): Promise<void> {
    await eventually(
      () => env.broker.retryScheduledCount === 1 && env.broker.inFlightCount === 0,
      5000,
      `retry after attempt ${attemptsBefore} on the heap`,
    );
    clock.advance(expectedDelayMs - 1);
    assert.equal(
      env.broker.retryScheduledCount,
      1,
      `attempt ${attemptsBefore + 1} not due before ${expectedDelayMs} ms`,
    );
    assert.equal(attempts.length, attemptsBefore);
    clock.advance(1);
    await eventually(() => attempts.length === attemptsBefore + 1, 5000, `attempt ${attemptsBefore + 1}`);
  }

  it('delivers on attempt 6 to a consumer that nacks the first 5, at the times of the schedule', async () => {
    const attempts: number[] = [];
    await client('s-mc', () => {
      attempts.push(clock.nowMs());
      return attempts.length >= 6;
    });
    const producer = await client('p-trade');
    const ack = await producer.send(
      buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'nack me five times' }),
    );
    assert.equal(ack.status, true);
    await eventually(() => attempts.length === 3, 5000, 'attempts 1-3 (immediate)');
    for (let n = 3; n < 6; n++) await advanceToNextAttempt(retryDelaySec(n) * 1000, n, attempts);
    const t0 = attempts[0];
    assert.deepEqual(
      attempts.map((t) => t - t0),
      [0, 0, 0, 5000, 10_000, 15_000],
    );
    await eventually(
      async () => Object.keys(await env.broker.store.countsByTopic()).length === 0,
      5000,
      'message finished and deleted',
    );
    assert.equal(env.broker.retryScheduledCount, 0);
    assert.equal((await env.broker.listDeadLetters({ limit: 10 })).length, 0);
  });

  it('persists each delayed retry in the store (nextDeliverTime, deliverCount) before it is due', async () => {
    await client('s-mc', () => false);
    const producer = await client('p-trade');
    const { messageId } = await producer.send(
      buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'always nacked' }),
    );
    const publishedSec = Math.floor(clock.nowMs() / 1000);
    await eventually(
      () => env.broker.retryScheduledCount === 1 && env.broker.inFlightCount === 0,
      5000,
      'retry after attempt 3 on the heap',
    );
    const stored = await env.broker.store.get(messageId);
    assert.equal(stored?.deliverCount, 3);
    assert.deepEqual(stored?.failGroups, ['s-mc']);
    assert.equal(stored?.nextDeliverTime, publishedSec + 5);
  });
});
