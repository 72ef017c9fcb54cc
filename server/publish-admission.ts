// Publish admission (doc/architecture.md §5 "accept"): a publish is refused with a retriable
// "overflow" while the broker is stopping, past maxUndeliveredBytes (the bytes undelivered and
// waiting here) or past the publish rate limit; the producer retries it, on this broker or
// another. Past what the consumers drain in DRAIN_SHARE of the delivery timeout it waits here
// instead, its store-ack held, until deliveries drain: the producer's window fills and it slows,
// with no refusal and no retry back-off (doc/delivery.md "Back-pressure").
import type { DeliveryJob } from '../handler/delivery-job';
import { DrainRate } from './drain-rate';
import { TokenBucket } from './token-bucket';

/**
 * Undelivered bytes are bounded to what drains in this share of deliveryTimeoutMs: a delivery
 * written behind them is acked well within the timeout, not redelivered as a duplicate.
 */
export const DRAIN_SHARE = 0.2;
/** the bound never falls below this (at start, and after a quiet spell, the rate is not known) */
export const MIN_UNDELIVERED_BYTES = 16 * 1024 * 1024;
const STARTING_MS = 1000;

export interface AdmissionLimits {
  /** read at each publish: a reload applies at once */
  readonly maxUndeliveredBytes: number;
  readonly publishPermitsPerSecond: number;
  readonly deliveryTimeoutMs: number;
}

export class PublishAdmission {
  /** body bytes of the deliveries in flight */
  private inFlightBytes = 0;
  /** publishes admitted but waiting for the drain bound, in arrival order */
  private readonly waiting: { bytes: number; proceed: (admitted: boolean) => void }[] = [];
  private waitingHead = 0;
  private waitingBytes = 0;
  /**
   * Let go and not yet started as jobs (being persisted), oldest first; onJobStart takes them off.
   * One that never starts (refused by validation, bound for no group) is forgotten after STARTING_MS.
   */
  private readonly starting: { bytes: number; atMs: number }[] = [];
  private startingBytes = 0;
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

  /** publishes waiting for deliveries to drain */
  get waitingCount(): number {
    return this.waiting.length - this.waitingHead;
  }

  /**
   * false: refuse it ("overflow"). true: `proceed(true)` is called, now or once enough undelivered bytes
   * have drained (always: every job in flight ends, acked, failed or timed out).
   */
  admit(bodyBytes: number, proceed: (admitted: boolean) => void): boolean {
    if (this.isStopping()) return false; // shutting down: a retriable refusal, the producer goes elsewhere
    if (this.inFlightBytes + this.waitingBytes + bodyBytes > this.limits.maxUndeliveredBytes) return false;
    if (this.limiter !== null && !this.limiter.tryTake()) return false;
    const now = this.nowMs();
    if (this.waitingCount === 0 && this.fits(bodyBytes, now)) this.letGo(bodyBytes, proceed, now);
    else {
      this.waiting.push({ bytes: bodyBytes, proceed });
      this.waitingBytes += bodyBytes;
    }
    return true;
  }

  /** one message larger than the drain bound still goes when nothing else is undelivered */
  private fits(bodyBytes: number, now: number): boolean {
    while (this.starting.length > 0 && now - this.starting[0]!.atMs > STARTING_MS)
      this.startingBytes -= this.starting.shift()!.bytes;
    const held = this.inFlightBytes + this.startingBytes;
    return held === 0 || held + bodyBytes <= this.undeliveredBound;
  }

  private letGo(bodyBytes: number, proceed: (admitted: boolean) => void, now: number): void {
    this.starting.push({ bytes: bodyBytes, atMs: now });
    this.startingBytes += bodyBytes;
    proceed(true);
  }

  readonly onJobStart = (job: DeliveryJob): void => {
    this.inFlightBytes += job.bytes;
    const started = this.starting.shift(); // in order: the pipeline persists publishes in arrival order
    if (started) this.startingBytes -= started.bytes;
  };

  readonly onJobDone = (job: DeliveryJob): void => {
    this.inFlightBytes -= job.bytes;
    this.drain.drained(job.bytes);
    this.release();
  };

  /** Lets waiting publishes go, in order, while they fit; stopping, refuses them all (proceed(false)). */
  private release(): void {
    const stopping = this.isStopping();
    const now = this.nowMs();
    while (this.waitingCount > 0) {
      const next = this.waiting[this.waitingHead]!;
      if (!stopping && !this.fits(next.bytes, now)) break;
      this.waiting[this.waitingHead++] = undefined as never;
      this.waitingBytes -= next.bytes;
      if (stopping) next.proceed(false);
      else this.letGo(next.bytes, next.proceed, now);
    }
    if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
      this.waiting.splice(0, this.waitingHead);
      this.waitingHead = 0;
    }
  }

  /** Rebuilds the token bucket from limits.publishPermitsPerSecond (at start and on reload). */
  applyRate(): void {
    const permits = this.limits.publishPermitsPerSecond;
    this.limiter = permits > 0 ? new TokenBucket(permits, this.nowMs) : null;
  }
}
