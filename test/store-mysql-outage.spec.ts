// mysql:// when MariaDB is down or silent (doc/architecture.md §8): calls fail within a bounded time with
// StoreUnavailableError and a reason; once it is back the pool reconnects and nothing acked is lost.
// The outage is a TCP proxy between the store and the shared server (test/support/mariadb.ts).
import assert from 'node:assert/strict';
import { StoreUnavailableError } from '../store/errors';
import { MysqlStore, parseMysqlUri } from '../store/mysql';
import type { StoredMessage } from '../store/contract';
import { aMessage } from './support/messages';
import { MariaDbProxy, withTestDatabase } from './support/mariadb';

async function rejectsUnavailable(promise: Promise<unknown>, reason: RegExp, withinMs: number): Promise<void> {
  const started = performance.now();
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof StoreUnavailableError, `expected StoreUnavailableError, got ${String(error)}`);
    assert.match(error.message, reason);
    return true;
  });
  const took = performance.now() - started;
  assert.ok(took < withinMs, `took ${took.toFixed(0)} ms, more than ${withinMs} ms`);
}

describe('mysql store outage - MariaDB unreachable, then back', function () {
  this.timeout(60_000);
  const database = withTestDatabase();
  let proxy: MariaDbProxy;
  let store: MysqlStore;
  const acked: StoredMessage[] = [];

  before(async () => {
    proxy = await MariaDbProxy.start();
    const uri = database.current.uri({ connectTimeoutMs: 1000, queryTimeoutMs: 1500 }, proxy.hostPort);
    store = new MysqlStore(parseMysqlUri(uri), { serverName: '127.0.0.1:13800' });
    await store.start();
  });
  after(async () => {
    await store?.stop();
    await proxy?.down();
  });

  it('acks saves while the server is there', async () => {
    const batch = Array.from({ length: 100 }, (_, i) => aMessage({}, `acked ${i}`));
    await Promise.all(batch.map((m) => store.save(m)));
    acked.push(...batch);
  });

  it('rejects saves, updates and reads with "MySQL unreachable" when connections are refused', async () => {
    await proxy.down();
    await rejectsUnavailable(
      store.save(aMessage()),
      /MySQL unreachable: .*(ECONNREFUSED|closed|lost|ECONNRESET)/i,
      5000,
    );
    // Pooled connections were cut too: every kind of call fails the same readable way, and fast.
    await rejectsUnavailable(store.save(aMessage()), /MySQL unreachable: connect ECONNREFUSED 127\.0\.0\.1:\d+/, 3000);
    await rejectsUnavailable(
      store.recordDelivery(acked[0].header.messageId, {
        succGroups: [],
        failGroups: ['g'],
        deliverCount: 1,
        nextDeliverTime: 1,
      }),
      /MySQL unreachable/,
      3000,
    );
    await rejectsUnavailable(store.get(acked[1].header.messageId), /MySQL unreachable/, 3000);
    await rejectsUnavailable(store.pageDue({ dueBy: 0, limit: 10, committed: true }), /MySQL unreachable/, 3000);
  });

  it('rejects within the query timeout when the server hangs mid-connection', async () => {
    await proxy.listen();
    await store.save(aMessage({ topic: 'before-hang' })); // pooled connections through the proxy again
    proxy.freeze();
    await rejectsUnavailable(store.save(aMessage({ topic: 'hung' })), /MySQL timed out/, 4000);
    await rejectsUnavailable(store.get(acked[0].header.messageId), /MySQL (timed out|unreachable)/, 4000);
    await proxy.down();
  });

  it('rejects within the connect timeout when the server accepts connections but never answers', async () => {
    await proxy.listen({ blackHole: true });
    await rejectsUnavailable(store.save(aMessage({ topic: 'hung' })), /MySQL (timed out|unreachable)/, 4000);
    await proxy.down();
  });

  it('reconnects once the server is back, and every acked message is intact', async () => {
    await proxy.listen();
    const after = aMessage({}, 'after the outage');
    await store.save(after);
    assert.equal((await store.get(after.header.messageId))?.body, 'after the outage');
    for (const message of acked) assert.deepEqual(await store.get(message.header.messageId), message);
    const counts = await store.countsByTopic();
    assert.equal(counts.trade, acked.length + 1);
    assert.equal(counts['before-hang'], 1);
  });
});
