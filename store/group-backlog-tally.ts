// Adds messages (or GROUP BY rows of them) up into per-group backlogs for groupBacklog()
// (doc/console.md "Per-group backlog"): each group the binding table gives a (topic, messageType),
// that is not in the message's succGroups, owes it.
import type { GroupBacklog, GroupBacklogQuery } from './contract';

export class GroupBacklogTally {
  private readonly out: Record<string, GroupBacklog> = {};
  /** groupsOf per `topic \0 messageType`: a scan meets a few types many times */
  private readonly bound = new Map<string, readonly string[]>();

  constructor(
    private readonly query: GroupBacklogQuery,
    private readonly estimated = false,
  ) {}

  /** `count` messages of (topic, messageType) acked by `succGroups`, the oldest published at `oldestPublishTime` */
  add(topic: string, messageType: string, succGroups: readonly string[], oldestPublishTime: number, count = 1): void {
    const key = `${topic}\u0000${messageType}`;
    let groups = this.bound.get(key);
    if (groups === undefined) this.bound.set(key, (groups = this.query.groupsOf(topic, messageType)));
    for (const groupId of groups) {
      if (succGroups.includes(groupId)) continue;
      const backlog = (this.out[groupId] ??= { undelivered: 0, oldestPublishTime: 0, estimated: this.estimated });
      backlog.undelivered += count;
      if (backlog.oldestPublishTime === 0 || oldestPublishTime < backlog.oldestPublishTime) {
        backlog.oldestPublishTime = oldestPublishTime;
      }
    }
  }

  /** true when a message that expired before `nowSec` (expiredTime 0: never) */
  isExpired(expiredTime: number): boolean {
    return expiredTime > 0 && expiredTime < this.query.nowSec;
  }

  result(): Record<string, GroupBacklog> {
    for (const backlog of Object.values(this.out)) backlog.undelivered = Math.round(backlog.undelivered);
    return this.out;
  }
}
