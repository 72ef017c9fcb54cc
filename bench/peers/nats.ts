// NATS JetStream as a `kiteq-bench compare` peer: the kiteq roundtrip workload on a file-storage
// stream. A message counts as acked when js.publish has its PubAck (stored; kiteq's store-ack),
// and one durable pull consumer acks every delivery explicitly.
import { randomBytes } from 'node:crypto';
import type { JetStreamClient, NatsConnection } from 'nats';
import type { PeerUnavailable, RoundtripOptions, RoundtripResult } from '../result';
import { missingPeerLibrary } from './peer-library';
import { runPublishLoop, runWarmup } from './publish-loop';
import { ReceiptTracker } from './receipts';
import { resultOf } from './result-of';

export interface NatsRoundtripOptions extends RoundtripOptions {
  /** default 127.0.0.1:4222 */
  servers?: string;
  /** unacked deliveries the consumer may hold (max_ack_pending, and the pull batch); default 1000 */
  prefetch?: number;
  connectTimeoutMs?: number;
}

export async function runNatsRoundtrip(options: NatsRoundtripOptions): Promise<RoundtripResult | PeerUnavailable> {
  const missing = missingPeerLibrary('nats');
  if (missing) return missing;
  const { AckPolicy, RetentionPolicy, StorageType, connect } = await import('nats');
  const servers = options.servers ?? '127.0.0.1:4222';
  const prefetch = options.prefetch ?? 1000;
  const connections: NatsConnection[] = [];
  const open = async (): Promise<NatsConnection> => {
    const connection = await connect({ servers, timeout: options.connectTimeoutMs ?? 3000, reconnect: false });
    connections.push(connection);
    return connection;
  };

  let consumerConnection: NatsConnection;
  try {
    consumerConnection = await open();
  } catch (error) {
    return { unavailable: `NATS at ${servers}: ${(error as Error).message}` };
  }

  const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const stream = `KITEQ_BENCH_${suffix}`;
  const subject = `kiteq.bench.${suffix}`;
  const durable = 'bench';
  let manager;
  try {
    manager = await consumerConnection.jetstreamManager();
  } catch (error) {
    for (const connection of connections) await connection.close().catch(() => undefined);
    return { unavailable: `NATS at ${servers} has no JetStream: ${(error as Error).message}` };
  }
  try {
    // Work-queue retention: an acked message leaves the stream, as it leaves a RabbitMQ queue.
    await manager.streams.add({
      name: stream,
      subjects: [subject],
      storage: StorageType.File,
      retention: RetentionPolicy.Workqueue,
    });
    await manager.consumers.add(stream, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      max_ack_pending: prefetch,
    });

    const receipts = new ReceiptTracker();
    const consumer = await consumerConnection.jetstream().consumers.get(stream, durable);
    const messages = await consumer.consume({ max_messages: prefetch });
    const consuming = (async () => {
      for await (const message of messages) {
        receipts.receive(message.data);
        message.ack();
      }
    })();

    const producers: JetStreamClient[] = [];
    for (let k = 0; k < options.producers; k++) producers.push((await open()).jetstream());
    const publish = async (producer: number, payload: Buffer): Promise<void> => {
      await producers[producer].publish(subject, payload);
    };

    const warmup = await runWarmup(options, publish, receipts);
    const phase = await runPublishLoop(options, publish, receipts);
    await receipts.whenDrained(options.drainTimeoutMs ?? 10_000);
    await messages.close();
    await consuming;
    return resultOf('nats', { ...options, servers, prefetch, storage: 'file' }, phase, receipts, warmup);
  } finally {
    await manager.streams.delete(stream).catch(() => undefined);
    for (const connection of connections) await connection.close().catch(() => undefined);
  }
}
