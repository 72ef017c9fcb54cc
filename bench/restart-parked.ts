// A file:// broker over many parked messages (doc/delivery.md "Recovery manager"), as a child process
// (the compiled CLI), timed from its spawn:
//   npx tsc -p tsconfig.json --outDir /tmp/kiteq-bench     # or bash build.sh: dist/
//   node dist/bench/restart-parked.js fill /tmp/parked 1000000 recorded     # parks written
//   node dist/bench/restart-parked.js fill /tmp/parked-old 1000000 unrecorded # as the old store left them
//   node dist/bench/restart-parked.js run /tmp/parked 30
//   node dist/bench/restart-parked.js connect /tmp/connect 50000 [watermark]
// `fill` saves 512 B messages bound to the offline group s-off; `recorded` parks each for an hour (what
// the store writes now), `unrecorded` leaves them due at their publish time (what a restart finds
// after a downtime longer than the rechecks). `run` starts a broker on the store, a consumer of
// s-live and a producer sending 200 msg/s to it, prints one line a second (publish→deliver
// p50/p99/max) and a summary: spawn → ready, spawn → first delivery, spawn → the first second whose
// p99 is ≤ 50 ms. `connect` (doc/delivery.md, the first-consumer scan): a fresh broker, `n` messages published while s-off and s-on
// are both offline (all parked), then a consumer of s-on connects: the time until it has them all,
// and the broker's CPU over the 30 s after. KITEQ_BENCH_NODE_OPTIONS (e.g. `--cpu-prof
// --cpu-prof-dir=/tmp/prof`) goes to the broker process; KITEQ_BENCH_CLI runs another build's
// dist/server/cli.js.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Binding, directBinding } from '../binding/binding';
import { buildStringMessage, KiteQClient } from '../client';
import { openFileStore } from '../store/file';
import { type BrokerProcess, startBrokerProcess } from '../test/support/broker';
import { freePort } from '../test/support/ports';
import { writeRegistryFile } from '../test/support/registry-file';
import { sampleProcess } from './process-cpu';
import { storedMessage } from './stored-message';

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

const cpuSeconds = (pid: number): number => {
  const { userMs, sysMs } = sampleProcess(pid);
  return (userMs + sysMs) / 1000;
};

/** a broker process on `store`, serving `topics` with `bindings`; spawnedAt is its spawn time */
async function spawnBroker(store: string, topics: string[], bindings: Binding[]) {
  const work = mkdtempSync(join(tmpdir(), 'restart-parked-'));
  const address = `127.0.0.1:${await freePort()}`;
  const registry = `file://${writeRegistryFile(work, [{ address, topics }], bindings)}`;
  const args = ['--bind', address, '--registry', registry, '--store', store, '--topics', topics.join(',')];
  const env = { NODE_OPTIONS: process.env.KITEQ_BENCH_NODE_OPTIONS ?? '' };
  const spawnedAt = performance.now();
  const cli = process.env.KITEQ_BENCH_CLI; // another build's dist/server/cli.js (a baseline)
  const broker = await startBrokerProcess([...args, '--groups', 'none', '--log-level', 'info'], env, 300_000, cli);
  return { broker, registry, spawnedAt, readyMs: performance.now() - spawnedAt };
}

/** re-drives the broker logged (its recovery lines) */
function redrivenIn(broker: BrokerProcess): number {
  let n = 0;
  for (const line of broker.log.split('\n')) if (line.includes('"recovery: re-drove')) n += JSON.parse(line).redriven;
  return n;
}

/** KITEQ_BENCH_LOG=<file>: the broker's log is written there */
async function stopBroker(broker: BrokerProcess): Promise<void> {
  await broker.kill('SIGTERM');
  if (process.env.KITEQ_BENCH_LOG) writeFileSync(process.env.KITEQ_BENCH_LOG, broker.log);
}

async function run(dir: string, seconds: number): Promise<void> {
  const { broker, registry, spawnedAt, readyMs } = await spawnBroker(
    `file://${dir}`,
    ['trade', 'live'],
    [directBinding('s-off', 'trade', 'pay-succ'), directBinding('s-live', 'live', 'ping', { watermark: 100_000 })],
  );
  const pid = broker.child.pid!;
  const sinceSpawn = () => Math.round(performance.now() - spawnedAt);
  const sentAt = new Map<string, number>();
  let window: number[] = [];
  let failures = 0;
  let firstDeliveryMs = NaN;
  const consumer = new KiteQClient({
    registry,
    groupId: 's-live',
    secretKey: 'k',
    publishTopics: ['live'],
    listener: (m) => {
      const at = sentAt.get(m.header.messageId);
      if (at !== undefined) window.push(performance.now() - at);
      if (Number.isNaN(firstDeliveryMs)) firstDeliveryMs = sinceSpawn();
      return true;
    },
  });
  const producer = new KiteQClient({ registry, groupId: 'p-live', secretKey: 'k', publishTopics: ['live'] });
  await Promise.all([consumer.start(), producer.start()]);
  console.log(JSON.stringify({ readyMs: Math.round(readyMs), clientsUpMs: sinceSpawn(), brokerCpuS: cpuSeconds(pid) }));
  const timer = setInterval(() => {
    const m = buildStringMessage({ topic: 'live', messageType: 'ping', body: 'x' });
    sentAt.set(m.header.messageId, performance.now());
    producer.send(m).catch((error: unknown) => (failures++ === 0 ? console.error(String(error)) : undefined));
  }, 5);
  let normalMs = NaN;
  let worstP99 = 0;
  for (let s = 1; s <= seconds; s++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const sorted = window.sort((a, b) => a - b);
    window = [];
    const p99 = percentile(sorted, 0.99);
    if (Number.isNaN(normalMs) && p99 <= 50) normalMs = sinceSpawn() - 1000;
    worstP99 = Math.max(worstP99, p99);
    console.log(
      JSON.stringify({
        sinceSpawnS: Math.round(sinceSpawn() / 100) / 10,
        delivered: sorted.length,
        p50: +percentile(sorted, 0.5).toFixed(1),
        p99: +p99.toFixed(1),
        max: +(sorted[sorted.length - 1] ?? NaN).toFixed(1),
        brokerCpuS: cpuSeconds(pid),
      }),
    );
  }
  clearInterval(timer);
  await Promise.all([producer.close(), consumer.close()]);
  const redriven = redrivenIn(broker);
  const peakRss = /^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  await stopBroker(broker);
  console.log(
    JSON.stringify({
      brokerVmHwmMiB: Math.round(Number(peakRss) / 1024),
      readyMs: Math.round(readyMs),
      firstDeliveryMs,
      firstSecondP99Under50Ms: normalMs,
      worstP99: +worstP99.toFixed(1),
      redriven,
      sendFailures: failures,
    }),
  );
}

async function connect(dir: string, total: number, watermark: number): Promise<void> {
  const { broker, registry } = await spawnBroker(
    `file://${dir}`,
    ['trade'],
    [
      directBinding('s-off', 'trade', 'pay-succ', { watermark }),
      directBinding('s-on', 'trade', 'pay-succ', { watermark }),
    ],
  );
  const pid = broker.child.pid!;
  const producer = new KiteQClient({ registry, groupId: 'p-trade', secretKey: 'k', publishTopics: ['trade'] });
  await producer.start();
  const body = 'x'.repeat(512);
  for (let i = 0; i < total; i += 200) {
    await Promise.all(
      Array.from({ length: Math.min(200, total - i) }, () =>
        producer.send(buildStringMessage({ topic: 'trade', messageType: 'pay-succ', body })),
      ),
    );
  }
  await producer.close();
  await new Promise((resolve) => setTimeout(resolve, 2000)); // the last parks written
  const received = new Set<string>();
  let allReceived: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allReceived = resolve));
  const cpuBefore = cpuSeconds(pid);
  const connectedAt = performance.now();
  const consumer = new KiteQClient({
    registry,
    groupId: 's-on',
    secretKey: 'k',
    publishTopics: ['trade'],
    listener: (m) => {
      received.add(m.header.messageId);
      if (received.size === total) allReceived();
      return true;
    },
  });
  await consumer.start();
  const timeout = setTimeout(allReceived, 180_000);
  await done;
  clearTimeout(timeout);
  const receivedMs = Math.round(performance.now() - connectedAt);
  const cpuAtAll = cpuSeconds(pid);
  await new Promise((resolve) => setTimeout(resolve, 30_000));
  const cpuAfter = cpuSeconds(pid);
  await consumer.close();
  const redriven = redrivenIn(broker);
  await stopBroker(broker);
  console.log(
    JSON.stringify({
      parked: total,
      watermark,
      received: received.size,
      receivedMs,
      brokerCpuUntilAllS: +(cpuAtAll - cpuBefore).toFixed(2),
      brokerCpuNext30sS: +(cpuAfter - cpuAtAll).toFixed(2),
      redriven,
    }),
  );
}

const [mode, dir, arg, kind] = process.argv.slice(2);
const job =
  mode === 'fill'
    ? fill(dir!, Number(arg ?? 1_000_000), kind !== 'unrecorded')
    : mode === 'connect'
      ? connect(dir!, Number(arg ?? 50_000), Number(kind ?? 1000))
      : run(dir!, Number(arg ?? 30));
job.catch((error) => {
  console.error(error);
  process.exit(1);
});
