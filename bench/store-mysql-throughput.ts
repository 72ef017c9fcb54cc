#!/usr/bin/env node
// Throughput of the mysql:// store alone (doc/architecture.md §8, issue target: >= 10,000 messages/s saved,
// delivered and deleted on a 2-core machine). `concurrency` workers each loop over one message:
// save -> recordDelivery -> delete, the way the broker drives the store; the store coalesces them.
//   node dist/bench/store-mysql-throughput.js [--uri mysql://127.0.0.1:3306?shardnum=4] \
//        [--seconds 10] [--concurrency 2000] [--size 512]
// Without --uri a fresh kiteq_bench_<rand> database set on 127.0.0.1:3306 is used and dropped after.
import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { createConnection } from 'mysql2/promise';
import { MysqlStore, parseMysqlUri, type StatementCounts } from '../store/mysql';
import { storedMessage } from './stored-message';

interface Options {
  uri?: string;
  seconds: number;
  concurrency: number;
  size: number;
}

function diff(a: StatementCounts, b: StatementCounts): StatementCounts {
  const out = { ...b };
  for (const key of Object.keys(out) as (keyof StatementCounts)[]) out[key] = b[key] - a[key];
  return out;
}

async function run(options: Options): Promise<void> {
  const ownDb = options.uri ? undefined : `kiteq_bench_${randomBytes(3).toString('hex')}`;
  const uri = options.uri ?? `mysql://127.0.0.1:3306?db=${ownDb}&username=root&password=&shardnum=4`;
  const store = new MysqlStore(parseMysqlUri(uri), { serverName: '127.0.0.1:13800' });
  await store.start();
  const body = randomBytes(options.size);
  const latencies: number[] = [];
  let done = 0;
  let failed = 0;
  let stopping = false;
  const worker = async () => {
    while (!stopping) {
      const now = Math.floor(Date.now() / 1000);
      // due a little later, as a message waiting for its delivery result
      const m = { ...storedMessage(body, now), nextDeliverTime: now + 5 };
      const started = performance.now();
      try {
        await store.save(m);
        latencies.push(performance.now() - started);
        await store.recordDelivery(m.header.messageId, {
          succGroups: ['s-bench'],
          failGroups: [],
          deliverCount: 1,
          nextDeliverTime: now + 5,
        });
        await store.delete(m.header.messageId);
        done++;
      } catch (error) {
        failed++;
        if (failed === 1) console.error(`first failure: ${(error as Error).message}`);
      }
    }
  };
  // Warm up the pool and the tables for a second, then measure.
  const warmup = Array.from({ length: options.concurrency }, worker);
  await new Promise((r) => setTimeout(r, 1000));
  const before = store.statementCounts();
  const doneBefore = done;
  latencies.length = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, options.seconds * 1000));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const counts = diff(before, store.statementCounts());
  const completed = done - doneBefore;
  stopping = true;
  await Promise.all(warmup);
  await store.stop();
  if (ownDb) {
    const sql = await createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
    for (let i = 0; i < 4; i++) await sql.query(`DROP DATABASE IF EXISTS \`${ownDb}_${i}\``);
    await sql.end();
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]?.toFixed(1);
  const statements =
    counts.insertStatements + counts.updateStatements + counts.deleteStatements + counts.selectStatements;
  const rate = (n: number) => Math.round(n / seconds).toLocaleString('en-US');
  console.log(
    [
      `mysql store throughput: ${options.concurrency} workers, ${options.size}-byte bodies, ${seconds.toFixed(1)} s`,
      `  messages saved+delivered+deleted: ${rate(completed)}/s (failures: ${failed})`,
      `  rows/s: inserted ${rate(counts.rowsInserted)}, updated ${rate(counts.rowsUpdated)}, deleted ${rate(counts.rowsDeleted)}`,
      `  statements/s: ${rate(statements)} (INSERT ${rate(counts.insertStatements)}, UPDATE ${rate(counts.updateStatements)}, ` +
        `DELETE ${rate(counts.deleteStatements)}, SELECT ${rate(counts.selectStatements)}); transactions/s ${rate(counts.flushes)}`,
      `  rows per INSERT: ${(counts.rowsInserted / Math.max(1, counts.insertStatements)).toFixed(1)}`,
      `  save latency ms: p50 ${pct(0.5)}, p99 ${pct(0.99)}, max ${pct(1)}`,
      `  node CPU: ${(((cpu.user + cpu.system) / 1e6 / seconds) * 100).toFixed(0)}% of one core`,
    ].join('\n'),
  );
}

const program = new Command('store-mysql-throughput')
  .option('--uri <uri>', 'mysql:// store URI (default: a fresh kiteq_bench_<rand> db on 127.0.0.1:3306)')
  .option('--seconds <n>', 'measured seconds', Number, 10)
  .option('--concurrency <n>', 'concurrent messages in flight', Number, 2000)
  .option('--size <bytes>', 'body size', Number, 512)
  .action((opts: Options) =>
    run(opts).catch((error) => {
      console.error(error);
      process.exitCode = 1;
    }),
  );

if (require.main === module) void program.parseAsync(process.argv);
