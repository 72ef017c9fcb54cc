// Startup (recovery) time and memory of file:// with many pending messages (doc/architecture.md §8).
//   npx tsc -p tsconfig.json --outDir /tmp/kiteq-bench
//   node /tmp/kiteq-bench/bench/store-file-startup.js fill /tmp/kiteq-startup 1000000   # 512 B bodies
//   node --expose-gc /tmp/kiteq-bench/bench/store-file-startup.js open /tmp/kiteq-startup
// `open` runs in a fresh process: start() time, RSS/heap after it, and the cost of pageDue pages.
import { FileStore, openFileStore } from '../store/file';
import { storedMessage } from './stored-message';

async function fill(dir: string, total: number): Promise<void> {
  const store = openFileStore(`file://${dir}`, { serverName: '127.0.0.1:13800' });
  await store.start();
  const body = Buffer.alloc(512, 7);
  const started = Date.now();
  for (let i = 0; i < total; i += 1000) {
    const now = Math.floor(Date.now() / 1000);
    // every 10th message has a delivery result, like messages waiting for a retry
    const batch = Array.from({ length: Math.min(1000, total - i) }, () => storedMessage(body, now - 60));
    await store.saveBatch(batch);
    await Promise.all(
      batch
        .filter((_, k) => k % 10 === 0)
        .map((m) =>
          store.recordDelivery(m.header.messageId, {
            succGroups: ['s-mc'],
            failGroups: ['s-risk'],
            deliverCount: 3,
            nextDeliverTime: now - 30,
          }),
        ),
    );
  }
  await store.stop();
  console.log(JSON.stringify({ filled: total, seconds: (Date.now() - started) / 1000 }));
}

async function open(dir: string): Promise<void> {
  const rssBefore = process.memoryUsage().rss;
  const store = openFileStore(`file://${dir}`, { serverName: '127.0.0.1:13800' }) as FileStore;
  const started = Date.now();
  const cpu = process.cpuUsage();
  await store.start();
  const startMs = Date.now() - started;
  const { user, system } = process.cpuUsage(cpu);
  (globalThis as { gc?: () => void }).gc?.();
  const memory = process.memoryUsage();
  const now = Math.floor(Date.now() / 1000);
  let pageStarted = process.hrtime.bigint();
  const first = await store.pageDue({ dueBy: now, limit: 1000, committed: true });
  const firstPageMs = Number(process.hrtime.bigint() - pageStarted) / 1e6;
  const last = first[first.length - 1];
  pageStarted = process.hrtime.bigint();
  // none due (a store of parked messages): nothing to page
  if (last) {
    await store.pageDue({
      dueBy: now,
      after: { nextDeliverTime: last.nextDeliverTime, messageId: last.header.messageId },
      limit: 1000,
      committed: true,
    });
  }
  const nextPageMs = Number(process.hrtime.bigint() - pageStarted) / 1e6;
  const stats = store.stats();
  console.log(
    JSON.stringify({
      messages: stats.messages,
      segments: stats.segments,
      diskMB: Math.round(stats.bytes / 1e6),
      startMs,
      // the machine may be shared: the CPU start() took is the steadier figure
      startCpuMs: Math.round((user + system) / 1000),
      records: store.recovery?.records,
      rssMB: Math.round(memory.rss / 1e6),
      rssGrowthMB: Math.round((memory.rss - rssBefore) / 1e6),
      heapUsedMB: Math.round(memory.heapUsed / 1e6),
      arrayBuffersMB: Math.round(memory.arrayBuffers / 1e6),
      bytesPerMessage: Math.round((memory.rss - rssBefore) / stats.messages),
      firstPageMs: +firstPageMs.toFixed(1),
      nextPageMs: +nextPageMs.toFixed(1),
    }),
  );
  await store.stop();
}

const [mode, dir, count] = process.argv.slice(2);
(mode === 'fill' ? fill(dir!, Number(count ?? 1_000_000)) : open(dir!)).catch((error) => {
  console.error(error);
  process.exit(1);
});
