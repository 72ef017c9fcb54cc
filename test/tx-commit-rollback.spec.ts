// doc/architecture.md §7: sendTxMessage runs the local transaction after the durable store-ack and
// commits or rolls back; commit delivers once, rollback never delivers and leaves nothing stored.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { buildStringMessage, type KiteQClient, type Message } from '../client';
import { countdown, eventually } from './support/events';
import { withBroker } from './support/with-broker';

describe('tx messages - commit and rollback by the producer', function () {
  this.timeout(30_000);
  // Check-backs early (1 s), so a message left prepared by mistake would be noticed in the run.
  const env = withBroker({
    bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
    config: { txCheckAgeSec: 1, txCheckIntervalSec: 1 },
  });
  let producer: KiteQClient;
  let consumer: KiteQClient;
  const received = new Map<string, number>();
  let onReceive: (m: Message) => void = () => undefined;

  before(async () => {
    consumer = env.client({
      groupId: 's-mc',
      bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
      listener: (m) => {
        received.set(m.header.messageId, (received.get(m.header.messageId) ?? 0) + 1);
        onReceive(m);
        return true;
      },
    });
    producer = env.client({ groupId: 'p-trade', publishTopics: ['trade'], txCheckListener: () => 'unknown' });
    await consumer.start();
    await producer.start();
  });

  const payment = (orderId: string) =>
    buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `paid ${orderId}`, properties: { orderId } });

  it('commit: the local transaction runs after the store-ack, and the message is delivered once', async () => {
    const message = payment('o-commit');
    const id = message.header.messageId;
    const arrived = countdown(1, 10_000, 'delivery');
    let deliveredCommit: boolean | undefined;
    onReceive = (m) => {
      if (m.header.messageId !== id) return;
      deliveredCommit = m.header.commit;
      arrived.tick();
    };
    let storedWhenLocalTxRan: boolean | undefined;
    const decision = await producer.sendTxMessage(message, async () => {
      const stored = await env.broker.store.get(id);
      storedWhenLocalTxRan = stored !== undefined && stored.header.commit === false;
      assert.equal(received.has(id), false, 'not delivered while prepared');
      return true;
    });
    assert.equal(decision, 'commit');
    assert.equal(storedWhenLocalTxRan, true, 'stored prepared (commit=false) before the local transaction ran');
    await arrived.done;
    assert.equal(deliveredCommit, true, 'delivered with the committed header, not the prepared one');
    await eventually(async () => (await env.broker.store.get(id)) === undefined, 5000, 'the acked message deleted');
    assert.equal(received.get(id), 1);
  });

  it('rollback (localTx returns false): never delivered, gone from the store', async () => {
    const message = payment('o-false');
    const id = message.header.messageId;
    assert.equal(await producer.sendTxMessage(message, () => false), 'rollback');
    await eventually(
      async () => (await env.broker.store.get(id)) === undefined,
      5000,
      'the rolled-back message deleted',
    );
    // A committed marker published after it is delivered; the rolled-back one never is.
    await deliveredMarker();
    assert.equal(received.has(id), false);
    assert.deepEqual(await env.broker.store.listDeadLetters({ limit: 10 }), [], 'a rollback is not a dead letter');
  });

  it('rollback (localTx throws): the error text goes to the broker as feedback, nothing delivered', async () => {
    const message = payment('o-throw');
    const id = message.header.messageId;
    const decision = await producer.sendTxMessage(message, async () => {
      throw new Error('insufficient funds');
    });
    assert.equal(decision, 'rollback');
    await eventually(
      async () => (await env.broker.store.get(id)) === undefined,
      5000,
      'the rolled-back message deleted',
    );
    await deliveredMarker();
    assert.equal(received.has(id), false);
  });

  it('200 concurrent transactions, every other one rolled back: exactly the committed ones arrive, each once', async () => {
    const messages = Array.from({ length: 200 }, (_, i) => payment(`o-${i}`));
    const committed = new Set(messages.filter((_, i) => i % 2 === 0).map((m) => m.header.messageId));
    const arrived = countdown(committed.size, 15_000, 'committed deliveries');
    onReceive = (m) => committed.has(m.header.messageId) && arrived.tick();
    await Promise.all(messages.map((m) => producer.sendTxMessage(m, () => committed.has(m.header.messageId))));
    await arrived.done;
    await deliveredMarker();
    const got = messages.filter((m) => received.has(m.header.messageId)).map((m) => m.header.messageId);
    assert.deepEqual(new Set(got), committed);
    assert.ok(got.every((id) => received.get(id) === 1));
    await eventually(async () => Object.keys(await env.broker.store.countsByTopic()).length === 0, 5000, 'store empty');
  });

  async function deliveredMarker(): Promise<void> {
    const marker = payment('marker');
    const arrived = countdown(1, 10_000, 'marker');
    onReceive = (m) => m.header.messageId === marker.header.messageId && arrived.tick();
    await producer.send(marker);
    await arrived.done;
  }
});
