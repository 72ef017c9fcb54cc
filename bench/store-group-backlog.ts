// The cost of one groupBacklog() refresh (doc/console.md "Per-group backlog") at N stored messages:
// 2 topics, 3 types, 200-byte bodies, a quarter acked by s-mc; three groups. Prints wall and CPU
// (this process: the file store's walk and head reads; mysql's work is in MariaDB, wall only) of
// three refreshes, the longest the event loop waited meanwhile (a stall delivery would feel), and
// countsByTopic's time for comparison.
//   npx tsc -p tsconfig.json && node dist/bench/store-group-backlog.js file 1000000
//   node dist/bench/store-group-backlog.js mysql 1000000   # fills by INSERT … SELECT doubling
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import path from 'node:path';
import type { GroupBacklogQuery, MessageStore, StoredMessage } from '../store/contract';
import { openFileStore } from '../store/file';
import { MysqlStore, parseMysqlUri } from '../store/mysql';
import { freshTestDatabase } from '../test/support/mariadb';
import { aMessage } from '../test/support/messages';

const ME = '127.0.0.1:13800';
const TYPES = ['pay-succ', 'refund', 'order-created'];

function nth(i: number): StoredMessage {
  const m = aMessage({ topic: i % 2 ? 'trade' : 'user', messageType: TYPES[i % 3] }, 'x'.repeat(200));
  return i % 4 === 0 ? { ...m, succGroups: ['s-mc'] } : m;
}

async function fillFile(n: number): Promise<{ store: MessageStore; done: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'kiteq-group-backlog-'));
  const store = openFileStore(`file://${dir}`, { serverName: ME });
  await store.start();
  for (let i = 0; i < n; i += 1000) {
    await store.saveBatch(Array.from({ length: Math.min(1000, n - i) }, (_, j) => nth(i + j)));
  }
  return { store, done: async () => (await store.stop(), rmSync(dir, { recursive: true, force: true })) };
}

async function fillMysql(n: number): Promise<{ store: MessageStore; done: () => Promise<void> }> {
  const db = await freshTestDatabase();
  const store = new MysqlStore(parseMysqlUri(db.uri()), { serverName: ME });
  await store.start();
  const done = async () => (await store.stop(), await db.drop());
  const seed = Array.from({ length: 1600 }, (_, i) => nth(i));
  await store.saveBatch(seed);
  const cols =
    'header, body, msg_type, topic, message_type, publish_group, commit, expired_time, publish_time, ' +
    'deliver_count, deliver_limit, kite_server, fail_groups, succ_groups, next_deliver_time, check_count';
  const tables = (store as unknown as { sharding: { tables: { qualified: string }[] } }).sharding.tables;
  try {
    for (let total = seed.length; total < n; total *= 2) {
      for (const { qualified } of tables) {
        await db.sql.query(
          `INSERT INTO ${qualified} (message_id, ${cols}) SELECT REPLACE(UUID(), '-', ''), ${cols} FROM ${qualified}`,
        );
      }
    }
  } catch (error) {
    await done();
    throw error;
  }
  return { store, done };
}

async function main(): Promise<void> {
  const [kind, count] = process.argv.slice(2);
  const n = Number(count ?? 100_000);
  const filled = Date.now();
  const { store, done } = kind === 'mysql' ? await fillMysql(n) : await fillFile(n);
  console.log(`${kind} filled with ~${n} in ${Date.now() - filled} ms`);
  const query: GroupBacklogQuery = {
    groupsOf: (topic, type) => (topic === 'trade' ? (type === 'pay-succ' ? ['s-mc', 's-risk'] : ['s-mc']) : ['s-user']),
    nowSec: Math.floor(Date.now() / 1000),
  };
  try {
    for (let run = 0; run < 3; run++) {
      const cpu = process.cpuUsage();
      const wall = Date.now();
      const stall = monitorEventLoopDelay({ resolution: 1 });
      stall.enable();
      const backlog = await store.groupBacklog(query);
      stall.disable();
      const used = process.cpuUsage(cpu);
      const counted = Date.now();
      const counts = await store.countsByTopic().then(
        () => `${Date.now() - counted} ms`,
        (error: Error) => `failed (${error.message})`,
      );
      console.log(
        `groupBacklog ${counted - wall} ms wall, ${Math.round((used.user + used.system) / 1000)} ms CPU,` +
          ` event loop delay max ${(stall.max / 1e6).toFixed(1)} ms;` +
          ` countsByTopic ${counts};`,
        Object.entries(backlog)
          .map(([g, b]) => `${g} ${b.undelivered}${b.estimated ? ' (estimated)' : ''}`)
          .join(', '),
      );
    }
  } finally {
    await done();
  }
}

void main();
