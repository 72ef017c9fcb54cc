// The HTTP gateway wired to the broker's parts (doc/http-gateway.md): the one place that builds it.
// The broker hands over its parts once; routes take what they need from them.
import type { MessageStore } from '../../store/contract';
import { parseFileStoreUri } from '../../store/file/uri';
import type { BrokerStats } from '../../stat/broker-stats';
import type { Bindings } from '../bindings';
import type { Clock } from '../clock';
import type { BrokerConfig } from '../config';
import type { DeliveryEngine } from '../delivery-engine';
import type { GroupAccess } from '../groups';
import type { Logger } from '../logger';
import type { Session } from '../session';
import type { Sessions } from '../sessions';
import { consumeRoutes } from './consume-routes';
import type { GatewayConsumer, GatewayConsumers } from './consumers';
import { tlsFilesFrom } from '../tls';
import { GatewayServer } from './gateway-server';
import { IdJournal } from './id-journal';
import { RecentPublishes } from './idempotency';
import { openApiDocument } from './openapi';
import { publishRoutes } from './publish-routes';
import type { GatewayRoute } from './route';

export interface GatewayDeps {
  config: BrokerConfig;
  log: Logger;
  clock: Clock;
  store: MessageStore;
  /** read per request: a reload's groups apply to the next one */
  access: () => GroupAccess;
  engine: DeliveryEngine;
  sessions: Sessions<Session | GatewayConsumer>;
  /** pull and webhook consumers (server/gateway/consumers.ts) */
  consumers: GatewayConsumers;
  bindings: Bindings;
  stats: BrokerStats;
}

/** Kiteq-Message-Id answers remembered after delivery (doc/http-gateway.md "Idempotency"). */
const IDEMPOTENCY_WINDOW_MS = 10 * 60_000;
const IDEMPOTENCY_MAX_IDS = 200_000;

export interface Gateway {
  readonly server: GatewayServer;
  /** HTTP publishes awaiting their store answer (shutdown waits for them) */
  publishesAwaitingAck(): number;
  /** closes the server's connections and the id journal */
  close(): Promise<void>;
}

export interface GatewayParts {
  recent: RecentPublishes;
  awaiting: { count: number };
}

/** Every route of the gateway, in match order. */
export function gatewayRoutes(deps: GatewayDeps, parts: GatewayParts): GatewayRoute[] {
  const { config, log, clock, store, engine } = deps;
  const nowMs = () => clock.nowMs();
  return [
    ...publishRoutes({
      pipeline: engine.pipeline,
      store,
      maxBodyBytes: config.maxBodyBytes,
      nowMs,
      log,
      recent: parts.recent,
      awaiting: parts.awaiting,
    }),
    ...consumeRoutes({ consumers: deps.consumers, access: deps.access, topics: config.topics }),
  ];
}

/** Not listening yet: `gateway.server.listen(address)` starts it. */
export function createGateway(deps: GatewayDeps): Gateway {
  const nowMs = () => deps.clock.nowMs();
  const parts: GatewayParts = {
    recent: new RecentPublishes({ windowMs: IDEMPOTENCY_WINDOW_MS, maxIds: IDEMPOTENCY_MAX_IDS, nowMs }),
    awaiting: { count: 0 },
  };
  const server = new GatewayServer({
    log: deps.log,
    access: deps.access,
    handshakes: deps.engine.pipeline.handshakes,
    routes: gatewayRoutes(deps, parts),
    openApi: openApiDocument,
    tls: tlsFilesFrom(deps.config),
    maxConnections: deps.config.maxConnections,
  });
  // doc/http-gateway.md "Idempotency": with a file:// store the answered ids outlive a restart
  const journal = deps.config.store.startsWith('file://')
    ? new IdJournal(parseFileStoreUri(deps.config.store).dir, IDEMPOTENCY_WINDOW_MS, nowMs(), parts.recent.restore)
    : null;
  if (journal) parts.recent.keepIn(journal);
  return {
    server,
    publishesAwaitingAck: () => parts.awaiting.count,
    async close() {
      await server.close();
      journal?.close();
    },
  };
}
