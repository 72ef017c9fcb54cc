// HTTP gateway pull consume (doc/http-gateway.md "Pull consume"), over real HTTP against an
// in-process broker: a native publish reaches an HTTP poller, acks finish it, a lease that runs
// out or a nack brings it back, another group can neither pull nor settle it, a group without
// subscribe rights is refused, and a group gone idle has its messages parked until it polls again.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { buildBytesMessage, buildStringMessage, type KiteQClient } from '../client';
import { eventually } from './support/events';
import { GatewayCaller } from './support/gateway-consume';
import { withBroker } from './support/with-broker';

const GROUPS = [
  { groupId: 'p-trade', secretKey: 'k', publish: ['trade'] },
  { groupId: 's-http', secretKey: 'http-key', subscribe: ['trade'] },
  { groupId: 's-other', secretKey: 'other-key', subscribe: ['trade'] },
  { groupId: 's-nosub', secretKey: 'nosub-key', subscribe: [] },
];
// s-other is bound natively too: it is a consumer of the same messages, with ids of its own to steal
const OTHER_BINDING = directBinding('s-other', 'trade', 'pay-succ', { watermark: 0 });

function setup(gatewayIdleSec: number) {
  return {
    bindings: [OTHER_BINDING],
    topics: ['trade'],
    config: { gateway: '127.0.0.1:0', groups: GROUPS, deliveryTimeoutMs: 1000, gatewayIdleSec },
  };
}

async function publish(producer: KiteQClient, body: string, type = 'pay-succ'): Promise<string> {
  const ack = await producer.send(buildStringMessage({ topic: 'trade', messageType: type, body }));
  return ack.messageId;
}

describe('gateway pull consume', function () {
  this.timeout(30_000);
  const env = withBroker(() => setup(60), { perTest: true });
  let http: GatewayCaller;
  let producer: KiteQClient;

  beforeEach(async () => {
    http = new GatewayCaller(`http://${env.broker.gatewayAddress}`, 's-http', 'http-key');
    producer = await env.startClient({ groupId: 'p-trade', publishTopics: ['trade'] });
  });

  it('a native publish reaches the poller; an ack finishes it and it is not delivered again', async () => {
    // the first poll binds the group; the message published while it waits reaches it
    const first = http.pull({ topic: 'trade', type: 'pay-succ', wait: 5 });
    await eventually(
      () => env.broker.bindingTable.match('trade', 'pay-succ').some((b) => b.groupId === 's-http'),
      5000,
      'bound',
    );
    const id = await publish(producer, 'hello over http');
    const answer = await first;
    assert.equal(answer.status, 200);
    assert.equal(answer.body.length, 1);
    const [message] = answer.body;
    assert.equal(message.messageId, id);
    assert.equal(message.body, 'hello over http');
    assert.equal(message.topic, 'trade');
    assert.equal(message.messageType, 'pay-succ');
    assert.equal(message.groupId, 'p-trade');
    assert.equal(message.attempt, 1);

    const settled = await http.settle({ ack: [id] });
    assert.equal(settled.status, 200);
    assert.deepEqual(settled.body.results, { [id]: 'acked' });
    // s-other has no consumer online: persistent, the message waits for it; s-http is done with it
    await eventually(
      async () => (await env.broker.store.get(id))?.succGroups.includes('s-http'),
      5000,
      'acked in store',
    );
    // past the delivery timeout (1 s), nothing comes back
    const again = await http.pull({ topic: 'trade', type: 'pay-succ', wait: 2.5 });
    assert.deepEqual(again.body, []);
    const twice = await http.settle({ ack: [id] });
    assert.deepEqual(twice.body.results, { [id]: 'not leased' });
  });

  it('a bytes message comes as bodyBase64, properties as a map; max bounds one answer', async () => {
    await http.pull({ topic: 'trade', type: 'pay-succ' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const ack = await producer.send(
        buildBytesMessage({
          topic: 'trade',
          messageType: 'pay-succ',
          body: Buffer.from([0, 1, 2, 255, i]),
          properties: { order: String(i) },
        }),
      );
      ids.push(ack.messageId);
    }
    const got: string[] = [];
    await eventually(
      async () => {
        const answer = await http.pull({ topic: 'trade', type: 'pay-succ', max: 2, wait: 1 });
        assert.ok(answer.body.length <= 2, `max=2 answered ${answer.body.length}`);
        for (const m of answer.body) {
          assert.equal(m.body, undefined);
          assert.deepEqual(Buffer.from(m.bodyBase64!, 'base64'), Buffer.from([0, 1, 2, 255, ids.indexOf(m.messageId)]));
          assert.equal(m.properties.order, String(ids.indexOf(m.messageId)));
          got.push(m.messageId);
        }
        await http.settle({ ack: answer.body.map((m) => m.messageId) });
        return got.length >= 5;
      },
      10_000,
      'all five pulled',
      1,
    );
    assert.deepEqual([...got].sort(), [...ids].sort());
  });

  it('a lease not acked within the delivery timeout is delivered again (attempt 2)', async () => {
    await http.pull({ topic: 'trade', type: 'pay-succ' });
    const id = await publish(producer, 'leased');
    const first = await http.pull({ topic: 'trade', type: 'pay-succ', wait: 5 });
    assert.deepEqual(
      first.body.map((m) => m.messageId),
      [id],
    );
    const startedMs = Date.now();
    const second = await http.pull({ topic: 'trade', type: 'pay-succ', wait: 10 });
    assert.deepEqual(
      second.body.map((m) => [m.messageId, m.attempt]),
      [[id, 2]],
    );
    assert.ok(Date.now() - startedMs >= 800, 'not before the lease ran out');
    // the expired lease is not the caller's any more; the new one is
    const stale = await http.settle({ ack: [id] });
    assert.deepEqual(stale.body.results, { [id]: 'acked' });
  });

  it('a poller that hangs up while waiting gets nothing leased: the next poll has the message at attempt 1', async () => {
    await http.pull({ topic: 'trade', type: 'pay-succ' });
    const abort = new AbortController();
    const hungUp = fetch(`${http.base}/v1/groups/s-http/messages?topic=trade&type=pay-succ&wait=20`, {
      headers: { authorization: `Basic ${Buffer.from('s-http:http-key').toString('base64')}` },
      signal: abort.signal,
    }).catch(() => 'aborted');
    await new Promise((r) => setTimeout(r, 200)); // the request reaches the broker and waits there
    abort.abort();
    assert.equal(await hungUp, 'aborted');
    await new Promise((r) => setTimeout(r, 100)); // the broker sees the connection close
    const id = await publish(producer, 'for a live poller');
    const answer = await http.pull({ topic: 'trade', type: 'pay-succ', wait: 5 });
    assert.deepEqual(
      answer.body.map((m) => [m.messageId, m.attempt]),
      [[id, 1]],
    );
    await http.settle({ ack: [id] });
  });

  it('a nack is a failed delivery: the message comes back at once (attempt 2)', async () => {
    await http.pull({ topic: 'trade', type: 'pay-succ' });
    const id = await publish(producer, 'nacked');
    const first = await http.pull({ topic: 'trade', type: 'pay-succ', wait: 5 });
    assert.equal(first.body[0].messageId, id);
    const startedMs = Date.now();
    const nacked = await http.settle({ nack: [id] });
    assert.deepEqual(nacked.body.results, { [id]: 'nacked' });
    const second = await http.pull({ topic: 'trade', type: 'pay-succ', wait: 5 });
    assert.deepEqual(
      second.body.map((m) => [m.messageId, m.attempt]),
      [[id, 2]],
    );
    assert.ok(Date.now() - startedMs < 800, `redelivered after ${Date.now() - startedMs} ms, not after the timeout`);
    await http.settle({ ack: [id] });
  });

  it("another group can neither pull this group's messages nor settle them", async () => {
    const other = new GatewayCaller(http.base, 's-other', 'other-key');
    await http.pull({ topic: 'trade', type: 'pay-succ' });
    const id = await publish(producer, 'not yours');
    const mine = await http.pull({ topic: 'trade', type: 'pay-succ', wait: 5 });
    assert.equal(mine.body[0].messageId, id);

    const pullAs = await other.pull({ topic: 'trade', type: 'pay-succ' }, 's-http');
    assert.equal(pullAs.status, 403);
    const ackAs = await other.settle({ ack: [id] }, 's-http');
    assert.equal(ackAs.status, 403);
    // its own path: the id is not leased to s-other (its own copy is not even delivered: no consumer)
    const ackOwn = await other.settle({ ack: [id], nack: ['0'.repeat(32)] });
    assert.equal(ackOwn.status, 200);
    assert.deepEqual(ackOwn.body.results, { [id]: 'not leased', ['0'.repeat(32)]: 'not leased' });
    // wrong key for s-http: refused like a CONN_META
    const forged = await new GatewayCaller(http.base, 's-http', 'other-key').settle({ ack: [id] });
    assert.equal(forged.status, 401);

    // s-http's lease was untouched: unacked, it comes back after the lease
    const back = await http.pull({ topic: 'trade', type: 'pay-succ', wait: 10 });
    assert.deepEqual(
      back.body.map((m) => [m.messageId, m.attempt]),
      [[id, 2]],
    );
    const stored = await env.broker.store.get(id);
    assert.ok(stored && !stored.succGroups.includes('s-http'), 'not acked for s-http by anyone else');
  });

  it('a group without subscribe rights to the topic is refused, and bound to nothing', async () => {
    const nosub = new GatewayCaller(http.base, 's-nosub', 'nosub-key');
    const answer = await nosub.pull({ topic: 'trade', type: 'pay-succ', wait: 1 });
    assert.equal(answer.status, 403);
    assert.match(JSON.stringify(answer.body), /Not Allowed To Subscribe/);
    assert.ok(!env.broker.bindingTable.bindings.some((b) => b.groupId === 's-nosub'));
    const unserved = await http.pull({ topic: 'other-topic', type: 'x' });
    assert.equal(unserved.status, 404);
    const noType = await http.request('GET', '/v1/groups/s-http/messages?topic=trade');
    assert.equal(noType.status, 400);
  });
  it('binds at most 32 (topic, type) pairs per group by polling: a made-up type per poll cannot grow them', async () => {
    for (let i = 0; i < 32; i++) assert.equal((await http.pull({ topic: 'trade', type: `t${i}` })).status, 200);
    const refused = await http.pull({ topic: 'trade', type: 't32' });
    assert.equal(refused.status, 400);
    assert.match(JSON.stringify(refused.body), /binding_refused/);
    assert.equal((await http.pull({ topic: 'trade', type: 't7' })).status, 200, 'an existing one still polls');
    assert.equal((await http.pull({ topic: 'trade', type: 'x'.repeat(129) })).status, 400);
    assert.equal(env.broker.bindingTable.bindings.filter((b) => b.groupId === 's-http').length, 32);
  });
});

describe('gateway pull consume: an idle group', function () {
  this.timeout(30_000);
  const env = withBroker(() => setup(1), { perTest: true });

  it('is released after --gateway-idle; its messages park and come on its next poll (attempt 1)', async () => {
    const http = new GatewayCaller(`http://${env.broker.gatewayAddress}`, 's-http', 'http-key');
    const producer = await env.startClient({ groupId: 'p-trade', publishTopics: ['trade'] });
    const sessionsBefore = env.broker.sessionCount;
    await http.pull({ topic: 'trade', type: 'pay-succ' });
    assert.equal(env.broker.sessionCount, sessionsBefore + 1, 'the poll made a consumer');
    // released like a consumer that went away (checked once a second, idle 1 s)
    await eventually(() => env.broker.sessionCount === sessionsBefore, 5000, 'consumer released', 50);

    const id = await publish(producer, 'parked for s-http');
    // nobody of s-http online: persistent binding, so the message waits (not delivered, no attempt burnt)
    assert.ok(await env.broker.store.get(id), 'kept');
    assert.equal(env.broker.inFlightCount, 0);

    const answer = await http.pull({ topic: 'trade', type: 'pay-succ', wait: 5 });
    assert.deepEqual(
      answer.body.map((m) => [m.messageId, m.attempt]),
      [[id, 1]],
    );
    assert.deepEqual((await http.settle({ ack: [id] })).body.results, { [id]: 'acked' });
  });
});
