// `kiteq-bench http`: publish over the HTTP gateway (doc/http-gateway.md) on keep-alive
// connections, K × C requests in flight (one socket each: HTTP/1.1 has one request per socket at a
// time). With --compare-native the same workload is first published natively on K connections × C
// in flight, against the same broker, so the ratio and the broker's CPU per message come from one
// run on one (shared) machine.
import { Agent, request } from 'node:http';
import { producerResultOf, runKiteqProducer, type ProducerResult } from './kiteq-one-side';
import { runPublishLoop } from './peers/publish-loop';
import { ReceiptTracker } from './peers/receipts';
import { cpuBetween, type CpuUsage, sampleProcess, sampleSelf } from './process-cpu';
import type { RoundtripOptions } from './result';

export interface HttpBenchOptions extends RoundtripOptions {
  /** host:port of the broker's --gateway */
  gateway: string;
  topic: string;
  messageType: string;
  groupId: string;
  secretKey: string;
  brokerPid?: number;
}

export interface SideCpu {
  broker?: CpuUsage;
  generator: CpuUsage;
}

export type PublishBenchResult = ProducerResult & { cpu: SideCpu };

async function measured(
  brokerPid: number | undefined,
  run: () => Promise<ProducerResult>,
): Promise<PublishBenchResult> {
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
  const lanes = options.producers * options.inFlight;
  const agent = new Agent({ keepAlive: true, maxSockets: lanes, maxFreeSockets: lanes });
  const path = `/v1/topics/${encodeURIComponent(options.topic)}/messages?type=${encodeURIComponent(options.messageType)}`;
  const authorization = `Basic ${Buffer.from(`${options.groupId}:${options.secretKey}`).toString('base64')}`;
  const post = (payload: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          agent,
          host,
          port: Number(port),
          method: 'POST',
          path,
          headers: {
            authorization,
            'content-type': 'application/octet-stream',
            'content-length': payload.length,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.once('end', () => {
            if (res.statusCode === 201) resolve();
            else reject(new Error(`${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 200)}`));
          });
        },
      );
      req.once('error', reject);
      req.end(payload);
    });
  try {
    return await measured(options.brokerPid, async () => {
      return producerResultOf(
        await runPublishLoop(options, (_producer, payload) => post(payload), new ReceiptTracker()),
      );
    });
  } finally {
    agent.destroy();
  }
}

/** The native publish of the same workload (bench/kiteq-one-side.ts), with the same CPU figures. */
export function runNativePublish(options: HttpBenchOptions & { registry: string }): Promise<PublishBenchResult> {
  return measured(options.brokerPid, () => runKiteqProducer(options));
}

export function publishLine(name: string, r: PublishBenchResult): string {
  const broker = r.cpu.broker ? `broker ${r.cpu.broker.perMessageUs} µs/msg, ` : '';
  return `${name}: sent ${r.sent} acked ${r.acked} failed ${r.failed} | ${r.tps} msg/s | publish→201/ack p50 ${r.publishAck.p50.toFixed(2)} p99 ${r.publishAck.p99.toFixed(2)} p999 ${r.publishAck.p999.toFixed(2)} ms | cpu ${broker}bench ${r.cpu.generator.perMessageUs} µs/msg${r.firstError ? ` | first error: ${r.firstError}` : ''}`;
}
