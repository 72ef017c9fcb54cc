// mysql:// takeover (doc/architecture.md §9, §12: in KiteQ a dead broker's messages wait for it forever): two
// brokers share one database set; B takes over A's unfinished messages and its recovery sees them.
import assert from 'node:assert/strict';
import type { DueCursor, StoredMessage } from '../store/contract';
import { cursorOf } from '../store/due-order';
import { MysqlStore, parseMysqlUri } from '../store/mysql';
import { aMessage } from './support/messages';
import { withTestDatabase } from './support/mariadb';

const A = '10.0.0.1:13800';
const B = '10.0.0.2:13800';
const NOW = Math.floor(Date.now() / 1000);

async function allDue(store: MysqlStore, committed: boolean, limit = 25): Promise<StoredMessage[]> {
  const out: StoredMessage[] = [];
  let after: DueCursor | undefined;
  for (;;) {
    const page = await store.pageDue({ dueBy: NOW, after, limit, committed });
    out.push(...page);
    if (page.length < limit) return out;
    after = cursorOf(page[page.length - 1]);
  }
}

describe('mysql store takeover - broker B takes over dead broker A', function () {
  this.timeout(60_000);
  const database = withTestDatabase();
  let a: MysqlStore;
  let b: MysqlStore;

  before(async () => {
    a = new MysqlStore(parseMysqlUri(database.current.uri()), { serverName: A });
    b = new MysqlStore(parseMysqlUri(database.current.uri()), { serverName: B });
    await a.start();
    await b.start();
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
  });

  it("moves A's unfinished rows to B: B's recovery pages them, A's no longer does", async () => {
    // 300 committed rows sharing one next_deliver_time (the cursor must not skip or repeat), 20 prepared.
    const committed = Array.from({ length: 300 }, () => ({ ...aMessage(), kiteServer: A, nextDeliverTime: NOW - 5 }));
    const prepared = Array.from({ length: 20 }, () => ({
      ...aMessage({ commit: false }),
      kiteServer: A,
      nextDeliverTime: NOW - 5,
    }));
    const ownOfB = { ...aMessage(), kiteServer: B, nextDeliverTime: NOW - 5 };
    await a.saveBatch([...committed, ...prepared]);
    await b.save(ownOfB);
    assert.equal((await allDue(a, true)).length, 300);
    assert.deepEqual(
      (await allDue(b, true)).map((m) => m.header.messageId),
      [ownOfB.header.messageId],
    );

    assert.equal(await b.takeOver(A), 320);

    const seenByB = (await allDue(b, true)).map((m) => m.header.messageId);
    const expected = [...committed, ownOfB].map((m) => m.header.messageId).sort();
    assert.deepEqual(seenByB, expected, 'every committed row once, in (time, id) order');
    assert.equal((await allDue(b, false)).length, 20, 'prepared rows move too (tx check-back)');
    assert.deepEqual(await allDue(a, true), []);
    assert.deepEqual(await allDue(a, false), []);
    assert.equal((await b.get(committed[0].header.messageId))?.kiteServer, B);
    assert.equal((await b.countsByTopic()).trade, 321);
  });

  it('takes over nothing a second time, and nothing from itself', async () => {
    assert.equal(await b.takeOver(A), 0);
    assert.equal(await b.takeOver(B), 0);
  });
});
