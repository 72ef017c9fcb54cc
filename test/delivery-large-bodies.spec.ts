// Large bodies move as buffers (doc/performance.md "Large messages and fan-out"): a body of 16 KiB and up goes
// from the producer's buffer to the socket, into the file store by reference and out to each group
// as it is. Every group must get the producer's bytes (store-file-group-commit.spec reads them
// back from disk after a restart).
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { buildBytesMessage, buildStringMessage, type Message } from '../client';
import { withBroker } from './support/with-broker';
import { countdown } from './support/events';

describe('delivery - large bodies reach every group byte for byte (file store)', function () {
  this.timeout(60_000);
  const groups = ['s-a', 's-b', 's-c'];
  const env = withBroker({ bindings: groups.map((g) => directBinding(g, 'trade', 'doc')), store: 'file' });

  it('1 MiB, 64 KiB, 16 KiB and 16 KiB − 1 bytes bodies and a 300 KiB string, to three groups', async () => {
    const bodies: (Buffer | string)[] = [
      ...[1024 * 1024, 64 * 1024, 16 * 1024, 16 * 1024 - 1, 2 * 1024 * 1024 - 4096].map((size, i) => {
        const body = Buffer.alloc(size);
        for (let at = 0; at < size; at += 4096) body.writeUInt32BE((at * 2654435761 + i) >>> 0, at);
        return body;
      }),
      'ü'.repeat(150_000),
    ];
    const received = new Map<string, Map<string, Message>>(groups.map((g) => [g, new Map()]));
    const all = countdown(bodies.length * groups.length, 30_000, 'every group got every body');
    for (const groupId of groups)
      await env.startClient({
        groupId,
        bindings: [directBinding(groupId, 'trade', 'doc')],
        listener: (message) => {
          received.get(groupId)!.set(message.header.messageId, message);
          all.tick();
          return true;
        },
      });
    const producer = await env.startClient({ groupId: 'p-trade', publishTopics: ['trade'] });
    const ids = await Promise.all(
      bodies.map(async (body) => {
        const message =
          typeof body === 'string'
            ? buildStringMessage({ topic: 'trade', messageType: 'doc', body })
            : buildBytesMessage({ topic: 'trade', messageType: 'doc', body });
        return (await producer.send(message)).messageId;
      }),
    );
    await all.done;
    for (const groupId of groups)
      bodies.forEach((body, i) => {
        const got = received.get(groupId)!.get(ids[i]!);
        assert.ok(got, `${groupId} got body ${i}`);
        assert.ok(Buffer.from(got.body).equals(Buffer.from(body)), `${groupId}: body ${i} (${body.length}) intact`);
      });
  });
});
