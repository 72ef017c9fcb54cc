// doc/architecture.md §5 "deliver-qos": a per-group token bucket at the binding's watermark (messages/s).
// Over budget, a delivery waits in the group's queue; it does not burn an attempt (doc/architecture.md §6).
import { type Binding, effectiveWatermark } from '../binding/binding';
import type { DeliveryJob } from './delivery-job';

interface Waiting {
  job: DeliveryJob;
  binding: Binding;
}

class GroupBucket {
  tokens: number;
  lastRefillMs: number;
  readonly queue: Waiting[] = [];
  head = 0;

  constructor(
    public ratePerSec: number,
    nowMs: number,
  ) {
    this.tokens = ratePerSec;
    this.lastRefillMs = nowMs;
  }

  refill(nowMs: number): void {
    const elapsed = nowMs - this.lastRefillMs;
    if (elapsed <= 0) return;
    // Burst up to one second's worth, as KiteQ's rate limiter allows.
    this.tokens = Math.min(this.ratePerSec, this.tokens + (elapsed * this.ratePerSec) / 1000);
    this.lastRefillMs = nowMs;
  }

  get waiting(): number {
    return this.queue.length - this.head;
  }
}

/** The clock the broker runs on (server/clock.ts): virtual in tests. */
export interface QosClock {
  nowMs(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface DeliverQosDeps {
  clock: QosClock;
  toDeliver: (job: DeliveryJob, binding: Binding) => void;
}

/** How often a group's queue is looked at while it waits for tokens. */
const DRAIN_MS = 10;

export class DeliverQos {
  private readonly buckets = new Map<string, GroupBucket>();
  private timer: unknown = null;

  constructor(private readonly deps: DeliverQosDeps) {}

  /** Deliveries held back by a watermark right now. */
  get waiting(): number {
    let n = 0;
    for (const bucket of this.buckets.values()) n += bucket.waiting;
    return n;
  }

  readonly submit = (job: DeliveryJob): void => {
    const now = this.deps.clock.nowMs();
    for (const binding of job.targets) {
      const bucket = this.bucketFor(binding, now);
      bucket.refill(now);
      if (bucket.waiting === 0 && bucket.tokens >= 1) {
        bucket.tokens -= 1;
        this.deps.toDeliver(job, binding);
      } else {
        bucket.queue.push({ job, binding });
        this.arm();
      }
    }
  };

  private bucketFor(binding: Binding, now: number): GroupBucket {
    const rate = effectiveWatermark(binding);
    let bucket = this.buckets.get(binding.groupId);
    if (!bucket) {
      bucket = new GroupBucket(rate, now);
      this.buckets.set(binding.groupId, bucket);
    } else if (bucket.ratePerSec !== rate) {
      bucket.ratePerSec = rate; // the binding's watermark changed in the registry
    }
    return bucket;
  }

  private arm(): void {
    if (this.timer === null) this.timer = this.deps.clock.setTimeout(this.drain, DRAIN_MS);
  }

  private readonly drain = (): void => {
    this.timer = null;
    const now = this.deps.clock.nowMs();
    let more = false;
    for (const bucket of this.buckets.values()) {
      bucket.refill(now);
      while (bucket.waiting > 0 && bucket.tokens >= 1) {
        bucket.tokens -= 1;
        const { job, binding } = bucket.queue[bucket.head];
        bucket.queue[bucket.head++] = undefined as unknown as Waiting;
        this.deps.toDeliver(job, binding);
      }
      if (bucket.head > 1024 && bucket.head * 2 > bucket.queue.length) {
        bucket.queue.splice(0, bucket.head);
        bucket.head = 0;
      }
      if (bucket.waiting > 0) more = true;
    }
    if (more) this.arm();
  };

  stop(): void {
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}
