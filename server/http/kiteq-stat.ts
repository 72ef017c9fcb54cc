// /stat and /binds with KiteQ's JSON field names (blackbeans/kiteq server/kiteq_server_monitor.go:
// HandleStat → {"kiteq": kiteqstat, "network": turbo.NetworkStat}; HandleBindings → BindInfo), so
// dashboards built for KiteQ (kiteq-ops polls /stat and /binds) keep working. kiteq-ts's own
// figures (flows per group, latency, store health) ride along under "kiteq_ts"; an extra key does
// not disturb a Go json.Unmarshal of KiteQ's shape. The misspellings are KiteQ's own.
import { effectiveWatermark } from '../../binding/binding';
import type { AdminPort } from './admin-port';

export interface KiteqStat {
  goroutine: number;
  deliver_go: number;
  deliver_count: number;
  recieve_count: number;
  message_count: Record<string, number>;
  topics_deliver: Record<string, number>;
  topics_recieve: Record<string, number>;
  groups: Record<string, string[]>;
  accept_limiter: [number, number];
}

export interface KiteqNetworkStat {
  read_count: number;
  read_bytes: number;
  write_count: number;
  write_bytes: number;
  dispool_size: number;
  dispool_cap: number;
  /** older turbo versions (and kiteq-ops) name the dispatcher figure this way */
  dispatcher_go: number;
  connections: number;
}

export function kiteqStat(port: AdminPort): { kiteq: KiteqStat; network: KiteqNetworkStat; kiteq_ts: unknown } {
  const { stats } = port;
  const flows = stats.flowsLastSecond;
  const topics = port.topics();
  const topicsDeliver: Record<string, number> = {};
  const topicsRecieve: Record<string, number> = {};
  for (const topic of topics) topicsDeliver[topic] = topicsRecieve[topic] = 0;
  for (const [topic, f] of Object.entries(flows.byTopic)) {
    topicsDeliver[topic] = f.delivered;
    topicsRecieve[topic] = f.received;
  }
  const net = stats.networkLastSecond;
  const inFlight = port.inFlightCount();
  const connections = port.connections();
  const permits = port.publishPermitsPerSecond();
  return {
    kiteq: {
      // No goroutines in Node: the concurrent work units are connections plus deliveries in flight.
      goroutine: connections + inFlight,
      deliver_go: inFlight,
      deliver_count: flows.total.delivered,
      recieve_count: flows.total.received,
      message_count: stats.backlog.byTopic(topics),
      topics_deliver: topicsDeliver,
      topics_recieve: topicsRecieve,
      groups: port.onlineGroups(),
      accept_limiter: [flows.total.received, permits],
    },
    network: {
      read_count: net.readCount,
      read_bytes: net.readBytes,
      write_count: net.writeCount,
      write_bytes: net.writeBytes,
      dispool_size: inFlight,
      dispool_cap: 0,
      dispatcher_go: inFlight,
      connections,
    },
    kiteq_ts: {
      server: port.serverName,
      flows_last_second: flows,
      totals: stats.counters.total,
      latency_ms: {
        publish_to_store_ack: stats.publishToStoreAck.percentiles(),
        publish_to_deliver: stats.publishToDeliver.percentiles(),
      },
      store: stats.storeHealth,
      store_damage: port.storeDamage() ?? null,
      backlog_age_ms: Number.isFinite(stats.backlog.ageMs) ? stats.backlog.ageMs : null,
      // doc/delayed-delivery.md "Counting": null when the store keeps no count (mysql://)
      scheduled_messages: stats.scheduledMessages(),
    },
  };
}

/** KiteQ's BindInfo: topic → groups bound, and topic → group → [delivered last second, watermark]. */
export function kiteqBinds(port: AdminPort): {
  topic_2_groups: Record<string, string[]>;
  topic_limiters: Record<string, Record<string, [number, number]>>;
} {
  const topic2Groups: Record<string, string[]> = {};
  const limiters: Record<string, Record<string, [number, number]>> = {};
  const byGroup = port.stats.flowsLastSecond.byGroup;
  for (const binding of port.bindings()) {
    const groups = (topic2Groups[binding.topic] ??= []);
    if (!groups.includes(binding.groupId)) groups.push(binding.groupId);
    (limiters[binding.topic] ??= {})[binding.groupId] = [
      byGroup[binding.groupId]?.delivered ?? 0,
      effectiveWatermark(binding),
    ];
  }
  for (const groups of Object.values(topic2Groups)) groups.sort();
  return { topic_2_groups: topic2Groups, topic_limiters: limiters };
}
