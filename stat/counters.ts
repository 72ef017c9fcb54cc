// Broker counters (doc/architecture.md §10): totals and per-topic / per-group / per-(topic, group) flows.
// Plain numbers bumped on the hot path (map lookups, no allocation once a topic or group has
// been seen); /stat, /metrics and the per-second meter (stat/flow-rates.ts) read them.
export type Flow = 'received' | 'stored' | 'rejected' | 'delivered' | 'acked' | 'failed' | 'retried' | 'deadLettered';

export class FlowCounters {
  readonly total: Record<Flow, number> = FlowCounters.fresh();
  readonly byTopic = new Map<string, Record<Flow, number>>();
  readonly byGroup = new Map<string, Record<Flow, number>>();
  /** topic → group → flows, for metrics labelled with both (delivered, acked, failed) */
  readonly byTopicGroup = new Map<string, Map<string, Record<Flow, number>>>();

  static fresh(): Record<Flow, number> {
    return { received: 0, stored: 0, rejected: 0, delivered: 0, acked: 0, failed: 0, retried: 0, deadLettered: 0 };
  }

  bump(flow: Flow, topic: string, groupId?: string, n = 1): void {
    this.total[flow] += n;
    let t = this.byTopic.get(topic);
    if (!t) this.byTopic.set(topic, (t = FlowCounters.fresh()));
    t[flow] += n;
    if (groupId !== undefined) {
      let g = this.byGroup.get(groupId);
      if (!g) this.byGroup.set(groupId, (g = FlowCounters.fresh()));
      g[flow] += n;
      let groups = this.byTopicGroup.get(topic);
      if (!groups) this.byTopicGroup.set(topic, (groups = new Map()));
      let tg = groups.get(groupId);
      if (!tg) groups.set(groupId, (tg = FlowCounters.fresh()));
      tg[flow] += n;
    }
  }
}
