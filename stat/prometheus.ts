// /metrics in Prometheus text format via prom-client (doc/architecture.md §10). The metrics are filled at scrape
// time from the plain counters (collect()), so the hot path never touches prom-client. Labels are
// topic and group, each capped (stat/label-cap.ts) so a misbehaving client cannot blow up the series.
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { StoreDamageStats, StoreWriteStats } from '../store/contract';
import type { BrokerStats } from './broker-stats';
import type { Flow } from './counters';
import { LabelCap } from './label-cap';
import type { LatencyHistogram } from './latency-histogram';

export interface MetricsSource {
  stats: BrokerStats;
  topics: () => readonly string[];
  connections: () => number;
  inFlight: () => number;
  /** the store's durable-write counters, when it keeps them (file store) */
  storeWrites?: () => StoreWriteStats | undefined;
  /** damage the store found in its files at start, when it checks them (file store) */
  storeDamage?: () => StoreDamageStats | undefined;
}

export interface MetricsOptions {
  maxTopicLabels?: number;
  maxGroupLabels?: number;
  /** process_* and nodejs_* metrics of prom-client (event-loop lag, heap, GC) */
  processMetrics?: boolean;
}

type Labels = Record<string, string>;

/** Sums values per capped label set (several folded values land on one "other" series). */
function folded(): Map<string, { labels: Labels; value: number }> {
  return new Map();
}

function add(into: ReturnType<typeof folded>, labels: Labels, value: number): void {
  const key = JSON.stringify(labels);
  const entry = into.get(key);
  if (entry) entry.value += value;
  else into.set(key, { labels, value });
}

const TOPIC_FLOWS: readonly [Flow, string, string][] = [
  ['received', 'kiteq_messages_received_total', 'Publishes received (before checks), by topic'],
  ['stored', 'kiteq_messages_stored_total', 'Publishes stored and store-acked true, by topic'],
  ['rejected', 'kiteq_messages_rejected_total', 'Publishes refused (store-ack false), by topic'],
  ['retried', 'kiteq_messages_retried_total', 'Delivery attempts after the first, by topic'],
  ['deadLettered', 'kiteq_messages_dead_lettered_total', 'Messages moved to the dead-letter area, by topic'],
];
const GROUP_FLOWS: readonly [Flow, string, string][] = [
  ['delivered', 'kiteq_messages_delivered_total', 'Delivery packets sent, by topic and group'],
  ['acked', 'kiteq_messages_acked_total', 'Deliveries acknowledged (DeliverAck true), by topic and group'],
  ['failed', 'kiteq_messages_failed_total', 'Deliveries failed (nack, timeout, closed connection), by topic and group'],
];
const QUANTILES: readonly [string, 'p50' | 'p99' | 'p999'][] = [
  ['0.5', 'p50'],
  ['0.99', 'p99'],
  ['0.999', 'p999'],
];

export function createMetricsRegistry(source: MetricsSource, options: MetricsOptions = {}): Registry {
  const registry = new Registry();
  const topicCap = new LabelCap(options.maxTopicLabels ?? 100);
  const groupCap = new LabelCap(options.maxGroupLabels ?? 200);
  const { stats } = source;

  for (const [flow, name, help] of TOPIC_FLOWS) {
    new Counter({
      name,
      help,
      labelNames: ['topic'],
      registers: [registry],
      collect() {
        this.reset();
        const sums = folded();
        for (const topic of source.topics()) add(sums, { topic: topicCap.label(topic) }, 0);
        for (const [topic, flows] of stats.counters.byTopic) add(sums, { topic: topicCap.label(topic) }, flows[flow]);
        for (const { labels, value } of sums.values()) this.inc(labels, value);
      },
    });
  }
  for (const [flow, name, help] of GROUP_FLOWS) {
    new Counter({
      name,
      help,
      labelNames: ['topic', 'group'],
      registers: [registry],
      collect() {
        this.reset();
        const sums = folded();
        for (const [topic, groups] of stats.counters.byTopicGroup) {
          for (const [group, flows] of groups)
            add(sums, { topic: topicCap.label(topic), group: groupCap.label(group) }, flows[flow]);
        }
        for (const { labels, value } of sums.values()) this.inc(labels, value);
      },
    });
  }
  new Gauge({
    name: 'kiteq_backlog_messages',
    help: 'Unfinished messages in the store, by topic (refreshed every few seconds)',
    labelNames: ['topic'],
    registers: [registry],
    collect() {
      this.reset();
      const sums = folded();
      for (const [topic, n] of Object.entries(stats.backlog.byTopic(source.topics())))
        add(sums, { topic: topicCap.label(topic) }, n);
      for (const { labels, value } of sums.values()) this.set(labels, value);
    },
  });
  if (stats.countsScheduled) {
    new Gauge({
      name: 'kiteq_scheduled_messages',
      help: 'Stored messages whose kiteq.deliverAt is still ahead (committed or prepared, not dead-lettered)',
      registers: [registry],
      collect() {
        this.set(stats.scheduledMessages() ?? 0);
      },
    });
  }
  new Gauge({
    name: 'kiteq_connections',
    help: 'Open client connections',
    registers: [registry],
    collect() {
      this.set(source.connections());
    },
  });
  new Gauge({
    name: 'kiteq_deliveries_in_flight',
    help: 'Messages with a delivery attempt awaiting acks',
    registers: [registry],
    collect() {
      this.set(source.inFlight());
    },
  });
  const latency = (name: string, help: string, histogram: LatencyHistogram) =>
    new Gauge({
      name,
      help,
      labelNames: ['quantile'],
      registers: [registry],
      collect() {
        const p = histogram.percentiles();
        for (const [quantile, key] of QUANTILES) this.set({ quantile }, p[key] / 1000);
      },
    });
  latency(
    'kiteq_publish_to_store_ack_seconds',
    'Publish received → store-ack written, quantiles since start',
    stats.publishToStoreAck,
  );
  latency(
    'kiteq_publish_to_deliver_seconds',
    'Publish received → first delivery written, quantiles since start',
    stats.publishToDeliver,
  );
  new Gauge({
    name: 'kiteq_store_up',
    help: '1 when the last store probe answered, else 0',
    registers: [registry],
    collect() {
      this.set(stats.storeHealth.ok ? 1 : 0);
    },
  });
  new Gauge({
    name: 'kiteq_store_probe_seconds',
    help: 'Latency of the last store probe (one lookup by id)',
    registers: [registry],
    collect() {
      this.set(stats.storeHealth.probeMs / 1000);
    },
  });
  /** a counter read at scrape time from a store figure, absent while the store has none */
  const storeCounter = <T>(figures: () => T | undefined, name: string, help: string, read: (figures: T) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const f = figures();
        if (f) {
          this.reset();
          this.inc(read(f));
        }
      },
    });
  const writes = source.storeWrites;
  if (writes) {
    storeCounter(
      writes,
      'kiteq_store_write_batches_total',
      'Durable writes (group commits: one write+fsync each)',
      (w) => w.batches,
    );
    storeCounter(
      writes,
      'kiteq_store_write_ops_total',
      'Store calls carried by those writes (saves, results, deletes)',
      (w) => w.batchedOps,
    );
    storeCounter(
      writes,
      'kiteq_store_write_seconds_total',
      'Time spent in durable writes; / batches = mean fsync latency',
      (w) => w.writeMs / 1000,
    );
    storeCounter(
      writes,
      'kiteq_store_write_failures_total',
      'Durable writes that failed (disk full, I/O error)',
      (w) => w.failedBatches,
    );
  }
  const damage = source.storeDamage;
  if (damage) {
    storeCounter(
      damage,
      'kiteq_store_damaged_ranges_total',
      'Damaged byte ranges the store found in its segments at start (skipped or cut, copied to <dir>/damaged/)',
      (d) => d.ranges,
    );
    storeCounter(damage, 'kiteq_store_damaged_bytes_total', 'Bytes in those damaged ranges', (d) => d.bytes);
  }
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  return registry;
}
