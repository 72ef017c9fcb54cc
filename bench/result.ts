// What one roundtrip benchmark run reports, the same for kiteq and for the peers it is compared
// with (RabbitMQ, NATS JetStream), so `kiteq-bench compare` can put them side by side.
import type { GroupCounts } from './group-receipts';
import type { CpuUsage } from './process-cpu';

/** Latency percentiles in milliseconds (µs precision), from an HDR histogram (bench/latency.ts). */
export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  count: number;
}

/** One point of a latency percentile curve: `ms` at `percentile` (0–100). */
export interface PercentilePoint {
  percentile: number;
  ms: number;
}

/** The workload of a roundtrip run: K producer connections × C in flight each (design: issue "Benchmark harness"). */
export interface RoundtripOptions {
  /** K: producer connections */
  producers: number;
  /** C: messages in flight per producer connection (the concurrency window) */
  inFlight: number;
  /** S: message size in bytes (at least 12: send time and id travel in the first bytes) */
  messageSize: number;
  /** N: messages to publish; with durationSec too, whichever ends first */
  messages?: number;
  /** D: seconds to publish for */
  durationSec?: number;
  /**
   * Offered load in messages/s over all producers. Each message has an intended send time
   * (start + i / rate) and latency is measured from it (or from the actual send, if the pacer let it
   * go up to 1 ms early: pacer.ts), so a stalled broker is charged for the messages it kept waiting
   * (no coordinated omission). Absent: closed loop, as fast as acks come.
   */
  rate?: number;
  /** How long to wait for deliveries after the last ack before counting the rest as lost. Default 10 s. */
  drainTimeoutMs?: number;
  /**
   * Messages published first on the same connections, at the same rate, and left out of every
   * figure: the broker and the clients are past JIT warm-up and connection set-up when measuring.
   */
  warmupMessages?: number;
}

export interface RoundtripResult {
  /** which system ran: 'kiteq', 'rabbitmq', 'nats' */
  system: string;
  /** published: every message handed to the broker */
  sent: number;
  /** confirmed durable by the broker (store-ack true, publisher confirm, PubAck) */
  acked: number;
  /** refused, nacked or errored; sent = acked + failed */
  failed: number;
  /** distinct messages the consumer received (kiteq with several groups: the fewest any group received) */
  received: number;
  /** deliveries of a message already received (several groups: summed over them) */
  duplicates: number;
  /** acked but never received (several groups: summed over them, one per message and group) */
  lost: number;
  /**
   * deliveries of another run's message (a late warm-up message, a previous run's): counted apart, never as received
   */
  stale: number;
  /** acked messages per second of the publish phase */
  tps: number;
  /**
   * end to end: distinct messages received per second, from the start of the publish phase to the last first receipt
   */
  deliveredPerSec: number;
  /** end-to-end (intended send → delivered) percentiles, the same as deliver.p50 / deliver.p99 */
  p50Ms: number;
  p99Ms: number;
  /** intended send → broker's ack (store-ack, confirm, PubAck) */
  publishAck: LatencySummary;
  /** intended send → consumer received, on each message's first receipt */
  deliver: LatencySummary;
  /** acks in each second of the publish phase (throughput over time) */
  perSecond: number[];
  /** the load generator's event-loop delay while publishing (its own pauses are in every latency figure) */
  generatorLoopDelay?: { p99Ms: number; maxMs: number };
  /** with a rate: sends the K × C window held back (publish-loop.ts); above 0 the latency is partly the generator's */
  windowBound?: number;
  /**
   * CPU over the measured phase (publish and drain, after any warm-up): the load generator's own,
   * and the broker's when its pid was given (kiteq-bench --broker-pid), with its peak RSS.
   */
  cpu?: { generator: CpuUsage; broker?: CpuUsage & { pid: number; peakRssMb?: number } };
  /** the warm-up's own counts (options.warmupMessages): a loss there is a loss too */
  warmup?: WarmupCounts;
  /** --delay-ms: receive time − kiteq.deliverAt over every receipt; `early` counts those before it (never expected) */
  lateness?: LatencySummary & { early: number };
  /**
   * kiteq with N consumer groups (`--groups N`): first receipts over all groups (received × N when
   * nothing is lost) and their rate, from the start of the publish phase to the last first receipt
   */
  deliveries?: number;
  deliveriesPerSec?: number;
  /** with more than one group: each group's own counts (received, lost, duplicates, stale) */
  groups?: GroupCounts[];
  /** the deliver latency curve, for the HTML report */
  deliverCurve?: PercentilePoint[];
  /** the run's parameters and anything system-specific (queue type, storage) */
  options?: RoundtripOptions & Record<string, unknown>;
}

export type WarmupCounts = Pick<
  RoundtripResult,
  'sent' | 'acked' | 'failed' | 'received' | 'duplicates' | 'lost' | 'stale'
>;

/** The system could not be reached; never numbers made up in its place. */
export interface PeerUnavailable {
  unavailable: string;
}

export function isUnavailable(result: RoundtripResult | PeerUnavailable): result is PeerUnavailable {
  return 'unavailable' in result;
}
