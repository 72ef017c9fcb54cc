// One side of the roundtrip on its own: `kiteq-bench producer` publishes (tps and store-ack
// latency only), `kiteq-bench consumer` receives for a while (rate and publish→deliver latency
// of messages stamped by a bench producer on the same machine).
import { directBinding } from '../binding/binding';
import { buildBytesMessage, KiteQClient } from '../client';
import { type PublishPhase, runPublishLoop } from './peers/publish-loop';
import { ReceiptTracker } from './peers/receipts';
import type { LatencySummary, RoundtripOptions } from './result';
import { RunReceipts } from './run-receipts';

export interface SideOptions {
  registry: string;
  topic: string;
  messageType: string;
  groupId: string;
  secretKey: string;
  tx?: boolean;
}

export interface ProducerResult {
  sent: number;
  acked: number;
  failed: number;
  tps: number;
  publishAck: LatencySummary;
  perSecond: number[];
  firstError?: string;
}

export async function runKiteqProducer(options: SideOptions & RoundtripOptions): Promise<ProducerResult> {
  const producers = Array.from(
    { length: options.producers },
    () =>
      new KiteQClient({
        registry: options.registry,
        groupId: options.groupId,
        secretKey: options.secretKey,
        publishTopics: [options.topic],
      }),
  );
  try {
    await Promise.all(producers.map((p) => p.start()));
    const phase = await runPublishLoop(
      options,
      async (producer, payload) => {
        const message = buildBytesMessage({ topic: options.topic, messageType: options.messageType, body: payload });
        if (options.tx) await producers[producer].sendTxMessage(message, () => true);
        else await producers[producer].send(message);
      },
      new ReceiptTracker(),
    );
    return producerResultOf(phase);
  } finally {
    await Promise.all(producers.map((p) => p.close()));
  }
}

/** The figures of a publish-only run (kiteq-bench producer, kiteq-bench http). */
export function producerResultOf(phase: PublishPhase): ProducerResult {
  return {
    sent: phase.sent,
    acked: phase.acked,
    failed: phase.failed,
    tps: phase.durationMs > 0 ? Math.round((phase.acked * 1000) / phase.durationMs) : 0,
    publishAck: phase.publishAck.summary(),
    perSecond: phase.perSecond,
    firstError: phase.firstError,
  };
}

export interface ConsumerResult {
  received: number;
  duplicates: number;
  /** producer runs seen (each with its own run id) */
  runs: number;
  ratePerSec: number;
  deliver: LatencySummary;
  perSecond: number[];
}

export async function runKiteqConsumer(options: SideOptions & { durationSec: number }): Promise<ConsumerResult> {
  const receipts = new RunReceipts();
  const consumer = new KiteQClient({
    registry: options.registry,
    groupId: options.groupId,
    secretKey: options.secretKey,
    bindings: [directBinding(options.groupId, options.topic, options.messageType, { watermark: 1_000_000 })],
    listener: (message) => {
      receipts.receive(message.body as Buffer);
      return true;
    },
  });
  try {
    await consumer.start();
    await new Promise((resolve) => setTimeout(resolve, options.durationSec * 1000)); // the measuring window itself
  } finally {
    await consumer.close({ drain: true }); // acks of the messages the listener already took go out
  }
  const { received, duplicates, runs } = receipts.totals();
  return {
    received,
    duplicates,
    runs,
    ratePerSec: Math.round(received / options.durationSec),
    deliver: receipts.deliver.summary(),
    perSecond: receipts.perSecond,
  };
}
