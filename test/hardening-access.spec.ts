// Access control per group (conf/groups.yaml publish/subscribe lists) and refused
// keys rate-limited per (remote address, group) (doc/security.md).
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { BrokerRejectedError, buildStringMessage, KiteQClient } from '../client';
import { AUTH_REFUSED_FEEDBACK } from '../handler/access';
import { CmdType } from '../protocol/commands';
import { encodeMessage } from '../protocol/messages/message';
import { decodeStoreAck } from '../protocol/messages/store-ack';
import { captureLog } from './fixtures/fault/log-capture';
import { withBroker } from './support/with-broker';
import { eventually } from './support/events';
import { aHeader } from './support/messages';
import { RawClient } from './support/raw-client';

const groups = [
  { groupId: 'p-trade', secretKey: 'p-key', publish: ['trade'] },
  { groupId: 's-mc', secretKey: 'mc-key', subscribe: ['trade'] },
  { groupId: 's-spy', secretKey: 'spy-key', subscribe: ['user-profile'] },
  { groupId: 'p-any', secretKey: 'any-key' },
];

describe('hardening - access control per group', function () {
  this.timeout(20_000);
  const captured = captureLog();

  const env = withBroker({
    topics: ['trade', 'user-profile'],
    bindings: [
      directBinding('s-mc', 'trade', 'pay-succ'),
      directBinding('s-spy', 'trade', 'pay-succ'),
      directBinding('nobody', 'trade', 'pay-succ'),
    ],
    config: { groups },
    brokerOptions: { log: captured.log },
  });

  it("answers a publish to a topic outside the group's publish list with status false and the reason", async () => {
    const raw = await RawClient.connect(env.address);
    assert.equal((await raw.handshake('p-trade', 'p-key')).status, true);
    const header = aHeader({ topic: 'user-profile', messageType: 'x', groupId: 'p-trade' });
    raw.sendPacket(7, CmdType.STRING_MESSAGE, encodeMessage({ cmdType: CmdType.STRING_MESSAGE, header, body: 'x' }));
    const ack = decodeStoreAck((await raw.next((f) => f.opaque === 7)).body);
    assert.equal(ack.status, false);
    assert.match(ack.feedback, /Not Allowed To Publish.*p-trade → user-profile/);
    raw.close();
  });

  it('lets a group with no publish list publish to every topic the broker serves', async () => {
    const raw = await RawClient.connect(env.address);
    assert.equal((await raw.handshake('p-any', 'any-key')).status, true);
    const header = aHeader({ topic: 'user-profile', messageType: 'x', groupId: 'p-any' });
    raw.sendPacket(8, CmdType.STRING_MESSAGE, encodeMessage({ cmdType: CmdType.STRING_MESSAGE, header, body: 'x' }));
    assert.equal(decodeStoreAck((await raw.next((f) => f.opaque === 8)).body).status, true);
    raw.close();
  });

  it('does not honour a binding of a group that may not subscribe to the topic, and logs it', async () => {
    const table = env.broker.bindingTable.bindings.map((b) => b.groupId);
    assert.deepEqual(table, ['s-mc']);
    const line = captured.find('bindings refused')[0];
    assert.ok(line, 'a "bindings refused" log line');
    assert.deepEqual([...(line.refused as string[])].sort(), ['nobody:trade/pay-succ', 's-spy:trade/pay-succ']);
  });

  it('delivers to the allowed group only; the refused group never gets the message', async () => {
    const spyGot: string[] = [];
    const mcGot: string[] = [];
    const spy = new KiteQClient({
      registry: env.registryUri,
      groupId: 's-spy',
      secretKey: 'spy-key',
      bindings: [directBinding('s-spy', 'trade', 'pay-succ')],
      listener: (m) => (spyGot.push(m.header.messageId), true),
    });
    const mc = new KiteQClient({
      registry: env.registryUri,
      groupId: 's-mc',
      secretKey: 'mc-key',
      bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
      listener: (m) => (mcGot.push(m.header.messageId), true),
    });
    const producer = new KiteQClient({
      registry: env.registryUri,
      groupId: 'p-trade',
      secretKey: 'p-key',
      publishTopics: ['trade'],
    });
    await Promise.all([spy.start(), mc.start(), producer.start()]);
    const ack = await producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body: 'pay' }));
    // Finished (deleted) once every honoured group acked: s-spy was never a target.
    await eventually(
      async () => mcGot.includes(ack.messageId) && (await env.broker.store.get(ack.messageId)) === undefined,
      5000,
      'message finished',
    );
    assert.deepEqual(spyGot, []);
    await Promise.all([spy.close(), mc.close(), producer.close()]);
  });
});

describe('hardening - refused keys rate-limited per address and group', function () {
  this.timeout(20_000);
  const captured = captureLog();

  const env = withBroker({
    bindings: [],
    config: { groups, authFailLimit: 5, authFailWindowMs: 10_000, authBlockMs: 1500 },
    brokerOptions: { log: captured.log },
  });

  async function handshake(groupId: string, key: string) {
    const raw = await RawClient.connect(env.address);
    const auth = await raw.handshake(groupId, key);
    await raw.closedWithin(3000).catch(() => undefined);
    raw.close();
    return auth;
  }

  it('after 5 wrong keys refuses that group from that address without checking the key, then lets it in again', async () => {
    for (let i = 0; i < 5; i++)
      assert.equal((await handshake('p-trade', `guess-${i}`)).feedback, AUTH_REFUSED_FEEDBACK);
    assert.ok(captured.find('group blocked from this address').length === 1, 'one "group blocked" line');
    // The right key is refused too while blocked: the key is not even looked at.
    const blocked = await handshake('p-trade', 'p-key');
    assert.equal(blocked.status, false);
    assert.match(blocked.feedback, /too many failed handshakes for this group from 127\.0\.0\.1: retry in \d s/);
    const client = new KiteQClient({
      registry: env.registryUri,
      groupId: 'p-trade',
      secretKey: 'p-key',
      publishTopics: ['trade'],
    });
    await assert.rejects(
      client.start(),
      (error: unknown) => error instanceof BrokerRejectedError && /too many failed/.test(error.message),
    );
    await client.close();
    // Another group from the same address is not locked out by them.
    const other = await RawClient.connect(env.address);
    assert.equal((await other.handshake('s-mc', 'mc-key')).status, true);
    other.close();
    // After authBlockMs the right key works again.
    const open = await eventually(
      async () => {
        const raw = await RawClient.connect(env.address);
        const auth = await raw.handshake('p-trade', 'p-key');
        raw.close();
        return auth.status;
      },
      5000,
      'the block to end',
      250,
    );
    assert.equal(open, true);
  });
});
