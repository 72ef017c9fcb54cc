// doc/http-gateway.md "Pull consume", over real HTTP on a virtual clock: a message waiting in the
// group's queue for a poll runs no delivery timeout (a cron poller with wait=0 gets every message at
// attempt 1), and past the queue's bound messages park for the group instead of failing, and come
// once polls make room; a consumer released with messages still queued hands them back uncounted.
import assert from 'node:assert/strict';
import { buildStringMessage, type KiteQClient } from '../client';
import { VirtualClock } from '../server/clock';
import { PULL_QUEUE_MAX } from '../server/gateway/pull-consumer';
import { eventually } from './support/events';
import { GatewayCaller } from './support/gateway-consume';
import { withBroker } from './support/with-broker';

const GROUPS = [
  { groupId: 'p-trade', secretKey: 'k', publish: ['trade'] },
  { groupId: 's-cron', secretKey: 'cron-key', subscribe: ['trade'] },
];
const TIMEOUT_MS = 1000;

describe('gateway pull consume: waiting for a poll costs no attempt', function () {
  this.timeout(60_000);
  let clock: VirtualClock;
  const env = withBroker(
    () => ({
      bindings: [],
      topics: ['trade'],
      config: { gateway: '127.0.0.1:0', groups: GROUPS, deliveryTimeoutMs: TIMEOUT_MS, gatewayIdleSec: 600 },
      brokerOptions: { clock: (clock = new VirtualClock()) },
    }),
    { perTest: true },
  );
  let http: GatewayCaller;
  let producer: KiteQClient;

  beforeEach(async () => {
    http = new GatewayCaller(`http://${env.broker.gatewayAddress}`, 's-cron', 'cron-key');
    producer = await env.startClient({ groupId: 'p-trade', publishTopics: ['trade'] });
    // the first poll binds the group and makes its consumer
    assert.deepEqual((await http.pull({ topic: 'trade', type: 'pay-succ' })).body, []);
  });

  async function publish(body: string): Promise<string> {
    const ack = await producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body }));
    return ack.messageId;
  }

  async function deadLetters(): Promise<number> {
    return (await env.broker.listDeadLetters({ topic: 'trade', groupId: 's-cron', limit: 10_000 })).length;
  }

  it('a poller with wait=0 every two delivery timeouts gets every message at attempt 1', async () => {
    for (let round = 0; round < 4; round++) {
      const id = await publish(`order ${round}`);
      await eventually(() => env.broker.inFlightCount === 1, 5000, 'handed to the pull consumer');
      clock.advance(TIMEOUT_MS * 2); // the cron job sleeps: the broker's sweep runs meanwhile
      const answer = await http.pull({ topic: 'trade', type: 'pay-succ', wait: 0 });
      assert.deepEqual(
        answer.body.map((m) => [m.messageId, m.attempt]),
        [[id, 1]],
        `round ${round}`,
      );
      assert.deepEqual((await http.settle({ ack: [id] })).body.results, { [id]: 'acked' });
      await eventually(async () => !(await env.broker.store.get(id)), 5000, 'finished');
    }
    assert.equal(await deadLetters(), 0);
  });

  it('past the queue bound, messages park instead of failing, and polls afterwards receive all of them', async () => {
    const total = PULL_QUEUE_MAX + 50;
    const ids = new Set<string>();
    for (let sent = 0; sent < total; sent += 100) {
      const batch = Array.from({ length: Math.min(100, total - sent) }, (_, i) => publish(`order ${sent + i}`));
      for (const id of await Promise.all(batch)) ids.add(id);
    }
    await eventually(() => env.broker.inFlightCount === PULL_QUEUE_MAX, 10_000, 'the queue full');
    clock.advance(TIMEOUT_MS * 10); // nobody polls for ten delivery timeouts
    assert.equal(env.broker.inFlightCount, PULL_QUEUE_MAX, 'nothing in the queue failed');
    assert.equal(env.broker.retryScheduledCount, 0, 'no retry scheduled');
    assert.equal(await deadLetters(), 0);

    const got = new Map<string, number>();
    await eventually(
      async () => {
        const answer = await http.pull({ topic: 'trade', type: 'pay-succ', max: 1000, wait: 0 });
        for (const m of answer.body) got.set(m.messageId, m.attempt);
        if (answer.body.length > 0) await http.settle({ ack: answer.body.map((m) => m.messageId) });
        return got.size >= total;
      },
      20_000,
      'every message pulled',
      10,
    );
    assert.deepEqual([...got.keys()].sort(), [...ids].sort());
    assert.deepEqual(
      [...got.values()].filter((attempt) => attempt !== 1),
      [],
      'each at attempt 1',
    );
    assert.equal(await deadLetters(), 0);
  });
});

describe('gateway pull consume: released with messages queued', function () {
  this.timeout(30_000);
  let clock: VirtualClock;
  const IDLE_SEC = 5;
  const env = withBroker(
    () => ({
      bindings: [],
      topics: ['trade'],
      // leases outlast the idle limit: the release, not the lease's end, settles the leased one
      config: { gateway: '127.0.0.1:0', groups: GROUPS, deliveryTimeoutMs: 20_000, gatewayIdleSec: IDLE_SEC },
      brokerOptions: { clock: (clock = new VirtualClock()) },
    }),
    { perTest: true },
  );

  it('hands back what it never handed out: parked, then polled at attempt 1; a leased one counts as failed', async () => {
    const http = new GatewayCaller(`http://${env.broker.gatewayAddress}`, 's-cron', 'cron-key');
    const producer = await env.startClient({ groupId: 'p-trade', publishTopics: ['trade'] });
    const sessionsBefore = env.broker.sessionCount;
    await http.pull({ topic: 'trade', type: 'pay-succ' });
    const send = async (body: string) =>
      (await producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body }))).messageId;
    const leasedId = await send('leased');
    await eventually(() => env.broker.inFlightCount === 1, 5000, 'queued');
    const leased = await http.pull({ topic: 'trade', type: 'pay-succ', wait: 0 });
    assert.deepEqual(
      leased.body.map((m) => m.messageId),
      [leasedId],
    );
    const queued = [await send('queued 1'), await send('queued 2')];
    await eventually(() => env.broker.inFlightCount === 3, 5000, 'queued');
    clock.advance(IDLE_SEC * 1000 + 1500); // the poller stopped: released after --gateway-idle
    await eventually(() => env.broker.sessionCount === sessionsBefore, 5000, 'consumer released');
    await eventually(() => env.broker.inFlightCount === 0, 5000, 'handed back');
    assert.equal(env.broker.retryScheduledCount, 0, 'the queued ones were not failed');

    const got = new Map<string, number>();
    await eventually(
      async () => {
        const answer = await http.pull({ topic: 'trade', type: 'pay-succ', max: 10, wait: 0 });
        for (const m of answer.body) got.set(m.messageId, m.attempt);
        return got.size >= 3;
      },
      10_000,
      'all three pulled again',
      10,
    );
    assert.deepEqual(
      [...got].sort(),
      [[leasedId, 2], ...queued.map((id) => [id, 1] as [string, number])].sort(),
      'the lease released counted an attempt; the queued ones did not',
    );
  });
});
