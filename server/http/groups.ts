// GET /groups (doc/console.md "Groups and bindings"): per group its bindings, its consumers online
// with their warm-up, its delivery flows of the last second, and the backlog of the topics it binds.
// The stores count unfinished messages per topic only; a per-group backlog and the age of a group's
// oldest undelivered message would need a scan of every message, so they are not given.
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
    perGroupBacklog: false,
  };
}
