// `kiteq-bench http`: publish over the HTTP gateway (doc/http-gateway.md) on keep-alive
// connections, K × C requests in flight (one socket each: HTTP/1.1 has one request per socket at a
// time). With --compare-native the same workload is first published natively on K connections × C
// in flight, against the same broker, so the ratio and the broker's CPU per message come from one
// run on one (shared) machine. With --batch N each request carries N messages (http-batch.ts).
import { Agent, request } from 'node:http';
import { type BatchAnswer, BatchCoalescer } from './http-batch';
import { LatencyRecorder } from './latency';
import { producerResultOf, runKiteqProducer, type ProducerResult } from './kiteq-one-side';
import { runPublishLoop } from './peers/publish-loop';
import { ReceiptTracker } from './peers/receipts';
import { cpuBetween, type CpuUsage, sampleProcess, sampleSelf } from './process-cpu';
import type { LatencySummary, RoundtripOptions } from './result';

export interface HttpBenchOptions extends RoundtripOptions {
  /** host:port of the broker's --gateway */
  gateway: string;
  topic: string;
  messageType: string;
  groupId: string;
  secretKey: string;
  brokerPid?: number;
  /** messages per request (POST …/messages:batch); 1 or absent: one message per POST …/messages */
  batch?: number;
}

export interface SideCpu {
  broker?: CpuUsage;
  generator: CpuUsage;
}

export type PublishBenchResult = ProducerResult & {
  cpu: SideCpu;
  /** messages per request, and the requests' own latency (the same as the messages' with one each) */
  batch: number;
  request: LatencySummary;
};

async function measured(
  brokerPid: number | undefined,
  run: () => Promise<ProducerResult>,
): Promise<ProducerResult & { cpu: SideCpu }> {
  const broker = brokerPid === undefined ? undefined : sampleProcess(brokerPid);
  const generator = sampleSelf();
  const result = await run();
  return {
    ...result,
    cpu: {
      broker: broker && cpuBetween(broker, sampleProcess(brokerPid!), result.acked),
      generator: cpuBetween(generator, sampleSelf(), result.acked),
    },
  };
}

/** Publishes over the gateway; resolves on 201, rejects with the answer's reason otherwise. */
export async function runHttpPublish(options: HttpBenchOptions): Promise<PublishBenchResult> {
  const [host, port] = options.gateway.split(':');
  const batch = Math.max(1, options.batch ?? 1);
  const lanes = options.producers * options.inFlight;
  const agent = new Agent({ keepAlive: true, maxSockets: lanes, maxFreeSockets: lanes });
  const topic = encodeURIComponent(options.topic);
  const query = `?type=${encodeURIComponent(options.messageType)}`;
  const authorization = `Basic ${Buffer.from(`${options.groupId}:${options.secretKey}`).toString('base64')}`;
  const post = (path: string, contentType: string, payload: Buffer): Promise<BatchAnswer> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          agent,
          host,
          port: Number(port),
          method: 'POST',
          path,
          headers: { authorization, 'content-type': contentType, 'content-length': payload.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.once('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        },
      );
      req.once('error', reject);
      req.end(payload);
    });
  const single = `/v1/topics/${topic}/messages${query}`;
  const requests = new LatencyRecorder();
  const publishOne = async (payload: Buffer): Promise<void> => {
    const started = performance.now();
    const answer = await post(single, 'application/octet-stream', payload);
    requests.recordMs(performance.now() - started);
    if (answer.status !== 201) throw new Error(`${answer.status} ${answer.text.slice(0, 200)}`);
  };
  const batched =
    batch > 1
      ? new BatchCoalescer(batch, (body) =>
          post(`/v1/topics/${topic}/messages:batch${query}`, 'application/json', body),
        )
      : undefined;
  try {
    const result = await measured(options.brokerPid, async () =>
      producerResultOf(
        await runPublishLoop(
          // one lane per message in flight: K × C requests of `batch` messages each
          { ...options, inFlight: options.inFlight * batch },
          (_producer, payload) => (batched ? batched.add(payload) : publishOne(payload)),
          new ReceiptTracker(),
        ),
      ),
    );
    return { ...result, batch, request: (batched?.requests ?? requests).summary() };
  } finally {
    agent.destroy();
  }
}

/** The native publish of the same workload (bench/kiteq-one-side.ts), with the same CPU figures. */
export async function runNativePublish(options: HttpBenchOptions & { registry: string }): Promise<PublishBenchResult> {
  const result = await measured(options.brokerPid, () => runKiteqProducer(options));
  return { ...result, batch: 1, request: result.publishAck };
}

export function publishLine(name: string, r: PublishBenchResult): string {
  const broker = r.cpu.broker ? `broker ${r.cpu.broker.perMessageUs} µs/msg, ` : '';
  const request =
    r.batch > 1
      ? ` | request (${r.batch} msgs) p50 ${r.request.p50.toFixed(2)} p99 ${r.request.p99.toFixed(2)} ms`
      : '';
  return `${name}: sent ${r.sent} acked ${r.acked} failed ${r.failed} | ${r.tps} msg/s | publish→201/ack p50 ${r.publishAck.p50.toFixed(2)} p99 ${r.publishAck.p99.toFixed(2)} p999 ${r.publishAck.p999.toFixed(2)} ms${request} | cpu ${broker}bench ${r.cpu.generator.perMessageUs} µs/msg${r.firstError ? ` | first error: ${r.firstError}` : ''}`;
}
