// GET /groups (doc/console.md "Groups and bindings"): per group its bindings, its consumers online
// with their warm-up, its delivery flows of the last second, the backlog of the topics it binds, and
// its own backlog with the age of its oldest undelivered message (stat/group-backlog.ts: a cached
// store scan, doc/console.md "Per-group backlog").
import { BindType, effectiveWatermark } from '../../binding/binding';
import type { AdminPort } from './admin-port';

const BIND_TYPE_NAMES: Record<number, string> = {
  [BindType.DIRECT]: 'direct',
  [BindType.REGX]: 'regex',
  [BindType.FANOUT]: 'fanout',
};

export function groupsView(port: AdminPort) {
  const { stats } = port;
  const topicBacklog = stats.backlog.byTopic(port.topics());
  const byGroup = stats.flowsLastSecond.byGroup;
  const consumers = port.consumers();
  const now = Date.now();
  const owed = stats.groupBacklog.read();
  const refreshedAt = stats.groupBacklog.refreshedAt;
  const groups = new Map<string, ReturnType<typeof emptyGroup>>();
  function emptyGroup(groupId: string) {
    const online = consumers[groupId] ?? [];
    return {
      groupId,
      bindings: [] as Record<string, unknown>[],
      consumers: online.map((c) => ({
        remote: c.remote,
        connectedAt: new Date(c.authAtMs).toISOString(),
        warmupSec: c.warmingupSec,
        warmupLeftSec: Math.max(0, Math.ceil((c.authAtMs + c.warmingupSec * 1000 - now) / 1000)),
      })),
      flowsLastSecond: byGroup[groupId] ?? null,
      topicBacklog: {} as Record<string, number>,
      backlog: backlogOf(groupId),
    };
  }
  /** null until the first refresh; a group with nothing owed has 0 and no oldest */
  function backlogOf(groupId: string) {
    if (refreshedAt === 0) return null;
    const b = owed[groupId];
    const oldestMs = b && b.undelivered > 0 ? b.oldestPublishTime * 1000 : 0;
    return {
      undelivered: b?.undelivered ?? 0,
      oldestPublishTime: oldestMs > 0 ? new Date(oldestMs).toISOString() : null,
      oldestAgeSec: oldestMs > 0 ? Math.max(0, Math.round((now - oldestMs) / 1000)) : null,
      estimated: b?.estimated ?? false,
    };
  }
  const groupOf = (groupId: string) => {
    let group = groups.get(groupId);
    if (!group) groups.set(groupId, (group = emptyGroup(groupId)));
    return group;
  };
  for (const binding of port.bindings()) {
    const group = groupOf(binding.groupId);
    group.bindings.push({
      topic: binding.topic,
      messageType: binding.messageType,
      bindType: BIND_TYPE_NAMES[binding.bindType] ?? String(binding.bindType),
      persistent: binding.persistent,
      watermark: effectiveWatermark(binding),
      version: binding.version,
    });
    group.topicBacklog[binding.topic] = topicBacklog[binding.topic] ?? 0;
  }
  for (const groupId of Object.keys(consumers)) groupOf(groupId);
  return {
    groups: [...groups.values()].sort((a, b) => a.groupId.localeCompare(b.groupId)),
    backlogAgeMs: Number.isFinite(stats.backlog.ageMs) ? stats.backlog.ageMs : null,
    groupBacklogAgeMs: refreshedAt === 0 ? null : Math.max(0, now - refreshedAt),
  };
}
