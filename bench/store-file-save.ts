// Store-level save throughput of file:// (doc/architecture.md §8): P producers each keep N saves in flight,
// 512-byte bodies, default fsync=batch. Prints saves/s, fsyncs and ops per fsync (group commit).
//   npx tsc -p tsconfig.json --outDir /tmp/kiteq-bench && \
//   node /tmp/kiteq-bench/bench/store-file-save.js [messages=200000] [producers=8] [inFlight=25] [fsync=batch]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileStore, openFileStore } from '../store/file';
import { storedMessage } from './stored-message';

async function main(): Promise<void> {
  const [total = 200_000, producers = 8, inFlight = 25] = process.argv.slice(2, 5).map(Number);
  const fsync = process.argv[5] ?? 'batch';
  const dir = mkdtempSync(path.join(process.env.BENCH_DIR ?? tmpdir(), 'kiteq-bench-file-'));
  const store = openFileStore(`file://${dir}?fsync=${fsync}`, { serverName: '127.0.0.1:13800' }) as FileStore;
  await store.start();
  const body = Buffer.alloc(512, 7);
  let next = 0;
  const latencies: number[] = [];
  const lane = async () => {
    while (next < total) {
      const id = next++;
      const started = process.hrtime.bigint();
      await store.save(storedMessage(body, Math.floor(Date.now() / 1000)));
      if (id % 100 === 0) latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: producers * inFlight }, lane));
  const seconds = (Date.now() - started) / 1000;
  const stats = store.stats();
  latencies.sort((a, b) => a - b);
  await store.stop();
  rmSync(dir, { recursive: true, force: true });
  console.log(
    JSON.stringify({
      fsync,
      messages: total,
      producers,
      inFlight,
      seconds,
      savesPerSecond: Math.round(total / seconds),
      fsyncs: stats.fsyncs,
      opsPerFsync: +(stats.batchedOps / Math.max(1, stats.fsyncs)).toFixed(1),
      maxBatchOps: stats.maxBatchOps,
      writeMsPerBatch: +(stats.writeMs / stats.batches).toFixed(2),
      p50ms: +latencies[Math.floor(latencies.length * 0.5)]!.toFixed(2),
      p99ms: +latencies[Math.floor(latencies.length * 0.99)]!.toFixed(2),
      rssMB: Math.round(process.memoryUsage().rss / 1e6),
    }),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
