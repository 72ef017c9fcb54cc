// `kiteq-bench scale`: one dimension at a time (message size, consumer groups, producer
// connections, idle connections, backlog, topics), a fresh broker child process per point
// (bench/broker-child.ts), a short roundtrip against it, and the broker's CPU per message and RSS.
// Every dimension includes the default workload (512 B, 1 group, 8 producers, nothing idle or
// pending, 1 topic) as its baseline point, measured in the same sweep (doc/scaling.md).
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeBenchConf } from './bench-conf';
import { BACKLOG_GROUP, BACKLOG_TYPE, fillBacklog } from './backlog-fill';
import { freePort, startBrokerChild, type BrokerChild } from './broker-child';
import { numberedNames } from './group-receipts';
import { IdleConnections } from './idle-connections';
import { runKiteqRoundtrip } from './kiteq-roundtrip';
import { peakRssMb, rssMb, sampleProcess } from './process-cpu';

export type Dimension = 'size' | 'groups' | 'producers' | 'idle' | 'backlog' | 'topics';

export interface DimensionSpec {
  title: string;
  unit: string;
  values: number[];
  /** the value of the default workload */
  baseline: number;
}

export const DIMENSIONS: Readonly<Record<Dimension, DimensionSpec>> = Object.freeze({
  size: { title: 'message size', unit: 'bytes', values: [128, 512, 4096, 65536, 262144, 1048576], baseline: 512 },
  groups: { title: 'consumer groups bound to the type', unit: 'groups', values: [1, 10, 50, 100], baseline: 1 },
  producers: { title: 'producer connections', unit: 'connections', values: [8, 100, 500, 2000], baseline: 8 },
  idle: {
    title: 'idle authenticated connections',
    unit: 'connections',
    values: [0, 1000, 5000, 10000],
    baseline: 0,
  },
  backlog: {
    title: 'pending messages at start',
    unit: 'messages',
    values: [0, 100_000, 1_000_000, 10_000_000],
    baseline: 0,
  },
  topics: { title: 'topics', unit: 'topics', values: [1, 10, 100, 1000], baseline: 1 },
});

export const DIMENSION_NAMES = Object.keys(DIMENSIONS) as Dimension[];

/** In-flight bytes the default window (8 × 25) is cut to for large messages. */
const WINDOW_BYTES = 32 * 1024 * 1024;
/** The default window's messages in flight, kept when there are more producer connections. */
const WINDOW = 200;

export interface ScaleOptions {
  dimensions: Dimension[];
  /** replaces the values of every dimension swept (for one dimension) */
  values?: number[];
  store: 'file' | 'memory';
  durationSec?: number;
  messages?: number;
  /** warm-up messages per point (capped to 64 MiB of bodies) */
  warmupMessages: number;
  /** backlog points above this are left out (10 M pending takes minutes to write and GBs of disk) */
  maxBacklog: number;
  /** idle points above this are left out */
  maxIdle: number;
  /** heartbeat-measuring window with the idle connections open, before the roundtrip */
  heartbeatWindowMs: number;
  /** broker stores and registries go in a fresh directory under this one, removed after each point */
  workDir: string;
  drainTimeoutMs?: number;
  /** how long a broker may take to start (a 10 M backlog takes minutes on a loaded machine); default 120 s */
  readyTimeoutMs?: number;
  onPoint?: (point: ScalePoint) => void;
}

export interface ScalePoint {
  dimension: Dimension;
  value: number;
  baseline: boolean;
  /** the workload of the point */
  producers: number;
  inFlight: number;
  messageSize: number;
  groups: number;
  topics: number;
  idle: number;
  backlog: number;
  /** acked msg/s; delivered (to the slowest group); first receipts over all groups per second */
  ackedPerSec: number;
  deliveredPerSec: number;
  deliveriesPerSec: number;
  /** bodies delivered per second, MB (10^6 B), over all groups */
  deliveredMBps: number;
  deliverP99Ms: number;
  ackP99Ms: number;
  /** broker CPU (user + sys) per acked message, and per delivery */
  brokerUsPerMsg: number;
  brokerUsPerDelivery: number;
  benchUsPerMsg: number;
  brokerPeakRssMb?: number;
  /** the broker's RSS once ready (and, with idle connections, once they are all open) */
  brokerRssMb?: number;
  /** spawn → ready: with a backlog, its recovery */
  startMs: number;
  /** the broker's CPU (user + sys) from spawn to ready: the start's cost on a machine where wall time is shared */
  startCpuMs?: number;
  /** seconds to write the backlog (not part of the broker's start) */
  fillSec?: number;
  heartbeatP99Ms?: number;
  heartbeatCount?: number;
  acked: number;
  lost: number;
  duplicates: number;
  error?: string;
}

export interface Workload {
  producers: number;
  inFlight: number;
  messageSize: number;
  groups: number;
  topics: number;
  idle: number;
  backlog: number;
}

export const BASE_WORKLOAD: Readonly<Workload> = Object.freeze({
  producers: 8,
  inFlight: 25,
  messageSize: 512,
  groups: 1,
  topics: 1,
  idle: 0,
  backlog: 0,
});

/** The workload of one point: the default with one dimension changed. */
export function workloadOf(dimension: Dimension, value: number): Workload {
  const w = { ...BASE_WORKLOAD };
  switch (dimension) {
    case 'size':
      w.messageSize = value;
      // 1 MiB × 200 in flight would be 200 MiB queued in the broker: the window is cut to 32 MiB
      w.inFlight = Math.max(1, Math.min(w.inFlight, Math.floor(WINDOW_BYTES / (w.producers * value))));
      break;
    case 'groups':
      w.groups = value;
      break;
    case 'producers':
      w.producers = value;
      // the same 200 in flight over more connections: only the connection count changes
      w.inFlight = Math.max(1, Math.round(WINDOW / value));
      break;
    case 'idle':
      w.idle = value;
      break;
    case 'backlog':
      w.backlog = value;
      break;
    case 'topics':
      w.topics = value;
      break;
  }
  return w;
}

export function pointsOf(options: Pick<ScaleOptions, 'dimensions' | 'values' | 'maxBacklog' | 'maxIdle' | 'store'>) {
  return options.dimensions.flatMap((dimension) => {
    const spec = DIMENSIONS[dimension];
    let values = options.values ?? spec.values;
    if (dimension === 'backlog') values = values.filter((v) => v <= options.maxBacklog);
    if (dimension === 'idle') values = values.filter((v) => v <= options.maxIdle);
    return values.map((value) => ({ dimension, value }));
  });
}

export async function runScale(options: ScaleOptions): Promise<ScalePoint[]> {
  const points: ScalePoint[] = [];
  for (const { dimension, value } of pointsOf(options)) {
    const point = await runPoint(dimension, value, options);
    points.push(point);
    options.onPoint?.(point);
  }
  return points;
}

const SECRET = '123456';

async function runPoint(dimension: Dimension, value: number, options: ScaleOptions): Promise<ScalePoint> {
  const w = workloadOf(dimension, value);
  const dir = mkdtempSync(join(options.workDir, 'kiteq-scale-'));
  const topics = numberedNames('trade', w.topics);
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const files = writeBenchConf(dir, {
    address,
    topics,
    messageType: 'pay-succ',
    producerGroup: 'p-bench',
    consumerGroups: numberedNames('s-bench', w.groups),
    secretKey: SECRET,
    extraBindings: w.backlog > 0 ? [{ groupId: BACKLOG_GROUP, topic: 'trade', messageType: BACKLOG_TYPE }] : [],
  });
  const point: ScalePoint = {
    dimension,
    value,
    baseline: value === DIMENSIONS[dimension].baseline,
    ...w,
    ackedPerSec: 0,
    deliveredPerSec: 0,
    deliveriesPerSec: 0,
    deliveredMBps: 0,
    deliverP99Ms: 0,
    ackP99Ms: 0,
    brokerUsPerMsg: 0,
    brokerUsPerDelivery: 0,
    benchUsPerMsg: 0,
    startMs: 0,
    acked: 0,
    lost: 0,
    duplicates: 0,
  };
  let broker: BrokerChild | undefined;
  let idle: IdleConnections | undefined;
  try {
    const storeDir = join(dir, 'store');
    if (w.backlog > 0) {
      if (options.store !== 'file') throw new Error('a backlog needs --store file (a memory store starts empty)');
      point.fillSec = await fillBacklog(storeDir, w.backlog, address);
    }
    broker = await startBrokerChild({
      port,
      registryPath: files.registryPath,
      groupsPath: files.groupsPath,
      topics,
      store: options.store === 'file' ? `file://${storeDir}?fsync=batch` : 'memory://',
      args: w.idle > 0 ? ['--max-connections', String(w.idle + w.producers + w.groups + 1000)] : [],
      readyTimeoutMs: options.readyTimeoutMs,
    });
    point.startMs = broker.startMs;
    const atReady = sampleProcess(broker.pid);
    point.startCpuMs = Math.round(atReady.userMs + atReady.sysMs);
    if (w.idle > 0) {
      idle = await IdleConnections.open(address, w.idle, { groupId: 'p-bench', secretKey: SECRET });
      const heartbeats = await idle.measure(options.heartbeatWindowMs);
      point.heartbeatP99Ms = heartbeats.p99;
      point.heartbeatCount = heartbeats.count;
    }
    point.brokerRssMb = rssMb(broker.pid);
    const warmup = Math.min(options.warmupMessages, Math.ceil((64 * 1024 * 1024) / w.messageSize));
    const result = await runKiteqRoundtrip({
      registry: `file://${files.registryPath}`,
      topic: 'trade',
      messageType: 'pay-succ',
      producerGroup: 'p-bench',
      consumerGroup: 's-bench',
      secretKey: SECRET,
      producers: w.producers,
      inFlight: w.inFlight,
      messageSize: w.messageSize,
      groups: w.groups,
      topicCount: w.topics,
      durationSec: options.durationSec,
      messages: options.messages,
      warmupMessages: warmup,
      drainTimeoutMs: options.drainTimeoutMs ?? 10_000,
      brokerPid: broker.pid,
    });
    const deliveries = result.deliveries ?? result.received;
    const brokerCpu = result.cpu!.broker!;
    Object.assign(point, {
      ackedPerSec: result.tps,
      deliveredPerSec: result.deliveredPerSec,
      deliveriesPerSec: result.deliveriesPerSec ?? result.deliveredPerSec,
      deliveredMBps: round1(((result.deliveriesPerSec ?? result.deliveredPerSec) * w.messageSize) / 1e6),
      deliverP99Ms: result.deliver.p99,
      ackP99Ms: result.publishAck.p99,
      brokerUsPerMsg: brokerCpu.perMessageUs,
      brokerUsPerDelivery: deliveries > 0 ? round1(((brokerCpu.userMs + brokerCpu.sysMs) * 1000) / deliveries) : 0,
      benchUsPerMsg: result.cpu!.generator.perMessageUs,
      brokerPeakRssMb: brokerCpu.peakRssMb,
      acked: result.acked,
      lost: result.lost + (result.warmup?.lost ?? 0),
      duplicates: result.duplicates,
    });
    if (idle && idle.closed > 0) point.error = `the broker closed ${idle.closed} idle connections`;
  } catch (error) {
    point.error = (error as Error).message.slice(0, 500);
    if (broker) point.brokerPeakRssMb ??= peakRssMb(broker.pid);
  } finally {
    idle?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return point;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;
