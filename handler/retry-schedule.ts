// doc/architecture.md §6, as data: attempts 1–3 are immediate; after attempt n fails (n ≥ 3) the next waits
// per this table (KiteQ's RedeliveryWindow list in handler/deliver_result.go).
export interface RedeliveryWindow {
  /** first failed attempt number this row covers */
  fromAttempt: number;
  /** last failed attempt number this row covers (inclusive) */
  toAttempt: number;
  delaySec: number;
}

export const REDELIVERY_WINDOWS: readonly RedeliveryWindow[] = Object.freeze([
  { fromAttempt: 1, toAttempt: 2, delaySec: 0 },
  { fromAttempt: 3, toAttempt: 9, delaySec: 5 },
  { fromAttempt: 10, toAttempt: 19, delaySec: 10 },
  { fromAttempt: 20, toAttempt: 29, delaySec: 20 },
  { fromAttempt: 30, toAttempt: 39, delaySec: 40 },
  { fromAttempt: 40, toAttempt: 49, delaySec: 80 },
  { fromAttempt: 50, toAttempt: Number.MAX_SAFE_INTEGER, delaySec: 160 },
]);

/** Seconds to wait before the next attempt after attempt `failedAttempt` failed. */
export function retryDelaySec(failedAttempt: number): number {
  for (const window of REDELIVERY_WINDOWS) {
    if (failedAttempt >= window.fromAttempt && failedAttempt <= window.toAttempt) return window.delaySec;
  }
  return 0;
}

/**
 * Seconds until a parked message (no bound group, or its groups waiting for a consumer: doc/architecture.md §6)
 * is looked at again: its age, kept within [minSec, maxSec]. A binding change and a group's first
 * consumer re-drive parked messages at once, so this recheck is only a safety net; backing off
 * with age keeps a backlog for an offline group from being re-read every minute (10^6 messages
 * cost ~30 s of CPU per pass): rechecks at 1, 2, 4, 8 … minutes of age, then hourly.
 */
export function parkRecheckSec(publishTimeSec: number, nowSec: number, minSec: number, maxSec: number): number {
  const ageSec = nowSec - publishTimeSec;
  return Math.max(minSec, Math.min(ageSec, maxSec));
}
