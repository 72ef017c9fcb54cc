// Webhook push (doc/http-gateway.md "Webhook push"), over real HTTP: a group with `webhook:` in the
// groups file gets each message POSTed as JSON with Kiteq-* headers; 2xx acks, a 500 is a failed
// delivery retried on the usual schedule, and a dead webhook (never answers, or nothing listens)
// holds at most its concurrency and delays no other group: measured with a native consumer.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { directBinding } from '../binding/binding';
import { buildStringMessage } from '../client';
import { countdown, eventually } from './support/events';
import { freePort } from './support/ports';
import { withBroker } from './support/with-broker';

interface Posted {
  headers: IncomingMessage['headers'];
  json: Record<string, unknown>;
}

/** A webhook endpoint: records each POST, answers as `answer` says (null: never answers). */
class Endpoint {
  readonly posted: Posted[] = [];
  open = 0;
  maxOpen = 0;
  answer: (posted: Posted) => number | null = () => 200;
  private readonly server: Server;
  private readonly hanging: ServerResponse[] = [];
  port = 0;

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const posted = { headers: req.headers, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
        this.posted.push(posted);
        this.open++;
        this.maxOpen = Math.max(this.maxOpen, this.open);
        res.on('close', () => this.open--);
        const status = this.answer(posted);
        if (status === null) this.hanging.push(res);
        else res.writeHead(status).end(status === 200 ? 'ok' : 'no');
      });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const topicOf = { topic: 'trade', messageType: 'pay-succ' };

describe('gateway webhook push', function () {
  this.timeout(30_000);
  const hook = new Endpoint();
  before(() => hook.start());
  after(() => hook.stop());
  const env = withBroker(() => ({
    bindings: [directBinding('s-hook', 'trade', 'pay-succ', { watermark: 0 })],
    topics: ['trade'],
    config: {
      groups: [
        { groupId: 'p-trade', secretKey: 'k', publish: ['trade'] },
        { groupId: 's-hook', secretKey: 'hook-key', webhook: { url: hook.url, concurrency: 2, timeoutMs: 2000 } },
      ],
    },
  }));

  it('POSTs the message as JSON with Kiteq-* headers; a 2xx finishes it', async () => {
    hook.answer = () => 200;
    hook.posted.length = 0;
    const producer = await env.startClient({ groupId: 'p-trade', publishTopics: ['trade'] });
    const ack = await producer.send(
      buildStringMessage({ ...topicOf, body: '{"order":42}', properties: { shop: 'north' } }),
    );
    await eventually(() => hook.posted.length === 1, 5000, 'one POST');
    const [{ headers, json }] = hook.posted;
    assert.equal(headers['kiteq-message-id'], ack.messageId);
    assert.equal(headers['kiteq-topic'], 'trade');
    assert.equal(headers['kiteq-message-type'], 'pay-succ');
    assert.equal(headers['kiteq-attempt'], '1');
    assert.match(String(headers['content-type']), /^application\/json/);
    assert.equal(json.messageId, ack.messageId);
    assert.equal(json.body, '{"order":42}');
    assert.deepEqual(json.properties, { shop: 'north' });
    await eventually(async () => (await env.broker.store.get(ack.messageId)) === undefined, 5000, 'finished');
    assert.equal(hook.posted.length, 1, 'acked: not posted again');
  });

  it('a 500 is a failed delivery, retried (attempt 2) until a 2xx', async () => {
    hook.posted.length = 0;
    hook.answer = (posted) => (posted.headers['kiteq-attempt'] === '1' ? 500 : 200);
    const producer = await env.startClient({ groupId: 'p-trade', publishTopics: ['trade'] });
    const ack = await producer.send(buildStringMessage({ ...topicOf, body: 'retry me' }));
    await eventually(() => hook.posted.length === 2, 5000, 'two POSTs');
    assert.deepEqual(
      hook.posted.map((p) => [p.headers['kiteq-message-id'], p.headers['kiteq-attempt']]),
      [
        [ack.messageId, '1'],
        [ack.messageId, '2'],
      ],
    );
    await eventually(async () => (await env.broker.store.get(ack.messageId)) === undefined, 5000, 'finished');
  });
});

describe('gateway webhook push: a dead webhook does not delay another group', function () {
  this.timeout(60_000);
  const MESSAGES = 200;
  const silent = new Endpoint(); // accepts, never answers
  let closedPort = 0;
  before(async () => {
    silent.answer = () => null;
    await silent.start();
    closedPort = await freePort(); // nothing listens there
  });
  after(() => silent.stop());
  const env = withBroker(() => ({
    bindings: [
      directBinding('s-silent', 'trade', 'pay-succ', { watermark: 0 }),
      directBinding('s-closed', 'trade', 'pay-succ', { watermark: 0 }),
      directBinding('s-live', 'trade', 'pay-succ', { watermark: 0 }),
    ],
    topics: ['trade'],
    config: {
      groups: [
        { groupId: 'p-trade', secretKey: 'k', publish: ['trade'] },
        { groupId: 's-live', secretKey: 'k' },
        { groupId: 's-silent', secretKey: 'x', webhook: { url: silent.url, concurrency: 3, timeoutMs: 3000 } },
        {
          groupId: 's-closed',
          secretKey: 'x',
          webhook: { url: `http://127.0.0.1:${closedPort}/hook`, concurrency: 3, timeoutMs: 3000 },
        },
      ],
    },
  }));

  it(`a native consumer of s-live gets all ${MESSAGES} messages at once, the silent webhook holds ≤ 3 POSTs`, async () => {
    const latencies: number[] = [];
    const sentAt = new Map<string, number>();
    const seen = new Set<string>();
    const got = countdown(MESSAGES, 20_000, 'deliveries to s-live');
    await env.startClient({
      groupId: 's-live',
      bindings: [directBinding('s-live', 'trade', 'pay-succ', { watermark: 0 })],
      listener: (m) => {
        const at = sentAt.get(m.header.messageId);
        if (at !== undefined && !seen.has(m.header.messageId)) latencies.push(Date.now() - at);
        seen.add(m.header.messageId);
        got.tick();
        return true;
      },
    });
    const producer = await env.startClient({ groupId: 'p-trade', publishTopics: ['trade'] });
    for (let i = 0; i < MESSAGES; i++) {
      const message = buildStringMessage({ ...topicOf, body: `m${i}` });
      sentAt.set(message.header.messageId, Date.now());
      await producer.send(message);
    }
    await got.done;
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.floor(latencies.length * 0.99) - 1];
    const max = latencies[latencies.length - 1];
    process.stdout.write(`      s-live latency with two dead webhooks: p99 ${p99} ms, max ${max} ms\n`);
    // the webhooks' timeout is 3 s: a delivery that waited for them would show it
    assert.ok(max < 1500, `s-live waited up to ${max} ms`);
    // the silent one was delivered to, and never more than its concurrency at once
    assert.ok(silent.posted.length >= 3, `${silent.posted.length} POSTs reached the silent webhook`);
    assert.ok(silent.maxOpen <= 3, `${silent.maxOpen} POSTs open at once`);
  });
});
