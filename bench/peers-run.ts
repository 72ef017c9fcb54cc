// Runs the peers once, as `compare` does for them (doc/performance.md, "The peers, and when each system acks"),
// and prints the results as JSON; with --html <file>, also writes the HTML report.
//   node dist/bench/peers-run.js [--messages 50000] [--producers 8] [--in-flight 25] [--size 512]
//        [--rate <msg/s>] [--warmup <messages>] [--queue-type quorum|classic] [--only rabbitmq|nats]
//        [--html report.html]
import { writeFileSync } from 'node:fs';
import { runNatsRoundtrip } from './peers/nats';
import { runRabbitRoundtrip } from './peers/rabbitmq';
import { renderReportHtml } from './report-html';
import type { ReportRun } from './report-html';
import type { RoundtripOptions } from './result';

function flag(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

async function main(): Promise<void> {
  const options: RoundtripOptions = {
    producers: Number(flag('producers') ?? 8),
    inFlight: Number(flag('in-flight') ?? 25),
    messageSize: Number(flag('size') ?? 512),
    messages: Number(flag('messages') ?? 50_000),
  };
  const rate = flag('rate');
  if (rate !== undefined) options.rate = Number(rate);
  const warmup = flag('warmup');
  if (warmup !== undefined) options.warmupMessages = Number(warmup);
  const only = flag('only');
  const runs: ReportRun[] = [];
  if (only === undefined || only === 'rabbitmq') {
    const queueType = flag('queue-type') === 'classic' ? 'classic' : 'quorum';
    runs.push({ name: `rabbitmq (${queueType})`, result: await runRabbitRoundtrip({ ...options, queueType }) });
  }
  if (only === undefined || only === 'nats')
    runs.push({ name: 'nats jetstream (file)', result: await runNatsRoundtrip(options) });
  const html = flag('html');
  if (html !== undefined) writeFileSync(html, renderReportHtml(runs, 'kiteq-bench peers'));
  const printable = runs.map(({ name, result }) => {
    const { deliverCurve: _curve, ...rest } = result as { deliverCurve?: unknown };
    return { name, date: new Date().toISOString(), ...rest };
  });
  console.log(JSON.stringify(printable, null, 2));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
