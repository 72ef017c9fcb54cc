#!/usr/bin/env -S node --initial-old-space-size=64
// kiteq-bench: roundtrip against a running kiteq-ts broker, and compare with RabbitMQ and NATS.
// Launched with a 64 MB initial old-generation limit, like the broker (server/cli.ts): the load
// generator's own periodic mark-compacts would otherwise be in every latency it measures.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { writeBenchConf } from './bench-conf';
import { clientCostSummary, OWN_CLIENT_LIB, runClientCost } from './client-cost';
import { runCluster } from './cluster';
import { compareTable } from './compare-table';
import { numberedNames } from './group-receipts';

import { pullLine, runHttpPull } from './http-pull';
import { publishLine, runHttpPublish, runNativePublish } from './kiteq-http';
import { runKiteqConsumer, runKiteqProducer } from './kiteq-one-side';
import { runKiteqRoundtrip, type KiteqRoundtripOptions } from './kiteq-roundtrip';
import { runNatsRoundtrip } from './peers/nats';
import { missingPeerLibrary } from './peers/peer-library';
import { runRabbitRoundtrip } from './peers/rabbitmq';
import { renderReportHtml, type ReportRun } from './report-html';
import { isUnavailable, type RoundtripOptions, type RoundtripResult } from './result';
import { DIMENSION_NAMES, runScale, type Dimension, type ScalePoint } from './scale';
import { renderScaleHtml, renderScaleRunsHtml, scaleTable } from './scale-report';

const PACKAGE_ROOT = resolve(__dirname, '..', '..');

function registryUri(value: string): string {
  if (!value.startsWith('file://')) return value;
  const path = value.slice('file://'.length);
  return `file://${existsSync(path) ? resolve(path) : resolve(PACKAGE_ROOT, path)}`;
}

const int = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`expected a number ≥ 0, got "${value}"`);
  return n;
};

function workloadOptions(command: Command): Command {
  return command
    .option('--size <bytes>', 'message size', int, 512)
    .addOption(new Option('-k, --clients <n>', 'producer connections').argParser(int).default(8))
    .addOption(
      new Option('-c, --concurrency <n>', 'messages in flight per producer connection').argParser(int).default(25),
    )
    .option('--messages <n>', 'messages to publish (default 100000 unless --duration)', int)
    .option('--duration <seconds>', 'publish for this long', int)
    .option('--rate <msgs/s>', 'fixed offered load; latency measured from each intended send time', int)
    .option(
      '--warmup <messages>',
      'messages published first on the same connections at the same rate, left out of the figures (compare: every system)',
      int,
      0,
    )
    .option('--drain-ms <ms>', 'wait this long without a delivery before counting the rest as lost', int, 10_000)
    .option('--json', 'print only the result, as one JSON line')
    .option('--report <file.html>', 'write a self-contained HTML report');
}

function workload(o: Record<string, unknown>): RoundtripOptions {
  const messages = o.messages as number | undefined;
  const durationSec = o.duration as number | undefined;
  return {
    producers: o.clients as number,
    inFlight: o.concurrency as number,
    messageSize: o.size as number,
    messages: messages ?? (durationSec === undefined ? 100_000 : undefined),
    durationSec,
    rate: o.rate as number | undefined,
    drainTimeoutMs: o.drainMs as number,
    warmupMessages: o.warmup as number | undefined,
  };
}

function kiteqOptions(o: Record<string, unknown>, base: RoundtripOptions): KiteqRoundtripOptions {
  return {
    ...base,
    registry: registryUri(String(o.registry)),
    topic: String(o.topic),
    messageType: String(o.messageType),
    producerGroup: String(o.producerGroup),
    consumerGroup: String(o.consumerGroup),
    secretKey: String(o.secretKey),
    tx: Boolean(o.tx),
    delayMs: o.delayMs as number | undefined,
    // a scheduled message is not delivered before its time: that is not idleness
    drainTimeoutMs: (base.drainTimeoutMs ?? 10_000) + ((o.delayMs as number | undefined) ?? 0),
    brokerPid: o.brokerPid as number | undefined,
    groups: o.groups as number | undefined,
    topicCount: o.topicCount as number | undefined,
  };
}

function summaryLine(r: RoundtripResult): string {
  return `${r.system}: sent ${r.sent} acked ${r.acked} failed ${r.failed} received ${r.received} dup ${r.duplicates} lost ${r.lost} stale ${r.stale} | ${r.tps} msg/s acked, ${r.deliveredPerSec} delivered | publish→ack p50 ${r.publishAck.p50.toFixed(2)} ms p99 ${r.publishAck.p99.toFixed(2)} ms | publish→deliver p50 ${r.deliver.p50.toFixed(2)} p90 ${r.deliver.p90.toFixed(2)} p99 ${r.deliver.p99.toFixed(2)} p999 ${r.deliver.p999.toFixed(2)} max ${r.deliver.max.toFixed(2)} ms${groupsPart(r)}${r.generatorLoopDelay ? ` | generator loop delay p99 ${r.generatorLoopDelay.p99Ms.toFixed(1)} max ${r.generatorLoopDelay.maxMs.toFixed(1)} ms` : ''}${latenessPart(r)}${cpuPart(r)}${windowPart(r)}${warmupPart(r)}`;
}

function groupsPart({ groups, deliveries, deliveriesPerSec }: RoundtripResult): string {
  if (!groups) return '';
  const worst = groups.reduce((a, b) => (b.lost + b.duplicates > a.lost + a.duplicates ? b : a));
  return ` | ${groups.length} groups: ${deliveries} deliveries, ${deliveriesPerSec}/s; worst group ${worst.groupId} lost ${worst.lost} dup ${worst.duplicates}`;
}

function latenessPart({ lateness: l }: RoundtripResult): string {
  return l
    ? ` | lateness (receive − deliverAt) p50 ${l.p50.toFixed(2)} p99 ${l.p99.toFixed(2)} max ${l.max.toFixed(2)} ms, early ${l.early}`
    : '';
}

function warmupPart({ warmup }: RoundtripResult): string {
  if (!warmup) return '';
  return `\nwarm-up (left out of the figures above): sent ${warmup.sent} acked ${warmup.acked} failed ${warmup.failed} received ${warmup.received} dup ${warmup.duplicates} lost ${warmup.lost} stale ${warmup.stale}`;
}

/**
 * Sends that waited for a free lane: their latency counts from their intended time, but the broker saw a capped load.
 */
function windowPart({ windowBound, sent, options }: RoundtripResult): string {
  if (!windowBound) return '';
  const share = ((100 * windowBound) / Math.max(1, sent)).toFixed(1);
  const window = options ? options.producers * options.inFlight : 'k × c';
  return `\nnote: the -k × -c window (${window}) was full for ${windowBound} sends (${share} %): they waited in the generator and their latency counts from their intended time, while the broker had ${window} in flight`;
}

function cpuPart({ cpu }: RoundtripResult): string {
  if (!cpu) return '';
  const { broker, generator } = cpu;
  const brokerPart = broker
    ? `broker ${broker.perMessageUs} µs (user ${broker.userMs} + sys ${broker.sysMs} ms${broker.peakRssMb === undefined ? '' : `, peak RSS ${broker.peakRssMb} MB`}), `
    : '';
  return ` | cpu/msg ${brokerPart}bench ${generator.perMessageUs} µs`;
}

function compact(r: RoundtripResult): Record<string, unknown> {
  const counts = {
    sent: r.sent,
    acked: r.acked,
    failed: r.failed,
    received: r.received,
    duplicates: r.duplicates,
    lost: r.lost,
    stale: r.stale,
    tps: r.tps,
    deliveredPerSec: r.deliveredPerSec,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    ...(r.deliveries === undefined ? {} : { deliveries: r.deliveries, deliveriesPerSec: r.deliveriesPerSec }),
    ...(r.groups === undefined ? {} : { groups: r.groups }),
    ...(r.windowBound === undefined ? {} : { windowBound: r.windowBound }),
    ...(r.warmup === undefined ? {} : { warmup: r.warmup }),
  };
  const withLateness = r.lateness ? { ...counts, lateness: r.lateness } : counts;
  return r.cpu ? { ...withLateness, cpu: r.cpu } : withLateness;
}

function kiteqFlags(command: Command): Command {
  return command
    .option('--registry <uri>', 'zk://host:port or file://path.yaml', 'file://conf/registry.yaml')
    .option('--topic <topic>', 'topic', 'trade')
    .option('--message-type <type>', 'message type', 'pay-succ')
    .option('--producer-group <group>', 'publishing group', 'p-bench')
    .option('--consumer-group <group>', 'consumer group (must be bound in the registry)', 's-bench')
    .option('--secret-key <key>', 'secret key of both groups', '123456')
    .option('--tx', 'transactional messages: prepared, local tx, commit')
    .option(
      '--delay-ms <ms>',
      'schedule each message this many ms after its send (kiteq.deliverAt); reports lateness',
      int,
    )
    .option('--broker-pid <pid>', "the broker's process (same machine): report its CPU per message and peak RSS", int);
}

async function roundtrip(o: Record<string, unknown>): Promise<void> {
  const base = workload(o);
  const tty = process.stderr.isTTY && !o.json;
  const result = await runKiteqRoundtrip({
    ...kiteqOptions(o, base),
    onProgress: o.json
      ? undefined
      : (p) => {
          const line = `[${p.second}s] acked ${p.acked}  in flight ${p.inFlight}  publish p99 ${p.p99Ms.toFixed(2)} ms`;
          process.stderr.write(tty ? `\r${line}   ` : `${line}\n`);
        },
  });
  if (tty) process.stderr.write('\n');
  if (o.report)
    writeFileSync(String(o.report), renderReportHtml([{ name: 'kiteq-ts', result }], 'kiteq-bench roundtrip'));
  if (!o.json) process.stdout.write(`${summaryLine(result)}\n`);
  process.stdout.write(`${JSON.stringify(compact(result))}\n`);
  if (result.lost > 0 || (result.warmup?.lost ?? 0) > 0) process.exitCode = 1;
}

async function cluster(o: Record<string, unknown>): Promise<void> {
  const registry = String(o.registry);
  if (!registry.startsWith('zk://')) throw new Error(`cluster: --registry must be zk://host:port, got "${registry}"`);
  const watchPids: Record<string, number> = {};
  if (o.mysqlPid !== undefined) watchPids.mysql = o.mysqlPid as number;
  if (o.zkPid !== undefined) watchPids.zookeeper = o.zkPid as number;
  const result = await runCluster({
    ...kiteqOptions(o, workload(o)),
    brokers: o.brokers as number,
    store: String(o.store),
    killAtSec: o.killAt as number | undefined,
    takeoverGraceMs: o.takeoverGraceMs as number,
    watchPids,
    log: (line) => process.stderr.write(`${line}\n`),
    onProgress: o.json
      ? undefined
      : (p) => process.stderr.write(`[${p.second}s] acked ${p.acked}  in flight ${p.inFlight}\n`),
  });
  if (!o.json) {
    process.stdout.write(`${summaryLine(result)}\n`);
    for (const b of result.cluster.brokers)
      process.stdout.write(
        `  broker ${b.address}${b.killed ? ' (SIGKILLed)' : ''}: stored ${b.stored} delivered ${b.delivered} | CPU ${b.cpu.perMessageUs} µs per stored message | peak RSS ${b.peakRssMb ?? '?'} MB\n`,
      );
    for (const [name, cpu] of Object.entries(result.cluster.watched))
      process.stdout.write(`  ${name}: CPU ${cpu.perMessageUs} µs per acked message\n`);
  }
  process.stdout.write(`${JSON.stringify({ ...compact(result), cluster: result.cluster })}\n`);
  if (result.lost > 0) process.exitCode = 1;
}

async function compare(o: Record<string, unknown>): Promise<void> {
  const base = workload(o);
  const runs: ReportRun[] = [];
  for (const library of ['amqplib', 'nats'] as const) {
    const missing = missingPeerLibrary(library);
    if (missing) process.stderr.write(`kiteq-bench compare: ${missing.unavailable}\n`);
  }
  const kiteq = await runKiteqRoundtrip(kiteqOptions(o, base));
  runs.push({ name: 'kiteq-ts', result: kiteq });
  runs.push({
    name: `rabbitmq (${o.rabbitQueue})`,
    result: await runRabbitRoundtrip({ ...base, queueType: o.rabbitQueue as 'quorum' | 'classic' }),
  });
  runs.push({ name: 'nats jetstream', result: await runNatsRoundtrip(base) });
  if (!o.json) process.stdout.write(compareTable(runs, kiteq));
  if (o.report) writeFileSync(String(o.report), renderReportHtml(runs, 'kiteq-bench compare'));
  process.stdout.write(
    `${JSON.stringify(Object.fromEntries(runs.map(({ name, result }) => [name, isUnavailable(result) ? result : compact(result)])))}\n`,
  );
}

async function producer(o: Record<string, unknown>): Promise<void> {
  const base = workload(o);
  const k = kiteqOptions(o, base);
  const result = await runKiteqProducer({
    ...base,
    registry: k.registry,
    topic: k.topic,
    messageType: k.messageType,
    groupId: k.producerGroup,
    secretKey: k.secretKey,
    tx: k.tx,
  });
  if (!o.json) {
    process.stdout.write(
      `producer: sent ${result.sent} acked ${result.acked} failed ${result.failed} | ${result.tps} msg/s | publish→ack p50 ${result.publishAck.p50.toFixed(2)} p99 ${result.publishAck.p99.toFixed(2)} p999 ${result.publishAck.p999.toFixed(2)} ms${result.firstError ? ` | first error: ${result.firstError}` : ''}\n`,
    );
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function consumer(o: Record<string, unknown>): Promise<void> {
  const k = kiteqOptions(o, workload({ ...o, messages: 1 }));
  const result = await runKiteqConsumer({
    registry: k.registry,
    topic: k.topic,
    messageType: k.messageType,
    groupId: k.consumerGroup,
    secretKey: k.secretKey,
    durationSec: (o.duration as number | undefined) ?? 30,
  });
  if (!o.json)
    process.stdout.write(
      `consumer: received ${result.received} dup ${result.duplicates} in ${result.runs} producer run(s) | ${result.ratePerSec} msg/s | publish→deliver p50 ${result.deliver.p50.toFixed(2)} p99 ${result.deliver.p99.toFixed(2)} ms\n`,
    );
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

const list = (value: string): number[] => value.split(',').map(int);

async function scale(o: Record<string, unknown>): Promise<void> {
  const dimensions = String(o.dimension)
    .split(',')
    .map((d) => d.trim()) as Dimension[];
  for (const d of dimensions)
    if (!DIMENSION_NAMES.includes(d))
      throw new Error(`unknown dimension "${d}": one or more of ${DIMENSION_NAMES.join(', ')}`);
  if (o.values !== undefined && dimensions.length > 1) throw new Error('--values goes with one --dimension');
  const durationSec = o.duration as number | undefined;
  const messages = o.messages as number | undefined;
  const started = new Date().toISOString();
  const points = await runScale({
    dimensions,
    values: o.values as number[] | undefined,
    store: o.store as 'file' | 'memory',
    durationSec: durationSec ?? (messages === undefined ? 3 : undefined),
    messages,
    warmupMessages: o.warmup as number,
    maxBacklog: o.maxBacklog as number,
    maxIdle: o.maxIdle as number,
    heartbeatWindowMs: o.heartbeatWindowMs as number,
    workDir: String(o.workDir),
    drainTimeoutMs: o.drainMs as number,
    readyTimeoutMs: o.readyTimeoutMs as number,
    onPoint: o.json
      ? undefined
      : (p) =>
          process.stderr.write(
            `${p.dimension}=${p.value}: ${p.deliveredPerSec} delivered/s, p99 ${p.deliverP99Ms} ms, broker ${p.brokerUsPerMsg} µs/msg, peak RSS ${p.brokerPeakRssMb ?? '-'} MB${p.error ? `, error: ${p.error}` : ''}\n`,
          ),
  });
  if (!o.json) process.stdout.write(scaleTable(points));
  const out = {
    started,
    finished: new Date().toISOString(),
    store: o.store,
    loadAverage: loadavg(),
    command: `kiteq-bench ${process.argv.slice(2).join(' ')}`,
    points,
  };
  if (o.out) writeFileSync(String(o.out), `${JSON.stringify(out, null, 1)}\n`);
  if (o.report)
    writeFileSync(
      String(o.report),
      renderScaleHtml(points, {
        title: 'kiteq-bench scale',
        generatedAt: `${started} – ${out.finished}`,
        notes: [
          `kiteq-bench ${process.argv.slice(2).join(' ')}`,
          `store ${String(o.store)}${o.store === 'file' ? ' (fsync=batch)' : ''}; load average at the end ${loadavg()
            .map((l) => l.toFixed(2))
            .join(' ')} on ${cpus().length} cores`,
        ],
      }),
    );
  process.stdout.write(`${JSON.stringify(out)}\n`);
  if (points.some((p) => p.lost > 0 || p.error)) process.exitCode = 1;
}

/** One page from the JSON of several `scale --out` runs, each under its own heading. */
function scaleReport(files: string[], o: Record<string, unknown>): void {
  const runs = files.map((file) => {
    const run = JSON.parse(readFileSync(file, 'utf8')) as {
      started: string;
      finished: string;
      store: string;
      loadAverage?: number[];
      command?: string;
      note?: string;
      points: ScalePoint[];
    };
    const dimensions = [...new Set(run.points.map((p) => p.dimension))].join(', ');
    return {
      heading: `${dimensions}: ${run.store} store, ${run.started} – ${run.finished}`,
      notes: [
        ...(run.command ? [run.command] : []),
        ...(run.note ? [run.note] : []),
        `load average at the end ${(run.loadAverage ?? []).map((l) => l.toFixed(2)).join(' ')}`,
      ],
      points: run.points,
    };
  });
  writeFileSync(String(o.report), renderScaleRunsHtml(runs, String(o.title), new Date().toISOString()));
  process.stdout.write(scaleTable(runs.flatMap((r) => r.points)));
}

function conf(o: Record<string, unknown>): void {
  const files = writeBenchConf(String(o.dir), {
    address: String(o.address),
    topics: numberedNames(String(o.topic), o.topicCount as number),
    messageType: String(o.messageType),
    producerGroup: String(o.producerGroup),
    consumerGroups: numberedNames(String(o.consumerGroup), o.groups as number),
    secretKey: String(o.secretKey),
  });
  const topics = numberedNames(String(o.topic), o.topicCount as number).join(',');
  process.stdout.write(
    `wrote ${files.registryPath} and ${files.groupsPath}; start the broker with\n` +
      `  kiteq-server --bind ${String(o.address)} --registry file://${files.registryPath} --groups ${files.groupsPath} --topics ${topics} --store <uri>\n` +
      `and run the bench with --registry file://${files.registryPath} --groups ${String(o.groups)} --topic-count ${String(o.topicCount)}\n`,
  );
}

/** `kiteq-bench http` (bench/kiteq-http.ts): publish over the gateway, optionally after the native baseline. */
async function http(o: Record<string, unknown>): Promise<void> {
  if (o.pull !== undefined) return httpPull(o);
  const base = workload(o);
  const k = kiteqOptions(o, base);
  const options = {
    ...base,
    gateway: String(o.gateway),
    registry: k.registry,
    topic: k.topic,
    messageType: k.messageType,
    groupId: k.producerGroup,
    secretKey: k.secretKey,
    brokerPid: k.brokerPid,
  };
  const batches = String(o.batch ?? '1')
    .split(',')
    .map((n) => Math.max(1, Number.parseInt(n, 10) || 1));
  if (batches.length > 1 || (o.rounds as number) > 1) return httpBatches(options, batches, o.rounds as number, o);
  const native = o.compareNative ? await runNativePublish(options) : undefined;
  const gateway = await runHttpPublish({ ...options, batch: batches[0] });
  if (!o.json) {
    if (native) process.stdout.write(`${publishLine('native publish', native)}\n`);
    process.stdout.write(`${publishLine('http publish', gateway)}\n`);
    if (native && native.tps > 0)
      process.stdout.write(
        `http/native: ${(gateway.tps / native.tps).toFixed(2)}× throughput${native.cpu.broker && gateway.cpu.broker ? `, ${(gateway.cpu.broker.perMessageUs / Math.max(1, native.cpu.broker.perMessageUs)).toFixed(2)}× broker CPU per message` : ''}\n`,
      );
  }
  const { perSecond: _n, ...nativeFigures } = native ?? { perSecond: [] };
  const { perSecond: _g, ...gatewayFigures } = gateway;
  process.stdout.write(`${JSON.stringify({ http: gatewayFigures, ...(native ? { native: nativeFigures } : {}) })}\n`);
  if (gateway.failed > 0) process.exitCode = 1;
}

/**
 * `kiteq-bench http --batch 1,10,100 --rounds R`: each batch size in turn, R rounds interleaved, on
 * one broker, each run with the load average; then each size's median msg/s against the first's.
 */
async function httpBatches(
  options: Parameters<typeof runHttpPublish>[0],
  batches: readonly number[],
  rounds: number,
  o: Record<string, unknown>,
): Promise<void> {
  const tps = new Map<number, number[]>(batches.map((b) => [b, []]));
  const runs: unknown[] = [];
  for (let round = 1; round <= Math.max(1, rounds); round++)
    for (const batch of batches) {
      const load = loadavg()
        .map((l) => l.toFixed(2))
        .join(' ');
      const result = await runHttpPublish({ ...options, batch });
      tps.get(batch)!.push(result.tps);
      if (!o.json) process.stdout.write(`round ${round} load ${load} | ${publishLine(`batch ${batch}`, result)}\n`);
      const { perSecond: _p, ...figures } = result;
      runs.push({ round, load, ...figures });
      if (result.failed > 0) process.exitCode = 1;
    }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(tps.get(batches[0])!);
  if (!o.json)
    for (const batch of batches)
      process.stdout.write(
        `batch ${batch}: median ${median(tps.get(batch)!)} msg/s (${(median(tps.get(batch)!) / Math.max(1, base)).toFixed(2)}× batch ${batches[0]})\n`,
      );
  process.stdout.write(`${JSON.stringify({ http: runs })}\n`);
}

/**
 * `kiteq-bench http --pull P` (bench/http-pull.ts): P pollers of --consumer-group for --duration
 * seconds (default 30), fed by a `kiteq-bench producer` elsewhere, as `kiteq-bench consumer` is.
 */
async function httpPull(o: Record<string, unknown>): Promise<void> {
  const k = kiteqOptions(o, workload({ ...o, messages: 1 }));
  const result = await runHttpPull({
    gateway: String(o.gateway),
    groupId: k.consumerGroup,
    secretKey: k.secretKey,
    topic: k.topic,
    messageType: k.messageType,
    pollers: o.pull as number,
    max: o.max as number,
    waitSec: o.wait as number,
    durationSec: (o.duration as number | undefined) ?? 30,
    brokerPid: k.brokerPid,
  });
  const { perSecond: _p, ...figures } = result;
  if (!o.json) process.stdout.write(`${pullLine(result)}\n`);
  process.stdout.write(`${JSON.stringify({ pull: figures })}\n`);
}

/**
 * `kiteq-bench client-cost` (bench/client-cost.ts): the client library's CPU per message, producer
 * and consumer in processes of their own; `--client-lib` adds other builds, run in turn with ours.
 */
async function clientCost(o: Record<string, unknown>): Promise<void> {
  const others = ((o.clientLib as string[] | undefined) ?? []).map((dir) => resolve(dir));
  const clientLibs = o.own === false ? others : [OWN_CLIENT_LIB, ...others];
  if (clientLibs.length === 0) throw new Error('client-cost: --no-own needs --client-lib');
  const runs = await runClientCost({
    clientLibs,
    rounds: o.rounds as number,
    size: o.size as number,
    inFlight: o.concurrency as number,
    warmup: o.warmup as number,
    messages: o.messages as number,
    workDir: String(o.workDir),
    nodeArgs: (process.env.KITEQ_CLIENT_COST_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== ''),
    onRun: (run) => {
      if (o.json) return;
      const load = loadavg()
        .map((l) => l.toFixed(2))
        .join(' ');
      process.stdout.write(
        `[${run.round}] ${run.clientLib}: client ${run.clientUs} µs/msg (producer ${run.producerUs} + consumer ${run.consumerUs}) | broker ${run.brokerUs} µs/msg | ${run.rate} msg/s | load ${load}\n`,
      );
    },
  });
  if (!o.json) process.stdout.write(`${clientCostSummary(runs)}\n`);
  process.stdout.write(`${JSON.stringify({ clientCost: runs })}\n`);
}

export function buildBenchCommand(): Command {
  const program = new Command('kiteq-bench').description('benchmarks for kiteq-ts');
  kiteqFlags(
    workloadOptions(program.command('producer').description('publish only: tps and publish→store-ack latency')),
  ).action(producer);
  kiteqFlags(
    program
      .command('consumer')
      .description('receive for --duration seconds (default 30): rate and publish→deliver latency'),
  )
    .option('--duration <seconds>', 'how long to receive', int, 30)
    .option('--json', 'print only the result, as one JSON line')
    .action(consumer);
  kiteqFlags(
    workloadOptions(
      program
        .command('roundtrip')
        .description('producers publish, one consumer group (or --groups N) receives; prints tps and latency'),
    ),
  )
    .option(
      '--groups <n>',
      'consumer groups bound to the type, each receiving every message: --consumer-group, then <it>-1 … (kiteq-bench conf writes a registry and groups file binding them)',
      int,
      1,
    )
    .option(
      '--topic-count <n>',
      'topics published to in turn: --topic, then <it>-1 …, each bound for every group',
      int,
      1,
    )
    .action(roundtrip);
  kiteqFlags(
    workloadOptions(
      program
        .command('cluster')
        .description(
          'N brokers (child processes) on a zk:// registry and one mysql:// store: roundtrip over all, one SIGKILLed mid-run',
        ),
    ),
  )
    .option('--brokers <n>', 'brokers to start', int, 3)
    .requiredOption('--store <mysql-uri>', 'mysql://host:port?db=…, shared by every broker (schema created if missing)')
    .option('--kill-at <second>', 'SIGKILL the last broker this many seconds into the publish phase', int)
    .option('--takeover-grace-ms <ms>', 'how long a broker is gone before a survivor takes its messages', int, 1000)
    .option('--mysql-pid <pid>', "the MySQL server's process: report its CPU per message", int)
    .option('--zk-pid <pid>', "ZooKeeper's process: report its CPU per message", int)
    .action(cluster);
  kiteqFlags(
    workloadOptions(
      program
        .command('http')
        .description(
          'publish over the HTTP gateway on keep-alive connections, -k × -c requests in flight: tps, latency, CPU per message',
        ),
    ),
  )
    .option('--gateway <host:port>', "the broker's --gateway address", '127.0.0.1:13802')
    .option('--compare-native', 'first publish the same workload natively (same broker): ratio of the two')
    .option(
      '--batch <n[,n…]>',
      'messages per request (POST …/messages:batch); a list runs each size in turn on the same broker',
      '1',
    )
    .option('--rounds <n>', 'with --batch: interleaved rounds of every size', int, 1)
    .option(
      '--pull <pollers>',
      'pull instead: this many HTTP pollers of --consumer-group for --duration s (default 30)',
      int,
    )
    .option('--max <n>', 'with --pull: max per poll', int, 500)
    .option('--wait <seconds>', 'with --pull: wait per poll', Number, 1)
    .action(http);
  kiteqFlags(
    workloadOptions(
      program.command('compare').description('the roundtrip workload on kiteq-ts, RabbitMQ and NATS JetStream'),
    ),
  )
    .addOption(
      new Option('--rabbit-queue <type>', 'RabbitMQ queue type').choices(['quorum', 'classic']).default('quorum'),
    )
    .action(compare);
  program
    .command('scale')
    .description(
      'sweep one dimension at a time (size, groups, producers, idle, backlog, topics), a fresh broker child process per point',
    )
    .option('--dimension <list>', `comma-separated: ${DIMENSION_NAMES.join(',')}`, DIMENSION_NAMES.join(','))
    .option('--values <list>', "replace the dimension's values (one --dimension only), e.g. 128,65536", list)
    .addOption(new Option('--store <kind>', "the brokers' store").choices(['file', 'memory']).default('file'))
    .option('--duration <seconds>', 'publish for this long at each point (default 3 unless --messages)', int)
    .option('--messages <n>', 'publish this many at each point', int)
    .option('--warmup <messages>', 'warm-up messages at each point (at most 64 MiB of bodies)', int, 2000)
    .option(
      '--max-backlog <n>',
      'leave out backlog points above this (10 M pending: minutes and ~7 GB)',
      int,
      1_000_000,
    )
    .option('--max-idle <n>', 'leave out idle points above this', int, 10_000)
    .option(
      '--heartbeat-window-ms <ms>',
      'heartbeats measured over this, idle connections open, before the run',
      int,
      5000,
    )
    .option('--work-dir <dir>', 'each point makes (and removes) its broker directory here', tmpdir())
    .option('--drain-ms <ms>', 'wait this long without a delivery before counting the rest as lost', int, 10_000)
    .option('--ready-timeout-ms <ms>', 'longest a broker may take to start (its backlog recovered)', int, 120_000)
    .option('--out <file.json>', 'write the points as JSON')
    .option('--report <file.html>', 'write the HTML report with plots')
    .option('--json', 'print only the JSON')
    .action(scale);
  program
    .command('client-cost')
    .description(
      "the client library's own CPU per message: a producer and a consumer process against a memory-store broker child",
    )
    .option('--size <bytes>', 'message size', int, 512)
    .addOption(new Option('-c, --concurrency <n>', 'sends in flight').argParser(int).default(200))
    .option('--messages <n>', 'messages measured, after the warm-up', int, 200_000)
    .option('--warmup <messages>', 'messages published and received first, left out', int, 20_000)
    .option('--rounds <n>', 'runs of each build, interleaved', int, 1)
    .option(
      '--client-lib <dir...>',
      'other builds of the client library (their dist/client), each run after ours in every round',
    )
    .option('--no-own', 'measure only the --client-lib builds')
    .option('--work-dir <dir>', "the broker's registry and groups files go here", tmpdir())
    .option('--json', 'print only the JSON')
    .action(clientCost);
  program
    .command('scale-report')
    .description('one HTML page (and the tables) from the JSON of several `scale --out` runs')
    .argument('<json...>', 'files written by scale --out')
    .requiredOption('--report <file.html>', 'the page to write')
    .option('--title <title>', 'its title', 'kiteq-bench scale')
    .action(scaleReport);
  program
    .command('conf')
    .description('write a registry and a groups file binding --groups N consumer groups on --topic-count T topics')
    .requiredOption('--dir <dir>', 'where to write registry.yaml and groups.yaml')
    .option('--address <host:port>', 'the broker, as clients reach it', '127.0.0.1:13800')
    .option('--groups <n>', 'consumer groups', int, 1)
    .option('--topic-count <n>', 'topics', int, 1)
    .option('--topic <topic>', 'first topic', 'trade')
    .option('--message-type <type>', 'message type', 'pay-succ')
    .option('--producer-group <group>', 'publishing group', 'p-bench')
    .option('--consumer-group <group>', 'first consumer group', 's-bench')
    .option('--secret-key <key>', 'secret key of every group', '123456')
    .action(conf);
  return program;
}

if (require.main === module) {
  buildBenchCommand()
    .parseAsync(process.argv)
    .then(() => process.exit(process.exitCode ?? 0))
    .catch((error) => {
      process.stderr.write(`kiteq-bench: ${(error as Error).message}\n`);
      process.exit(1);
    });
}
