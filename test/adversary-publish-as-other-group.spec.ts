// Attack: a publisher names another group in header.groupId. Check-backs, with the message's header
// and properties, would go to that group, which could then commit a message it never published (and
// the publisher's own group would never be asked). A publish whose header.groupId is not the
// connection's authenticated group is refused with the reason, stored nowhere, never rewritten
// (doc/security.md "Attacks and what the broker does").
import assert from 'node:assert/strict';
import { directBinding } from '../binding/binding';
import { CmdType } from '../protocol/commands';
import { TxStatus } from '../protocol/messages/tx-ack';
import { Reasons } from '../protocol/reasons';
import type { BrokerConfig } from '../server/config';
import { withBroker } from './support/with-broker';
import { aHeader } from './support/messages';
import type { RawClient } from './support/raw-client';
import { decide, nextCheckBack, publish } from './support/raw-tx';

const groups: BrokerConfig['groups'] = [
  { groupId: 'p-trade', secretKey: 'p-key', publish: ['trade'] },
  { groupId: 'p-evil', secretKey: 'evil-key', publish: ['trade'] },
];

for (const access of ['a groups file', '--groups none'] as const) {
  describe(`adversary - a publish naming another group in header.groupId (${access})`, function () {
    this.timeout(30_000);
    const env = withBroker({
      bindings: [directBinding('s-mc', 'trade', 'pay-succ')],
      config: { txCheckAgeSec: 1, txCheckIntervalSec: 5, groups: access === 'a groups file' ? groups : null },
    });
    let victim: RawClient;
    let intruder: RawClient;
    const key = (group: string) =>
      access === 'a groups file' ? groups!.find((g) => g.groupId === group)!.secretKey : 'any';

    before(async () => {
      [victim, intruder] = await Promise.all([env.raw(), env.raw()]);
      assert.equal((await victim.handshake('p-trade', key('p-trade'))).status, true);
      assert.equal((await intruder.handshake('p-evil', key('p-evil'))).status, true);
    });

    for (const commit of [false, true]) {
      it(`refuses a ${commit ? 'committed' : 'prepared'} message as p-trade from a p-evil connection, stores nothing`, async () => {
        const header = aHeader({ commit, groupId: 'p-trade' });
        const ack = await publish(intruder, commit ? 2 : 1, header);
        assert.equal(ack.status, false);
        assert.equal(ack.feedback, `${Reasons.groupMismatch.text} (header "p-trade", connection "p-evil")`);
        assert.equal(await env.broker.store.get(header.messageId), undefined);
      });
    }

    it('the same message as its own group is stored, and its check-back goes to its own group', async () => {
      const header = aHeader({ commit: false, groupId: 'p-evil' });
      assert.equal((await publish(intruder, 3, header)).status, true);
      const check = await nextCheckBack(intruder, header.messageId, 5000);
      assert.equal(check.ack.header.groupId, 'p-evil');
      assert.equal(
        victim.frames.some((f) => f.cmdType === CmdType.TX_ACK),
        false,
        'the other group is never asked',
      );
      decide(intruder, check.opaque, check.ack.header, TxStatus.ROLLBACK);
    });
  });
}
