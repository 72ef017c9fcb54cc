// Attack: probing which groups exist. A handshake with an unknown group and one with a known
// group and a wrong key must look the same on the wire, before and after the rate limit blocks
// them (doc/security.md "Attacks and what the broker does"); only the log says which it was.
import assert from 'node:assert/strict';
import { CmdType } from '../protocol/commands';
import { encodeConnMeta } from '../protocol/messages/conn-meta';
import { captureLog } from './fixtures/fault/log-capture';
import { withBroker } from './support/with-broker';

describe('adversary - probing which groups exist', function () {
  this.timeout(20_000);
  const captured = captureLog();
  const env = withBroker({
    bindings: [],
    config: {
      groups: [{ groupId: 'p-trade', secretKey: 'p-key' }],
      authFailLimit: 3,
      authFailWindowMs: 10_000,
      authBlockMs: 10_000,
    },
    brokerOptions: { log: captured.log },
  });

  /** The CONN_AUTH body the broker answers a CONN_META with, as bytes. */
  async function replyTo(groupId: string, secretKey: string): Promise<Buffer> {
    const raw = await env.raw();
    raw.sendPacket(1, CmdType.CONN_META, encodeConnMeta({ groupId, secretKey, warmingupSec: 0 }));
    const reply = await raw.next((f) => f.cmdType === CmdType.CONN_AUTH);
    await raw.closedWithin(3000);
    return reply.body;
  }

  it('answers an unknown group and a wrong key with the same bytes; the log keeps which it was', async () => {
    const unknown = await replyTo('p-ghost', 'p-key');
    const wrongKey = await replyTo('p-trade', 'guess');
    assert.deepEqual(unknown, wrongKey, `unknown group: "${unknown}", wrong key: "${wrongKey}"`);
    const reasons = captured.find('authentication refused').map((l) => `${l.groupId}: ${l.reason}`);
    assert.deepEqual(reasons, ['p-ghost: unknown group "p-ghost"', 'p-trade: wrong secret key for group "p-trade"']);
  });

  it('blocks an unknown group as it blocks a known one, so the block says nothing either', async () => {
    // 1 refusal each so far: 2 more reach authFailLimit 3.
    for (let i = 0; i < 2; i++) {
      await replyTo('p-ghost', `guess-${i}`);
      await replyTo('p-trade', `guess-${i}`);
    }
    const seconds = (body: Buffer) => body.toString('latin1').replace(/\d+ s/, 'N s');
    const unknown = await replyTo('p-ghost', 'p-key');
    const known = await replyTo('p-trade', 'p-key');
    assert.match(known.toString('latin1'), /too many failed handshakes/);
    assert.equal(seconds(unknown), seconds(known));
  });
});
