// doc/architecture.md §4, §8 "MySQL down or slow": with MariaDB cut off (a TCP proxy in front of the shared
// server: refused, then a black hole), producers get store-ack false with a reason; when it is back
// the broker reconnects by itself, sends succeed again, and every acked message is delivered.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { buildStringMessage, KiteQClient } from '../client';
import { BrokerRejectedError } from '../client/errors';
import { startBroker, type TestBroker } from './support/broker';
import { eventually } from './support/events';
import { MariaDbProxy, withTestDatabase } from './support/mariadb';

describe('mysql broker - MariaDB unreachable during sends', function () {
  this.timeout(60_000);
  const database = withTestDatabase();
  let proxy: MariaDbProxy;
  let env: TestBroker;
  let producer: KiteQClient;
  let consumer: KiteQClient;
  const delivered = new Map<string, number>();
  const acked = new Set<string>();
  const binding = directBinding('s-outage', 'trade', 'pay-succ', { watermark: 100_000 });

  before(async () => {
    proxy = await MariaDbProxy.start();
    const store = database.current.uri({ connectTimeoutMs: 1000, queryTimeoutMs: 1000 }, proxy.hostPort);
    env = await startBroker({ bindings: [binding], config: { store, recoverIntervalMs: 1000 } });
    consumer = new KiteQClient({
      registry: env.registryUri,
      groupId: 's-outage',
      secretKey: 'k',
      bindings: [binding],
      listener: (m) => (delivered.set(m.header.messageId, (delivered.get(m.header.messageId) ?? 0) + 1), true),
    });
    // no client retries: each send shows the broker's own answer
    producer = new KiteQClient({
      registry: env.registryUri,
      groupId: 'p-trade',
      secretKey: 'k',
      publishTopics: ['trade'],
      sendRetry: { retries: 0 },
    });
    await consumer.start();
    await producer.start();
  });
  after(async () => {
    await producer?.close();
    await consumer?.close();
    await env?.stop();
    await proxy?.down();
  });

  /** Sends n messages at once; acked ids are remembered, refusals returned. */
  async function send(n: number): Promise<{ ok: number; refused: BrokerRejectedError[] }> {
    const sends = Array.from({ length: n }, (_, i) =>
      producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `m-${i}` })),
    );
    for (const sent of sends)
      sent.then(
        (ack) => acked.add(ack.messageId),
        () => undefined,
      ); // as each ack comes
    const results = await Promise.allSettled(sends);
    const refused: BrokerRejectedError[] = [];
    let ok = 0;
    for (const r of results) {
      if (r.status === 'fulfilled') ok++;
      else {
        assert.ok(r.reason instanceof BrokerRejectedError, `a store-ack false, not ${r.reason}`);
        refused.push(r.reason);
      }
    }
    return { ok, refused };
  }

  async function backAgain(what: string): Promise<void> {
    await proxy.down();
    await proxy.listen();
    // The pool dials again on the next statement; the first sends may still meet a dead connection.
    await eventually(async () => (await send(20)).ok === 20, 15_000, `sends succeed again after ${what}`, 200);
  }

  it('answers false with "Store Unavailable" while MariaDB refuses, and resumes when it is back', async () => {
    assert.equal((await send(200)).ok, 200);
    const inFlight = send(1000); // the outage lands among these, after the first acks
    await eventually(() => acked.size > 200, 10_000, 'the first acks of the second burst', 1);
    await proxy.down();
    const during = await inFlight;
    const down = await send(20);
    assert.equal(down.ok, 0, 'nothing is acked while MariaDB is down');
    for (const error of down.refused) {
      assert.match(error.reason, /^Store Unavailable/);
      assert.match(error.reason, /MySQL unreachable|MySQL timed out/, error.reason);
      assert.equal(error.retriable, true);
    }
    await backAgain('a refused port');
    await eventually(() => [...acked].every((id) => delivered.has(id)), 30_000, 'every acked message delivered', 100);
    console.log(
      `      in flight at the cut: ${during.ok} acked, ${during.refused.length} refused (${during.refused[0]?.reason ?? '-'})`,
    );
  });

  it('answers false within the query timeout while MariaDB hangs, and resumes when it is back', async () => {
    const freezeAt = Date.now();
    proxy.freeze();
    const hung = await send(20);
    const tookMs = Date.now() - freezeAt;
    assert.equal(hung.ok, 0, 'nothing is acked while MariaDB hangs');
    for (const error of hung.refused)
      assert.match(error.reason, /^Store Unavailable.*\(MySQL (timed out|unreachable)/, error.reason);
    // each flush waits queryTimeoutMs (1 s here); 16 tables, 4 flushes at a time: ~4 s for the last
    assert.ok(tookMs < 10_000, `refused within the store's timeouts (${tookMs} ms)`);
    await backAgain('a hang');
    await eventually(() => [...acked].every((id) => delivered.has(id)), 30_000, 'every acked message delivered', 100);
    const duplicates = [...delivered.values()].filter((n) => n > 1).length;
    console.log(
      `      acked ${acked.size}, delivered ${delivered.size}, duplicates ${duplicates}; refused after ${tookMs} ms while hung`,
    );
  });
});
