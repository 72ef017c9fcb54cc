// Publish admission (doc/architecture.md §5 "accept"): a publish is refused with a retriable
// "overflow" while the broker is stopping, while undelivered bodies exceed maxUndeliveredBytes, or
// past the publish rate limit; the producer retries it, on this broker or another.
import type { DeliveryJob } from '../handler/delivery-job';
import { TokenBucket } from './token-bucket';

export interface AdmissionLimits {
  /** read at each publish: a reload applies at once */
  readonly maxUndeliveredBytes: number;
  readonly publishPermitsPerSecond: number;
}

export class PublishAdmission {
  /** body bytes of the deliveries in flight */
  private inFlightBytes = 0;
  private limiter: TokenBucket | null = null;

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly nowMs: () => number,
    private readonly isStopping: () => boolean,
  ) {
    this.applyRate();
  }

  admit(bodyBytes: number): boolean {
    if (this.isStopping()) return false; // shutting down: a retriable refusal, the producer goes elsewhere
    if (this.inFlightBytes + bodyBytes > this.limits.maxUndeliveredBytes) return false;
    return this.limiter === null || this.limiter.tryTake();
  }

  readonly onJobStart = (job: DeliveryJob): void => {
    this.inFlightBytes += job.bytes;
  };

  readonly onJobDone = (job: DeliveryJob): void => {
    this.inFlightBytes -= job.bytes;
  };

  /** Rebuilds the token bucket from limits.publishPermitsPerSecond (at start and on reload). */
  applyRate(): void {
    const permits = this.limits.publishPermitsPerSecond;
    this.limiter = permits > 0 ? new TokenBucket(permits, this.nowMs) : null;
  }
}
