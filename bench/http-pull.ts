// Pull consume over the HTTP gateway (doc/http-gateway.md "Pull consume"): P pollers on
// keep-alive connections, each looping GET …/messages?max=M&wait=W then POST …/acks of what it
// got. Counts bench payloads (peers/payload.ts: run id, id, send time) as runKiteqConsumer does,
// so the rate and the publish→pull latency compare with a native consumer of the same stream.
import { Agent, request } from 'node:http';
import { cpuBetween, type CpuUsage, sampleProcess } from './process-cpu';
import { nowMs } from './peers/payload';
import type { LatencySummary } from './result';
import { RunReceipts } from './run-receipts';

export interface HttpPullOptions {
  /** host:port of the broker's --gateway */
  gateway: string;
  groupId: string;
  secretKey: string;
  topic: string;
  messageType: string;
  /** concurrent poll loops, one keep-alive connection each */
  pollers: number;
  /** max per poll */
  max: number;
  /** wait per poll, seconds */
  waitSec: number;
  /** seconds to pull for */
  durationSec: number;
  /** the broker's process (same machine): its CPU per message pulled */
  brokerPid?: number;
}

export interface HttpPullResult {
  received: number;
  duplicates: number;
  ratePerSec: number;
  polls: number;
  emptyPolls: number;
  deliver: LatencySummary;
  perSecond: number[];
  brokerCpu?: CpuUsage;
}

interface Answer {
  status: number;
  text: string;
}

export async function runHttpPull(options: HttpPullOptions): Promise<HttpPullResult> {
  const [host, port] = options.gateway.split(':');
  const agent = new Agent({ keepAlive: true, maxSockets: options.pollers * 2 });
  const authorization = `Basic ${Buffer.from(`${options.groupId}:${options.secretKey}`).toString('base64')}`;
  const call = (method: string, path: string, body?: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          agent,
          host,
          port: Number(port),
          method,
          path,
          headers: body === undefined ? { authorization } : { authorization, 'content-type': 'application/json' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.once('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.once('error', reject);
      req.end(body);
    });
  const group = encodeURIComponent(options.groupId);
  const pullPath =
    `/v1/groups/${group}/messages?topic=${encodeURIComponent(options.topic)}` +
    `&type=${encodeURIComponent(options.messageType)}&max=${options.max}&wait=${options.waitSec}`;
  const receipts = new RunReceipts();
  const endAt = nowMs() + options.durationSec * 1000;
  const brokerBefore = options.brokerPid === undefined ? undefined : sampleProcess(options.brokerPid);
  let polls = 0;
  let emptyPolls = 0;
  const loop = async (): Promise<void> => {
    while (nowMs() < endAt) {
      const answer = await call('GET', pullPath);
      polls++;
      if (answer.status !== 200) throw new Error(`pull answered ${answer.status}: ${answer.text.slice(0, 200)}`);
      const messages = JSON.parse(answer.text) as { messageId: string; bodyBase64?: string }[];
      if (messages.length === 0) {
        emptyPolls++;
        continue;
      }
      for (const message of messages) receipts.receive(Buffer.from(message.bodyBase64 ?? '', 'base64'));
      const acked = await call(
        'POST',
        `/v1/groups/${group}/acks`,
        JSON.stringify({ ack: messages.map((m) => m.messageId) }),
      );
      if (acked.status !== 200) throw new Error(`acks answered ${acked.status}: ${acked.text.slice(0, 200)}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.pollers }, loop));
  } finally {
    agent.destroy();
  }
  const { received, duplicates } = receipts.totals();
  return {
    received,
    duplicates,
    ratePerSec: Math.round(received / options.durationSec),
    polls,
    emptyPolls,
    deliver: receipts.deliver.summary(),
    perSecond: receipts.perSecond,
    brokerCpu: brokerBefore && cpuBetween(brokerBefore, sampleProcess(options.brokerPid!), received),
  };
}

export function pullLine(r: HttpPullResult): string {
  const cpu = r.brokerCpu ? ` | broker ${r.brokerCpu.perMessageUs} µs/msg` : '';
  return `http pull: received ${r.received} dup ${r.duplicates} | ${r.ratePerSec} msg/s | ${r.polls} polls (${r.emptyPolls} empty) | publish→pull p50 ${r.deliver.p50.toFixed(2)} p99 ${r.deliver.p99.toFixed(2)} ms${cpu}`;
}
