// HTTP gateway consumers beside native connections of the same group (doc/http-gateway.md "Pull
// consume", doc/delivery.md "Choosing the consumer"): a poller and a native consumer share the
// group's messages, each delivered to one of them; a group's tx check-backs go to its native
// producer, never to its gateway consumer (which cannot answer); a bad `webhook:` in the groups
// file is refused naming the group and the key.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { directBinding } from '../binding/binding';
import { buildStringMessage, type TxDecision } from '../client';
import { loadGroupsFile } from '../server/groups';
import { tempDir } from './support/broker';
import { countdown, eventually } from './support/events';
import { GatewayCaller } from './support/gateway-consume';
import { withBroker } from './support/with-broker';

const binding = directBinding('s-both', 'trade', 'pay-succ', { watermark: 0 });

describe('gateway consumers beside native connections of the same group', function () {
  this.timeout(30_000);
  const env = withBroker(
    () => ({
      bindings: [binding],
      topics: ['trade'],
      config: { gateway: '127.0.0.1:0', txCheckAgeSec: 1, txCheckIntervalSec: 1 },
    }),
    { perTest: true },
  );

  it('a native consumer and an HTTP poller of one group share its messages, each delivered once', async () => {
    const MESSAGES = 40;
    const http = new GatewayCaller(`http://${env.broker.gatewayAddress}`, 's-both', 'k');
    await http.pull({ topic: 'trade', type: 'pay-succ' }); // the gateway consumer joins the group
    const byNative: string[] = [];
    const byHttp: string[] = [];
    const all = countdown(MESSAGES, 20_000, 'messages consumed');
    await env.startClient({
      groupId: 's-both',
      bindings: [binding],
      listener: (m) => {
        byNative.push(m.header.messageId);
        all.tick();
        return true;
      },
    });
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const answer = await http.pull({ topic: 'trade', type: 'pay-succ', max: 100, wait: 0.5 });
        for (const m of answer.body) byHttp.push(m.messageId);
        if (answer.body.length > 0) await http.settle({ ack: answer.body.map((m) => m.messageId) });
        all.tick(answer.body.length);
      }
    })();
    const producer = await env.startClient({ groupId: 'p-trade', publishTopics: ['trade'] });
    const sent: string[] = [];
    for (let i = 0; i < MESSAGES; i++)
      sent.push(
        (await producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `m${i}` }))).messageId,
      );
    await all.done;
    polling = false;
    await poller;
    assert.ok(byNative.length > 0 && byHttp.length > 0, `native ${byNative.length}, http ${byHttp.length}`);
    assert.deepEqual([...byNative, ...byHttp].sort(), [...sent].sort(), 'each message once, to one of them');
    await eventually(async () => (await env.broker.store.get(sent[MESSAGES - 1])) === undefined, 5000, 'finished');
  });

  it("a group's tx check-backs go to its native producer, never to its gateway consumer", async () => {
    const PREPARED = 10;
    const http = new GatewayCaller(`http://${env.broker.gatewayAddress}`, 's-both', 'k');
    // s-both pulls a type nobody publishes: its gateway consumer is in the group, idle meanwhile
    await http.pull({ topic: 'trade', type: 'refund' });
    const checkCounts: number[] = [];
    const answered = countdown(PREPARED, 20_000, 'check-backs answered');
    const producer = await env.startClient({
      groupId: 's-both',
      publishTopics: ['trade'],
      txCheckListener: async (m): Promise<TxDecision> => {
        const stored = await env.broker.store.get(m.header.messageId);
        checkCounts.push(stored?.checkCount ?? -1);
        answered.tick();
        return 'commit';
      },
    });
    const keepPolling = setInterval(() => void http.pull({ topic: 'trade', type: 'refund' }), 500);
    try {
      for (let i = 0; i < PREPARED; i++) {
        const message = buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `tx${i}` });
        void producer.sendTxMessage(message, () => new Promise<boolean>(() => undefined));
      }
      await answered.done;
    } finally {
      clearInterval(keepPolling);
    }
    // a check-back sent to the gateway consumer would go unanswered: the native one would come
    // at the next interval, with a check count of 2
    assert.deepEqual(
      checkCounts,
      checkCounts.map(() => 1),
      `check counts at the first native check-back: ${checkCounts.join(',')}`,
    );
  });
});

describe('webhook config in the groups file', () => {
  const dir = tempDir('kiteq-webhook-config-');
  const load = (webhook: unknown) => {
    const path = join(dir, 'groups.yaml');
    writeFileSync(path, JSON.stringify({ groups: [{ groupId: 's-hook', secretKey: 'k', webhook }] }));
    return loadGroupsFile(path);
  };

  it('fills the defaults: concurrency 4, timeoutMs 5000', () => {
    assert.deepEqual(load({ url: 'https://hooks.example/kiteq' })[0].webhook, {
      url: 'https://hooks.example/kiteq',
      concurrency: 4,
      timeoutMs: 5000,
    });
  });

  it('refuses a bad url, an out-of-range number or an unknown key, naming the group and the key', () => {
    assert.throws(() => load({ url: 'ftp://x/y' }), /groups\[0\]\.webhook\.url must be an http.*\(group s-hook\)/);
    assert.throws(() => load({ concurrency: 2 }), /webhook\.url must be an http/);
    assert.throws(() => load({ url: 'http://x/', concurrency: 0 }), /webhook\.concurrency must be a whole number/);
    assert.throws(() => load({ url: 'http://x/', timeoutMs: 1.5 }), /webhook\.timeoutMs must be a whole number/);
    assert.throws(() => load({ url: 'http://x/', retries: 3 }), /unknown key\(s\) retries/);
    assert.throws(() => load('http://x/'), /must be a map/);
  });
});
