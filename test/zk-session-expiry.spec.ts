// zk:// registry after ZooKeeper session expiry and a ZooKeeper outage (doc/architecture.md §3): a new
// session, the ephemerals back, watches firing again, and the bindings in force all along.
import assert from 'node:assert/strict';
import { directBinding, type Binding } from '../binding/binding';
import { openZkRegistry, type ZkRegistry } from '../binding/zk';
import { ZkClient } from '../binding/zk/zk-client';
import pino from 'pino';
import { eventually } from './support/events';
import { ChangeRecorder } from './support/registry-recorder';
import { sessionKnown, startZooKeeper, type ZooKeeperServer } from './support/zookeeper';
import { startZooKeeperProxy, type ZooKeeperProxy } from './support/zookeeper-proxy';

const BROKER = '127.0.0.1:13810';
const EPHEMERALS = [`/kiteq/server/trade/${BROKER}`, `/kiteq/alive_servers/${BROKER}`];
const groupsOf = (bindings: Binding[]) => bindings.map((b) => `${b.groupId}:${b.messageType}`).sort();

/** Cuts the registry off until ZooKeeper has expired its session, then lets it reconnect (and learn of the expiry). */
async function expireSession(zookeeper: ZooKeeperServer, proxy: ZooKeeperProxy, registry: ZkRegistry): Promise<void> {
  const sessionId = await registry.sessionId();
  const sessions = registry.sessionCount;
  proxy.cut();
  await eventually(
    async () => !(await sessionKnown(zookeeper, sessionId)),
    10_000,
    `ZooKeeper to expire session ${sessionId}`,
  );
  proxy.restore();
  await eventually(() => registry.sessionCount === sessions + 1, 10_000, 'a new registry session');
}

describe('zk session expiry - the registry re-registers', function () {
  this.timeout(60_000);
  let zookeeper: ZooKeeperServer;
  let raw: ZkClient;
  let brokerProxy: ZooKeeperProxy;
  let consumerProxy: ZooKeeperProxy;
  let broker: ZkRegistry;
  let consumer: ZkRegistry;
  const bindings = new ChangeRecorder<Binding[]>();
  const brokers = new ChangeRecorder<string[]>();
  const logger = pino({ level: process.env.KITEQ_TEST_LOG_LEVEL ?? 'silent' }); // 'warn' shows the registry's view

  /** Every ephemeral of the broker exists and belongs to the broker's current session. */
  const ephemeralsOwnedByCurrentSession = async () => {
    const owner = await broker.sessionId();
    for (const path of EPHEMERALS) {
      const stat = await raw.exists(path);
      if (!stat || stat.ephemeralOwner.toString('hex') !== owner) return false;
    }
    return true;
  };

  before(async () => {
    zookeeper = await startZooKeeper({ tickTimeMs: 200 });
    raw = await ZkClient.connect({
      connectString: zookeeper.connectString,
      sessionTimeoutMs: 4000,
      connectTimeoutMs: 5000,
    });
    brokerProxy = await startZooKeeperProxy(zookeeper.port);
    consumerProxy = await startZooKeeperProxy(zookeeper.port);
    broker = openZkRegistry(`zk://${brokerProxy.connectString}?sessionTimeoutMs=1000`, { logger });
    consumer = openZkRegistry(consumerProxy.connectString, { logger, sessionTimeoutMs: 1000 }); // KiteQ's plain form
    await broker.registerBroker(BROKER, ['trade']);
    await consumer.subscribe('s-mc', [directBinding('s-mc', 'trade', 'pay-succ')]);
    await broker.watchBindings(['trade'], bindings.listener);
    await consumer.watchBrokers('trade', brokers.listener);
    assert.deepEqual(groupsOf(bindings.latest!), ['s-mc:pay-succ']);
    assert.deepEqual(brokers.latest, [BROKER]);
  });
  after(async () => {
    await broker?.close();
    await consumer?.close();
    await raw?.close();
    await brokerProxy?.close();
    await consumerProxy?.close();
    await zookeeper?.stop();
  });

  it('opens a new session and re-creates its ephemeral nodes', async () => {
    const before = await broker.sessionId();
    await expireSession(zookeeper, brokerProxy, broker);
    assert.equal(broker.sessionCount, 2);
    assert.notEqual(await broker.sessionId(), before);
    await eventually(ephemeralsOwnedByCurrentSession, 10_000, 'ephemerals owned by the new session');
  });

  it('keeps the bindings in force meanwhile and watches again afterwards', async () => {
    assert.ok(
      bindings.reports.every((b) => groupsOf(b).includes('s-mc:pay-succ')),
      'no report without s-mc',
    );
    // children watch of /kiteq/sub/trade
    await consumer.subscribe('s-new', [directBinding('s-new', 'trade', 'order-created')]);
    await bindings.next('s-new after expiry', (b) => groupsOf(b).includes('s-new:order-created'));
    // data watch of an existing -bind node
    await consumer.subscribe('s-mc', [directBinding('s-mc', 'trade', 'pay-refund')]);
    await bindings.next('s-mc rebound after expiry', (b) => groupsOf(b).includes('s-mc:pay-refund'));
  });

  it('recovers the same way when the consumer side expires', async () => {
    const reportsBefore = brokers.reports.length;
    await expireSession(zookeeper, consumerProxy, consumer);
    const second = openZkRegistry(zookeeper.connectString, { logger });
    await second.registerBroker('127.0.0.1:13811', ['trade']);
    await brokers.next('second broker seen by the renewed consumer', (a) => a.length === 2);
    await second.close();
    await brokers.next('second broker gone', (a) => a.length === 1);
    assert.ok(
      brokers.reports.slice(reportsBefore).every((a) => a.includes(BROKER)),
      'the live broker was never dropped',
    );
  });

  it('reports nothing empty while ZooKeeper is down and re-registers once it is back', async () => {
    const reportsBefore = bindings.reports.length;
    await zookeeper.kill('SIGKILL');
    // a write while ZooKeeper is down waits for it instead of failing
    const pending = consumer.subscribe('s-outage', [directBinding('s-outage', 'trade', 'late')]);
    await zookeeper.start();
    await pending;
    await bindings.next('s-outage after the outage', (b) => groupsOf(b).includes('s-outage:late'), 20_000);
    await eventually(ephemeralsOwnedByCurrentSession, 20_000, 'ephemerals owned by the current session');
    assert.ok(
      bindings.reports.slice(reportsBefore).every((b) => groupsOf(b).includes('s-mc:pay-refund')),
      'bindings kept through the outage',
    );
    // the broker's session may have expired during the outage (its nodes then vanish and come back)
    await brokers.next('the broker listed again', (a) => a.includes(BROKER));
  });
});
