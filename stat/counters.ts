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

  /** (topic, group) → the three records a flow of that pair bumps: one lookup per delivery and ack, not four */
  private readonly pairs = new Map<string, Map<string, PairFlows>>();

  bump(flow: Flow, topic: string, groupId?: string, n = 1): void {
    add(this.total, flow, n);
    if (groupId === undefined) {
      let t = this.byTopic.get(topic);
      if (!t) this.byTopic.set(topic, (t = FlowCounters.fresh()));
      add(t, flow, n);
      return;
    }
    const pair = this.pairOf(topic, groupId);
    add(pair.topic, flow, n);
    add(pair.group, flow, n);
    add(pair.topicGroup, flow, n);
  }

  private pairOf(topic: string, groupId: string): PairFlows {
    let groups = this.pairs.get(topic);
    if (!groups) this.pairs.set(topic, (groups = new Map()));
    let pair = groups.get(groupId);
    if (pair) return pair;
    let t = this.byTopic.get(topic);
    if (!t) this.byTopic.set(topic, (t = FlowCounters.fresh()));
    let g = this.byGroup.get(groupId);
    if (!g) this.byGroup.set(groupId, (g = FlowCounters.fresh()));
    let byGroup = this.byTopicGroup.get(topic);
    if (!byGroup) this.byTopicGroup.set(topic, (byGroup = new Map()));
    let tg = byGroup.get(groupId);
    if (!tg) byGroup.set(groupId, (tg = FlowCounters.fresh()));
    pair = { topic: t, group: g, topicGroup: tg };
    groups.set(groupId, pair);
    return pair;
  }
}

interface PairFlows {
  topic: Record<Flow, number>;
  group: Record<Flow, number>;
  topicGroup: Record<Flow, number>;
}

/**
 * record[flow] += n by a named property per flow. `record[flow]` with the flow a variable is a
 * megamorphic keyed access (V8's generic lookup), ~180 instructions each under callgrind, and a
 * message bumps four flows on up to four records each (doc/scaling.md, CPU per message).
 */
function add(record: Record<Flow, number>, flow: Flow, n: number): void {
  switch (flow) {
    case 'received':
      record.received += n;
      return;
    case 'stored':
      record.stored += n;
      return;
    case 'delivered':
      record.delivered += n;
      return;
    case 'acked':
      record.acked += n;
      return;
    case 'failed':
      record.failed += n;
      return;
    case 'rejected':
      record.rejected += n;
      return;
    case 'retried':
      record.retried += n;
      return;
    case 'deadLettered':
      record.deadLettered += n;
      return;
  }
}
