// An auth refusal is per broker: one broker refusing our key neither fails the client nor stops
// reconnects to the others; the refusing broker is asked again after authRetryMs (doc/client.md).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { BrokerRejectedError, type ClientEvents, KiteQClient } from '../client';
import { tempDir } from './support/broker';
import { countdown } from './support/events';
import { FakeBroker } from './support/fake-broker';
import { writeRegistryFile } from './support/registry-file';

describe('client - one broker refuses our key', function () {
  this.timeout(20_000);
  let refusing: FakeBroker;
  let accepting: FakeBroker;
  let dir: string;
  let client: KiteQClient | null = null;
  let refusals = 1;

  beforeEach(async () => {
    refusals = 1;
    refusing = await FakeBroker.start({ refuse: () => (refusals-- > 0 ? 'wrong secret key' : null) });
    accepting = await FakeBroker.start();
    dir = tempDir();
  });

  afterEach(async () => {
    await client?.close();
    client = null;
    await Promise.all([refusing.stop(), accepting.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  function registryUri(): string {
    return `file://${writeRegistryFile(
      dir,
      [
        { address: refusing.address, topics: ['trade'] },
        { address: accepting.address, topics: ['trade'] },
      ],
      [],
    )}`;
  }

  it('starts on the other broker and keeps reconnecting to it', async () => {
    refusals = Infinity;
    client = new KiteQClient({ registry: registryUri(), groupId: 'p-trade', secretKey: 'k', publishTopics: ['trade'] });
    const failed: ClientEvents['auth-failed'][] = [];
    client.on('auth-failed', (e) => failed.push(e));
    await client.start();

    assert.deepEqual(
      failed.map((e) => [e.broker, e.error instanceof BrokerRejectedError, e.error.retriable, e.retryInMs]),
      [[refusing.address, true, false, 30_000]],
    );
    const states = Object.fromEntries(client.status().brokers.map((b) => [b.address, b.state]));
    assert.deepEqual(states, { [refusing.address]: 'auth-failed', [accepting.address]: 'connected' });

    (await accepting.connection(0, 5000)).close();
    await accepting.connection(1, 10_000);
  });

  it('asks the refusing broker again after authRetryMs', async () => {
    client = new KiteQClient({
      registry: registryUri(),
      groupId: 'p-trade',
      secretKey: 'k',
      publishTopics: ['trade'],
      authRetryMs: 300,
    });
    const accepted = countdown(1, 10_000, 'connect to the broker that refused');
    client.on('connect', (e) => e.broker === refusing.address && accepted.tick());
    await client.start();
    assert.equal(client.status().brokers.find((b) => b.address === refusing.address)?.state, 'auth-failed');
    await accepted.done;
    assert.equal(refusing.handshakes, 2);
    assert.deepEqual(
      client.status().brokers.map((b) => b.state),
      ['connected', 'connected'],
    );
  });

  it('rejects start with the refusal when no broker accepts', async () => {
    refusals = Infinity;
    await accepting.stop();
    client = new KiteQClient({
      registry: registryUri(),
      groupId: 'p-trade',
      secretKey: 'k',
      publishTopics: ['trade'],
      connectTimeoutMs: 1000,
    });
    await assert.rejects(
      client.start(),
      (error: unknown) => error instanceof BrokerRejectedError && error.broker === refusing.address,
    );
  });
});
