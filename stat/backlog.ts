// Backlog per topic (doc/architecture.md §10): store.countsByTopic() can scan an index or run a SQL COUNT, so
// it is cached and refreshed every few seconds by one timer, never per request or per message.
import type { MessageStore } from '../store/contract';

export class BacklogCache {
  private counts: Record<string, number> = {};
  private refreshedAtMs = 0;
  private running: Promise<void> | null = null;

  constructor(
    private readonly store: Pick<MessageStore, 'countsByTopic'>,
    private readonly nowMs: () => number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Unfinished messages per topic as of the last refresh (topics listed with 0 when empty). */
  byTopic(topics: readonly string[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const topic of topics) out[topic] = 0;
    for (const [topic, n] of Object.entries(this.counts)) out[topic] = n;
    return out;
  }

  get ageMs(): number {
    return this.refreshedAtMs === 0 ? Infinity : this.nowMs() - this.refreshedAtMs;
  }

  /** One refresh at a time; a call during a refresh shares it. */
  refresh(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.store
      .countsByTopic()
      .then(
        (counts) => {
          this.counts = counts;
          this.refreshedAtMs = this.nowMs();
        },
        (error) => this.onError(error),
      )
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }
}
