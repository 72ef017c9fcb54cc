// doc/architecture.md §10 admin HTTP: /stat and /binds with KiteQ's field names, /messages/<id>, dead letters
// listed and re-driven through the API (and delivered at once), deleted with kiteq-admin, token-guarded
// POSTs, /healthz, each group's backlog and oldest undelivered message at /groups.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { buildStringMessage, KiteQClient, type MessageListener } from '../client';
import { buildAdminCommand } from '../server/admin-cli';
import { startBroker, type TestBroker } from './support/broker';
import { countdown, eventually } from './support/events';

const TOKEN = 'ops-test-token';

describe('ops - admin HTTP endpoints', function () {
  this.timeout(30_000);
  let env: TestBroker;
  let base: string;
  const clients: KiteQClient[] = [];
  let listener: MessageListener = () => true;

  before(async () => {
    env = await startBroker({
      bindings: [
        directBinding('s-mc', 'trade', 'pay-succ', { watermark: 500 }),
        directBinding('s-risk', 'trade', 'pay-succ', { watermark: 0 }),
      ],
      config: { http: '127.0.0.1:0', httpToken: TOKEN, deliveryTimeoutMs: 1000 },
    });
    base = `http://${env.broker.httpAddress}`;
  });
  after(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await env.stop();
  });

  async function client(groupId: string, withListener = false): Promise<KiteQClient> {
    const c = new KiteQClient({
      registry: env.registryUri,
      groupId,
      secretKey: 'k',
      publishTopics: ['trade'],
      bindings: withListener ? [directBinding(groupId, 'trade', 'pay-succ')] : [],
      listener: withListener ? (m) => listener(m) : undefined,
    });
    clients.push(c);
    await c.start();
    return c;
  }
  const get = async (path: string) => {
    const res = await fetch(base + path);
    return { status: res.status, body: (await res.json()) as any };
  };
  const post = async (path: string, body: unknown, token?: string) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(base + path, { method: 'POST', headers, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };

  it("answers /stat and /binds with KiteQ's field names", async () => {
    await client('s-mc', true);
    const stat = await get('/stat');
    assert.equal(stat.status, 200);
    assert.deepEqual(
      Object.keys(stat.body.kiteq).sort(),
      [
        'accept_limiter',
        'deliver_count',
        'deliver_go',
        'goroutine',
        'groups',
        'message_count',
        'recieve_count',
        'topics_deliver',
        'topics_recieve',
      ].sort(),
    );
    for (const key of [
      'read_count',
      'read_bytes',
      'write_count',
      'write_bytes',
      'dispool_size',
      'dispool_cap',
      'connections',
    ])
      assert.equal(typeof stat.body.network[key], 'number', key);
    assert.deepEqual(stat.body.kiteq.message_count, { trade: 0 });
    assert.deepEqual(stat.body.kiteq.topics_recieve, { trade: 0 });
    assert.equal(stat.body.kiteq.groups['s-mc'].length, 1);
    assert.equal(stat.body.network.connections, 1);

    const binds = await get('/binds');
    assert.deepEqual(binds.body.topic_2_groups, { trade: ['s-mc', 's-risk'] });
    assert.deepEqual(binds.body.topic_limiters.trade['s-mc'], [0, 500]);
    assert.deepEqual(binds.body.topic_limiters.trade['s-risk'], [0, 6000]);
  });

  it("shows a message's groups and attempts at /messages/<id>", async () => {
    // s-mc acks, s-risk has no consumer online (persistent): the message stays, half done.
    listener = () => true;
    const producer = await client('p-trade');
    const { messageId } = await producer.send(
      buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'look me up' }),
    );
    const view = (await eventually(
      async () => {
        const r = await get(`/messages/${messageId}`);
        return r.body.attempts >= 1 && !r.body.inFlight ? r : undefined;
      },
      10_000,
      'the first attempt recorded',
    )) as { status: number; body: any };
    assert.equal(view.status, 200);
    assert.equal(view.body.state, 'committed');
    assert.deepEqual(view.body.succeededGroups, ['s-mc']);
    assert.deepEqual(view.body.failedGroups, []); // not failed: waiting for a consumer (doc/architecture.md §6)
    assert.deepEqual(view.body.pendingGroups, ['s-risk']);
    assert.equal(view.body.header.topic, 'trade');
    assert.equal(view.body.bodyBytes, Buffer.byteLength('look me up'));
    assert.equal(typeof view.body.nextDelivery, 'string');
    assert.equal((await get('/messages/not-an-id')).status, 400);
    assert.equal((await get(`/messages/${'0'.repeat(32)}`)).status, 404);
  });

  it('lists a dead letter and delivers it again after a re-drive through the API', async () => {
    let nack = true;
    const delivered = countdown(2, 15_000, 'deliveries of the dead letter');
    const seen: boolean[] = [];
    listener = (m) => {
      if (m.header.messageType !== 'pay-succ' || m.header.deliverLimit !== 1) return true;
      seen.push(nack);
      delivered.tick();
      return !nack;
    };
    const producer = await client('p-trade');
    const { messageId } = await producer.send(
      buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'die once', deliverLimit: 1 }),
    );
    const dead = await eventually(
      async () => {
        const r = await get(`/dlq?topic=trade&group=s-mc`);
        return r.body.items.find((l: { messageId: string }) => l.messageId === messageId);
      },
      10_000,
      'the message in the dead-letter list',
    );
    assert.match(dead.reason, /deliverLimit 1/);
    assert.equal((await get(`/messages/${messageId}`)).body.state, 'dead-letter');

    assert.equal((await post('/dlq/redrive', { ids: [messageId] })).status, 401, 'no token');
    assert.equal((await post('/dlq/redrive', { ids: [messageId] }, 'wrong')).status, 401, 'wrong token');
    nack = false;
    const redrive = await post('/dlq/redrive', { ids: [messageId, '0'.repeat(32)] }, TOKEN);
    assert.equal(redrive.status, 200);
    assert.deepEqual(redrive.body, { redriven: [messageId], missing: ['0'.repeat(32)] });
    await delivered.done;
    assert.deepEqual(seen, [true, false]);
    const after = await get(`/dlq?topic=trade&group=s-mc`);
    assert.ok(
      !after.body.items.some((l: { messageId: string }) => l.messageId === messageId),
      'no longer a dead letter',
    );
  });

  it('kiteq-admin dlq delete removes a dead letter for good, and only with the token', async () => {
    const admin = async (...args: string[]) => {
      let printed = '';
      await buildAdminCommand((text) => (printed += text)).parseAsync(['node', 'kiteq-admin', '--url', base, ...args]);
      return printed;
    };
    listener = (m) => m.body !== 'delete me';
    const producer = await client('p-trade');
    const { messageId } = await producer.send(
      buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'delete me', deliverLimit: 1 }),
    );
    await eventually(
      async () => (await get(`/messages/${messageId}`)).body.state === 'dead-letter',
      10_000,
      'the message dead-lettered',
    );
    await assert.rejects(admin('dlq', 'delete', messageId), /401|token/, 'no token, no delete');
    assert.equal((await get(`/messages/${messageId}`)).body.state, 'dead-letter', 'still there');
    assert.equal(await admin('--token', TOKEN, 'dlq', 'delete', messageId), 'deleted: 1\n');
    assert.equal((await get(`/messages/${messageId}`)).status, 404, 'gone from the store');
    const again = await post('/dlq/redrive', { ids: [messageId] }, TOKEN);
    assert.deepEqual(again.body, { redriven: [], missing: [messageId] }, 'nothing left to re-drive');
  });

  it("gives each group its backlog and its oldest undelivered message's age at /groups", async () => {
    // doc/console.md "Per-group backlog": s-risk (persistent, never online) owes every live pay-succ;
    // s-mc acks what it gets (the dead letters of the tests above are not owed)
    listener = () => true;
    const producer = await client('p-trade');
    const backlogs = async () => {
      const { body } = await get('/groups');
      return Object.fromEntries(body.groups.map((g: any) => [g.groupId, g.backlog])) as Record<string, any>;
    };
    const before = await eventually(async () => (await backlogs())['s-risk'], 10_000, 'a first count', 100);
    for (let i = 0; i < 3; i++) {
      await producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `owed ${i}` }));
    }
    const after = await eventually(
      async () => {
        const b = await backlogs();
        return b['s-risk']?.undelivered === before.undelivered + 3 && b['s-mc']?.undelivered === 0 ? b : undefined;
      },
      10_000,
      's-risk owing 3 more, s-mc nothing',
      100,
    );
    const risk = after!['s-risk'];
    assert.equal(risk.estimated, false);
    assert.ok(risk.oldestAgeSec >= 0 && Date.parse(risk.oldestPublishTime) <= Date.now(), JSON.stringify(risk));
    assert.equal(after!['s-mc'].oldestPublishTime, null);
  });

  it('refuses POSTs when no token is configured, and answers /healthz', async () => {
    const open = await startBroker({ bindings: [], config: { http: '127.0.0.1:0' } });
    try {
      const res = await fetch(`http://${open.broker.httpAddress}/reload`, {
        method: 'POST',
        headers: { authorization: 'Bearer anything' },
      });
      assert.equal(res.status, 403);
      assert.match(((await res.json()) as { error: string }).error, /--http-token/);
    } finally {
      await open.stop();
    }
    const health = await get('/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { ok: true, store: { ok: true }, registry: { ok: true } });
    assert.equal(
      (await post('/reload', {}, TOKEN)).status,
      501,
      'a broker built in code has no config file to re-read',
    );
  });
});
