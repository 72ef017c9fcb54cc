// zk:// registry on a 3-node ZooKeeper ensemble: losing the node the registry talks to, or the
// leader, keeps its ephemeral nodes and watches working (doc/architecture.md §3).
import assert from 'node:assert/strict';
import pino from 'pino';
import { directBinding, type Binding } from '../binding/binding';
import { openZkRegistry, type ZkRegistry } from '../binding/zk';
import { ZkClient } from '../binding/zk/zk-client';
import { eventually } from './support/events';
import { ChangeRecorder } from './support/registry-recorder';
import { nodeServingSession, startEnsemble, type ZooKeeperEnsemble } from './support/zookeeper';

const BROKER = '127.0.0.1:13820';
const EPHEMERALS = [`/kiteq/server/trade/${BROKER}`, `/kiteq/alive_servers/${BROKER}`];
const groupsOf = (bindings: Binding[]) => bindings.map((b) => b.groupId).sort();

describe('zk ensemble - a registry survives losing a ZooKeeper node', function () {
  this.timeout(60_000);
  let ensemble: ZooKeeperEnsemble;
  let raw: ZkClient;
  let broker: ZkRegistry;
  let consumer: ZkRegistry;
  const bindings = new ChangeRecorder<Binding[]>();
  const logger = pino({ level: process.env.KITEQ_TEST_LOG_LEVEL ?? 'silent' });

  const ephemeralsOwnedBy = async (sessionIdHex: string) => {
    for (const path of EPHEMERALS) {
      const stat = await raw.exists(path);
      if (!stat || stat.ephemeralOwner.toString('hex') !== sessionIdHex) return false;
    }
    return true;
  };

  before(async () => {
    ensemble = await startEnsemble(3);
    raw = await ZkClient.connect({
      connectString: ensemble.connectString,
      sessionTimeoutMs: 6000,
      connectTimeoutMs: 10_000,
    });
    broker = openZkRegistry(`zk://${ensemble.connectString}?sessionTimeoutMs=6000`, { logger });
    consumer = openZkRegistry(`zk://${ensemble.connectString}`, { logger, sessionTimeoutMs: 6000 });
    await broker.registerBroker(BROKER, ['trade']);
    await consumer.subscribe('s-mc', [directBinding('s-mc', 'trade', 'pay-succ')]);
    await broker.watchBindings(['trade'], bindings.listener);
    assert.deepEqual(groupsOf(bindings.latest!), ['s-mc']);
  });
  after(async () => {
    await broker?.close();
    await consumer?.close();
    await raw?.close();
    await ensemble?.stop();
  });

  it('keeps its session, ephemerals and watches when its own node is killed', async () => {
    const sessionId = await broker.sessionId();
    const serving = await eventually(
      () => nodeServingSession(ensemble.nodes, sessionId),
      10_000,
      'the node serving the broker',
    );
    assert.ok(serving);
    await serving.kill('SIGKILL');
    await ensemble.waitForQuorum(2);

    await consumer.subscribe('s-after-node-loss', [directBinding('s-after-node-loss', 'trade', 'order-created')]);
    await bindings.next('a binding made after the node loss', (b) => groupsOf(b).includes('s-after-node-loss'), 20_000);
    assert.equal(await broker.sessionId(), sessionId, 'the same session moved to another node');
    assert.equal(broker.sessionCount, 1);
    await eventually(() => ephemeralsOwnedBy(sessionId), 10_000, 'ephemerals still owned by the session');

    await serving.start();
    await ensemble.waitForQuorum(3);
  });

  it('keeps working when the leader is killed and another is elected', async () => {
    const leader = await ensemble.leader();
    await leader.kill('SIGKILL');
    await ensemble.waitForQuorum(2);

    await consumer.subscribe('s-after-election', [directBinding('s-after-election', 'trade', 'order-paid')]);
    await bindings.next('a binding made after the election', (b) => groupsOf(b).includes('s-after-election'), 20_000);
    await eventually(
      async () => ephemeralsOwnedBy(await broker.sessionId()),
      20_000,
      'ephemerals owned by the current session',
    );
    assert.ok(
      bindings.reports.every((b) => groupsOf(b).includes('s-mc')),
      'the first group stayed bound throughout',
    );
  });
});
