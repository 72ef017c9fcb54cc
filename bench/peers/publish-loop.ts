// The producer side of a roundtrip run, the same for every peer: K producers × C lanes (the
// in-flight window), N messages or D seconds, optionally at a fixed offered rate with latency
// measured from each message's intended send time, or its actual send if that was earlier
// (pacer.ts): no coordinated omission.
import { LatencyRecorder } from '../latency';
import type { RoundtripOptions, WarmupCounts } from '../result';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SendPacer } from './pacer';
import { makePayload, nowMs } from './payload';
import type { Receipts } from './receipts';

/** Sends one message through producer `producer`; resolves when the broker acks it, rejects when refused. */
export type PublishFn = (producer: number, payload: Buffer) => Promise<void>;

export interface PublishPhase {
  /** when the phase began (nowMs): delivered/s counts from here */
  startMs: number;
  sent: number;
  acked: number;
  failed: number;
  durationMs: number;
  perSecond: number[];
  publishAck: LatencyRecorder;
  /** the first refusal, to tell why `failed` is not 0 */
  firstError?: string;
  /** the load generator's own event-loop delay during the phase: its stalls are in every latency */
  generatorLoopDelay: { p99Ms: number; maxMs: number };
  /**
   * With a rate: sends whose intended time had passed by more than WINDOW_LATE_MS before a lane
   * was free to take them. They waited in the generator, and their latency still counts from the
   * intended time; meanwhile the broker had the whole K × C window in flight, not more.
   */
  windowBound: number;
}

const LOOP_SAMPLE_MS = 5;

/** A send picked up this late by a free lane counts as held back by the window (timers are 1 ms). */
const WINDOW_LATE_MS = 2;

export async function runPublishLoop(
  options: RoundtripOptions,
  publish: PublishFn,
  receipts: Receipts,
): Promise<PublishPhase> {
  const { producers, inFlight, messageSize, rate } = options;
  const limit = options.messages ?? Number.POSITIVE_INFINITY;
  if (options.messages === undefined && options.durationSec === undefined)
    throw new Error('give messages or durationSec');
  const start = nowMs();
  const deadline = options.durationSec === undefined ? Number.POSITIVE_INFINITY : start + options.durationSec * 1000;
  const phase: PublishPhase = {
    startMs: start,
    sent: 0,
    acked: 0,
    failed: 0,
    durationMs: 0,
    perSecond: [],
    publishAck: new LatencyRecorder(),
    generatorLoopDelay: { p99Ms: 0, maxMs: 0 },
    windowBound: 0,
  };
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  loopDelay.enable();
  let next = 0;
  let lastSettled = start;
  const pacer = new SendPacer();

  async function lane(producer: number): Promise<void> {
    for (;;) {
      if (next >= limit) return;
      const intended = rate === undefined ? nowMs() : start + (next * 1000) / rate;
      if (intended >= deadline) return;
      const id = next++;
      if (rate !== undefined && nowMs() - intended > WINDOW_LATE_MS) phase.windowBound++;
      // Scheduling an open-loop send, not waiting for an event: at most EARLY_MS (pacer.ts) before the intended time.
      if (rate !== undefined)
        for (let wait = pacer.until(intended); wait !== null; wait = pacer.until(intended)) await wait;
      phase.sent++;
      const from = Math.min(intended, nowMs());
      try {
        await publish(producer, makePayload(id, from, messageSize, receipts.run));
        const ackedAt = nowMs();
        phase.acked++;
        receipts.markAcked(id);
        phase.publishAck.recordMs(ackedAt - from);
        const second = Math.floor((ackedAt - start) / 1000);
        while (phase.perSecond.length <= second) phase.perSecond.push(0);
        phase.perSecond[second]++;
        lastSettled = ackedAt;
      } catch (error) {
        phase.failed++;
        phase.firstError ??= (error as Error).message ?? String(error);
        lastSettled = nowMs();
      }
    }
  }

  const lanes: Promise<void>[] = [];
  for (let producer = 0; producer < producers; producer++) {
    for (let slot = 0; slot < inFlight; slot++) lanes.push(lane(producer));
  }
  await Promise.all(lanes);
  loopDelay.disable();
  // the histogram holds whole sampling intervals (ns): the delay is what exceeds the 5 ms asked for
  const past = (ns: number): number => Math.max(0, ns / 1e6 - LOOP_SAMPLE_MS);
  phase.generatorLoopDelay = { p99Ms: past(loopDelay.percentile(99)), maxMs: past(loopDelay.max) };
  phase.durationMs = lastSettled - start;
  return phase;
}

/**
 * The warm-up (options.warmupMessages, if any): published on the same connections at the same rate
 * and waited for, then left out of every figure but its counts. The measured phase gets a new run
 * id, so a warm-up message delivered late counts as stale there, never as one of its receipts.
 */
export async function runWarmup(
  options: RoundtripOptions,
  publish: PublishFn,
  receipts: Receipts,
): Promise<WarmupCounts | undefined> {
  if (!options.warmupMessages) return undefined;
  const phase = await runPublishLoop(
    { ...options, messages: options.warmupMessages, durationSec: undefined },
    publish,
    receipts,
  );
  await receipts.whenDrained(options.drainTimeoutMs ?? 10_000);
  const counts = {
    sent: phase.sent,
    acked: phase.acked,
    failed: phase.failed,
    received: receipts.received,
    duplicates: receipts.duplicates,
    lost: receipts.lost,
    stale: receipts.stale,
  };
  receipts.nextRun();
  return counts;
}
