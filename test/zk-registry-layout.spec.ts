// zk:// registry: KiteQ's znode layout and JSON (doc/architecture.md §3), read back with a raw client, and the
// broker's view of bindings as groups bind, rebind, unbind and write bad data.
import assert from 'node:assert/strict';
import { directBinding, fanoutBinding, regxBinding, type Binding } from '../binding/binding';
import { openZkRegistry, type ZkRegistry } from '../binding/zk';
import { ZkClient } from '../binding/zk/zk-client';
import type { ZkLogger } from '../binding/zk/zk-logger';
import { eventually } from './support/events';
import { ChangeRecorder } from './support/registry-recorder';
import { startZooKeeper, type ZooKeeperServer } from './support/zookeeper';

const BROKER = '127.0.0.1:13800';
const ZERO_OWNER = Buffer.alloc(8);

class CapturingLogger implements ZkLogger {
  readonly warnings: { obj: object; msg: string }[] = [];
  info(): void {}
  warn(obj: object, msg: string): void {
    this.warnings.push({ obj, msg });
  }
}

const groupsOf = (bindings: Binding[]) => bindings.map((b) => `${b.topic}/${b.groupId}:${b.messageType}`).sort();

describe('zk registry - layout and bindings', function () {
  this.timeout(30_000);
  let zookeeper: ZooKeeperServer;
  let raw: ZkClient;
  const registries: ZkRegistry[] = [];
  const log = new CapturingLogger();
  const open = () => {
    const registry = openZkRegistry(`zk://${zookeeper.connectString}`, { logger: log, sessionTimeoutMs: 4000 });
    registries.push(registry);
    return registry;
  };

  before(async () => {
    zookeeper = await startZooKeeper();
    raw = await ZkClient.connect({
      connectString: zookeeper.connectString,
      sessionTimeoutMs: 4000,
      connectTimeoutMs: 5000,
    });
  });
  after(async () => {
    await Promise.all(registries.map((r) => r.close()));
    await raw?.close();
    await zookeeper?.stop();
  });

  let broker: ZkRegistry;
  let producer: ZkRegistry;
  let consumer: ZkRegistry;
  const bindings = new ChangeRecorder<Binding[]>();

  it('writes the exact znodes and JSON of a broker and two clients', async () => {
    broker = open();
    producer = open();
    consumer = open();
    await broker.registerBroker(BROKER, ['trade', 'user-profile']);
    await producer.publishTopics('p-trade', 'host-a', ['trade']);
    await producer.subscribe('s-mc', [
      directBinding('s-mc', 'trade', 'pay-succ'),
      fanoutBinding('s-mc', 'user-profile', { persistent: false }),
    ]);
    await consumer.subscribe('s-risk', [regxBinding('s-risk', 'trade', 'pay-.*', { watermark: 0 })]);

    const brokerSession = Buffer.from(await broker.sessionId(), 'hex');
    for (const path of [
      `/kiteq/server/trade/${BROKER}`,
      `/kiteq/server/user-profile/${BROKER}`,
      `/kiteq/alive_servers/${BROKER}`,
    ]) {
      const stat = await raw.exists(path);
      assert.ok(stat, `${path} exists`);
      assert.deepEqual(stat.ephemeralOwner, brokerSession, `${path} is ephemeral, owned by the broker's session`);
      assert.equal((await raw.getData(path)).length, 0, `${path} has no data`);
    }
    for (const path of [`/kiteq/all_servers/${BROKER}`, '/kiteq/pub/trade/p-trade/host-a']) {
      const stat = await raw.exists(path);
      assert.ok(stat, `${path} exists`);
      assert.deepEqual(stat.ephemeralOwner, ZERO_OWNER, `${path} is persistent`);
      assert.equal((await raw.getData(path)).length, 0, `${path} has no data`);
    }
    assert.equal(
      (await raw.getData('/kiteq/sub/trade/s-mc-bind')).toString(),
      '[{"groupId":"s-mc","topic":"trade","messageType":"pay-succ","bindType":0,"version":"1.0.0","watermark":1000,"persistent":true}]',
    );
    assert.equal(
      (await raw.getData('/kiteq/sub/user-profile/s-mc-bind')).toString(),
      '[{"groupId":"s-mc","topic":"user-profile","messageType":"*","bindType":2,"version":"1.0.0","watermark":1000,"persistent":false}]',
    );
    assert.equal(
      (await raw.getData('/kiteq/sub/trade/s-risk-bind')).toString(),
      '[{"groupId":"s-risk","topic":"trade","messageType":"pay-.*","bindType":1,"version":"1.0.0","watermark":0,"persistent":true}]',
    );
    assert.deepEqual(
      (await raw.exists('/kiteq/sub/trade/s-risk-bind'))?.ephemeralOwner,
      ZERO_OWNER,
      'a -bind node is persistent',
    );
    assert.deepEqual((await raw.getChildren('/kiteq/server/trade')).sort(), [BROKER]);
  });

  it('reports every group of the served topics at once', async () => {
    await broker.watchBindings(['trade', 'user-profile'], bindings.listener);
    assert.deepEqual(groupsOf(bindings.reports[0]), [
      'trade/s-mc:pay-succ',
      'trade/s-risk:pay-.*',
      'user-profile/s-mc:*',
    ]);
  });

  it('adds a group that binds later, replaces its changed binding and drops it on unbind', async () => {
    const late = open();
    await late.subscribe('s-late', [directBinding('s-late', 'trade', 'order-created')]);
    await bindings.next('s-late bound', (b) => groupsOf(b).includes('trade/s-late:order-created'));

    await late.subscribe('s-late', [directBinding('s-late', 'trade', 'order-paid')]);
    const changed = await bindings.next('s-late rebound', (b) => groupsOf(b).includes('trade/s-late:order-paid'));
    assert.ok(!groupsOf(changed).includes('trade/s-late:order-created'), 'the old messageType is gone');

    await raw.remove('/kiteq/sub/trade/s-late-bind');
    const unbound = await bindings.next('s-late unbound', (b) => !groupsOf(b).some((g) => g.includes('s-late')));
    assert.deepEqual(groupsOf(unbound), ['trade/s-mc:pay-succ', 'trade/s-risk:pay-.*', 'user-profile/s-mc:*']);
  });

  it('ignores invalid JSON of one group without touching the other groups', async () => {
    await raw.setData('/kiteq/sub/trade/s-risk-bind', Buffer.from('[{"groupId":"s-risk",'));
    const withoutRisk = await bindings.next('s-risk dropped', (b) => !groupsOf(b).some((g) => g.includes('s-risk')));
    assert.deepEqual(groupsOf(withoutRisk), ['trade/s-mc:pay-succ', 'user-profile/s-mc:*']);
    assert.ok(
      log.warnings.some((w) => (w.obj as { path?: string }).path === '/kiteq/sub/trade/s-risk-bind'),
      'the bad node is logged with its path',
    );

    // an unknown bindType or a bad regex skips that entry only
    const entries = [
      {
        groupId: 's-risk',
        topic: 'trade',
        messageType: 'refund',
        bindType: 7,
        version: '1.0.0',
        watermark: 1000,
        persistent: true,
      },
      {
        groupId: 's-risk',
        topic: 'trade',
        messageType: 'pay-(',
        bindType: 1,
        version: '1.0.0',
        watermark: 1000,
        persistent: true,
      },
      {
        groupId: 's-risk',
        topic: 'trade',
        messageType: 'pay-fail',
        bindType: 0,
        version: '1.0.0',
        watermark: 1000,
        persistent: true,
      },
    ];
    await raw.setData('/kiteq/sub/trade/s-risk-bind', Buffer.from(JSON.stringify(entries)));
    const repaired = await bindings.next('s-risk back', (b) => groupsOf(b).includes('trade/s-risk:pay-fail'));
    assert.deepEqual(groupsOf(repaired), ['trade/s-mc:pay-succ', 'trade/s-risk:pay-fail', 'user-profile/s-mc:*']);
  });

  it('lets clients follow the brokers of a topic and the alive brokers', async () => {
    const brokers = new ChangeRecorder<string[]>();
    const alive = new ChangeRecorder<string[]>();
    await producer.watchBrokers('trade', brokers.listener);
    await broker.watchAliveBrokers(alive.listener);
    assert.deepEqual(brokers.reports, [[BROKER]]);
    assert.deepEqual(alive.reports, [[BROKER]]);

    const second = open();
    await second.registerBroker('127.0.0.1:13801', ['trade']);
    await brokers.next('two brokers', (a) => a.length === 2);
    await alive.next('two alive', (a) => a.length === 2);

    await second.unregisterBroker();
    assert.deepEqual(await brokers.next('one broker', (a) => a.length === 1), [BROKER]);
    assert.deepEqual(await alive.next('one alive', (a) => a.length === 1), [BROKER]);
    assert.ok(await raw.exists('/kiteq/all_servers/127.0.0.1:13801'), 'all_servers keeps the unregistered broker');
  });

  it('gives a takeover lock to one broker at a time', async () => {
    const other = open();
    const lock = await broker.tryLock('takeover-127.0.0.1:13899', BROKER);
    assert.ok(lock?.held);
    assert.equal(await other.tryLock('takeover-127.0.0.1:13899', '127.0.0.1:13801'), null);
    await lock.release();
    const next = await other.tryLock('takeover-127.0.0.1:13899', '127.0.0.1:13801');
    assert.ok(next?.held);
    assert.equal((await raw.getData('/kiteq/locks/takeover-127.0.0.1:13899')).toString(), '127.0.0.1:13801');
    await other.close();
    await eventually(
      async () => !(await raw.exists('/kiteq/locks/takeover-127.0.0.1:13899')),
      10_000,
      'lock node gone with its session',
    );
  });

  it('never reported an empty set of bindings along the way', () => {
    assert.ok(bindings.reports.every((b) => b.length > 0));
  });
});
