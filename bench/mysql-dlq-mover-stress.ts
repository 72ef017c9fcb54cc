// The dead-letter mover against the batch writer on the real MariaDB (doc/mysql-store.md "Dead
// letters"): 20,000 rows of this broker, a third expired; five mover runs while 8 writers save new
// messages and record deliveries of live rows. Prints the writes refused and InnoDB's deadlock count
// over the run (a server-wide counter: other clients' deadlocks count too).
//   npx tsc -p tsconfig.json --outDir /tmp/kiteq-bench && node /tmp/kiteq-bench/bench/mysql-dlq-mover-stress.js
import { MysqlStore, parseMysqlUri } from '../store/mysql';
import { freshTestDatabase } from '../test/support/mariadb';
import { aMessage } from '../test/support/messages';

const ME = '127.0.0.1:13800';

async function main(): Promise<void> {
  const db = await freshTestDatabase();
  const store = new MysqlStore(parseMysqlUri(db.uri()), { serverName: ME });
  await store.start();
  const now = Math.floor(Date.now() / 1000);
  const live: string[] = [];
  for (let i = 0; i < 20_000; i += 500) {
    const batch = Array.from({ length: 500 }, (_, k) => ({
      ...aMessage(k % 3 === 0 ? { expiredTime: now - 10 } : {}),
      kiteServer: ME,
    }));
    await store.saveBatch(batch);
    for (const m of batch) if (m.header.expiredTime > now) live.push(m.header.messageId);
  }
  const deadlocks = async () => {
    const [rows] = await db.sql.query("SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'");
    return Number((rows as { Value: string }[])[0]!.Value);
  };
  const deadlocksBefore = await deadlocks();
  let refused = 0;
  let stored = 0;
  let moverFailures = 0;
  let moved = 0;
  const samples: string[] = [];
  let stop = false;
  const writers = Array.from({ length: 8 }, async () => {
    while (!stop) {
      const ops: Promise<void>[] = [];
      for (let k = 0; k < 20; k++) {
        ops.push(store.save({ ...aMessage(), kiteServer: ME }));
        const id = live[Math.floor(Math.random() * live.length)]!;
        ops.push(
          store.recordDelivery(id, { succGroups: [], failGroups: ['g'], deliverCount: 1, nextDeliverTime: now + 60 }),
        );
      }
      for (const r of await Promise.allSettled(ops)) {
        if (r.status === 'fulfilled') stored++;
        else if ((refused++, samples.length < 3)) samples.push(String(r.reason).slice(0, 160));
      }
    }
  });
  const started = Date.now();
  for (let run = 0; run < 5; run++) {
    try {
      moved += await store.moveExpiredToDlq(Math.floor(Date.now() / 1000), 100_000);
    } catch (error) {
      moverFailures++;
      samples.push(`mover: ${String(error).slice(0, 160)}`);
    }
  }
  stop = true;
  await Promise.all(writers);
  const seconds = (Date.now() - started) / 1000;
  console.log(
    JSON.stringify({
      seconds,
      moved,
      moverFailures,
      writesStored: stored,
      writesRefused: refused,
      deadlocks: (await deadlocks()) - deadlocksBefore,
      samples,
    }),
  );
  await store.stop();
  await db.drop();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
