// Per-group backlog (doc/console.md "Per-group backlog"): store.groupBacklog() walks every stored
// message (or runs a GROUP BY), so it runs only while someone reads it (the console's Groups view),
// at most once per max(1 s, 10 × its last duration): at most a tenth of a core, never per message.
import type { GroupBacklog, MessageStore } from '../store/contract';

export interface GroupBacklogSource {
  store: Pick<MessageStore, 'groupBacklog'>;
  /** the groups a message of (topic, messageType) is delivered to now (the binding table) */
  groupsOf: (topic: string, messageType: string) => readonly string[];
  nowMs: () => number;
  onError: (error: unknown) => void;
}

const MIN_INTERVAL_MS = 1000;
/** a refresh waits this many times the last one's duration: the scan's share of a core stays ≤ 1/10 */
const DUTY_FACTOR = 10;

export class GroupBacklogCache {
  private byGroup: Record<string, GroupBacklog> = {};
  private refreshedAtMs = 0;
  /** when the last refresh started and how long it took, failed or not: the pace of the next */
  private startedAtMs = -Infinity;
  private lastDurationMs = 0;
  private running: Promise<void> | null = null;

  constructor(private readonly source: GroupBacklogSource) {}

  /** unix ms of the last refresh; 0 before the first */
  get refreshedAt(): number {
    return this.refreshedAtMs;
  }

  /** The last figures; starts a refresh in the background when they are due for one. */
  read(): Record<string, GroupBacklog> {
    const { nowMs } = this.source;
    if (!this.running && nowMs() - this.startedAtMs >= Math.max(MIN_INTERVAL_MS, DUTY_FACTOR * this.lastDurationMs)) {
      void this.refresh();
    }
    return this.byGroup;
  }

  /** One refresh at a time; a call during a refresh shares it. */
  refresh(): Promise<void> {
    if (this.running) return this.running;
    const { store, groupsOf, nowMs, onError } = this.source;
    const startedMs = (this.startedAtMs = nowMs());
    this.running = store
      .groupBacklog({ groupsOf, nowSec: Math.floor(startedMs / 1000) })
      .then(
        (byGroup) => {
          this.byGroup = byGroup;
          this.refreshedAtMs = nowMs();
        },
        (error) => onError(error),
      )
      .finally(() => {
        this.lastDurationMs = nowMs() - startedMs;
        this.running = null;
      });
    return this.running;
  }
}
