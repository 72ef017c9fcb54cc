// The broker: wires store, registry, listener, sessions and the pipeline; owns broker-wide state
// (sessions, consumers per group, in-flight set, timers). server/ wires, handler/ decides.
import type { Server, Socket } from 'node:net';
import type { Binding } from '../binding/binding';
import { BindingTable } from '../binding/matcher';
import { openRegistry } from '../binding/open-registry';
import type { Registry } from '../binding/registry';
import { InFlightSet } from '../handler/delivery-in-flight';
import type { DeliveryJob } from '../handler/delivery-job';
import type { Frame } from '../protocol/frame-decoder';
import type { SessionPort } from '../handler/session-port';
import type { StageInterceptor } from '../handler/stage-error';
import { TxCheckRegistry } from '../handler/tx-check-registry';
import { TxSerial } from '../handler/tx-serial';
import type { DeadLetter, DeadLetterQuery, MessageStore, StoredMessage } from '../store/contract';
import { openStore } from '../store/open';
import { FlowCounters } from '../stat/counters';
import { BrokerStats } from '../stat/broker-stats';
import { createMetricsRegistry } from '../stat/prometheus';
import type { ReloadResult } from './http/admin-port';
import { AdminServer } from './http/admin-server';
import { createBrokerPort } from './http/broker-port';
import { planReload } from './http/reload';
import { type Clock, type TimerHandle, clockWithNow, systemClock } from './clock';
import { type BrokerConfig, validateConfig } from './config';
import { GroupAccess } from './groups';
import { addressOf, HandshakeLimiter, RefusalTally } from './limits';
import { createLogger, type Logger } from './logger';
import { buildPipeline, type Pipeline } from './pipeline';
import { RecoveryManager, type ScanMode } from './recovery';
import { RetryScheduler } from './retry-scheduler';
import { Session } from './session';
import { createClientListener, tlsFilesFrom } from './tls';
import { TokenBucket } from './token-bucket';
import { TxChecker } from './tx-checker';
import { DlqMover, type DlqMoverStore } from './dlq-mover';
import { TakeoverManager, type TakeoverStore } from './takeover';

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

const SWEEP_MS = 100;
/** re-drives (recovery pages, due retries) pause while this many deliveries are in flight */
const REDRIVE_MAX_IN_FLIGHT = 5000;

export class Broker {
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly counters: FlowCounters;
  /** flows, latency, backlog, store health (design §10); read by /stat, /metrics, /healthz */
  readonly stats: BrokerStats;
  private admin: AdminServer | null = null;
  /** client sockets, for /stat's network figures (bytes read/written); closed ones are summed */
  private readonly sockets = new Set<Socket>();
  private closedSocketBytes = { readBytes: 0, writeBytes: 0 };
  /** set by stop(): new publishes are refused (retriable) so producers move to another broker */
  private stopping = false;
  private readonly loadConfig: BrokerOptions['loadConfig'];
  readonly store: MessageStore;
  readonly nowMs: () => number;
  private registry: Registry | null = null;
  private server: Server | null = null;
  private readonly sessions = new Set<Session>();
  private readonly consumers = new Map<string, Session[]>();
  private table = new BindingTable([]);
  private readonly inFlight = new InFlightSet();
  private inFlightBytes = 0;
  private publishLimiter: TokenBucket | null;
  private readonly pipeline: Pipeline;
  private readonly scheduler: RetryScheduler;
  private readonly recovery: RecoveryManager;
  private readonly txChecker: TxChecker;
  /** design §6, §8: expired/over-limit messages to the dead-letter table on a schedule (mysql://) */
  private readonly dlqMover: DlqMover;
  /** design §9: adopts a dead broker's unfinished messages (zk:// + mysql://); made by start() */
  private takeover: TakeoverManager | null = null;
  /** check-backs awaiting an answer, and one tx decision at a time per message (design §7) */
  readonly txChecks = new TxCheckRegistry();
  private readonly txSerial = new TxSerial();
  readonly clock: Clock;
  private sweepTimer: TimerHandle | null = null;
  private nextSessionId = 1;
  private accepting = false;
  private boundAddress = '';
  /** rebuilt by reload() when the groups file changes */
  private access: GroupAccess;
  private readonly handshakes: HandshakeLimiter;
  private readonly refusals = new RefusalTally();

  constructor(config: BrokerConfig, options: BrokerOptions = {}) {
    this.config = validateConfig(config);
    this.loadConfig = options.loadConfig;
    this.log = options.log ?? createLogger({ level: config.logLevel, pretty: config.logPretty, name: 'kiteq' });
    this.clock = options.clock ?? (options.nowMs ? clockWithNow(options.nowMs) : systemClock);
    const clock = this.clock;
    this.nowMs = () => clock.nowMs();
    const random = options.random ?? Math.random;
    this.store = options.store ?? openStore(config.store, { serverName: config.advertise ?? config.bind, logger: this.log });
    this.stats = new BrokerStats({
      store: this.store,
      nowMs: this.nowMs,
      networkTotals: () => this.networkTotals(),
      onBacklogError: (error) => this.log.error({ err: error }, 'store: counting messages per topic failed'),
    });
    this.counters = this.stats.counters;
    const self = this;
    this.publishLimiter = config.publishPermitsPerSecond > 0 ? new TokenBucket(config.publishPermitsPerSecond, this.nowMs) : null;
    const access = new GroupAccess(config.groups);
    this.access = access;
    this.handshakes = new HandshakeLimiter(config, this.nowMs);
    this.scheduler = new RetryScheduler({
      clock: this.clock,
      maxScheduled: config.maxRetryScheduled,
      onDue: (id) => void this.redeliverById(id),
      hasRoom: () => this.inFlight.size + this.redeliveryReads < REDRIVE_MAX_IN_FLIGHT,
    });
    this.pipeline = buildPipeline({
      config,
      serverName: this.serverName,
      store: this.store,
      log: this.log,
      get access(): GroupAccess {
        return self.access; // read per handshake/publish, so a reload's new groups apply at once
      },
      counters: this.counters,
      onPublishLatency: (ms) => this.stats.publishToStoreAck.recordMs(ms),
      onFirstDelivery: (ms) => this.stats.publishToDeliver.recordMs(ms),
      isStopping: () => this.stopping,
      nowMs: this.nowMs,
      clock: this.clock,
      random,
      bindings: () => this.table,
      consumersOf: (groupId) => this.consumersReading(groupId),
      onAuthenticated: (session) => this.addConsumer(session),
      refuseUnchecked: (session, groupId) => this.handshakeBlocked(session, groupId),
      onAuthRefused: (session, groupId) => this.authRefused(session, groupId),
      interceptStage: options.interceptStage,
      admitPublish: (bytes) => this.admitPublish(bytes),
      inFlight: this.inFlight,
      onJobStart: (job: DeliveryJob) => (this.inFlightBytes += job.bytes),
      onJobDone: (job: DeliveryJob) => (this.inFlightBytes -= job.bytes),
      schedule: (id, atMs) => this.scheduler.schedule(id, atMs),
      txChecks: this.txChecks,
      txSerial: this.txSerial,
    });
    this.recovery = new RecoveryManager({
      store: this.store,
      log: this.log,
      clock: this.clock,
      inFlight: this.inFlight,
      isScheduled: (id) => this.scheduler.has(id),
      schedule: (id, dueMs) => this.scheduler.schedule(id, dueMs),
      toDeliverPrepare: this.pipeline.deliverPrepare,
      canReceive: this.pipeline.canReceive,
      pageSize: config.recoverPageSize,
      maxInFlight: REDRIVE_MAX_IN_FLIGHT,
      intervalMs: config.recoverIntervalMs,
    });
    this.dlqMover = new DlqMover({
      store: this.store as MessageStore & DlqMoverStore,
      log: this.log,
      clock: this.clock,
      schedule: { intervalMs: config.dlqIntervalMs, dailyHour: config.dlqExecHour },
      batch: 1000,
    });
    this.txChecker = new TxChecker(
      {
        store: this.store,
        log: this.log,
        nowMs: this.nowMs,
        random,
        checks: this.txChecks,
        serial: this.txSerial,
        inFlight: this.inFlight,
        producersOf: (groupId) => this.consumers.get(groupId) ?? [],
        deliverCommitted: (message) => this.pipeline.deliverPrepare({ message, attempt: message.deliverCount + 1, fly: false }),
      },
      {
        intervalSec: config.txCheckIntervalSec,
        maxChecks: config.txMaxChecks,
        finalAction: config.txFinalAction,
        maxChecksPerSec: config.txMaxChecksPerSec,
        maxOutstandingPerProducer: config.txMaxChecksPerProducer,
        pollMs: 1000,
      },
    );
  }

  /** host:port this broker registers and writes as kite_server. */
  get serverName(): string {
    return this.config.advertise ?? this.config.bind;
  }

  /** The address actually listened on (a port of 0 in config gets a free one). */
  get address(): string {
    return this.boundAddress;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** The registry in use (null before start): tests and admin endpoints inspect it. */
  get registryHandle(): Registry | null {
    return this.registry;
  }

  /** Delayed retries waiting on the retry heap (design §6). */
  get retryScheduledCount(): number {
    return this.scheduler.size;
  }

  /** a recovery scan (re-drive) is running */
  get recoveryScanning(): boolean {
    return this.recovery.scanning;
  }

  /** design §6, §10: dead letters per topic/group, paged by messageId. */
  listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]> {
    return this.store.listDeadLetters(query);
  }

  /** design §6, §10: moves dead letters back (a prepared one is checked back again, doc/transactions.md); resolves with how many. */
  redrive(messageIds: string[]): Promise<number> {
    return this.recovery.redrive(messageIds);
  }

  /** Re-drives every dead letter of a topic and/or not acked by a group. */
  redriveWhere(filter: Pick<DeadLetterQuery, 'topic' | 'groupId'>): Promise<number> {
    return this.recovery.redriveWhere(filter);
  }

  get bindingTable(): BindingTable {
    return this.table;
  }

  async start(): Promise<void> {
    if (this.config.initSchema) await this.initSchema();
    await this.store.start();
    this.registry = openRegistry(this.config.registry, this.log);
    await this.registry.watchBindings(this.config.topics, (bindings) => this.onBindings(bindings));
    await this.listen();
    await this.registry.registerBroker(this.serverName, this.config.topics);
    await this.startTakeover(this.registry);
    this.sweepTimer = this.clock.setTimeout(this.sweepTick, SWEEP_MS);
    this.recovery.start();
    this.txChecker.start();
    this.dlqMover.start();
    await this.stats.start();
    if (this.config.http !== undefined) await this.startAdmin(this.config.http);
    this.log.info({ address: this.address, http: this.httpAddress || undefined, registry: this.config.registry, store: this.config.store, topics: this.config.topics }, 'kiteq-ts broker started');
  }

  /** --init-schema (design §8): databases and tables before serving; only mysql:// has a schema. */
  private async initSchema(): Promise<void> {
    const store = this.store as MessageStore & { createSchema?(): Promise<void> };
    if (typeof store.createSchema !== 'function') {
      this.log.warn({ store: this.store.kind }, '--init-schema: this store has no schema to create');
      return;
    }
    await store.createSchema();
    this.log.info({ store: this.config.store }, '--init-schema: databases and tables created (if missing)');
  }

  /** design §9: with a registry that can lock (zk://) and a shared store (mysql://); else a no-op. */
  private async startTakeover(registry: Registry): Promise<void> {
    const takeover = new TakeoverManager({
      registry,
      store: this.store as MessageStore & TakeoverStore,
      self: this.serverName,
      log: this.log,
      graceMs: this.config.takeoverGraceMs,
      // the adopted rows are ours now: page them at once instead of at the next periodic scan
      onTakenOver: () => void this.recovery.scan(this.redriveParkedScan()),
    });
    if (!takeover.supported) return;
    this.takeover = takeover;
    await takeover.start();
  }

  private listen(): Promise<void> {
    const [host, port] = splitHostPort(this.config.bind);
    const server = createClientListener(tlsFilesFrom(this.config), {
      onSocket: (socket) => this.onConnection(socket),
      onTlsError: (error, remote) => this.log.warn({ remote, err: error.message }, 'TLS handshake failed: closing connection'),
      handshakeTimeoutMs: this.config.authTimeoutMs,
    });
    // issue 10: past the cap node closes a new socket before reading it; we log (once per burst).
    server.maxConnections = this.config.maxConnections;
    server.on('drop', (data) => {
      if (this.refusals.refused()) this.log.warn({ remote: data?.remoteAddress, maxConnections: this.config.maxConnections }, 'connection refused: max connections reached');
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', (error) => this.log.error({ err: error }, 'listener error'));
        const addr = server.address();
        this.boundAddress = typeof addr === 'object' && addr ? `${host}:${addr.port}` : this.config.bind;
        this.accepting = true;
        resolve();
      });
    });
  }

  private onConnection(socket: Socket): void {
    if (!this.accepting) {
      socket.destroy();
      return;
    }
    const session = new Session(this.nextSessionId++, socket, {
      onFrame: this.onFrame,
      onClose: (s) => this.removeSession(s),
      log: this.log,
      maxBodyBytes: this.config.maxBodyBytes,
      nowMs: this.nowMs,
      maxInFlightPublishes: this.config.maxInFlightPublishes,
      maxBufferedBytes: this.config.maxBufferedBytes,
    });
    this.sessions.add(session);
    this.trackSocket(socket);
  }

  private readonly onFrame = (session: Session, frame: Frame): void => {
    this.stats.framesIn++;
    this.pipeline.onFrame(session, frame);
  };

  /**
   * Refused keys are rate-limited per (remote address, group) (doc/security.md): a blocked pair has
   * its CONN_META refused without the key being looked at. Bad input counts for nothing here.
   */
  private handshakeBlocked(session: Session, groupId: string): string | null {
    const address = addressOf(session.socketAddress);
    const blockedMs = this.handshakes.blockedForMs(address, groupId);
    if (blockedMs === 0) return null;
    return `too many failed handshakes for this group from ${address}: retry in ${Math.ceil(blockedMs / 1000)} s`;
  }

  private authRefused(session: Session, groupId: string): void {
    const address = addressOf(session.socketAddress);
    if (this.handshakes.recordFailure(address, groupId)) {
      this.log.warn({ address, groupId, failures: this.config.authFailLimit, windowMs: this.config.authFailWindowMs, blockMs: this.config.authBlockMs }, 'failed handshakes: group blocked from this address');
    }
  }

  private addConsumer(session: Session): void {
    const list = this.consumers.get(session.groupId) ?? [];
    this.consumers.set(session.groupId, [...list, session]);
    this.log.info({ remote: session.remote, groupId: session.groupId, warmingupSec: session.warmingupSec }, 'client authenticated');
    // The group's first consumer: messages parked waiting for it (design §6) are due now.
    if (list.length === 0 && this.table.bindings.some((b) => b.groupId === session.groupId)) {
      void this.recovery.scan(this.redriveParkedScan());
    }
  }

  /**
   * A group's consumers, minus those passed over (not reading their socket: over half of
   * maxBufferedBytes queued, issue 10; or a delivery timed out and nothing answered since) unless
   * all are; the hard cap in Session.deliver closes consumers that do not read.
   */
  private consumersReading(groupId: string): readonly Session[] {
    const list = this.consumers.get(groupId);
    if (!list) return [];
    for (const session of list) {
      if (!session.passedOver) continue;
      const reading = list.filter((s) => !s.passedOver);
      return reading.length > 0 ? reading : list;
    }
    return list;
  }

  private removeSession(session: Session): void {
    this.sessions.delete(session);
    const list = this.consumers.get(session.groupId);
    if (!list) return;
    const rest = list.filter((s) => s !== session);
    if (rest.length > 0) this.consumers.set(session.groupId, rest);
    else this.consumers.delete(session.groupId);
  }

  /** the registry's bindings as last reported, before the access filter (a reload filters them again) */
  private registryBindings: Binding[] = [];

  private onBindings(all: Binding[]): void {
    this.registryBindings = all;
    // issue 10: a binding of a group that may not subscribe to its topic is not honoured.
    const bindings = all.filter((b) => this.access.maySubscribe(b.groupId, b.topic));
    if (bindings.length < all.length) {
      const refused = all.filter((b) => !bindings.includes(b)).map((b) => `${b.groupId}:${b.topic}/${b.messageType}`);
      this.log.warn({ refused }, 'bindings refused: group may not subscribe to the topic');
    }
    this.table = new BindingTable(bindings);
    this.log.info({ bindings: bindings.map((b) => `${b.groupId}:${b.topic}/${b.messageType}`) }, 'bindings changed');
    // Messages kept because no group was bound (design §6) are due again now.
    if (this.server) void this.recovery.scan(this.redriveParkedScan());
  }

  /**
   * A scan that re-drives every parked message now. Its look-ahead must reach the furthest recheck
   * a park sets (parkRecheckSec: up to noGroupRecheckMaxSec): the scan reads only messages due
   * within it. Retries are due within 160 s anyway, so the wider window adds only parked ones.
   */
  private redriveParkedScan(): ScanMode {
    return { lookaheadSec: Math.max(this.config.noGroupRecheckSec, this.config.noGroupRecheckMaxSec), redriveParked: true };
  }

  private admitPublish(bodyBytes: number): boolean {
    if (this.stopping) return false; // shutting down: a retriable refusal, the producer goes elsewhere
    if (this.inFlightBytes + bodyBytes > this.config.maxUndeliveredBytes) return false;
    return this.publishLimiter === null || this.publishLimiter.tryTake();
  }

  /** due retries being read back from the store (RetryScheduler's room counts them) */
  private redeliveryReads = 0;

  private async redeliverById(messageId: string): Promise<void> {
    let message: StoredMessage | undefined;
    this.redeliveryReads++;
    try {
      message = await this.store.get(messageId);
    } catch (error) {
      this.log.error({ err: error, messageId }, 'store read failed for a due retry; the recovery scan will pick it up');
      return;
    } finally {
      this.redeliveryReads--;
    }
    if (!message || !message.header.commit) return;
    this.counters.bump('retried', message.header.topic);
    this.pipeline.deliverPrepare({ message, attempt: message.deliverCount + 1, fly: false });
  }

  private lastIdleCheckMs = 0;

  /** The sweep re-arms itself on the broker's clock (delivery timeouts, idle eviction: design §6). */
  private readonly sweepTick = (): void => {
    if (this.sweepTimer === null) return; // stopped
    this.sweep();
    this.sweepTimer = this.clock.setTimeout(this.sweepTick, SWEEP_MS);
  };

  private sweep(): void {
    const now = this.nowMs();
    for (const session of this.sessions) session.expirePending(now, this.config.deliveryTimeoutMs);
    if (now - this.lastIdleCheckMs < 1000) return;
    this.lastIdleCheckMs = now;
    this.handshakes.sweep();
    const refused = this.refusals.drain();
    if (refused > 0) this.log.warn({ refused, maxConnections: this.config.maxConnections, sessions: this.sessions.size }, 'connections refused in the last second: max connections reached');
    for (const session of this.sessions) {
      if (!session.authenticated && now - session.connectedAtMs > this.config.authTimeoutMs) session.close(`no CONN_META within ${this.config.authTimeoutMs} ms`);
      else if (now - session.lastSeenMs > this.config.clientIdleMs) session.close(`silent for ${this.config.clientIdleMs} ms (no heartbeat)`);
    }
  }

  /** host:port of the admin HTTP server ('' when --http is not set). */
  get httpAddress(): string {
    return this.admin?.address ?? '';
  }

  private async startAdmin(address: string): Promise<void> {
    const port = createBrokerPort({
      config: () => this.config,
      serverName: this.serverName,
      stats: this.stats,
      store: this.store,
      log: this.log,
      connections: () => this.sessions.size,
      inFlight: this.inFlight,
      consumers: () => this.consumers,
      bindings: () => this.table.bindings,
      redrive: (id) => this.recovery.redriveOne(id),
      reload: this.loadConfig ? () => this.reload() : null,
    });
    const metrics = createMetricsRegistry({
      stats: this.stats,
      topics: () => this.config.topics,
      connections: () => this.sessions.size,
      inFlight: () => this.inFlight.size,
      storeWrites: this.store.writeStats ? () => this.store.writeStats?.() : undefined,
      storeDamage: this.store.damageStats ? () => this.store.damageStats?.() : undefined,
    });
    this.admin = new AdminServer({ port, metrics, log: this.log });
    await this.admin.listen(address);
  }

  private trackSocket(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.closedSocketBytes.readBytes += socket.bytesRead;
      this.closedSocketBytes.writeBytes += socket.bytesWritten;
    });
  }

  private networkTotals(): { readBytes: number; writeBytes: number } {
    let { readBytes, writeBytes } = this.closedSocketBytes;
    for (const socket of this.sockets) {
      readBytes += socket.bytesRead;
      writeBytes += socket.bytesWritten;
    }
    return { readBytes, writeBytes };
  }

  /**
   * POST /reload (design §10): re-reads the config and applies what a running broker can change
   * (server/http/reload.ts LIVE_KEYS); other changed keys are reported as needing a restart.
   */
  async reload(): Promise<ReloadResult> {
    if (!this.loadConfig) throw new Error('no config source to reload from');
    const next = validateConfig(await this.loadConfig());
    const plan = planReload(this.config, next);
    for (const key of plan.live) (this.config as unknown as Record<string, unknown>)[key] = next[key];
    if (plan.live.includes('groups')) {
      this.access = new GroupAccess(this.config.groups);
      // bindings the old groups refused may be allowed now, and the other way round
      this.onBindings(this.registryBindings);
    }
    if (plan.live.includes('publishPermitsPerSecond')) {
      const permits = this.config.publishPermitsPerSecond;
      this.publishLimiter = permits > 0 ? new TokenBucket(permits, this.nowMs) : null;
    }
    if (plan.live.includes('logLevel')) this.log.level = this.config.logLevel;
    this.log.info({ applied: plan.live, restartRequired: plan.restartRequired }, 'config reloaded');
    return { applied: plan.live, restartRequired: plan.restartRequired };
  }

  private publishesAwaitingAck(): number {
    let n = 0;
    for (const session of this.sessions) n += session.inFlightPublishes;
    return n;
  }

  /**
   * design §10 SIGTERM, in this order (doc/operations.md "Shutdown"):
   * 1. unregister from the registry, so clients stop choosing this broker;
   * 2. refuse new publishes (retriable "overflow": the client retries them on another broker) and
   *    new connections; publishes already being stored still get their store-ack;
   * 3. stop starting work from the store (retry heap, recovery scan, tx check-backs);
   * 4. wait, up to graceMs, for publishes awaiting their store-ack and for deliveries in flight
   *    (each ends by ack, nack or the delivery timeout, and its outcome is written to the store);
   * 5. hand back the rest: connections close, unacked deliveries count as failed and stay stored
   *    (a durable store delivers them after the restart);
   * 6. close the admin HTTP server, the registry session and the store (which flushes).
   */
  stop(graceMs = this.config.shutdownTimeoutMs): Promise<void> {
    // A second call waits for the first: it returns once the broker has stopped, never before.
    this.stopped ??= this.shutDown(graceMs);
    return this.stopped;
  }

  private stopped: Promise<void> | null = null;

  private async shutDown(graceMs: number): Promise<void> {
    this.stopping = true;
    const startedMs = Date.now(); // wall time: the broker's clock may be virtual (tests)
    const deadline = startedMs + graceMs;
    // Registry calls are bounded: a broker cut off from ZooKeeper must still be able to stop.
    await withTimeout(this.registry?.unregisterBroker(), Math.min(3000, graceMs), 'unregister').then(
      () => this.log.info({ address: this.serverName }, 'shutdown: unregistered from the registry'),
      (error) => this.log.warn({ err: error }, 'shutdown: unregister failed'),
    );
    this.accepting = false;
    this.server?.close();
    this.scheduler.stop();
    await this.recovery.stop();
    await this.txChecker.stop();
    await this.takeover?.stop();
    await this.dlqMover.stop();
    const busy = () => this.inFlight.size > 0 || this.publishesAwaitingAck() > 0;
    while (busy() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const handedBack = this.inFlight.size;
    if (handedBack > 0) this.log.warn({ handedBack, graceMs }, 'shutdown: deliveries still unacked at the deadline are handed back to the store');
    for (const session of [...this.sessions]) session.destroy();
    // Failed-by-close deliveries record their outcome; give those writes a short, bounded moment.
    const flushBy = Math.min(deadline, Date.now() + 1000);
    while (this.inFlight.size > 0 && Date.now() < flushBy) await new Promise((r) => setTimeout(r, 10));
    if (this.sweepTimer !== null) this.clock.clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
    this.pipeline.qos.stop();
    this.stats.stop();
    await this.admin?.close();
    await withTimeout(this.registry?.close(), 3000, 'registry close').catch(() => undefined);
    await this.store.stop();
    this.log.info({ address: this.address, handedBack, elapsedMs: Date.now() - startedMs }, 'kiteq-ts broker stopped');
  }
}

function withTimeout<T>(promise: Promise<T> | undefined, ms: number, what: string): Promise<T | undefined> {
  if (!promise) return Promise.resolve(undefined);
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]);
}

export function splitHostPort(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}

export type { SessionPort };
