// design §6, as data: attempts 1–3 are immediate; after attempt n fails (n ≥ 3) the next waits
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
