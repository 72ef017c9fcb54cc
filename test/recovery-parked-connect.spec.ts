// doc/delivery.md "Recovery manager" (issue 29): messages parked for two offline groups; one group's
// consumer connects and receives them all as fast as its watermark lets it, about as fast as the
// same number published while it is online; the other group's wait costs nothing after.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { buildStringMessage, type KiteQClient } from '../client';
import { countdown, eventually } from './support/events';
import { withBroker } from './support/with-broker';

const N = 6_000;

describe('recovery - a group connecting to a backlog parked for it', function () {
  this.timeout(90_000);
  const env = withBroker({
    bindings: [
      directBinding('s-on', 'trade', 'pay-succ', { watermark: 100_000 }),
      directBinding('s-off', 'trade', 'pay-succ', { watermark: 100_000 }),
      directBinding('s-metered', 'metered', 'pay-succ', { watermark: 2_000 }),
    ],
    topics: ['trade', 'metered'],
  });

  const publish = async (producer: KiteQClient, topic: string, n: number) => {
    for (let i = 0; i < n; i += 200) {
      await Promise.all(
        Array.from({ length: Math.min(200, n - i) }, () =>
          producer.send(buildStringMessage({ topic, messageType: 'pay-succ', body: 'x' })),
        ),
      );
    }
  };
  const parkedCount = async (topic: string) =>
    (await env.broker.store.pageDue({ dueBy: Number.MAX_SAFE_INTEGER, limit: 4 * N, committed: true })).filter(
      (m) => m.header.topic === topic && m.failGroups.length === 0 && m.nextDeliverTime > Date.now() / 1000 + 30,
    ).length;

  it('delivers the whole backlog at about the rate of live traffic, and at the watermark when that is lower', async () => {
    const producer = await env.startClient({ groupId: 'p-trade', publishTopics: ['trade', 'metered'] });

    // baseline, same broker and run: N published while a consumer of s-on is online
    let live = countdown(N, 60_000, 'live deliveries to s-on');
    const online = await env.startClient({
      groupId: 's-on',
      publishTopics: ['trade'],
      listener: () => (live.tick(), true),
    });
    let started = performance.now();
    await publish(producer, 'trade', N);
    await live.done;
    const baselineMs = performance.now() - started;
    await online.close();
    await eventually(
      async () => (await parkedCount('trade')) === N,
      30_000,
      'the baseline acked by s-on, parked for s-off',
    );

    // the backlog: N more, parked for both groups, then s-on connects
    await publish(producer, 'trade', N);
    await eventually(async () => (await parkedCount('trade')) === 2 * N, 30_000, `${N} more parked for both groups`);
    const received = new Set<string>();
    live = countdown(N, 60_000, 'the backlog delivered to s-on');
    started = performance.now();
    await env.startClient({
      groupId: 's-on',
      publishTopics: ['trade'],
      listener: (m) => (received.add(m.header.messageId), live.tick(), true),
    });
    await live.done;
    const backlogMs = performance.now() - started;
    assert.equal(received.size, N);
    assert.ok(
      backlogMs < 3 * baselineMs + 2_000,
      `backlog of ${N} in ${Math.round(backlogMs)} ms, live traffic in ${Math.round(baselineMs)} ms`,
    );

    // a group with a watermark of 2,000/s gets its backlog at that rate (one second's burst first)
    await publish(producer, 'metered', N);
    await eventually(async () => (await parkedCount('metered')) === N, 30_000, 'the metered backlog parked');
    const metered = countdown(N, 60_000, 'the metered backlog delivered');
    started = performance.now();
    await env.startClient({ groupId: 's-metered', publishTopics: ['metered'], listener: () => (metered.tick(), true) });
    await metered.done;
    const meteredMs = performance.now() - started;
    assert.ok(
      meteredMs >= ((N - 2_000) / 2_000) * 1000 - 100,
      `metered backlog in ${Math.round(meteredMs)} ms: faster than its watermark`,
    );
    assert.ok(
      meteredMs < (N / 2_000) * 1000 + 3 * baselineMs + 2_000,
      `metered backlog in ${Math.round(meteredMs)} ms`,
    );
  });
});
