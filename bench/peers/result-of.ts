// Puts a peer run's counts and histograms into the common RoundtripResult (bench/result.ts).
import type { RoundtripOptions, RoundtripResult, WarmupCounts } from '../result';
import type { PublishPhase } from './publish-loop';
import type { Receipts } from './receipts';

export function resultOf(
  system: string,
  options: RoundtripOptions & Record<string, unknown>,
  phase: PublishPhase,
  receipts: Receipts,
  warmup?: WarmupCounts,
): RoundtripResult {
  const { deliver } = receipts;
  const deliverSummary = deliver.summary();
  const deliveringMs = receipts.lastReceivedMs - phase.startMs;
  return {
    system,
    sent: phase.sent,
    acked: phase.acked,
    failed: phase.failed,
    received: receipts.received,
    duplicates: receipts.duplicates,
    lost: receipts.lost,
    stale: receipts.stale,
    tps: phase.durationMs > 0 ? Math.round((phase.acked * 1000) / phase.durationMs) : 0,
    deliveredPerSec: deliveringMs > 0 ? Math.round((receipts.received * 1000) / deliveringMs) : 0,
    p50Ms: deliverSummary.p50,
    p99Ms: deliverSummary.p99,
    publishAck: phase.publishAck.summary(),
    deliver: deliverSummary,
    perSecond: phase.perSecond,
    generatorLoopDelay: phase.generatorLoopDelay,
    ...(options.rate === undefined ? {} : { windowBound: phase.windowBound }),
    ...(warmup === undefined ? {} : { warmup }),
    deliverCurve: deliver.curve(),
    options: phase.firstError === undefined ? options : { ...options, firstError: phase.firstError },
  };
}
