// The table `kiteq-bench compare` prints: per system acked/s beside delivered/s (end to end),
// latency, lost, duplicates and stale, when the system sends its ack, and kiteq-ts's ratio to it.
import type { ReportRun } from './report-html';
import { isUnavailable, type PeerUnavailable, type RoundtripResult } from './result';

/** When each system sends the ack a message counts as acked by: what a crash of the machine can take back. */
const ACK_SENT: Record<string, string> = {
  kiteq: 'after fsync¹',
  rabbitmq: 'after fsync',
  nats: 'before fsync²',
};
const ACK_NOTES = [
  "¹ with a file store at fsync=batch or always (the broker's --store); memory:// and fsync=interval ack before any fsync",
  '² JetStream acks once the message is in its file, and fsyncs every sync_interval (2 min by default)',
];

export function compareTable(runs: ReportRun[], kiteq: RoundtripResult): string {
  const header = [
    'system',
    'acked/s',
    'delivered/s',
    'p50 ms',
    'p99 ms',
    'p999 ms',
    'lost',
    'dup',
    'stale',
    'ack sent',
    'kiteq-ts ÷ it (acked, delivered)',
  ];
  const rows = runs.map(({ name, result }) => formatRow(name, result, kiteq));
  const table = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const lines = table.map((row) =>
    row
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd(),
  );
  return `${[...lines, ...ACK_NOTES].join('\n')}\n`;
}

function formatRow(name: string, result: RoundtripResult | PeerUnavailable, kiteq: RoundtripResult): string[] {
  if (isUnavailable(result)) return [name, `not running: ${result.unavailable}`, '', '', '', '', '', '', '', '', ''];
  const ratio = (ours: number, theirs: number): string => (theirs > 0 ? (ours / theirs).toFixed(2) : '-');
  return [
    name,
    String(result.tps),
    String(result.deliveredPerSec),
    result.deliver.p50.toFixed(2),
    result.deliver.p99.toFixed(2),
    result.deliver.p999.toFixed(2),
    String(result.lost),
    String(result.duplicates),
    String(result.stale),
    ACK_SENT[result.system] ?? '?',
    `${ratio(kiteq.tps, result.tps)}, ${ratio(kiteq.deliveredPerSec, result.deliveredPerSec)}`,
  ];
}
