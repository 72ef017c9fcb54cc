// doc/delayed-delivery.md: a message with `kiteq.deliverAt` is stored at once and delivered no
// earlier than that time, on every store, through a restart after SIGKILL, and in a transaction at
// the later of its commit and its time. Receive times are measured against deliverAt.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { directBinding } from '../binding/binding';
import { BrokerRejectedError, buildStringMessage, KiteQClient, type Message } from '../client';
import { DELIVER_AT_PROPERTY } from '../protocol/deliver-at';
import { Reasons } from '../protocol/reasons';
import { buildAdminCommand } from '../server/admin-cli';
import { rmSync, serverArgs, startBrokerProcess, tempDir, type BrokerProcess } from './support/broker';
import { countdown, eventually } from './support/events';
import { withTestDatabase } from './support/mariadb';
import { freePort } from './support/ports';
import { writeRegistryFile } from './support/registry-file';
import { startZooKeeper, type ZooKeeperServer } from './support/zookeeper';
import { BROKER_STORE_KINDS, withBroker } from './support/with-broker';

const binding = directBinding('s-timer', 'trade', 'order-timeout');
const order = (orderId: string) =>
  buildStringMessage({
    topic: 'trade',
    messageType: 'order-timeout',
    body: `cancel ${orderId}`,
    properties: { orderId },
  });
const deliverAtOf = (header: Message['header']) =>
  Number(header.properties.find((p) => p.key === DELIVER_AT_PROPERTY)?.value);

/** Receive times by message id, and a countdown per expected batch. */
class Receipts {
  readonly at = new Map<string, number>();
  private waiting: { ids: Set<string>; tick: () => void } | null = null;

  listener = (m: Message): boolean => {
    if (!this.at.has(m.header.messageId)) this.at.set(m.header.messageId, Date.now());
    if (this.waiting?.ids.has(m.header.messageId)) this.waiting.tick();
    return true;
  };

  expect(ids: readonly string[], timeoutMs: number): Promise<void> {
    const done = countdown(ids.length, timeoutMs, 'scheduled deliveries');
    this.waiting = { ids: new Set(ids), tick: () => done.tick() };
    return done.done;
  }
}

/**
 * Every message arrived no earlier than its deliverAt, and at most `lateMs` after it or after
 * `readyAt` (a consumer cannot have what is due before it connected any sooner).
 */
function assertOnTime(receipts: Receipts, sent: ReadonlyMap<string, number>, lateMs: number, readyAt = 0): void {
  for (const [id, deliverAt] of sent) {
    const at = receipts.at.get(id);
    assert.ok(at !== undefined, `${id} delivered`);
    assert.ok(at >= deliverAt, `${id} delivered ${deliverAt - at} ms early`);
    const from = Math.max(deliverAt, readyAt);
    assert.ok(at - from <= lateMs, `${id} delivered ${at - from} ms late`);
  }
}

for (const store of BROKER_STORE_KINDS) {
  describe(`delayed delivery - ${store} store`, function () {
    this.timeout(30_000);
    // recovery scans every 1 s: a scheduled message taken for a due or parked one would go at once
    const env = withBroker({
      bindings: [binding],
      store,
      config: { recoverIntervalMs: 1000, txCheckAgeSec: 1, txCheckIntervalSec: 1, maxDelaySec: 3600 },
    });
    const receipts = new Receipts();
    let producer: KiteQClient;

    before(async () => {
      producer = await env.startClient({
        groupId: 'p-trade',
        publishTopics: ['trade'],
        txCheckListener: () => 'unknown',
      });
    });

    it('stores at once and delivers no earlier than deliverAt, also to a consumer that connects meanwhile', async () => {
      const t0 = Date.now();
      const sent = new Map<string, number>();
      // odd milliseconds: a time inside a second must not go at the start of that second
      for (const [i, delay] of [700, 1234, 1777, 2501, 3003].entries()) {
        const ack = await producer.send(order(`o-${i}`), { deliverAt: new Date(t0 + delay) });
        assert.equal(ack.status, true);
        sent.set(ack.messageId, t0 + delay);
      }
      const byDelayMs = await producer.send(order('o-delay'), { delayMs: 1500 });
      const stored = await env.broker.store.get(byDelayMs.messageId);
      assert.ok(stored, 'stored at once');
      sent.set(byDelayMs.messageId, deliverAtOf(stored.header));
      // The group's first consumer re-drives parked messages: scheduled ones must not be among them.
      const arrived = receipts.expect([...sent.keys()], 15_000);
      await env.startClient({ groupId: 's-timer', bindings: [binding], listener: receipts.listener });
      await arrived;
      assertOnTime(receipts, sent, 1500);
    });

    it('refuses a malformed deliverAt and an expiry before it, and stores nothing', async () => {
      for (const [value, reason] of [
        ['in 5 minutes', Reasons.badDeliverAt],
        ['12.5', Reasons.badDeliverAt],
        [String(Date.now() + 2 * 3600_000), Reasons.delayTooLong],
      ] as const) {
        const message = order('o-bad');
        message.header.properties.push({ key: DELIVER_AT_PROPERTY, value });
        await assert.rejects(
          producer.send(message),
          (error: unknown) => error instanceof BrokerRejectedError && error.reason.startsWith(reason.text),
        );
        assert.equal(await env.broker.store.get(message.header.messageId), undefined, `${value}: nothing stored`);
      }
      const early = buildStringMessage({
        topic: 'trade',
        messageType: 'order-timeout',
        body: 'x',
        expiredTime: Math.floor(Date.now() / 1000) + 60,
      });
      await assert.rejects(
        producer.send(early, { delayMs: 120_000 }),
        (error: unknown) =>
          error instanceof BrokerRejectedError && error.reason.startsWith(Reasons.expiresBeforeDeliverAt.text),
      );
      assert.equal(await env.broker.store.get(early.header.messageId), undefined);
    });

    it('tx: committed before its time, delivered at its time; committed after it, delivered at the commit', async () => {
      await env.startClient({ groupId: 's-timer', bindings: [binding], listener: receipts.listener });
      const t0 = Date.now();
      const onTime = order('o-tx-early-commit');
      const late = order('o-tx-late-commit');
      const arrived = receipts.expect([onTime.header.messageId, late.header.messageId], 15_000);
      assert.equal(await producer.sendTx(onTime, () => true, { deliverAt: t0 + 2300 }), 'commit');
      let committedAt = 0;
      // its time (t0 + 300) passes while the local transaction runs; the commit comes after it
      const lateDecision = producer.sendTx(
        late,
        () =>
          eventually(() => Date.now() > t0 + 1300, 5000, 'the time to pass').then(
            () => ((committedAt = Date.now()), true),
          ),
        { deliverAt: t0 + 300 },
      );
      assert.equal(await lateDecision, 'commit');
      await arrived;
      assertOnTime(receipts, new Map([[onTime.header.messageId, t0 + 2300]]), 1500);
      const lateAt = receipts.at.get(late.header.messageId)!;
      assert.ok(lateAt >= committedAt, 'not before its commit');
      assert.ok(
        lateAt - committedAt < 1000,
        `delivered ${lateAt - committedAt} ms after the commit, not at a later scan or check-back`,
      );
    });
  });
}

for (const store of ['file', 'mysql'] as const) {
  describe(`delayed delivery - ${store} store, broker SIGKILLed and restarted`, function () {
    this.timeout(60_000);
    const database = store === 'mysql' ? withTestDatabase() : undefined;
    const clients: KiteQClient[] = [];
    let broker: BrokerProcess | undefined;
    let dir = '';
    after(async () => {
      await Promise.all(clients.map((c) => c.close()));
      await broker?.kill('SIGKILL');
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('delivers each scheduled message at its time after the restart, none before', async () => {
      dir = tempDir('kiteq-delay-');
      const address = `127.0.0.1:${await freePort()}`;
      const registry = `file://${writeRegistryFile(dir, [{ address, topics: ['trade'] }], [binding])}`;
      const storeUri = database ? database.current.uri() : `file://${join(dir, 'data')}?fsync=always`;
      const args = [
        ...serverArgs({ bind: address, registry, store: storeUri, topics: 'trade' }),
        '--log-level',
        'warn',
        '--recover-interval-ms',
        '1000',
      ];
      broker = await startBrokerProcess(args);
      const producer = new KiteQClient({ registry, groupId: 'p-trade', secretKey: 'k', publishTopics: ['trade'] });
      clients.push(producer);
      await producer.start();

      const t0 = Date.now();
      const sent = new Map<string, number>();
      for (let i = 0; i < 20; i++) {
        const deliverAt = t0 + 3000 + i * 301; // spread over 6 s, past the restart
        const ack = await producer.send(order(`o-${i}`), { deliverAt });
        sent.set(ack.messageId, deliverAt);
      }
      assert.equal(await broker.kill('SIGKILL'), null, 'killed by the signal');
      broker = await broker.restart();
      const receipts = new Receipts();
      const arrived = receipts.expect([...sent.keys()], 30_000);
      const consumer = new KiteQClient({
        registry,
        groupId: 's-timer',
        secretKey: 'k',
        bindings: [binding],
        listener: receipts.listener,
      });
      clients.push(consumer);
      await consumer.start();
      const readyAt = Date.now();
      await arrived;
      assertOnTime(receipts, sent, 1500, readyAt);
    });
  });
}

describe('delayed delivery - cancel and list over the admin API and kiteq-admin', function () {
  this.timeout(30_000);
  const TOKEN = 'delay-token';
  const env = withBroker({
    bindings: [binding],
    config: { http: '127.0.0.1:0', httpToken: TOKEN, recoverIntervalMs: 1000 },
  });
  const base = () => `http://${env.broker.httpAddress}`;
  const get = async (path: string) =>
    (await fetch(base() + path)).json() as Promise<{
      items: { messageId: string; deliverAtMs: number }[];
      next: string | null;
    }>;
  const admin = async (...args: string[]) => {
    let printed = '';
    await buildAdminCommand((text) => (printed += text)).parseAsync([
      'node',
      'kiteq-admin',
      '--url',
      base(),
      '--token',
      TOKEN,
      ...args,
    ]);
    return printed;
  };

  it('lists scheduled messages in due order, cancels one that is then never delivered, and refuses to cancel one not scheduled', async () => {
    const producer = await env.startClient({ groupId: 'p-trade', publishTopics: ['trade'] });
    const t0 = Date.now();
    const [cancelled, kept, later] = await Promise.all(
      [1500, 2500, 600_000].map(
        async (delay, i) => (await producer.send(order(`o-${i}`), { deliverAt: t0 + delay })).messageId,
      ),
    );
    const unscheduled = (await producer.send(order('o-now'))).messageId; // no consumer yet: parked, stored

    const all = await get('/scheduled');
    assert.deepEqual(
      all.items.map((s) => s.messageId),
      [cancelled, kept, later],
    );
    assert.deepEqual(
      (await get(`/scheduled?before=${t0 + 60_000}`)).items.map((s) => s.messageId),
      [cancelled, kept],
    );
    assert.deepEqual((await get('/scheduled?topic=elsewhere')).items, []);
    const first = await get('/scheduled?limit=1');
    assert.deepEqual(
      [
        first.items.map((s) => s.messageId),
        (await get(`/scheduled?limit=1&after=${first.next}`)).items.map((s) => s.messageId),
      ],
      [[cancelled], [kept]],
    );
    assert.match(
      await admin('scheduled', '--before', String(t0 + 60_000)),
      new RegExp(`${cancelled}[^\\n]*\\n${kept}`),
    );

    assert.equal(
      (await fetch(`${base()}/messages/${cancelled}`, { method: 'DELETE' })).status,
      401,
      'a change needs the token',
    );
    assert.equal(await admin('cancel', cancelled), `cancelled ${cancelled}\n`);
    const again = await fetch(`${base()}/messages/${cancelled}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(again.status, 404);
    const notScheduled = await fetch(`${base()}/messages/${unscheduled}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(notScheduled.status, 409);
    assert.ok(await env.broker.store.get(unscheduled), 'a message not scheduled is left alone');

    const receipts = new Receipts();
    const arrived = receipts.expect([kept, unscheduled], 15_000);
    await env.startClient({ groupId: 's-timer', bindings: [binding], listener: receipts.listener });
    await arrived; // `kept` is due a second after `cancelled`: had the cancel not held, both would be here
    assert.equal(receipts.at.has(cancelled), false, 'the cancelled message is never delivered');
    assert.ok(receipts.at.get(kept)! >= t0 + 2500);
    assert.ok(await env.broker.store.get(later), 'the far one is still scheduled');
  });
});

describe("delayed delivery - mysql takeover keeps the times of a dead broker's messages", function () {
  this.timeout(90_000);
  const database = withTestDatabase();
  let zookeeper: ZooKeeperServer;
  const brokers: BrokerProcess[] = [];
  const clients: KiteQClient[] = [];
  before(async () => {
    zookeeper = await startZooKeeper();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(brokers.map((b) => b.kill('SIGKILL')));
    await zookeeper?.stop();
  });

  it('a survivor delivers the scheduled messages of a broker killed for good at their time, none before', async () => {
    const registry = `zk://${zookeeper.connectString}?sessionTimeoutMs=3000`;
    const start = async () => {
      const b = await startBrokerProcess([
        ...serverArgs({
          bind: `127.0.0.1:${await freePort()}`,
          registry,
          store: database.current.uri(),
          topics: 'trade',
        }),
        '--log-level',
        'warn',
        '--takeover-grace-ms',
        '300',
        '--recover-interval-ms',
        '1000',
      ]);
      brokers.push(b);
      return b;
    };
    const [a, b] = [await start(), await start()];
    const receipts = new Receipts();
    const consumer = new KiteQClient({
      registry,
      groupId: 's-timer',
      secretKey: 'k',
      bindings: [binding],
      listener: receipts.listener,
    });
    const producer = new KiteQClient({ registry, groupId: 'p-trade', secretKey: 'k', publishTopics: ['trade'] });
    clients.push(consumer, producer);
    await Promise.all([consumer.start(), producer.start()]);
    await eventually(
      () => producer.readyConnections === 2 && consumer.readyConnections === 2,
      10_000,
      'clients connected to both brokers',
    );

    const t0 = Date.now();
    const sent = new Map<string, number>();
    const storedBy = new Map<string, string>();
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const deliverAt = t0 + 7000 + i * 77; // after the takeover (ZooKeeper session 3 s + grace 0.3 s)
        const ack = await producer.send(order(`o-${i}`), { deliverAt });
        sent.set(ack.messageId, deliverAt);
        storedBy.set(ack.messageId, ack.broker);
      }),
    );
    const onB = [...storedBy].filter(([, by]) => by === b.address).map(([id]) => id);
    assert.ok(onB.length > 5, `B stored ${onB.length} of 40`);
    const arrived = receipts.expect([...sent.keys()], 40_000);
    await b.kill('SIGKILL');
    await arrived;
    assertOnTime(receipts, sent, 1500, 0);
    // the log line reaches us through A's stderr, possibly after the deliveries
    await eventually(() => a.log.includes('takeover: adopted'), 5000, "A's takeover log line");
  });
});
