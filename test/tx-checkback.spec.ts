// doc/architecture.md §7: check-back of prepared messages. Small ages and intervals (1 s) so the
// whole dance takes seconds; the broker's store is read in-process to see the stored check count.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { buildStringMessage, KiteQClient, type Message, messageProperties, type TxDecision } from '../client';
import type { BrokerConfig } from '../server/config';
import { CmdType } from '../protocol/commands';
import { encodeMessage } from '../protocol/messages/message';
import { countdown, eventually } from './support/events';
import { startBroker } from './support/broker';
import { aHeader } from './support/messages';
import { RawClient } from './support/raw-client';

const binding = directBinding('s-mc', 'trade', 'pay-succ');
const payment = (orderId: string) =>
  buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `paid ${orderId}`, properties: { orderId } });

async function setup(config: Partial<BrokerConfig>) {
  const env = await startBroker({
    bindings: [binding],
    config: { txCheckAgeSec: 1, txCheckIntervalSec: 1, ...config },
  });
  const received: Message[] = [];
  const listeners: ((m: Message) => void)[] = [];
  const consumer = new KiteQClient({
    registry: env.registryUri,
    groupId: 's-mc',
    secretKey: 'k',
    bindings: [binding],
    listener: async (m) => {
      received.push(m);
      for (const l of listeners) l(m);
      return true;
    },
  });
  await consumer.start();
  const clients: KiteQClient[] = [consumer];
  const producer = async (txCheckListener?: (m: Pick<Message, 'header'>) => TxDecision | Promise<TxDecision>) => {
    const client = new KiteQClient({
      registry: env.registryUri,
      groupId: 'p-trade',
      secretKey: 'k',
      publishTopics: ['trade'],
      txCheckListener,
    });
    clients.push(client);
    await client.start();
    return client;
  };
  /** a producer of the group that never answers a check-back (its process hangs) */
  const silentProducer = async () => {
    const raw = await RawClient.connect(env.address);
    await raw.handshake('p-trade', 'k');
    return raw;
  };
  /** stores a prepared message and never decides it (the producer's local transaction never ends) */
  const prepare = async (client: KiteQClient, message: Message) => {
    void client.sendTxMessage(message, () => new Promise<boolean>(() => undefined));
    await eventually(
      async () => (await env.broker.store.get(message.header.messageId)) !== undefined,
      5000,
      'stored prepared',
    );
  };
  const close = async () => {
    await Promise.all(clients.map((c) => c.close()));
    await env.stop();
  };
  return { env, received, listeners, producer, silentProducer, prepare, close };
}

describe('tx check-back - a producer that answers unknown, then commit', function () {
  this.timeout(30_000);
  let t: Awaited<ReturnType<typeof setup>>;
  before(async () => (t = await setup({ txMaxChecks: 15 })));
  after(async () => t?.close());

  it('is delivered after the 4th check; the stored check count is 4; the listener sees header and properties', async () => {
    const asked: { at: number; properties: Record<string, string>; commit: boolean }[] = [];
    const client = await t.producer((m) => {
      asked.push({ at: Date.now(), properties: messageProperties(m), commit: m.header.commit });
      return asked.length < 4 ? 'unknown' : 'commit';
    });
    const message = payment('o-unknown-3');
    const id = message.header.messageId;
    const arrived = countdown(1, 15_000, 'delivery');
    let storedCheckCount = -1;
    t.listeners.push((m) => {
      if (m.header.messageId !== id) return;
      void t.env.broker.store
        .get(id)
        .then((stored) => (storedCheckCount = stored?.checkCount ?? -2))
        .finally(() => arrived.tick());
    });
    const publishedAt = Date.now();
    await t.prepare(client, message);
    await arrived.done;
    assert.equal(asked.length, 4, 'asked four times');
    assert.equal(storedCheckCount, 4, 'check count stored with the message');
    assert.deepEqual(asked[0].properties, { orderId: 'o-unknown-3' });
    assert.equal(asked[0].commit, false);
    // doc/architecture.md §7: not before the check age, and each next check after the back-off.
    assert.ok(
      asked[0].at - publishedAt >= 0 && asked[0].at - publishedAt < 3000,
      `first check ${asked[0].at - publishedAt} ms after publish`,
    );
    for (let i = 1; i < 4; i++) {
      const gap = asked[i].at - asked[i - 1].at;
      assert.ok(gap >= 500 && gap < 2600, `gap ${i}: ${gap} ms`);
    }
    assert.equal(t.received.filter((m) => m.header.messageId === id).length, 1);
    await client.close(); // the next test's producer is the only one of the group
  });

  it('a late commit sent by the producer after it answered unknown is honoured at once', async () => {
    const client = await t.producer(() => 'unknown');
    const message = payment('o-late');
    const id = message.header.messageId;
    let decide!: (ok: boolean) => void;
    const localTx = new Promise<boolean>((resolve) => (decide = resolve));
    const sent = client.sendTxMessage(message, () => localTx);
    await eventually(
      async () => ((await t.env.broker.store.get(id))?.checkCount ?? 0) >= 1,
      5000,
      'a check-back answered unknown',
    );
    const arrived = countdown(1, 5000, 'delivery');
    t.listeners.push((m) => m.header.messageId === id && arrived.tick());
    decide(true);
    assert.equal(await sent, 'commit');
    await arrived.done;
  });
});

describe('tx check-back - nobody answers', function () {
  this.timeout(30_000);
  let t: Awaited<ReturnType<typeof setup>>;
  before(async () => (t = await setup({ txMaxChecks: 3 })));
  after(async () => t?.close());

  it('after the maximum checks the final action rolls it back into the dead letters, with the reason', async () => {
    const silent = await t.silentProducer();
    const header = aHeader({ commit: false, groupId: 'p-trade' });
    silent.sendPacket(
      9,
      CmdType.STRING_MESSAGE,
      encodeMessage({ cmdType: CmdType.STRING_MESSAGE, header, body: 'never decided' }),
    );
    await silent.next((f) => f.cmdType === CmdType.MESSAGE_STORE_ACK);
    // Its producer vanishes too: checks go on with nobody online, and still count.
    await eventually(
      () => silent.frames.filter((f) => f.cmdType === CmdType.TX_ACK).length >= 1,
      5000,
      'first check-back',
    );
    silent.close();
    const letters = (await eventually(
      async () => {
        const list = await t.env.broker.store.listDeadLetters({ topic: 'trade', limit: 10 });
        return list.length > 0 ? list : undefined;
      },
      10_000,
      'the dead letter',
    )) as NonNullable<Awaited<ReturnType<typeof t.env.broker.store.listDeadLetters>>>;
    assert.equal(letters[0].message.header.messageId, header.messageId);
    assert.equal(letters[0].message.checkCount, 3);
    assert.match(letters[0].reason, /no commit or rollback after 3 check-backs to group p-trade/);
    assert.equal(
      t.received.some((m) => m.header.messageId === header.messageId),
      false,
    );
    assert.equal(t.env.broker.txChecks.isChecking(header.messageId), false);
  });
});

describe('tx check-back - final action commit', function () {
  this.timeout(30_000);
  let t: Awaited<ReturnType<typeof setup>>;
  before(async () => (t = await setup({ txMaxChecks: 2, txFinalAction: 'commit' })));
  after(async () => t?.close());

  it('delivers the message after the maximum checks when configured to commit', async () => {
    const client = await t.producer(() => 'unknown');
    const message = payment('o-final-commit');
    const arrived = countdown(1, 10_000, 'delivery');
    t.listeners.push((m) => m.header.messageId === message.header.messageId && arrived.tick());
    await t.prepare(client, message);
    await arrived.done;
  });
});

describe('tx check-back - one producer of the group is silent', function () {
  this.timeout(30_000);
  let t: Awaited<ReturnType<typeof setup>>;
  before(async () => (t = await setup({ txMaxChecks: 15 })));
  after(async () => t?.close());

  it('asks another member next time, so the message is decided by the one that answers', async () => {
    const silent = await t.silentProducer();
    const answered: string[] = [];
    const client = await t.producer((m) => (answered.push(m.header.messageId), 'commit'));
    const messages = Array.from({ length: 6 }, (_, i) => payment(`o-member-${i}`));
    const ids = new Set(messages.map((m) => m.header.messageId));
    const arrived = countdown(ids.size, 15_000, 'deliveries');
    t.listeners.push((m) => ids.has(m.header.messageId) && arrived.tick());
    for (const m of messages) await t.prepare(client, m);
    await arrived.done;
    const silentChecks = silent.frames.filter((f) => f.cmdType === CmdType.TX_ACK).length;
    assert.ok(silentChecks <= ids.size, `the silent member was asked at most once per message (${silentChecks})`);
    for (const m of messages) assert.ok(((await t.env.broker.store.get(m.header.messageId))?.checkCount ?? 0) <= 2);
    silent.close();
  });
});

describe('tx check-back - a backlog of prepared messages on one producer', function () {
  this.timeout(30_000);
  let t: Awaited<ReturnType<typeof setup>>;
  before(async () => (t = await setup({ txMaxChecks: 15, txMaxChecksPerProducer: 5 })));
  after(async () => t?.close());

  it('never has more than txMaxChecksPerProducer unanswered check-backs out on one connection', async () => {
    const silent = await t.silentProducer();
    for (let i = 0; i < 30; i++) {
      const header = aHeader({ commit: false, groupId: 'p-trade' });
      silent.sendPacket(
        100 + i,
        CmdType.STRING_MESSAGE,
        encodeMessage({ cmdType: CmdType.STRING_MESSAGE, header, body: 'backlog' }),
      );
    }
    let most = 0;
    const sampler = setInterval(() => (most = Math.max(most, t.env.broker.txChecks.size)), 5);
    try {
      await eventually(
        () => silent.frames.filter((f) => f.cmdType === CmdType.TX_ACK).length >= 15,
        10_000,
        '15 check-backs',
      );
    } finally {
      clearInterval(sampler);
    }
    assert.ok(most <= 5, `at most 5 unanswered at a time, saw ${most}`);
    silent.close();
  });
});
