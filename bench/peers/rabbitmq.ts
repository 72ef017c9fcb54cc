// RabbitMQ as a `kiteq-bench compare` peer: the kiteq roundtrip workload on a durable queue with
// the same guarantees asked of kiteq: persistent messages, a publisher confirm before a message
// counts as acked (kiteq's store-ack), one consumer with manual acks and a prefetch window.
import { randomBytes } from 'node:crypto';
import type * as amqp from 'amqplib';
import type { PeerUnavailable, RoundtripOptions, RoundtripResult } from '../result';
import { missingPeerLibrary } from './peer-library';
import { runPublishLoop, runWarmup } from './publish-loop';
import { ReceiptTracker } from './receipts';
import { resultOf } from './result-of';

export interface RabbitRoundtripOptions extends RoundtripOptions {
  /** default amqp://guest:guest@127.0.0.1:5672 */
  url?: string;
  /** quorum (replicated log, fsync before confirm; the default) or classic durable */
  queueType?: 'quorum' | 'classic';
  /** unacked deliveries the consumer may hold; default 1000 */
  prefetch?: number;
  connectTimeoutMs?: number;
}

const DEFAULT_URL = 'amqp://guest:guest@127.0.0.1:5672';

export async function runRabbitRoundtrip(options: RabbitRoundtripOptions): Promise<RoundtripResult | PeerUnavailable> {
  const missing = missingPeerLibrary('amqplib');
  if (missing) return missing;
  const { connect: amqpConnect } = await import('amqplib');
  const url = options.url ?? DEFAULT_URL;
  const queueType = options.queueType ?? 'quorum';
  const prefetch = options.prefetch ?? 1000;
  const socketOptions = { timeout: options.connectTimeoutMs ?? 3000 };
  const connections: amqp.ChannelModel[] = [];
  const connect = async (): Promise<amqp.ChannelModel> => {
    const connection = await amqpConnect(url, socketOptions);
    connection.on('error', () => undefined); // surfaced as failed publishes or a rejected setup step
    connections.push(connection);
    return connection;
  };

  let consumerConnection: amqp.ChannelModel;
  try {
    consumerConnection = await connect();
  } catch (error) {
    return { unavailable: `RabbitMQ at ${withoutPassword(url)}: ${(error as Error).message}` };
  }

  const queue = `kiteq-bench-${process.pid}-${randomBytes(4).toString('hex')}`;
  const admin = await consumerConnection.createChannel();
  try {
    await admin.assertQueue(queue, {
      durable: true,
      arguments: queueType === 'quorum' ? { 'x-queue-type': 'quorum' } : {},
    });

    const receipts = new ReceiptTracker();
    const consumer = await consumerConnection.createChannel();
    consumer.on('error', () => undefined);
    await consumer.prefetch(prefetch);
    const { consumerTag } = await consumer.consume(
      queue,
      (message) => {
        if (message === null) return; // cancelled by the broker
        receipts.receive(message.content);
        consumer.ack(message);
      },
      { noAck: false },
    );

    const producers: amqp.ConfirmChannel[] = [];
    for (let k = 0; k < options.producers; k++) {
      const channel = await (await connect()).createConfirmChannel();
      channel.on('error', () => undefined);
      producers.push(channel);
    }
    const publish = (producer: number, payload: Buffer): Promise<void> =>
      new Promise((resolve, reject) => {
        producers[producer].sendToQueue(queue, payload, { persistent: true }, (error) =>
          error ? reject(error instanceof Error ? error : new Error(`nacked: ${String(error)}`)) : resolve(),
        );
      });

    const warmup = await runWarmup(options, publish, receipts);
    const phase = await runPublishLoop(options, publish, receipts);
    await receipts.whenDrained(options.drainTimeoutMs ?? 10_000);
    await consumer.cancel(consumerTag);
    return resultOf(
      'rabbitmq',
      { ...options, url: withoutPassword(url), queueType, prefetch },
      phase,
      receipts,
      warmup,
    );
  } finally {
    await admin.deleteQueue(queue).catch(() => undefined);
    for (const connection of connections) await connection.close().catch(() => undefined);
  }
}

function withoutPassword(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
