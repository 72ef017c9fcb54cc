// doc/http-gateway.md "Transactions": a message published over HTTP with ?prepare=1 waits for
// POST /v1/messages/{id}/commit or /rollback from its publishing group; a group with a checkUrl
// is asked about its prepared messages there, and its answer decides them.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { directBinding } from '../binding/binding';
import type { Message } from '../client';
import { Reasons } from '../protocol/reasons';
import { countdown, eventually } from './support/events';
import { gatewayCall, gatewayPublish } from './support/gateway-http';
import { withBroker } from './support/with-broker';

const PAY = directBinding('s-mc', 'trade', 'pay-succ');

describe('gateway - transactions over HTTP', function () {
  this.timeout(30_000);
  // the checkUrl of group p-check: answers from `answers` in turn (then "commit"), records what it was asked
  const asked: { messageId: string; topic: string; groupId: string; properties: Record<string, string> }[] = [];
  let answers: { status: number; body: string }[] = [];
  let checkServer: Server;
  before(async () => {
    checkServer = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        asked.push(JSON.parse(body));
        const answer = answers.shift() ?? { status: 200, body: 'commit' };
        res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body);
      });
    });
    await new Promise<void>((resolve) => checkServer.listen(0, '127.0.0.1', resolve));
  });
  after(() => new Promise<void>((resolve) => checkServer.close(() => resolve())));

  const env = withBroker(() => ({
    bindings: [PAY],
    config: {
      gateway: '127.0.0.1:0',
      txCheckAgeSec: 1,
      txCheckIntervalSec: 1,
      groups: [
        { groupId: 'p-http', secretKey: 'k' },
        { groupId: 'p-other', secretKey: 'k' },
        {
          groupId: 'p-check',
          secretKey: 'k',
          checkUrl: `http://127.0.0.1:${(checkServer.address() as AddressInfo).port}/check`,
        },
        { groupId: 's-mc', secretKey: 'k' },
      ],
    },
  }));
  const base = () => `http://${env.broker.gatewayAddress}`;
  const received: Message[] = [];
  let arrived: (m: Message) => void = () => undefined;

  before(async () => {
    await env.startClient({
      groupId: 's-mc',
      bindings: [PAY],
      listener: (m) => {
        received.push(m);
        arrived(m);
        return true;
      },
    });
  });

  /** resolves when a message with this body arrives */
  const arrival = (body: string) => {
    const done = countdown(1, 10_000, `delivery of "${body}"`);
    const previous = arrived;
    arrived = (m) => {
      previous(m);
      if (m.body === body) done.tick();
    };
    return done.done;
  };
  const delivered = (id: unknown) => received.some((m) => m.header.messageId === id);

  /** publishes a committed message and waits for it: deliveries before it have been made */
  async function marker(body: string): Promise<void> {
    const arrives = arrival(body);
    assert.equal((await gatewayPublish(base(), 'p-http:k', 'trade', 'pay-succ', body)).status, 201);
    await arrives;
  }

  const prepare = (credentials: string, body: string) =>
    gatewayPublish(base(), credentials, 'trade', 'pay-succ', body, { 'Kiteq-Property-OrderId': body }, '&prepare=1');
  const decide = (credentials: string, id: unknown, action: 'commit' | 'rollback') =>
    gatewayCall(base(), `/v1/messages/${String(id)}/${action}`, { method: 'POST', credentials });

  it('prepare=1 stores the message prepared and delivers it only after POST …/commit', async () => {
    const prepared = await prepare('p-http:k', 'tx-commit');
    assert.equal(prepared.status, 201);
    const id = prepared.body.messageId;
    await marker('after-prepare');
    assert.equal(delivered(id), false, 'not delivered while prepared');
    assert.equal((await env.broker.store.get(String(id)))?.header.commit, false, 'stored prepared');
    const arrives = arrival('tx-commit');
    const committed = await decide('p-http:k', id, 'commit');
    assert.equal(committed.status, 200);
    assert.deepEqual(committed.body, { messageId: id, state: 'committed' });
    await arrives;
    assert.equal(received.find((m) => m.header.messageId === id)?.header.commit, true);
  });

  it('POST …/rollback deletes it: never delivered; a repeated rollback answers the same, a commit after it 409', async () => {
    const id = (await prepare('p-http:k', 'tx-rollback')).body.messageId;
    const rolledBack = await decide('p-http:k', id, 'rollback');
    assert.equal(rolledBack.status, 200);
    assert.deepEqual(rolledBack.body, { messageId: id, state: 'rolledBack' });
    assert.equal(await env.broker.store.get(String(id)), undefined);
    const again = await decide('p-http:k', id, 'rollback');
    assert.deepEqual([again.status, again.body], [200, { messageId: id, state: 'rolledBack' }]);
    const late = await decide('p-http:k', id, 'commit');
    assert.equal(late.status, 409);
    assert.equal(late.body.reason, 'the message was rolled back before');
    await marker('after-rollback');
    assert.equal(delivered(id), false);
  });

  it('a commit sent again after its message was delivered and deleted answers "committed" (a lost answer retried)', async () => {
    const id = (await prepare('p-http:k', 'tx-commit-twice')).body.messageId;
    const arrives = arrival('tx-commit-twice');
    assert.equal((await decide('p-http:k', id, 'commit')).status, 200);
    await arrives;
    await eventually(async () => (await env.broker.store.get(String(id))) === undefined, 5000, 'deleted once acked');
    const again = await decide('p-http:k', id, 'commit');
    assert.deepEqual([again.status, again.body], [200, { messageId: id, state: 'committed' }]);
    const other = await decide('p-other:k', id, 'commit');
    assert.equal(other.status, 404, 'another group learns nothing from it');
    const never = await decide('p-http:k', '0123456789abcdef0123456789abcdef', 'commit');
    assert.deepEqual([never.status, never.body.reason], [404, Reasons.unknownMessage.text]);
    assert.equal(received.filter((m) => m.header.messageId === id).length, 1);
  });

  it('refuses a commit or rollback by another group (403), leaving the message prepared', async () => {
    const id = (await prepare('p-http:k', 'tx-other')).body.messageId;
    for (const action of ['commit', 'rollback'] as const) {
      const refused = await decide('p-other:k', id, action);
      assert.equal(refused.status, 403);
      assert.deepEqual(refused.body, { error: 'not_publishing_group', reason: Reasons.notPublishingGroup.text });
    }
    assert.equal((await env.broker.store.get(String(id)))?.header.commit, false);
    await marker('after-other');
    assert.equal(delivered(id), false);
    assert.equal((await decide('p-http:k', id, 'rollback')).status, 200);
  });

  it('asks the checkUrl about a prepared message left undecided; its "commit" delivers it', async () => {
    answers = [];
    const arrives = arrival('tx-checked');
    const id = (await prepare('p-check:k', 'tx-checked')).body.messageId;
    await arrives;
    const question = asked.find((q) => q.messageId === id);
    assert.ok(question, 'the checkUrl was asked');
    assert.deepEqual(
      { topic: question.topic, groupId: question.groupId, properties: question.properties },
      { topic: 'trade', groupId: 'p-check', properties: { OrderId: 'tx-checked' } },
    );
  });

  it('counts a checkUrl error or an "unknown" as unknown: asked again, and "rollback" then deletes it', async () => {
    answers = [
      { status: 500, body: 'oops' },
      { status: 200, body: 'unknown' },
      { status: 200, body: 'rollback' },
    ];
    const id = String((await prepare('p-check:k', 'tx-rolled-back-by-check')).body.messageId);
    await eventually(
      async () => (await env.broker.store.get(id)) === undefined,
      15_000,
      'the rollback answered by the checkUrl',
      100,
    );
    assert.equal(asked.filter((q) => q.messageId === id).length, 3, 'asked three times: error, unknown, rollback');
    await marker('after-check-rollback');
    assert.equal(delivered(id), false);
  });
});
