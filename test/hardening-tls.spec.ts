// Optional TLS for client connections (--tls-cert/--tls-key; client `tls: {...}`).
// A self-signed certificate is made with openssl in a temp dir for each run.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { directBinding } from '../binding/binding';
import { buildStringMessage, ConnectionClosedError, KiteQClient } from '../client';
import { captureLog } from './fixtures/fault/log-capture';
import { tempDir } from './support/broker';
import { makeSelfSignedCert } from './support/tls-cert';
import { withBroker } from './support/with-broker';
import { countdown, eventually } from './support/events';
import { RawClient } from './support/raw-client';

describe('hardening - TLS for client connections', function () {
  this.timeout(20_000);
  let ca: Buffer;
  let certDir: string;
  const captured = captureLog();
  const env = withBroker(() => {
    certDir = tempDir('kiteq-tls-');
    const { cert, key } = makeSelfSignedCert(certDir);
    ca = readFileSync(cert);
    return {
      bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
      config: { tlsCert: cert, tlsKey: key, authTimeoutMs: 2000 },
      brokerOptions: { log: captured.log },
    };
  });
  after(() => rmSync(certDir, { recursive: true, force: true }));

  it('lets a TLS client publish and a TLS consumer receive', async () => {
    const got = countdown(20, 10_000, 'deliveries');
    const received: string[] = [];
    const consumer = new KiteQClient({
      registry: env.registryUri,
      groupId: 's-mc',
      secretKey: 'k',
      bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
      tls: { ca },
      listener: (m) => (received.push(m.header.messageId), got.tick(), true),
    });
    const producer = new KiteQClient({
      registry: env.registryUri,
      groupId: 'p-trade',
      secretKey: 'k',
      publishTopics: ['trade'],
      tls: { ca },
    });
    await Promise.all([consumer.start(), producer.start()]);
    const acked: string[] = [];
    for (let i = 0; i < 20; i++)
      acked.push(
        (await producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: `tls ${i}` })))
          .messageId,
      );
    await got.done;
    assert.deepEqual([...received].sort(), [...acked].sort());
    await Promise.all([consumer.close(), producer.close()]);
  });

  it('closes a plain TCP client on the TLS port with a log line, and keeps serving TLS clients', async () => {
    const plain = await RawClient.connect(env.address);
    plain.handshake('p-trade', 'k').catch(() => undefined);
    await plain.closedWithin(3000);
    await eventually(() => captured.find('TLS handshake failed').length > 0, 2000, 'a "TLS handshake failed" line');
    const producer = new KiteQClient({
      registry: env.registryUri,
      groupId: 'p-trade',
      secretKey: 'k',
      publishTopics: ['trade'],
      tls: { ca },
    });
    await producer.start();
    assert.equal(
      (await producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'after' }))).status,
      true,
    );
    await producer.close();
  });

  it('refuses a client that does not trust the certificate (no ca given)', async () => {
    const producer = new KiteQClient({
      registry: env.registryUri,
      groupId: 'p-trade',
      secretKey: 'k',
      publishTopics: ['trade'],
      tls: {},
      connectTimeoutMs: 2000,
    });
    await producer.start();
    assert.equal(producer.readyConnections, 0);
    await assert.rejects(
      producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'x' })),
      ConnectionClosedError,
    );
    await producer.close();
  });
});
