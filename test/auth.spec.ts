// doc/architecture.md §5 access, §12: the group's secret key is checked; a wrong key is refused and closed.
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { BrokerRejectedError, buildStringMessage } from '../client';
import { AUTH_REFUSED_FEEDBACK } from '../handler/access';
import { withBroker } from './support/with-broker';

describe('auth - secret keys from config', function () {
  this.timeout(20_000);
  const env = withBroker({
    bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
    config: {
      groups: [
        { groupId: 'p-trade', secretKey: 'right-key' },
        { groupId: 's-mc', secretKey: 'mc-key' },
      ],
    },
  });

  it('refuses a wrong key with ConnAuthAck status false and closes the connection', async () => {
    const raw = await env.raw();
    const auth = await raw.handshake('p-trade', 'wrong-key');
    assert.equal(auth.status, false);
    assert.equal(auth.feedback, AUTH_REFUSED_FEEDBACK);
    await raw.closedWithin(3000);
  });

  it('refuses an unknown group with the same feedback as a wrong key', async () => {
    const raw = await env.raw();
    const auth = await raw.handshake('intruder', 'right-key');
    assert.equal(auth.status, false);
    assert.equal(auth.feedback, AUTH_REFUSED_FEEDBACK);
    await raw.closedWithin(3000);
  });

  it('rejects the client start with a non-retriable BrokerRejectedError', async () => {
    const client = env.client({ groupId: 'p-trade', secretKey: 'nope', publishTopics: ['trade'] });
    await assert.rejects(client.start(), (error: unknown) => error instanceof BrokerRejectedError && !error.retriable);
  });

  it('keeps serving clients with the right key after refusing others', async () => {
    const received: string[] = [];
    const consumer = env.client({
      groupId: 's-mc',
      secretKey: 'mc-key',
      bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
    });
    const got = new Promise<void>((resolve) =>
      consumer.setMessageListener((m) => (received.push(m.header.messageId), resolve(), true)),
    );
    await consumer.start();
    for (let i = 0; i < 3; i++) {
      const raw = await env.raw();
      await raw.handshake('p-trade', `bad-${i}`);
      await raw.closedWithin(3000);
    }
    const producer = await env.startClient({ groupId: 'p-trade', secretKey: 'right-key', publishTopics: ['trade'] });
    const ack = await producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'hello' }));
    await got;
    assert.deepEqual(received, [ack.messageId]);
  });
});
