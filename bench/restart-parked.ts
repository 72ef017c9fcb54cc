// A file:// broker restarted over many parked messages (doc/delivery.md "Recovery manager"): how long
// from start() until new traffic is delivered at normal latency.
//   npx tsc -p tsconfig.json --outDir /tmp/kiteq-bench
//   node /tmp/kiteq-bench/bench/restart-parked.js fill /tmp/parked 1000000 recorded     # parks written
//   node /tmp/kiteq-bench/bench/restart-parked.js fill /tmp/parked-old 1000000 unrecorded # as the old store left them
//   node /tmp/kiteq-bench/bench/restart-parked.js run /tmp/parked 30
// `fill` saves 512 B messages bound to the offline group s-off; `recorded` parks each for an hour (what
// the store writes now), `unrecorded` leaves them due at their publish time (what a restart found
// before parks were written). `run` starts a broker on the store, a consumer of s-live and a
// producer sending 200 msg/s to it, and prints one line a second: publish→deliver p50/p99/max.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directBinding } from '../binding/binding';
import { buildStringMessage, KiteQClient } from '../client';
import { Broker } from '../server/broker';
import { DEFAULT_CONFIG } from '../server/config';
import { silentLogger } from '../server/logger';
import { openFileStore } from '../store/file';
import { storedMessage } from './stored-message';
import { writeRegistryFile } from '../test/support/registry-file';

async function fill(dir: string, total: number, recorded: boolean): Promise<void> {
  const store = openFileStore(`file://${dir}`, { serverName: '127.0.0.1:13800' });
  await store.start();
  const body = Buffer.alloc(512, 7);
  const started = Date.now();
  for (let i = 0; i < total; i += 1000) {
    const now = Math.floor(Date.now() / 1000);
    const batch = Array.from({ length: Math.min(1000, total - i) }, () => storedMessage(body, now - 120, 86_400));
    await store.saveBatch(batch);
    if (recorded) {
      await Promise.all(
        batch.map((m) =>
          store.recordDelivery(m.header.messageId, {
            succGroups: [],
            failGroups: [],
            deliverCount: 0,
            nextDeliverTime: now + 3600,
          }),
        ),
      );
    }
  }
  await store.stop();
  console.log(JSON.stringify({ filled: total, recorded, seconds: (Date.now() - started) / 1000 }));
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function run(dir: string, seconds: number): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'restart-parked-'));
  const address = `127.0.0.1:${13_900 + Math.floor(Math.random() * 500)}`;
  const registry = `file://${writeRegistryFile(
    work,
    [{ address, topics: ['trade', 'live'] }],
    [directBinding('s-off', 'trade', 'pay-succ'), directBinding('s-live', 'live', 'ping')],
  )}`;
  const t0 = performance.now();
  const broker = new Broker(
    { ...DEFAULT_CONFIG, bind: address, registry, store: `file://${dir}`, topics: ['trade', 'live'] },
    { log: silentLogger() },
  );
  await broker.start();
  const startedMs = performance.now() - t0;
  const sentAt = new Map<string, number>();
  let window: number[] = [];
  let failures = 0;
  const consumer = new KiteQClient({
    registry,
    groupId: 's-live',
    secretKey: 'k',
    publishTopics: ['live'],
    listener: (m) => {
      const at = sentAt.get(m.header.messageId);
      if (at !== undefined) window.push(performance.now() - at);
      return true;
    },
  });
  const producer = new KiteQClient({ registry, groupId: 'p-live', secretKey: 'k', publishTopics: ['live'] });
  await Promise.all([consumer.start(), producer.start()]);
  console.log(JSON.stringify({ startMs: Math.round(startedMs), clientsUpMs: Math.round(performance.now() - t0) }));
  const timer = setInterval(() => {
    const m = buildStringMessage({ topic: 'live', messageType: 'ping', body: 'x' });
    sentAt.set(m.header.messageId, performance.now());
    producer.send(m).catch((error: unknown) => (failures++ === 0 ? console.error(String(error)) : undefined));
  }, 5);
  for (let s = 1; s <= seconds; s++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const sorted = window.sort((a, b) => a - b);
    window = [];
    console.log(
      JSON.stringify({
        sinceStartS: Math.round((performance.now() - t0) / 100) / 10,
        delivered: sorted.length,
        p50: +percentile(sorted, 0.5).toFixed(1),
        p99: +percentile(sorted, 0.99).toFixed(1),
        max: +(sorted[sorted.length - 1] ?? NaN).toFixed(1),
        scanning: broker.recoveryScanning,
      }),
    );
  }
  clearInterval(timer);
  await Promise.all([producer.close(), consumer.close()]);
  await broker.stop(500);
}

const [mode, dir, arg, kind] = process.argv.slice(2);
(mode === 'fill' ? fill(dir!, Number(arg ?? 1_000_000), kind !== 'unrecorded') : run(dir!, Number(arg ?? 30))).catch(
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
