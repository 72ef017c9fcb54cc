// doc/architecture.md §6: past deliverLimit or expiredTime a message goes to the dead-letter area with the
// reason, is listed per topic/group, and re-drive delivers it again at once.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { buildStringMessage, type KiteQClient } from '../client';
import { VirtualClock } from '../server/clock';
import { eventually } from './support/events';
import { withBroker } from './support/with-broker';

describe('delivery dead letters - deliverLimit, expiry and re-drive', function () {
  this.timeout(30_000);
  let clock: VirtualClock;
  const clients: KiteQClient[] = [];
  let accept = false;
  let received: string[] = [];
  const env = withBroker(
    () => ({
      bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
      brokerOptions: { clock: (clock = new VirtualClock()) },
    }),
    { perTest: true },
  );

  beforeEach(async () => {
    accept = false;
    received = [];
    clients.length = 0;
    for (const groupId of ['s-mc', 'p-trade']) {
      clients.push(
        await env.startClient({
          groupId,
          publishTopics: ['trade'],
          listener: groupId === 's-mc' ? (m) => (received.push(m.header.messageId), accept) : undefined,
        }),
      );
    }
  });

  const producer = () => clients[1];

  async function deadLetters(groupId = 's-mc') {
    return env.broker.listDeadLetters({ topic: 'trade', groupId, limit: 100 });
  }

  it('dead-letters after deliverLimit 3 attempts with the reason, and re-drive delivers it once accepted', async () => {
    const { messageId } = await producer().send(
      buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'poison', deliverLimit: 3 }),
    );
    const letters = await eventually(
      async () => ((await deadLetters()).length === 1 ? deadLetters() : null),
      5000,
      'the dead letter',
    );
    assert.deepEqual(received, [messageId, messageId, messageId], 'exactly 3 attempts');
    assert.equal(letters![0].message.header.messageId, messageId);
    assert.match(letters![0].reason, /deliverLimit 3 reached; failed groups: s-mc/);
    assert.equal(letters![0].message.deliverCount, 3);
    assert.deepEqual(await env.broker.listDeadLetters({ topic: 'other', limit: 10 }), [], 'listed per topic');
    assert.deepEqual(await env.broker.store.countsByTopic(), {}, 'no longer among live messages');
    assert.equal(env.broker.retryScheduledCount, 0);

    accept = true;
    const before = received.length;
    assert.equal(await env.broker.redrive([messageId, '0'.repeat(32)]), 1, 'one known dead letter re-driven');
    await eventually(() => received.length > before, 5000, 'the re-driven delivery');
    assert.equal(received.at(-1), messageId);
    await eventually(
      async () =>
        (await deadLetters()).length === 0 && Object.keys(await env.broker.store.countsByTopic()).length === 0,
      5000,
      'finished after the re-drive',
    );
  });

  it('re-drives every dead letter of a topic and group at once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(
        (
          await producer().send(
            buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `p${i}`, deliverLimit: 1 }),
          )
        ).messageId,
      );
    await eventually(async () => (await deadLetters()).length === 5, 5000, '5 dead letters');
    assert.deepEqual(
      await env.broker
        .listDeadLetters({ topic: 'trade', groupId: 'someone-else-acked', limit: 10 })
        .then((l) => l.length),
      5,
    );
    accept = true;
    const before = received.length;
    assert.equal(await env.broker.redriveWhere({ topic: 'trade', groupId: 's-mc' }), 5);
    await eventually(() => received.length === before + 5, 5000, 'the 5 re-driven deliveries');
    assert.deepEqual(received.slice(before).sort(), [...ids].sort());
    await eventually(async () => (await deadLetters()).length === 0, 5000, 'dead-letter area empty');
  });

  it('dead-letters a message whose expiredTime passes while it waits for a retry', async () => {
    const expiredTime = Math.floor(clock.nowMs() / 1000) + 3;
    const { messageId } = await producer().send(
      buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'short-lived', expiredTime }),
    );
    await eventually(
      () => received.length === 3 && env.broker.retryScheduledCount === 1 && env.broker.inFlightCount === 0,
      5000,
      'attempts 1-3, then a retry in 5 s',
    );
    clock.advance(5000);
    const letters = await eventually(
      async () => ((await deadLetters()).length === 1 ? deadLetters() : null),
      5000,
      'the expired dead letter',
    );
    assert.equal(letters![0].message.header.messageId, messageId);
    assert.match(letters![0].reason, /^expired at /);
    assert.equal(received.length, 3, 'never delivered after it expired');
  });
});
