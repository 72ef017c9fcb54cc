// doc/http-gateway.md "Batch publish": POST /v1/topics/{topic}/messages:batch publishes a JSON array
// of messages through the same pipeline path as a single publish (file store, real sockets): every
// one answered stored reaches a native consumer; a retried batch stores no second copy; credentials
// and topic rights are those of a single publish; a malformed or oversized batch stores nothing.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import type { Message } from '../client';
import { Reasons } from '../protocol/reasons';
import { countdown, eventually } from './support/events';
import { gatewayCall } from './support/gateway-http';
import { newMessageId } from './support/messages';
import { withBroker } from './support/with-broker';

const PAY = directBinding('s-batch', 'trade', 'pay-succ');
const MAX_BODY = 256 * 1024;

type BatchResult = { status: number; messageId?: string; duplicate?: boolean; error?: string; reason?: string };

describe('gateway - batch publish over HTTP', function () {
  this.timeout(30_000);
  const env = withBroker({
    bindings: [PAY],
    topics: ['trade', 'user-profile'],
    store: 'file',
    config: {
      gateway: '127.0.0.1:0',
      maxBodyBytes: MAX_BODY,
      groups: [
        { groupId: 'p-http', secretKey: 'k', publish: ['trade'] },
        { groupId: 'p-profile', secretKey: 'k', publish: ['user-profile'] },
        { groupId: 's-batch', secretKey: 'k' },
      ],
    },
  });
  const received: Message[] = [];
  let arrivals = countdown(0, 1);
  before(async () => {
    await env.startClient({
      groupId: 's-batch',
      bindings: [PAY],
      listener: (m) => {
        received.push(m);
        arrivals.tick();
        return true;
      },
    });
  });

  const batch = (items: unknown, { credentials = 'p-http:k', topic = 'trade', type = 'pay-succ' } = {}) =>
    gatewayCall(`http://${env.broker.gatewayAddress}`, `/v1/topics/${topic}/messages:batch?type=${type}`, {
      method: 'POST',
      credentials,
      headers: { 'content-type': 'application/json' },
      body: typeof items === 'string' ? items : JSON.stringify(items),
    });
  const resultsOf = (answer: { body: Record<string, unknown> }) => answer.body.results as BatchResult[];
  const deliveriesOf = (id: string) => received.filter((m) => m.header.messageId === id).length;
  const nothingStored = async (ids: string[]) => {
    for (const id of ids) assert.equal(await env.broker.store.get(id), undefined, `${id} stored`);
  };

  it('stores every message before answering 201 with one result per message in order; a native consumer gets them all', async () => {
    const items = Array.from({ length: 50 }, (_, i) =>
      i % 2 === 0
        ? { body: `text ${i} ü`, properties: { n: String(i) } }
        : { bodyBase64: Buffer.from([i, 0, 255]).toString('base64') },
    );
    arrivals = countdown(50, 15_000, 'the batch delivered');
    const answer = await batch(items);
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    const results = resultsOf(answer);
    assert.equal(results.length, 50);
    assert.ok(results.every((r) => r.status === 201 && /^[0-9a-f]{32}$/.test(r.messageId!)));
    await arrivals.done;
    results.forEach((r, i) => {
      const got = received.filter((m) => m.header.messageId === r.messageId);
      assert.equal(got.length, 1, `message ${i} delivered once`);
      const [m] = got;
      assert.equal(m.header.groupId, 'p-http');
      assert.equal(m.header.messageType, 'pay-succ');
      if (i % 2 === 0) {
        assert.equal(m.body, `text ${i} ü`);
        assert.deepEqual(m.header.properties, [{ key: 'n', value: String(i) }]);
      } else assert.deepEqual([...(m.body as Buffer)], [i, 0, 255]);
    });
  });

  it('a retried batch (same messageIds) answers each stored id with duplicate: true and stores no second copy', async () => {
    const ids = Array.from({ length: 20 }, newMessageId);
    const items = ids.map((messageId, i) => ({ messageId, body: `once ${i}` }));
    arrivals = countdown(20, 15_000, 'the first batch');
    const first = await batch(items);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.deepEqual(
      resultsOf(first).map((r) => r.messageId),
      ids,
    );
    await arrivals.done;
    // the same batch again, while some may still be stored and others delivered and deleted, and
    // the same id twice in one batch
    const again = await batch([...items, { messageId: ids[0].toUpperCase(), body: 'once 0' }]);
    assert.equal(again.status, 201, JSON.stringify(again.body));
    assert.deepEqual(
      resultsOf(again).map((r) => [r.status, r.messageId, r.duplicate]),
      [...ids, ids[0]].map((id) => [201, id, true]),
    );
    const marker = newMessageId();
    arrivals = countdown(1, 10_000, 'the marker');
    assert.equal((await batch([{ messageId: marker, body: 'marker' }])).status, 201);
    await arrivals.done;
    await eventually(() => deliveriesOf(marker) === 1, 5000, 'the marker');
    for (const id of ids) assert.equal(deliveriesOf(id), 1, `${id} delivered once`);
  });

  it('refuses wrong credentials (401) and a topic the group may not publish (403) or the broker does not serve (404), storing nothing', async () => {
    const ids = [newMessageId(), newMessageId()];
    const items = ids.map((messageId) => ({ messageId, body: 'x' }));
    const wrongKey = await batch(items, { credentials: 'p-http:wrong' });
    assert.equal(wrongKey.status, 401);
    assert.equal(wrongKey.body.error, 'unauthorized');
    const forbidden = await batch(items, { credentials: 'p-profile:k' });
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.error, 'forbidden');
    assert.ok(String(forbidden.body.reason).startsWith(Reasons.forbidden.text), String(forbidden.body.reason));
    assert.deepEqual(
      resultsOf(forbidden).map((r) => [r.status, r.error, r.messageId]),
      ids.map((id) => [403, 'forbidden', id]),
    );
    const unserved = await batch(items, { topic: 'nope' });
    assert.equal(unserved.status, 404);
    assert.equal(unserved.body.error, 'topic_not_served');
    await nothingStored(ids);
  });

  it('refuses a batch over 1,000 messages or over --max-body-bytes with 413 and the bound, storing nothing', async () => {
    const ids = Array.from({ length: 1001 }, newMessageId);
    const tooMany = await batch(ids.map((messageId) => ({ messageId, body: 'x' })));
    assert.equal(tooMany.status, 413);
    assert.equal(tooMany.body.error, 'payload_too_large');
    assert.match(String(tooMany.body.reason), /at most 1000 messages \(got 1001\)/);
    const big = ids.slice(0, 3);
    const tooBig = await batch(big.map((messageId) => ({ messageId, body: 'a'.repeat(MAX_BODY / 2) })));
    assert.equal(tooBig.status, 413);
    assert.match(String(tooBig.body.reason), new RegExp(`limit of ${MAX_BODY} bytes`));
    await nothingStored(ids);
  });

  it('refuses malformed JSON or a malformed message with 400 naming it, storing none of the batch', async () => {
    const id = newMessageId();
    const cases: [string, RegExp][] = [
      [`[{"messageId":"${id}","body":"x"},`, /not UTF-8 JSON/],
      [JSON.stringify({ messageId: id, body: 'x' }), /JSON array/],
      ['[]', /at least one message/],
      [JSON.stringify([{ messageId: id, body: 'x' }, { properties: {} }]), /messages\[1\]: give either body/],
      [
        JSON.stringify([
          { messageId: id, body: 'x' },
          { body: 'y', bodyBase64: 'eQ==' },
        ]),
        /messages\[1\]/,
      ],
      [JSON.stringify([{ messageId: id, body: 'x' }, { bodyBase64: 'not base64!' }]), /messages\[1\]\.bodyBase64/],
      [
        JSON.stringify([
          { messageId: id, body: 'x' },
          { body: 'y', properties: { a: 1 } },
        ]),
        /messages\[1\]\.properties\.a/,
      ],
      [
        JSON.stringify([
          { messageId: id, body: 'x' },
          { body: 'y', expiredTime: 'soon' },
        ]),
        /messages\[1\]\.expiredTime/,
      ],
      [
        JSON.stringify([
          { messageId: id, body: 'x' },
          { body: 'y', messageID: 'typo' },
        ]),
        /unknown field "messageID"/,
      ],
    ];
    for (const [body, reason] of cases) {
      const answer = await batch(body);
      assert.equal(answer.status, 400, body);
      assert.equal(answer.body.error, 'bad_request');
      assert.match(String(answer.body.reason), reason, body);
    }
    const noType = await gatewayCall(`http://${env.broker.gatewayAddress}`, '/v1/topics/trade/messages:batch', {
      method: 'POST',
      credentials: 'p-http:k',
      body: JSON.stringify([{ body: 'x' }]),
    });
    assert.equal(noType.status, 400);
    await nothingStored([id]);
  });

  it("answers 207 when some messages are refused, each with the single publish's status and reason; the rest are stored", async () => {
    const good = [newMessageId(), newMessageId()];
    const answer = await batch(
      [
        { messageId: good[0], body: 'kept 0' },
        { messageId: 'not-32-hex', body: 'refused' },
        { messageId: good[1], body: 'kept 1', deliverAt: new Date(Date.now() + 3_600_000).toISOString() },
        { body: 'refused', expiredTime: Math.floor(Date.now() / 1000) - 60 },
      ],
      { type: 'kept' },
    );
    assert.equal(answer.status, 207, JSON.stringify(answer.body));
    const results = resultsOf(answer);
    assert.deepEqual(
      results.map((r) => [r.status, r.error]),
      [
        [201, undefined],
        [400, 'rejected'],
        [201, undefined],
        [400, 'rejected'],
      ],
    );
    assert.ok(results[1].reason!.startsWith(Reasons.invalidMessageId.text));
    assert.ok(results[3].reason!.startsWith(Reasons.expired.text));
    assert.equal((await env.broker.store.get(good[0]))?.body, 'kept 0');
    const scheduled = await env.broker.store.get(good[1]);
    assert.equal(scheduled?.header.properties[0].key, 'kiteq.deliverAt');
  });

  it('?prepare=1 stores every message of the batch prepared: not delivered until committed one by one', async () => {
    const ids = [newMessageId(), newMessageId()];
    const answer = await gatewayCall(
      `http://${env.broker.gatewayAddress}`,
      '/v1/topics/trade/messages:batch?type=pay-succ&prepare=1',
      {
        method: 'POST',
        credentials: 'p-http:k',
        body: JSON.stringify(ids.map((messageId) => ({ messageId, body: 'prepared' }))),
      },
    );
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    for (const id of ids) assert.equal((await env.broker.store.get(id))?.header.commit, false);
    arrivals = countdown(1, 10_000, 'the committed one');
    const commit = await gatewayCall(`http://${env.broker.gatewayAddress}`, `/v1/messages/${ids[0]}/commit`, {
      method: 'POST',
      credentials: 'p-http:k',
    });
    assert.equal(commit.status, 200);
    await arrivals.done;
    assert.equal(deliveriesOf(ids[0]), 1);
    assert.equal(deliveriesOf(ids[1]), 0, 'the undecided one stays prepared');
    assert.equal((await env.broker.store.get(ids[1]))?.header.commit, false);
  });

  it('is described in the OpenAPI document', async () => {
    const doc = await gatewayCall(`http://${env.broker.gatewayAddress}`, '/v1/openapi.json');
    assert.ok(Object.keys(doc.body.paths as object).includes('/v1/topics/{topic}/messages:batch'));
  });
});
