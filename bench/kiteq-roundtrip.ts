// The kiteq roundtrip: K producer clients × C in flight each publish to a running broker; one
// consumer group receives, or N groups bound to the type each receive every message. Same
// workload and result as the peers (bench/peers/), so `kiteq-bench compare` can put them side by side.
import { directBinding } from '../binding/binding';
import { openRegistry } from '../binding/open-registry';
import { buildBytesMessage, KiteQClient, messageProperties } from '../client';
import { LatencyRecorder } from './latency';
import { nowMs } from './peers/payload';
import { runPublishLoop, runWarmup } from './peers/publish-loop';
import { GroupReceipts, numberedNames } from './group-receipts';
import { resultOf } from './peers/result-of';
import { cpuBetween, peakRssMb, sampleProcess, sampleSelf } from './process-cpu';
import type { RoundtripOptions, RoundtripResult } from './result';

export interface KiteqRoundtripOptions extends RoundtripOptions {
  registry: string;
  topic: string;
  messageType: string;
  producerGroup: string;
  consumerGroup: string;
  secretKey: string;
  /** consumer groups bound to the type, each receiving every message: consumerGroup, consumerGroup-1 … (default 1) */
  groups?: number;
  /** topics published to in turn, each bound for every group: topic, topic-1 … (default 1) */
  topicCount?: number;
  /** publish transactional messages: prepared, then committed (doc/architecture.md §7) */
  tx?: boolean;
  /**
   * schedule every message this many ms after its send (doc/delayed-delivery.md); the result then
   * has `lateness` (receive − kiteq.deliverAt) and the deliver latency includes the delay
   */
  delayMs?: number;
  /** the broker's process id (same machine): its CPU and peak RSS go into the result */
  brokerPid?: number;
  /** the clients have started, before the warm-up (bench/cluster.ts waits for every broker there) */
  onStarted?: (clients: readonly KiteQClient[]) => Promise<void>;
  /** called once a second during the publish phase (the live progress line) */
  onProgress?: (p: { second: number; acked: number; inFlight: number; p99Ms: number }) => void;
}

export async function runKiteqRoundtrip(options: KiteqRoundtripOptions): Promise<RoundtripResult> {
  const { registry, topic, messageType, producerGroup, consumerGroup, secretKey, brokerPid } = options;
  if (brokerPid !== undefined) sampleProcess(brokerPid); // a wrong pid fails now, not after the run
  const groupIds = numberedNames(consumerGroup, options.groups ?? 1);
  const topics = numberedNames(topic, options.topicCount ?? 1);
  const receipts = new GroupReceipts(groupIds);
  // one registry for all of the run's clients: a file registry each would re-read the file every
  // second per client (2,000 producers: 2,000 reads a second in the generator)
  const shared = openRegistry(registry);
  const { delayMs } = options;
  const lateness = delayMs === undefined ? undefined : { recorder: new LatencyRecorder(), early: 0 };
  const consumers = groupIds.map(
    (groupId, g) =>
      new KiteQClient({
        registry: shared,
        groupId,
        secretKey,
        bindings: topics.map((t) => directBinding(groupId, t, messageType, { watermark: 1_000_000 })),
        listener: (message) => {
          if (lateness) {
            // every receipt, warm-up and duplicates included: none may come before its time
            const lateMs = Date.now() - Number(messageProperties(message)['kiteq.deliverAt']);
            if (lateMs < 0) lateness.early++;
            lateness.recorder.recordMs(lateMs);
          }
          receipts.trackers[g].receive(message.body as Buffer);
          return true;
        },
      }),
  );
  const producers = Array.from(
    { length: options.producers },
    () => new KiteQClient({ registry: shared, groupId: producerGroup, secretKey, publishTopics: topics }),
  );
  let sends = 0;
  const publishOne = async (producer: number, payload: Buffer): Promise<void> => {
    const message = buildBytesMessage({ topic: topics[sends++ % topics.length], messageType, body: payload });
    const schedule = delayMs === undefined ? undefined : { delayMs };
    if (options.tx) await producers[producer].sendTx(message, () => true, schedule);
    else await producers[producer].send(message, schedule);
  };
  try {
    await Promise.all([...consumers, ...producers].map((c) => c.start()));
    consumers.forEach((consumer, g) => {
      if (consumer.readyConnections === 0)
        throw new Error(
          `the consumer of group "${groupIds[g]}" could not connect to a broker for "${topic}" (registry ${registry})`,
        );
    });
    await options.onStarted?.([...consumers, ...producers]);
    const live = { sent: 0, acked: 0, latency: new LatencyRecorder() };
    const warmup = await runWarmup(options, publishOne, receipts);
    let progress: NodeJS.Timeout | undefined;
    if (options.onProgress) {
      let second = 0;
      progress = setInterval(() => {
        options.onProgress!({
          second: ++second,
          acked: live.acked,
          inFlight: live.sent - live.acked,
          p99Ms: live.latency.percentileMs(99),
        });
      }, 1000);
    }
    const publish = async (producer: number, payload: Buffer): Promise<void> => {
      const started = nowMs();
      live.sent++;
      try {
        await publishOne(producer, payload);
      } finally {
        live.acked++;
        live.latency.recordMs(nowMs() - started);
      }
    };
    const cpuAtStart = {
      generator: sampleSelf(),
      broker: brokerPid === undefined ? undefined : sampleProcess(brokerPid),
    };
    const loop = runPublishLoop(options, publish, receipts);
    const phase = await loop;
    clearInterval(progress);
    await receipts.whenDrained(options.drainTimeoutMs ?? 10_000);
    const result = resultOf(
      'kiteq',
      { ...options, onProgress: undefined, onStarted: undefined, tx: options.tx ?? false } as RoundtripOptions &
        Record<string, unknown>,
      phase,
      receipts,
      warmup,
    );
    const deliveringMs = receipts.lastReceivedMs - phase.startMs;
    result.deliveries = receipts.deliveries;
    result.deliveriesPerSec = deliveringMs > 0 ? Math.round((receipts.deliveries * 1000) / deliveringMs) : 0;
    if (groupIds.length > 1) result.groups = receipts.perGroup();
    if (lateness) result.lateness = { ...lateness.recorder.summary(), early: lateness.early };
    result.cpu = { generator: cpuBetween(cpuAtStart.generator, sampleSelf(), result.acked) };
    if (brokerPid !== undefined) {
      result.cpu.broker = {
        pid: brokerPid,
        ...cpuBetween(cpuAtStart.broker!, sampleProcess(brokerPid), result.acked),
        peakRssMb: peakRssMb(brokerPid),
      };
    }
    return result;
  } finally {
    // drain: the ack of the last message counted is still on its way when the receipts settle
    await Promise.all([...consumers.map((c) => c.close({ drain: true })), ...producers.map((p) => p.close())]);
    await shared.close();
  }
}
