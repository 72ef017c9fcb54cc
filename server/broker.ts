// The broker (doc/architecture.md §1, §5): wires store, registry, listener, sessions and the
// message path (server/delivery-engine.ts), and starts and stops them in order. server/ wires,
// handler/ decides.
import type { Socket } from 'node:net';
import type { BindingTable } from '../binding/matcher';
import { openRegistry } from '../binding/open-registry';
import type { Registry } from '../binding/registry';
import type { TxCheckRegistry } from '../handler/tx-check-registry';
import type { Frame } from '../protocol/frame-decoder';
import type { StageInterceptor } from '../handler/stage-error';
import type { DeadLetter, DeadLetterQuery, MessageStore } from '../store/contract';
import { openStore } from '../store/open';
import type { FlowCounters } from '../stat/counters';
import { BrokerStats } from '../stat/broker-stats';
import type { ReloadResult } from './http/admin-port';
import type { AdminServer } from './http/admin-server';
import { createAdminServer } from './http/admin-wiring';
import { reloadConfig } from './http/reload';
import { Bindings } from './bindings';
import { type Clock, clockWithNow, systemClock } from './clock';
import { type BrokerConfig, validateConfig } from './config';
import { type DeliveryEngine, wireDeliveryEngine } from './delivery-engine';
import { type GatewayConsumer, GatewayConsumers } from './gateway/consumers';
import { createGateway, type Gateway } from './gateway/gateway-wiring';
import { GroupAccess } from './groups';
import { ClientListener } from './listener';
import { createLogger, type Logger } from './logger';
import { Session } from './session';
import { Sessions } from './sessions';
import { Sweep } from './sweep';
import { withTimeout } from './with-timeout';

export interface BrokerOptions {
  log?: Logger;
  nowMs?: () => number;
  /** time and timers of the delivery engine (server/clock.ts); a VirtualClock in tests. Wins over nowMs. */
  clock?: Clock;
  random?: () => number;
  /** a store object instead of config.store (tests) */
  store?: MessageStore;
  /** re-reads the config for POST /reload (server/cli.ts: flags and env as at start, TOML and groups file again) */
  loadConfig?: () => BrokerConfig | Promise<BrokerConfig>;
  /** tests only: wraps each inbound stage as the pipeline is built (a stage that throws) */
  interceptStage?: StageInterceptor;
}

export class Broker {
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly counters: FlowCounters;
  /** flows, latency, backlog, store health (doc/architecture.md §10); read by /stat, /metrics, /healthz */
  readonly stats: BrokerStats;
  readonly store: MessageStore;
  readonly nowMs: () => number;
  readonly clock: Clock;
  private readonly loadConfig: BrokerOptions['loadConfig'];
  /** set by stop(): new publishes are refused (retriable) so producers move to another broker */
  private stopping = false;
  private registry: Registry | null = null;
  private admin: AdminServer | null = null;
  private gateway: Gateway | null = null;
  private readonly listener: ClientListener;
  /** connections, and the HTTP gateway's consumers (doc/http-gateway.md) */
  private readonly sessions = new Sessions<Session | GatewayConsumer>();
  /** pull and webhook consumers of the HTTP gateway (doc/http-gateway.md) */
  private readonly gatewayConsumers: GatewayConsumers;
  private nextSessionId = 1;
  /** rebuilt by reload() when the groups file changes */
  private access: GroupAccess;
  private readonly bindings: Bindings;
  private readonly engine: DeliveryEngine;
  private readonly sweep: Sweep;
  private stopped: Promise<void> | null = null;

  constructor(config: BrokerConfig, options: BrokerOptions = {}) {
    this.config = validateConfig(config);
    this.loadConfig = options.loadConfig;
    this.log = options.log ?? createLogger({ level: config.logLevel, pretty: config.logPretty, name: 'kiteq' });
    this.clock = options.clock ?? (options.nowMs ? clockWithNow(options.nowMs) : systemClock);
    const clock = this.clock;
    this.nowMs = () => clock.nowMs();
    this.store =
      options.store ?? openStore(config.store, { serverName: config.advertise ?? config.bind, logger: this.log });
    this.listener = new ClientListener({
      config: this.config,
      log: this.log,
      onSocket: (socket) => this.onConnection(socket),
    });
    this.stats = new BrokerStats({
      store: this.store,
      nowMs: this.nowMs,
      networkTotals: () => this.listener.networkTotals(),
      onBacklogError: (error) => this.log.error({ err: error }, 'store: counting backlog failed'),
      groupsOf: (topic, messageType) => this.bindings.table.match(topic, messageType).map((b) => b.groupId),
    });
    this.counters = this.stats.counters;
    this.access = new GroupAccess(config.groups);
    this.bindings = new Bindings({
      log: this.log,
      maySubscribe: (groupId, topic) => this.access.maySubscribe(groupId, topic),
      // Messages kept because no group was bound (doc/architecture.md §6) are due again now.
      onChange: () => {
        if (this.listener.opened) this.engine.redriveParked();
      },
    });
    this.engine = wireDeliveryEngine({
      config: this.config,
      serverName: this.serverName,
      store: this.store,
      log: this.log,
      clock: this.clock,
      random: options.random ?? Math.random,
      stats: this.stats,
      access: () => this.access,
      bindings: () => this.bindings.table,
      sessions: this.sessions,
      onAuthenticated: (session) => this.onAuthenticated(session),
      isStopping: () => this.stopping,
      interceptStage: options.interceptStage,
    });
    this.gatewayConsumers = new GatewayConsumers({
      clock: this.clock,
      log: this.log,
      idleLimitMs: this.config.gatewayIdleSec * 1000,
      access: () => this.access,
      join: (consumer) => {
        this.sessions.add(consumer);
        this.consumerJoined(consumer);
      },
      leave: (consumer) => this.sessions.remove(consumer),
      awaiting: (consumer) => this.sessions.awaiting(consumer),
      onRoom: (groupId) => this.redriveParkedOf(groupId),
      bindings: this.bindings,
      registry: () => this.registry,
    });
    const { handshakes } = this.engine.pipeline;
    this.sweep = new Sweep({
      clock,
      config: this.config,
      sessions: this.sessions,
      handshakes,
      listener: this.listener,
    });
  }

  /** check-backs awaiting an answer (doc/architecture.md §7) */
  get txChecks(): TxCheckRegistry {
    return this.engine.txChecks;
  }

  /** host:port this broker registers and writes as kite_server. */
  get serverName(): string {
    return this.config.advertise ?? this.config.bind;
  }

  /** The address actually listened on (a port of 0 in config gets a free one). */
  get address(): string {
    return this.listener.address;
  }

  /** host:port of the HTTP gateway ('' when --gateway is not set). */
  get gatewayAddress(): string {
    return this.gateway?.server.address ?? '';
  }

  /** host:port of the admin HTTP server ('' when --http is not set). */
  get httpAddress(): string {
    return this.admin?.address ?? '';
  }

  // Read by tests and the admin endpoints.
  get sessionCount(): number {
    return this.sessions.size;
  }

  get inFlightCount(): number {
    return this.engine.inFlight.size;
  }

  /** The registry in use (null before start). */
  get registryHandle(): Registry | null {
    return this.registry;
  }

  /** Delayed retries waiting on the retry heap (doc/architecture.md §6). */
  get retryScheduledCount(): number {
    return this.engine.scheduler.size;
  }

  /** a recovery scan (re-drive) is running */
  get recoveryScanning(): boolean {
    return this.engine.recovery.scanning;
  }

  get bindingTable(): BindingTable {
    return this.bindings.table;
  }

  /** doc/architecture.md §6, §10: dead letters per topic/group, paged by messageId. */
  listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]> {
    return this.store.listDeadLetters(query);
  }

  /**
   * doc/architecture.md §6, §10: moves dead letters back (a prepared one is checked back again, doc/transactions.md);
   * resolves with how many.
   */
  redrive(messageIds: string[]): Promise<number> {
    return this.engine.recovery.redrive(messageIds);
  }

  /** Re-drives every dead letter of a topic and/or not acked by a group. */
  redriveWhere(filter: Pick<DeadLetterQuery, 'topic' | 'groupId'>): Promise<number> {
    return this.engine.recovery.redriveWhere(filter);
  }

  async start(): Promise<void> {
    if (this.config.initSchema) await this.initSchema();
    await this.store.start();
    this.registry = openRegistry(this.config.registry, this.log);
    await this.registry.watchBindings(this.config.topics, (bindings) => this.bindings.update(bindings));
    await this.listener.listen();
    await this.registry.registerBroker(this.serverName, this.config.topics);
    await this.engine.start(this.registry);
    this.gatewayConsumers.syncWebhooks();
    this.sweep.start();
    await this.stats.start();
    if (this.config.http !== undefined) await this.startAdmin(this.config.http);
    if (this.config.gateway !== undefined) await this.startGateway(this.config.gateway);
    this.log.info(
      {
        address: this.address,
        http: this.httpAddress || undefined,
        gateway: this.gatewayAddress || undefined,
        registry: this.config.registry,
        store: this.config.store,
        topics: this.config.topics,
      },
      'kiteq-ts broker started',
    );
  }

  /** --init-schema (doc/architecture.md §8): databases and tables before serving; only mysql:// has a schema. */
  private async initSchema(): Promise<void> {
    if (!this.store.createSchema) {
      this.log.warn({ store: this.store.kind }, '--init-schema: this store has no schema to create');
      return;
    }
    await this.store.createSchema();
    this.log.info({ store: this.config.store }, '--init-schema: databases and tables created (if missing)');
  }

  private async startAdmin(address: string): Promise<void> {
    let alive: readonly string[] = [];
    await this.registry
      ?.watchAliveBrokers?.((addresses) => (alive = addresses))
      .catch((error: unknown) => {
        this.log.warn({ err: error }, 'admin HTTP: cannot follow the live brokers; the console lists this one alone');
      });
    this.admin = createAdminServer({
      nowMs: this.nowMs,
      aliveBrokers: () => alive,
      config: () => this.config,
      serverName: this.serverName,
      stats: this.stats,
      store: this.store,
      log: this.log,
      connections: () => this.sessions.size,
      inFlight: this.engine.inFlight,
      sessionsByGroup: () => this.sessions.byGroup,
      bindings: () => this.bindings.table.bindings,
      redrive: (id) => this.engine.recovery.redriveOne(id),
      scheduled: this.engine.scheduled,
      reload: this.loadConfig ? () => this.reload() : null,
    });
    await this.admin.listen(address);
  }

  /** doc/http-gateway.md: built in server/gateway/gateway-wiring.ts */
  private async startGateway(address: string): Promise<void> {
    this.gateway = createGateway({
      config: this.config,
      log: this.log,
      clock: this.clock,
      store: this.store,
      access: () => this.access,
      engine: this.engine,
      sessions: this.sessions,
      consumers: this.gatewayConsumers,
      bindings: this.bindings,
      stats: this.stats,
    });
    await this.gateway.server.listen(address);
  }

  private onConnection(socket: Socket): void {
    const session = new Session(this.nextSessionId++, socket, {
      onFrame: this.onFrame,
      onClose: (s) => this.sessions.remove(s),
      onAwaiting: (s) => this.sessions.awaiting(s),
      log: this.log,
      maxBodyBytes: this.config.maxBodyBytes,
      nowMs: this.nowMs,
      maxInFlightPublishes: this.config.maxInFlightPublishes,
      maxBufferedBytes: this.config.maxBufferedBytes,
    });
    this.sessions.add(session);
  }

  private readonly onFrame = (session: Session, frame: Frame): void => {
    this.stats.framesIn++;
    this.engine.pipeline.onFrame(session, frame);
  };

  private onAuthenticated(session: Session): void {
    this.log.info(
      { remote: session.remote, groupId: session.groupId, warmingupSec: session.warmingupSec },
      'client authenticated',
    );
    this.consumerJoined(session);
  }

  /** A connection authenticated, or a gateway consumer started: a consumer of its group (doc/architecture.md §6). */
  private consumerJoined(session: Session | GatewayConsumer): void {
    // The group's first session: messages parked waiting for a consumer (doc/architecture.md §6) are due now.
    if (this.sessions.authenticated(session)) this.redriveParkedOf(session.groupId);
  }

  /** Only the group's topics: the others' parked messages are not even read (10^6 of them took seconds). */
  private redriveParkedOf(groupId: string): void {
    const topics = [...new Set(this.bindings.table.bindings.filter((b) => b.groupId === groupId).map((b) => b.topic))];
    if (topics.length > 0) this.engine.redriveParked(topics);
  }

  /** POST /reload (doc/architecture.md §10): applies what a running broker can change (server/http/reload.ts). */
  reload(): Promise<ReloadResult> {
    const loadConfig = this.loadConfig;
    if (!loadConfig) return Promise.reject(new Error('no config source to reload from'));
    return reloadConfig({
      config: this.config,
      loadConfig,
      log: this.log,
      onGroupsChanged: () => {
        this.access = new GroupAccess(this.config.groups);
        this.bindings.refilter();
        this.gatewayConsumers.syncWebhooks();
      },
      onPublishRateChanged: () => this.engine.admission.applyRate(),
    });
  }

  /**
   * Stops in the order of doc/operations.md "Shutdown": unregister, refuse publishes and connections,
   * stop work driven from the store, wait up to graceMs for in-flight work, hand back the rest, close.
   */
  stop(graceMs = this.config.shutdownTimeoutMs): Promise<void> {
    // A second call waits for the first: it returns once the broker has stopped, never before.
    this.stopped ??= this.shutDown(graceMs);
    return this.stopped;
  }

  private async shutDown(graceMs: number): Promise<void> {
    this.stopping = true;
    const startedMs = Date.now(); // wall time: the broker's clock may be virtual (tests)
    const deadline = startedMs + graceMs;
    // Registry calls are bounded: a broker cut off from ZooKeeper must still be able to stop.
    await withTimeout(this.registry?.unregisterBroker(), Math.min(3000, graceMs), 'unregister').then(
      () => this.log.info({ address: this.serverName }, 'shutdown: unregistered from the registry'),
      (error) => this.log.warn({ err: error }, 'shutdown: unregister failed'),
    );
    this.listener.close();
    this.gateway?.server.stopAccepting();
    await this.engine.stopWork();
    const busy = () =>
      this.engine.inFlight.size > 0 ||
      this.sessions.publishesAwaitingAck() > 0 ||
      (this.gateway?.publishesAwaitingAck() ?? 0) > 0;
    while (busy() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const handedBack = this.engine.inFlight.size;
    if (handedBack > 0)
      this.log.warn(
        { handedBack, graceMs },
        'shutdown: deliveries still unacked at the deadline are handed back to the store',
      );
    this.sessions.destroyAll();
    // Failed-by-close deliveries record their outcome; give those writes a short, bounded moment.
    const flushBy = Math.min(deadline, Date.now() + 1000);
    while (this.engine.inFlight.size > 0 && Date.now() < flushBy) await new Promise((r) => setTimeout(r, 10));
    this.sweep.stop();
    this.engine.pipeline.qos.stop();
    this.stats.stop();
    await this.gateway?.close();
    await this.admin?.close();
    await withTimeout(this.registry?.close(), 3000, 'registry close').catch(() => undefined);
    await this.store.stop();
    this.log.info({ address: this.address, handedBack, elapsedMs: Date.now() - startedMs }, 'kiteq-ts broker stopped');
  }
}
