// GET /overview and GET /history (doc/console.md "Overview"): the console's first page in one answer,
// and the flow ring of stat/flow-history.ts (15 minutes, a sample a second) for its charts.
import type { AdminPort } from './admin-port';
import { HttpError } from './respond';

export async function overview(port: AdminPort) {
  const { stats } = port;
  const topics = port.topics();
  const backlog = stats.backlog.byTopic(topics);
  const now = Date.now();
  return {
    server: port.serverName,
    version: port.version,
    startedAt: new Date(stats.startedAtMs).toISOString(),
    uptimeSec: Math.max(0, Math.round((now - stats.startedAtMs) / 1000)),
    peers: port.peers(),
    topics,
    connections: port.connections(),
    inFlight: port.inFlightCount(),
    flowsLastSecond: stats.flowsLastSecond.total,
    totals: stats.counters.total,
    backlog,
    backlogTotal: Object.values(backlog).reduce((a, b) => a + b, 0),
    backlogAgeMs: Number.isFinite(stats.backlog.ageMs) ? stats.backlog.ageMs : null,
    store: {
      ...port.storeKind,
      health: stats.storeHealth,
      damage: port.storeDamage() ?? null,
      writes: port.storeWrites() ?? null,
      disk: await port.storeDisk().catch(() => null),
    },
    latencyMs: {
      publishToStoreAck: stats.publishToStoreAck.percentiles(),
      publishToDeliver: stats.publishToDeliver.percentiles(),
    },
    publishPermitsPerSecond: port.publishPermitsPerSecond(),
    tokenConfigured: Boolean(port.httpToken()),
  };
}

export function history(port: AdminPort, query: URLSearchParams) {
  const raw = query.get('since');
  const since = raw ? Number(raw) : 0;
  if (!Number.isFinite(since) || since < 0)
    throw new HttpError(400, `since must be epoch milliseconds, got ${JSON.stringify(raw)}`);
  return port.stats.history.snapshot(since);
}
