// test/support/with-broker.ts: a spec's clients are closed after the test (or the suite) that
// made them, a per-test broker is a new one each time, and the store kind asked for is the one run.
import assert from 'node:assert/strict';
import type { KiteQClient } from '../client';
import type { Broker } from '../server/broker';
import type { RawClient } from './support/raw-client';
import { BROKER_STORE_KINDS, withBroker } from './support/with-broker';

describe('withBroker - clients closed after the test or suite that made them', function () {
  this.timeout(20_000);
  const env = withBroker({ bindings: [] });
  let suiteClient: KiteQClient;
  let testClient: KiteQClient;
  let testRaw: RawClient;

  before(async () => {
    suiteClient = await env.startClient({ groupId: 'p-trade', publishTopics: ['trade'] });
  });

  it('hands out started clients and raw connections of its broker', async () => {
    testClient = await env.startClient({ groupId: 'p-trade', publishTopics: ['trade'] });
    testRaw = await env.raw();
    assert.equal((await testRaw.handshake('p-trade', 'k')).status, true);
    assert.equal(testClient.status().state, 'running');
  });

  it('has closed what the previous test made, and keeps what the suite made', () => {
    assert.deepEqual([testClient.status().state, testRaw.isClosed], ['closed', true]);
    assert.equal(suiteClient.status().state, 'running');
  });
});

describe('withBroker - a broker per test', function () {
  this.timeout(20_000);
  const env = withBroker({ bindings: [] }, { perTest: true });
  const seen: Broker[] = [];

  for (const n of [1, 2])
    it(`starts a new broker for test ${n}`, () => {
      seen.push(env.broker);
      assert.equal(new Set(seen).size, n);
    });
});

for (const store of BROKER_STORE_KINDS) {
  describe(`withBroker - ${store} store`, function () {
    this.timeout(20_000);
    const env = withBroker({ bindings: [], store });

    it(`runs the broker on a ${store} store`, () => {
      assert.equal(env.broker.store.kind, store);
      assert.equal(env.database !== undefined, store === 'mysql');
    });
  });
}
