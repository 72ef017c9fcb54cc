// Store health (doc/architecture.md §10): a periodic probe, one store.get() of an id that never exists, timed.
// Its latency includes the backend's round trip (an index lookup for file://, a SELECT for mysql://).
import type { MessageStore } from '../store/contract';

export interface StoreHealth {
  ok: boolean;
  /** latency of the last probe, ms */
  probeMs: number;
  /** unix ms of the last probe that answered */
  lastOkAtMs: number;
  /** message of the last failure, when the last probe failed */
  lastError?: string;
}

const PROBE_ID = '00000000000000000000000000000000';

export class StoreProbe {
  private health: StoreHealth = { ok: true, probeMs: 0, lastOkAtMs: 0 };
  private running = false;

  constructor(
    private readonly store: Pick<MessageStore, 'get'>,
    private readonly nowMs: () => number,
    private readonly timeoutMs: number,
  ) {}

  get last(): StoreHealth {
    return this.health;
  }

  async probe(): Promise<StoreHealth> {
    if (this.running) return this.health;
    this.running = true;
    const started = this.nowMs();
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`store did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      });
      await Promise.race([this.store.get(PROBE_ID), timeout]);
      const now = this.nowMs();
      this.health = { ok: true, probeMs: now - started, lastOkAtMs: now };
    } catch (error) {
      this.health = {
        ok: false,
        probeMs: this.nowMs() - started,
        lastOkAtMs: this.health.lastOkAtMs,
        lastError: (error as Error).message,
      };
    } finally {
      clearTimeout(timer);
      this.running = false;
    }
    return this.health;
  }
}
