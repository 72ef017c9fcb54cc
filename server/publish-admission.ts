// Publish admission (doc/architecture.md §5 "accept"): a publish is refused with a retriable
// "overflow" while the broker is stopping, while undelivered bodies exceed maxUndeliveredBytes or
// what the consumers drain in DRAIN_SHARE of the delivery timeout, or past the publish rate limit;
// the producer retries it, on this broker or another (doc/delivery.md "Back-pressure").
import type { DeliveryJob } from '../handler/delivery-job';
import { DrainRate } from './drain-rate';
import { TokenBucket } from './token-bucket';

/**
 * Undelivered bytes are bounded to what drains in this share of deliveryTimeoutMs: a delivery
 * written behind them is acked well within the timeout, not redelivered as a duplicate.
 */
export const DRAIN_SHARE = 0.4;
/** the bound never falls below this (at start, and after a quiet spell, the rate is not known) */
export const MIN_UNDELIVERED_BYTES = 16 * 1024 * 1024;

export interface AdmissionLimits {
  /** read at each publish: a reload applies at once */
  readonly maxUndeliveredBytes: number;
  readonly publishPermitsPerSecond: number;
  readonly deliveryTimeoutMs: number;
}

export class PublishAdmission {
  /** body bytes of the deliveries in flight */
  private inFlightBytes = 0;
  private limiter: TokenBucket | null = null;
  private readonly drain: DrainRate;

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly nowMs: () => number,
    private readonly isStopping: () => boolean,
  ) {
    this.drain = new DrainRate(nowMs);
    this.applyRate();
  }

  /** Undelivered bytes held at most now: maxUndeliveredBytes, or less while consumers drain slowly. */
  get undeliveredBound(): number {
    const draining = this.drain.bytesPerSec * (this.limits.deliveryTimeoutMs / 1000) * DRAIN_SHARE;
    return Math.min(this.limits.maxUndeliveredBytes, Math.max(MIN_UNDELIVERED_BYTES, draining));
  }

  admit(bodyBytes: number): boolean {
    if (this.isStopping()) return false; // shutting down: a retriable refusal, the producer goes elsewhere
    if (this.inFlightBytes + bodyBytes > this.limits.maxUndeliveredBytes) return false;
    // one message larger than the drain bound still goes when nothing else waits
    if (this.inFlightBytes > 0 && this.inFlightBytes + bodyBytes > this.undeliveredBound) return false;
    return this.limiter === null || this.limiter.tryTake();
  }

  readonly onJobStart = (job: DeliveryJob): void => {
    this.inFlightBytes += job.bytes;
  };

  readonly onJobDone = (job: DeliveryJob): void => {
    this.inFlightBytes -= job.bytes;
    this.drain.drained(job.bytes);
  };

  /** Rebuilds the token bucket from limits.publishPermitsPerSecond (at start and on reload). */
  applyRate(): void {
    const permits = this.limits.publishPermitsPerSecond;
    this.limiter = permits > 0 ? new TokenBucket(permits, this.nowMs) : null;
  }
}
