// doc/http-gateway.md "Publish": a message published over HTTP goes through the native pipeline and
// reaches a native consumer; credentials, topic rights and header checks answer as the native
// protocol does, as JSON over HTTP; a retried Kiteq-Message-Id is stored and delivered once.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import type { Message } from '../client';
import { AUTH_REFUSED_FEEDBACK } from '../handler/access';
import { Reasons } from '../protocol/reasons';
import { countdown, eventually } from './support/events';
import { newMessageId } from './support/messages';
import { gatewayCall, gatewayPublish } from './support/gateway-http';
import { withBroker } from './support/with-broker';

const PAY = directBinding('s-mc', 'trade', 'pay-succ');

describe('gateway - publish over HTTP', function () {
  this.timeout(30_000);
  const env = withBroker({
    bindings: [PAY],
    topics: ['trade', 'user-profile'],
    config: {
      gateway: '127.0.0.1:0',
      maxBodyBytes: 64 * 1024,
      authFailLimit: 3,
      groups: [
        { groupId: 'p-http', secretKey: 'k', publish: ['trade'] },
        { groupId: 'p-other', secretKey: 'k' },
        { groupId: 'p-profile', secretKey: 'k', publish: ['user-profile'] },
        { groupId: 'p-guessed', secretKey: 'k' },
        { groupId: 's-mc', secretKey: 'k' },
      ],
    },
  });
  const base = () => `http://${env.broker.gatewayAddress}`;
  const received: Message[] = [];
  const receivedAtMs = new Map<string, number>();
  let arrivals = countdown(0, 1);
  before(async () => {
    await env.startClient({
      groupId: 's-mc',
      bindings: [PAY],
      listener: (m) => {
        received.push(m);
        receivedAtMs.set(m.header.messageId, Date.now());
        arrivals.tick();
        return true;
      },
    });
  });
  beforeEach(() => {
    received.length = 0;
  });

  const deliveriesOf = (id: string) => received.filter((m) => m.header.messageId === id).length;

  it('delivers a JSON body as a StringMessage and an octet-stream body as a BytesMessage, with the Kiteq-* headers', async () => {
    arrivals = countdown(2, 10_000, 'deliveries');
    const json = await gatewayPublish(base(), 'p-http:k', 'trade', 'pay-succ', '{"orderId":"o-1"}', {
      'content-type': 'application/json',
      'Kiteq-Property-OrderId': 'o-1',
      'Kiteq-Property-City': Buffer.from('Zürich').toString('latin1'), // its UTF-8 bytes, as curl sends them
    });
    assert.equal(json.status, 201, JSON.stringify(json.body));
    const bytes = await gatewayPublish(base(), 'p-http:k', 'trade', 'pay-succ', Buffer.from([0, 1, 2, 255]), {
      'content-type': 'application/octet-stream',
    });
    assert.equal(bytes.status, 201);
    await arrivals.done;
    const asText = received.find((m) => m.header.messageId === json.body.messageId)!;
    assert.equal(asText.body, '{"orderId":"o-1"}');
    assert.equal(asText.header.groupId, 'p-http', 'published as the caller');
    assert.equal(asText.header.commit, true);
    assert.deepEqual(
      asText.header.properties.map((p) => [p.key, p.value]),
      [
        ['OrderId', 'o-1'],
        ['City', 'Zürich'],
      ],
    );
    const asBytes = received.find((m) => m.header.messageId === bytes.body.messageId)!;
    assert.ok(Buffer.isBuffer(asBytes.body));
    assert.deepEqual([...(asBytes.body as Buffer)], [0, 1, 2, 255]);
  });

  it('answers 201 only once the message is stored', async () => {
    const answer = await gatewayPublish(base(), 'p-http:k', 'user-profile', 'x', 'y', {}, '');
    assert.equal(answer.status, 403, 'p-http may not publish user-profile');
    const stored = await gatewayPublish(base(), 'p-http:k', 'trade', 'kept', 'no group binds this type');
    assert.equal(stored.status, 201);
    const message = await env.broker.store.get(String(stored.body.messageId));
    assert.equal(message?.body, 'no group binds this type');
  });

  it('a retried Kiteq-Message-Id answers the first id and is delivered once: in a burst, after delivery, upper-case', async () => {
    const id = newMessageId();
    arrivals = countdown(1, 10_000, 'delivery');
    const burst = await Promise.all(
      [0, 1, 2].map(() => gatewayPublish(base(), 'p-http:k', 'trade', 'pay-succ', 'once', { 'Kiteq-Message-Id': id })),
    );
    assert.deepEqual(
      burst.map((a) => [a.status, a.body.messageId]),
      [
        [201, id],
        [201, id],
        [201, id],
      ],
    );
    await arrivals.done;
    await eventually(async () => (await env.broker.store.get(id)) === undefined, 5000, 'the acked message deleted');
    const late = await gatewayPublish(base(), 'p-http:k', 'trade', 'pay-succ', 'once', {
      'Kiteq-Message-Id': id.toUpperCase(),
    });
    assert.equal(late.status, 201);
    assert.deepEqual(late.body, { messageId: id, duplicate: true });
    // a marker published after the retries is delivered; the retries were not
    arrivals = countdown(1, 10_000, 'marker');
    await gatewayPublish(base(), 'p-http:k', 'trade', 'pay-succ', 'marker');
    await arrivals.done;
    assert.equal(deliveriesOf(id), 1, 'one delivery: no second copy, in the burst or after the first was delivered');
    assert.equal(await env.broker.store.get(id), undefined, 'and none stored');
  });

  it("refuses another group's Kiteq-Message-Id (409): a group cannot confirm or shadow another's message", async () => {
    const id = newMessageId();
    assert.equal(
      (await gatewayPublish(base(), 'p-http:k', 'trade', 'kept', 'mine', { 'Kiteq-Message-Id': id })).status,
      201,
    );
    const other = await gatewayPublish(base(), 'p-other:k', 'trade', 'kept', 'theirs', { 'Kiteq-Message-Id': id });
    assert.equal(other.status, 409);
    assert.equal((await env.broker.store.get(id))?.body, 'mine');
  });

  it('refuses an unknown group and a wrong key with the native refusal text, and no credentials with 401', async () => {
    const native = await (await env.raw()).handshake('p-http', 'wrong');
    assert.equal(native.feedback, AUTH_REFUSED_FEEDBACK);
    const wrongKey = await gatewayPublish(base(), 'p-http:wrong', 'trade', 'pay-succ', 'x');
    const unknown = await gatewayPublish(base(), 'p-nobody:k', 'trade', 'pay-succ', 'x');
    for (const answer of [wrongKey, unknown]) {
      assert.equal(answer.status, 401);
      assert.deepEqual(answer.body, { error: 'unauthorized', reason: native.feedback });
    }
    const none = await gatewayPublish(base(), undefined as unknown as string, 'trade', 'pay-succ', 'x');
    assert.equal(none.status, 401);
    assert.match(String(none.headers.get('www-authenticate')), /^Basic/);
  });

  it('blocks a guessed group after --auth-fail-limit wrong keys, over HTTP and over the native protocol alike', async () => {
    for (let i = 0; i < 3; i++)
      assert.equal((await gatewayPublish(base(), `p-guessed:guess-${i}`, 'trade', 'pay-succ', 'x')).status, 401);
    const right = await gatewayPublish(base(), 'p-guessed:k', 'trade', 'pay-succ', 'x');
    assert.equal(right.status, 429, 'the right key is not even looked at while blocked');
    assert.match(String(right.body.reason), /too many failed handshakes/);
    assert.ok(Number(right.headers.get('retry-after')) > 0);
    const native = await (await env.raw()).handshake('p-guessed', 'k');
    assert.equal(native.status, false, 'the native handshake from the same address is blocked too');
    assert.equal((await gatewayPublish(base(), 'p-other:k', 'trade', 'kept', 'x')).status, 201, 'other groups are not');
  });

  it('refuses a topic the group may not publish (403) and one the broker does not serve (404), with the native reasons', async () => {
    const forbidden = await gatewayPublish(base(), 'p-profile:k', 'trade', 'pay-succ', 'x');
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.error, 'forbidden');
    assert.ok(String(forbidden.body.reason).startsWith(Reasons.forbidden.text));
    const unserved = await gatewayPublish(base(), 'p-other:k', 'nope', 'x', 'x');
    assert.equal(unserved.status, 404);
    assert.ok(String(unserved.body.reason).startsWith(Reasons.topicNotServed.text));
  });

  it('refuses malformed Kiteq-* headers with 400 and the reason, storing nothing', async () => {
    const now = Date.now();
    const cases: [Record<string, string>, string][] = [
      [{ 'Kiteq-Deliver-At': 'tomorrow' }, Reasons.badDeliverAt.text],
      [
        { 'Kiteq-Deliver-At': String(now + 3_600_000), 'Kiteq-Expired-Time': String(Math.floor(now / 1000) + 60) },
        Reasons.expiresBeforeDeliverAt.text,
      ],
      [{ 'Kiteq-Expired-Time': 'soon' }, 'Bad Kiteq-Expired-Time'],
      [{ 'Kiteq-Expired-Time': String(Math.floor(now / 1000) - 60) }, Reasons.expired.text],
      [{ 'Kiteq-Message-Id': 'not-32-hex' }, Reasons.invalidMessageId.text],
    ];
    const before = await env.broker.store.countsByTopic();
    for (const [headers, reason] of cases) {
      const answer = await gatewayPublish(base(), 'p-http:k', 'trade', 'pay-succ', 'x', headers);
      assert.equal(answer.status, 400, JSON.stringify(headers));
      assert.ok(String(answer.body.reason).startsWith(reason), `${JSON.stringify(headers)} → ${answer.body.reason}`);
    }
    assert.deepEqual(await env.broker.store.countsByTopic(), before);
    const noType = await gatewayCall(base(), '/v1/topics/trade/messages', {
      method: 'POST',
      credentials: 'p-http:k',
      body: 'x',
    });
    assert.equal(noType.status, 400);
  });

  it('delivers a message with Kiteq-Deliver-At no earlier than that time', async () => {
    const at = Date.now() + 1500;
    arrivals = countdown(1, 10_000, 'the scheduled delivery');
    const answer = await gatewayPublish(base(), 'p-http:k', 'trade', 'pay-succ', 'scheduled', {
      'Kiteq-Deliver-At': String(at),
    });
    assert.equal(answer.status, 201);
    assert.ok(Date.now() < at, 'answered before its time: stored, not held');
    const previous = received.length;
    await arrivals.done;
    assert.equal(received[previous].header.messageId, answer.body.messageId);
    const receivedAt = receivedAtMs.get(String(answer.body.messageId))!;
    assert.ok(receivedAt >= at, `delivered ${at - receivedAt} ms early`);
  });

  it('counts the default expiry of a scheduled message from its delivery time', async () => {
    const at = Date.now() + 10 * 24 * 3600 * 1000;
    const answer = await gatewayPublish(base(), 'p-http:k', 'trade', 'kept', 'in ten days', {
      'Kiteq-Deliver-At': String(at),
    });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    const stored = await env.broker.store.get(String(answer.body.messageId));
    assert.equal(stored?.header.expiredTime, Math.ceil(at / 1000) + 7 * 24 * 3600);
  });

  it('schedules with Kiteq-Deliver-At as an ISO date (kiteq.deliverAt)', async () => {
    const at = new Date(Date.now() + 3_600_000);
    const answer = await gatewayPublish(base(), 'p-http:k', 'trade', 'kept', 'later', {
      'Kiteq-Deliver-At': at.toISOString(),
    });
    assert.equal(answer.status, 201);
    const stored = await env.broker.store.get(String(answer.body.messageId));
    assert.deepEqual(stored?.header.properties, [{ key: 'kiteq.deliverAt', value: String(at.getTime()) }]);
  });

  it('refuses a body over --max-body-bytes with 413, and a non-UTF-8 text body with 400', async () => {
    const big = await gatewayPublish(base(), 'p-http:k', 'trade', 'pay-succ', Buffer.alloc(64 * 1024 + 1, 97));
    assert.equal(big.status, 413);
    assert.equal(big.body.error, 'payload_too_large');
    const latin1 = await gatewayPublish(base(), 'p-http:k', 'trade', 'pay-succ', Buffer.from([0x66, 0xfc, 0x72]), {
      'content-type': 'text/plain; charset=utf-8',
    });
    assert.equal(latin1.status, 400);
  });

  it('answers unknown paths 404 and wrong methods 405, as JSON', async () => {
    const missing = await gatewayCall(base(), '/v1/nothing', { credentials: 'p-http:k' });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error, 'not_found');
    const wrong = await gatewayCall(base(), '/v1/topics/trade/messages', { method: 'DELETE', credentials: 'p-http:k' });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'POST');
  });

  it('serves an OpenAPI 3 document of every route, without credentials', async () => {
    const doc = await gatewayCall(base(), '/v1/openapi.json');
    assert.equal(doc.status, 200);
    assert.match(String(doc.body.openapi), /^3\./);
    const paths = Object.keys(doc.body.paths as object);
    for (const path of [
      '/v1/topics/{topic}/messages',
      '/v1/messages/{messageId}/commit',
      '/v1/messages/{messageId}/rollback',
      '/v1/groups/{group}/messages',
      '/v1/groups/{group}/acks',
    ])
      assert.ok(paths.includes(path), `${path} in ${paths.join(', ')}`);
  });
});

describe('gateway - publish admission over HTTP', function () {
  this.timeout(20_000);
  const env = withBroker({
    bindings: [PAY],
    config: { gateway: '127.0.0.1:0', publishPermitsPerSecond: 1 },
  });

  it('answers 503 with Retry-After when the publish rate limit refuses (overflow), like MessageStoreAck "overflow"', async () => {
    const base = `http://${env.broker.gatewayAddress}`;
    const answers = await Promise.all(
      [0, 1, 2, 3].map(() => gatewayPublish(base, 'p-any:k', 'trade', 'pay-succ', 'x')),
    );
    const refused = answers.filter((a) => a.status === 503);
    assert.ok(refused.length >= 1, answers.map((a) => a.status).join(','));
    assert.equal(refused[0].body.reason, Reasons.overflow.text);
    assert.equal(refused[0].headers.get('retry-after'), '1');
  });
});
