// The admin HTTP server wired to the broker's parts (doc/architecture.md §10): the AdminPort of
// server/http/broker-port.ts and the Prometheus registry of stat/prometheus.ts over the same figures.
import { createMetricsRegistry } from '../../stat/prometheus';
import { AdminServer } from './admin-server';
import { type BrokerPortDeps, createBrokerPort } from './broker-port';

/** Not listening yet: AdminServer.listen(address) starts it. */
export function createAdminServer(deps: BrokerPortDeps): AdminServer {
  const { stats, store } = deps;
  const metrics = createMetricsRegistry({
    stats,
    topics: () => deps.config().topics,
    connections: deps.connections,
    inFlight: () => deps.inFlight.size,
    storeWrites: store.writeStats ? () => store.writeStats?.() : undefined,
    storeDamage: store.damageStats ? () => store.damageStats?.() : undefined,
  });
  return new AdminServer({ port: createBrokerPort(deps), metrics, log: deps.log });
}
