// A producer is asked about its prepared message before txCheckAgeSec has passed: due times are
// whole seconds, and counting them from the second the prepare arrived in (rounded down) made the
// first check-back come up to a second early (5.0 s after the prepare with the default 6 s). The
// age counts from when the broker received the prepare, rounded up (doc/transactions.md).
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { CmdType } from '../protocol/commands';
import { encodeMessage } from '../protocol/messages/message';
import { TxStatus } from '../protocol/messages/tx-ack';
import { withBroker } from './support/with-broker';
import { aHeader } from './support/messages';
import type { RawClient } from './support/raw-client';
import { decide, nextCheckBack } from './support/raw-tx';

const AGE_SEC = 2;
/** where in the wall-clock second each prepare is sent: late in the second is where it came early */
const PHASES_MS = [50, 300, 550, 800, 950];

describe('adversary - the first check-back is never early', function () {
  this.timeout(30_000);
  const env = withBroker({
    bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
    config: { txCheckAgeSec: AGE_SEC, txCheckIntervalSec: 30 },
  });
  let producer: RawClient;

  before(async () => {
    producer = await env.raw();
    assert.equal((await producer.handshake('p-trade', 'k')).status, true);
  });

  it(`asks no sooner than txCheckAgeSec (${AGE_SEC} s) after the prepare, wherever in the second it arrived`, async () => {
    const sent: { id: string; atMs: number; header: ReturnType<typeof aHeader> }[] = [];
    for (const [i, phase] of PHASES_MS.entries()) {
      // Aligning to the wall clock's second, not waiting for an event: the phase is the input here.
      await new Promise((r) => setTimeout(r, (phase - (Date.now() % 1000) + 1000) % 1000));
      const header = aHeader({ commit: false, groupId: 'p-trade' });
      sent.push({ id: header.messageId, atMs: Date.now(), header });
      producer.sendPacket(
        100 + i,
        CmdType.STRING_MESSAGE,
        encodeMessage({ cmdType: CmdType.STRING_MESSAGE, header, body: 'prepared' }),
      );
    }
    // Every check-back awaited at once, so each is timed as it arrives (an upper bound on when the
    // broker sent it: the gap seen here is never shorter than the broker's).
    const asked = await Promise.all(
      sent.map(({ id }) =>
        nextCheckBack(producer, id, (AGE_SEC + 3) * 1000).then((check) => ({ check, atMs: Date.now() })),
      ),
    );
    const gaps = sent.map((s, i) => ({ phaseMs: s.atMs % 1000, gapMs: asked[i].atMs - s.atMs }));
    for (const { gapMs } of gaps)
      assert.ok(
        gapMs >= AGE_SEC * 1000,
        `first check-backs (ms into the second the prepare was sent → ms until asked): ${JSON.stringify(gaps)}`,
      );
    for (const [i, { check }] of asked.entries()) decide(producer, check.opaque, sent[i].header, TxStatus.ROLLBACK);
  });
});
