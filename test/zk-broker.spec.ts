// doc/architecture.md §3, §9 at the broker level: a kiteq-server process and real clients on a real
// ZooKeeper: the znodes they write, ephemerals gone after SIGKILL, bindings that change while
// the broker runs, and two brokers with one killed mid-stream.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { type Binding, directBinding, fanoutBinding } from '../binding/binding';
import { ZkClient } from '../binding/zk/zk-client';
import { buildStringMessage, KiteQClient, type Message } from '../client';
import { startBrokerProcess, type BrokerProcess, serverArgs } from './support/broker';
import { eventually } from './support/events';
import { freePort } from './support/ports';
import { startZooKeeper, type ZooKeeperServer } from './support/zookeeper';

describe('zk broker - znodes, bindings and failover with a real ZooKeeper', function () {
  this.timeout(120_000);
  let zookeeper: ZooKeeperServer;
  let raw: ZkClient;
  let registry: string;
  const brokers: BrokerProcess[] = [];
  const clients: KiteQClient[] = [];

  before(async () => {
    zookeeper = await startZooKeeper();
    registry = `zk://${zookeeper.connectString}?sessionTimeoutMs=3000`;
    raw = await ZkClient.connect({
      connectString: zookeeper.connectString,
      sessionTimeoutMs: 4000,
      connectTimeoutMs: 5000,
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(brokers.splice(0).map((b) => b.kill('SIGKILL')));
  });
  after(async () => {
    await raw?.close();
    await zookeeper?.stop();
  });

  async function broker(topics = 'trade', extra: string[] = []): Promise<BrokerProcess> {
    const port = await freePort();
    const b = await startBrokerProcess([
      ...serverArgs({ bind: `127.0.0.1:${port}`, registry, store: 'memory://', topics: topics }),
      '--log-level',
      'warn',
      ...extra,
    ]);
    brokers.push(b);
    return b;
  }

  async function client(
    groupId: string,
    options: { bindings?: Binding[]; listener?: (m: Message) => boolean; publish?: boolean },
  ): Promise<KiteQClient> {
    const c = new KiteQClient({
      registry,
      groupId,
      secretKey: 'k',
      bindings: options.bindings,
      publishTopics: options.publish ? ['trade'] : [],
      listener: options.listener,
    });
    clients.push(c);
    await c.start();
    return c;
  }

  const children = (path: string) => raw.getChildren(path).catch(() => [] as string[]);

  it('writes the broker, pub and sub znodes, and drops the ephemerals after SIGKILL', async () => {
    const b = await broker('trade,user-profile');
    await client('p-trade', { publish: true });
    await client('s-mc', {
      bindings: [directBinding('s-mc', 'trade', 'pay-succ', { watermark: 1000 })],
      listener: () => true,
    });

    assert.deepEqual(await children('/kiteq/server/trade'), [b.address]);
    assert.deepEqual(await children('/kiteq/server/user-profile'), [b.address]);
    assert.deepEqual(await children('/kiteq/alive_servers'), [b.address]);
    assert.ok((await children('/kiteq/all_servers')).includes(b.address));
    assert.deepEqual(await children(`/kiteq/pub/trade/p-trade`), [hostname()]);
    const bind = JSON.parse((await raw.getData('/kiteq/sub/trade/s-mc-bind')).toString());
    assert.deepEqual(bind, [
      {
        groupId: 's-mc',
        topic: 'trade',
        messageType: 'pay-succ',
        bindType: 0,
        version: '1.0.0',
        watermark: 1000,
        persistent: true,
      },
    ]);

    const killedAt = Date.now();
    await b.kill('SIGKILL');
    await eventually(
      async () =>
        (await children('/kiteq/alive_servers')).length === 0 && (await children('/kiteq/server/trade')).length === 0,
      10_000,
      'ephemeral znodes gone',
    );
    assert.ok(Date.now() - killedAt < 3000 + 2000, 'gone within the session timeout');
    assert.ok((await children('/kiteq/all_servers')).includes(b.address), 'all_servers is persistent');
  });

  it('follows a group that binds after the broker started, rebinds, and unbinds', async () => {
    await broker();
    const producer = await client('p-trade', { publish: true });
    // A sentinel group bound to every type: when it has a message, the broker has dispatched it.
    const sentinel = new Set<string>();
    await client('s-sentinel', {
      bindings: [fanoutBinding('s-sentinel', 'trade')],
      listener: (m) => (sentinel.add(m.header.messageId), true),
    });
    const late = new Map<string, string>();
    await client('s-late', {
      bindings: [directBinding('s-late', 'trade', 'pay-succ')],
      listener: (m) => (late.set(m.header.messageId, m.header.messageType), true),
    });
    const publish = async (messageType: string) => {
      const { messageId } = await producer.send(buildStringMessage({ topic: 'trade', messageType, body: messageType }));
      await eventually(() => sentinel.has(messageId), 10_000, `dispatch of ${messageType}`, 5);
      return messageId;
    };

    // Bound after the broker started: the broker's watch brings it in.
    await eventually(async () => late.has(await publish('pay-succ')), 10_000, 'first delivery to the late group', 100);

    // Rebind to another type: only the new type is delivered.
    await raw.setData(
      '/kiteq/sub/trade/s-late-bind',
      Buffer.from(JSON.stringify([directBinding('s-late', 'trade', 'refund')])),
    );
    await eventually(async () => late.has(await publish('refund')), 10_000, 'delivery of the new type', 100);
    const oldType = await publish('pay-succ');
    const marker = await publish('refund');
    await eventually(() => late.has(marker), 10_000, 'marker delivered to the rebound group', 5);
    assert.equal(late.has(oldType), false, 'the old type is no longer delivered');

    // Unbind (its node removed): nothing more arrives.
    await raw.remove('/kiteq/sub/trade/s-late-bind');
    await eventually(
      async () => {
        const id = await publish('refund');
        await publish('probe'); // one more dispatch after it, so a delivery of `id` would have arrived
        return !late.has(id);
      },
      10_000,
      'unbind seen by the broker',
      100,
    );
    const after: string[] = [];
    for (let i = 0; i < 20; i++) after.push(await publish('refund'));
    await publish('probe');
    assert.deepEqual(
      after.filter((id) => late.has(id)),
      [],
      'an unbound group receives nothing',
    );
  });

  it("the console's overview lists the other live brokers of the registry, and drops one that dies", async () => {
    const http = `127.0.0.1:${await freePort()}`;
    const a = await broker('trade', ['--http', http]);
    const b = await broker();
    const peers = async () => ((await (await fetch(`http://${http}/overview`)).json()) as { peers: string[] }).peers;
    await eventually(async () => (await peers()).join() === b.address, 10_000, 'b listed, a itself not');
    const page = await fetch(`http://${http}/`);
    assert.equal(page.status, 200, 'the console of the installed build is served');
    await b.kill('SIGKILL');
    await eventually(async () => (await peers()).length === 0, 15_000, 'b gone once its zk session expires');
    assert.ok(a.address);
  });

  it('loses nothing acked by the surviving broker when one of two is killed mid-stream', async () => {
    const a = await broker();
    const b = await broker();
    const received = new Set<string>();
    await client('s-mc', {
      bindings: [directBinding('s-mc', 'trade', 'pay-succ', { watermark: 100_000 })],
      listener: (m) => (received.add(m.header.messageId), true),
    });
    const producer = await client('p-trade', { publish: true });
    await eventually(() => producer.readyConnections === 2, 10_000, 'producer connected to both brokers');

    const total = 20_000;
    const ackedBy = new Map<string, string>();
    let failed = 0;
    let killed = false;
    for (let i = 0; i < total; i += 100) {
      const results = await Promise.allSettled(
        Array.from({ length: 100 }, (_, k) =>
          producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `m-${i + k}` })),
        ),
      );
      for (const r of results) {
        if (r.status === 'fulfilled') ackedBy.set(r.value.messageId, r.value.broker);
        else failed++;
      }
      if (!killed && i >= total / 4) {
        killed = true;
        void a.kill('SIGKILL'); // mid-stream: sends in flight to it fail over to b
      }
    }
    const survivorAcked = [...ackedBy].filter(([, broker]) => broker === b.address).map(([id]) => id);
    assert.ok(survivorAcked.length > total / 2, `most messages went to the survivor (${survivorAcked.length})`);
    await eventually(
      () => survivorAcked.every((id) => received.has(id)),
      20_000,
      'every message acked by the survivor received',
    );
    assert.equal(failed, 0, 'every send succeeded, on one broker or the other');
  });
});
