// doc/architecture.md §10 SIGTERM during a stream, with ZooKeeper and the durable file store: the broker's
// znodes are gone before it exits (and before it drops its clients), it exits 0, and every
// store-acked message is delivered once it is started again.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { directBinding } from '../binding/binding';
import { ZkClient } from '../binding/zk/zk-client';
import { aliveServerPath, brokerTopicPath } from '../binding/zk/zk-paths';
import { buildStringMessage, KiteQClient } from '../client';
import { rmSync, startBrokerProcess, tempDir, type BrokerProcess, serverArgs } from './support/broker';
import { eventually } from './support/events';
import { freePort } from './support/ports';
import { startZooKeeper, type ZooKeeperServer } from './support/zookeeper';

describe('ops - graceful shutdown on SIGTERM (zk registry, file store)', function () {
  this.timeout(90_000);
  let zookeeper: ZooKeeperServer;
  let raw: ZkClient;
  let dir: string;
  const clients: KiteQClient[] = [];
  const procs: BrokerProcess[] = [];

  before(async () => {
    zookeeper = await startZooKeeper();
    raw = await ZkClient.connect({
      connectString: zookeeper.connectString,
      sessionTimeoutMs: 4000,
      connectTimeoutMs: 5000,
    });
    dir = tempDir('kiteq-ops-shutdown-');
  });
  after(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
    await raw?.close();
    await zookeeper?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Sets a watch on an existing znode; `deletedAt` resolves with the time (ms) it is deleted. */
  async function deletionOf(path: string): Promise<{ deletedAt: Promise<number> }> {
    let deleted!: (at: number) => void;
    const when = new Promise<number>((resolve) => (deleted = resolve));
    const stat = await raw.exists(path, (event) => {
      if (event.getName() === 'NODE_DELETED') deleted(Date.now());
    });
    assert.ok(stat, `${path} exists while the broker runs`);
    return { deletedAt: when }; // wrapped: an async function would otherwise wait for it
  }

  it('unregisters first, exits 0, and delivers every acked message after the restart', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const registry = `zk://${zookeeper.connectString}?sessionTimeoutMs=4000`;
    const args = [
      ...serverArgs({
        bind: address,
        registry,
        store: `file://${join(dir, 'store')}?fsync=batch`,
        topics: 'trade',
      }),
      '--shutdown-timeout-ms',
      '8000',
    ];
    const broker = await startBrokerProcess(args);
    procs.push(broker);

    const received = new Set<string>();
    let disconnectedAt = 0;
    const consumer = new KiteQClient({
      registry,
      groupId: 's-mc',
      secretKey: 'k',
      bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
      // Acks take a moment, so deliveries are in flight when SIGTERM lands.
      listener: async (m) => {
        await new Promise((r) => setTimeout(r, 20));
        received.add(m.header.messageId);
        return true;
      },
      logger: {
        warn() {},
        info: (_o, msg) => {
          if (msg.startsWith('broker left the registry')) disconnectedAt ||= Date.now();
        },
      },
    });
    const producer = new KiteQClient({
      registry,
      groupId: 'p-trade',
      secretKey: 'k',
      publishTopics: ['trade'],
      sendRetry: { retries: 0 },
    });
    clients.push(consumer, producer);
    await Promise.all([consumer.start(), producer.start()]);
    await eventually(
      () => consumer.readyConnections === 1 && producer.readyConnections === 1,
      10_000,
      'clients connected',
    );
    const aliveGone = await deletionOf(aliveServerPath(address));
    const topicGone = await deletionOf(brokerTopicPath('trade', address));

    // A stream from 4 producers' worth of concurrent sends; stops at the first refusal or close.
    const acked: string[] = [];
    let streaming = true;
    const stream = async () => {
      while (streaming) {
        try {
          const ack = await producer.send(
            buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'stream' }),
          );
          if (ack.status) acked.push(ack.messageId);
        } catch {
          return; // refused while shutting down, or the connection closed: not acked, not owed
        }
      }
    };
    const streams = [stream(), stream(), stream(), stream()];
    await eventually(() => acked.length >= 200, 20_000, '200 acked publishes');

    const exited = new Promise<number>((resolve) => broker.child.once('exit', () => resolve(Date.now())));
    const code = await broker.kill('SIGTERM');
    const exitAt = await exited;
    streaming = false;
    await Promise.all(streams);

    assert.equal(code, 0, `exit code 0; log:\n${broker.log.slice(-3000)}`);
    const [aliveAt, topicAt] = await Promise.all([aliveGone.deletedAt, topicGone.deletedAt]);
    assert.ok(aliveAt <= exitAt && topicAt <= exitAt, 'znodes gone before the process exited');
    assert.ok(disconnectedAt === 0 || topicAt <= disconnectedAt, 'znodes gone before the broker dropped its consumer');
    const log = broker.log;
    const order = ['"shutting down"', '"shutdown: unregistered from the registry"', '"kiteq-ts broker stopped"'].map(
      (line) => log.indexOf(line),
    );
    assert.ok(
      order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])),
      `log order ${order} in:\n${log.slice(-3000)}`,
    );

    const restarted = await broker.restart();
    procs.push(restarted);
    const missing = () => acked.filter((id) => !received.has(id));
    await eventually(() => missing().length === 0, 30_000, `every acked message delivered (${acked.length} acked)`);
    assert.ok(acked.length >= 200);
    await restarted.kill('SIGTERM');
  });

  it('hands an unacked delivery back to the store at the shutdown deadline and delivers it after the restart', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const registry = `zk://${zookeeper.connectString}?sessionTimeoutMs=4000`;
    const store = `file://${join(dir, 'store-handback')}?fsync=batch`;
    // The delivery timeout outlasts the shutdown grace: only the deadline can end the wait.
    const args = [
      ...serverArgs({ bind: address, registry, store: store, topics: 'trade' }),
      '--shutdown-timeout-ms',
      '1000',
      '--delivery-timeout-ms',
      '30000',
    ];
    const broker = await startBrokerProcess(args);
    procs.push(broker);
    const deliveries: string[] = [];
    let hold = true;
    const consumer = new KiteQClient({
      registry,
      groupId: 's-hold',
      secretKey: 'k',
      bindings: [directBinding('s-hold', 'trade', 'pay-succ')],
      listener: (m) => {
        deliveries.push(m.header.messageId);
        return hold ? new Promise<boolean>(() => {}) : true; // the first delivery is never answered
      },
    });
    const producer = new KiteQClient({ registry, groupId: 'p-trade', secretKey: 'k', publishTopics: ['trade'] });
    clients.push(consumer, producer);
    await Promise.all([consumer.start(), producer.start()]);
    await eventually(
      () => consumer.readyConnections === 1 && producer.readyConnections === 1,
      10_000,
      'clients connected',
    );
    const { messageId } = await producer.send(
      buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'held' }),
    );
    await eventually(() => deliveries.length === 1, 10_000, 'the first delivery');

    const startedMs = Date.now();
    assert.equal(await broker.kill('SIGTERM'), 0);
    assert.ok(Date.now() - startedMs < 5000, 'bounded by --shutdown-timeout-ms');
    assert.match(broker.log, /"handedBack":1/);

    hold = false;
    const restarted = await broker.restart();
    procs.push(restarted);
    await eventually(() => deliveries.length >= 2, 20_000, 'the handed-back message delivered after the restart');
    assert.deepEqual([...new Set(deliveries)], [messageId]);
    await restarted.kill('SIGTERM');
  });
});
