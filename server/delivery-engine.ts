// The message path's parts wired to each other (doc/architecture.md §5–§9): the pipeline, publish
// admission, the retry heap and the due retries it reads back, the recovery scan, tx check-backs,
// the dead-letter mover and takeover. The broker starts and stops them; sessions and bindings come
// in deps.
import type { BindingTable } from '../binding/matcher';
import { InFlightSet } from '../handler/delivery-in-flight';
import type { StageInterceptor } from '../handler/stage-error';
import { TxCheckRegistry } from '../handler/tx-check-registry';
import { TxSerial } from '../handler/tx-serial';
import type { MessageStore } from '../store/contract';
import type { BrokerStats } from '../stat/broker-stats';
import type { Clock } from './clock';
import type { BrokerConfig } from './config';
import { DlqMover } from './dlq-mover';
import { CheckUrls } from './gateway/check-url';
import { DueRetries } from './due-retries';
import type { GroupAccess } from './groups';
import type { Logger } from './logger';
import { buildPipeline, type Pipeline } from './pipeline';
import { PublishAdmission } from './publish-admission';
import { RecoveryManager } from './recovery';
import { RetryScheduler } from './retry-scheduler';
import { ScheduledMessages } from './scheduled';
import type { SessionPort } from '../handler/session-port';
import type { Session } from './session';
import type { RegisteredSession, Sessions } from './sessions';
import { TakeoverManager, type TakeoverRegistry } from './takeover';
import { TxChecker } from './tx-checker';

/** re-drives (recovery pages, due retries) pause while this many deliveries are in flight */
const REDRIVE_MAX_IN_FLIGHT = 5000;

export interface DeliveryEngineDeps {
  config: BrokerConfig;
  serverName: string;
  store: MessageStore;
  log: Logger;
  clock: Clock;
  random: () => number;
  stats: BrokerStats;
  /** read per handshake and publish, so a reload's new groups apply at once */
  access: () => GroupAccess;
  bindings: () => BindingTable;
  /** connections and the HTTP gateway's consumers (doc/http-gateway.md) */
  sessions: Pick<Sessions<SessionPort & RegisteredSession>, 'reading' | 'inGroup'>;
  onAuthenticated: (session: Session) => void;
  isStopping: () => boolean;
  interceptStage?: StageInterceptor;
}

export interface DeliveryEngine {
  readonly inFlight: InFlightSet;
  readonly admission: PublishAdmission;
  readonly pipeline: Pipeline;
  readonly scheduler: RetryScheduler;
  readonly recovery: RecoveryManager;
  /** check-backs awaiting an answer (doc/architecture.md §7) */
  readonly txChecks: TxCheckRegistry;
  /** messages with a kiteq.deliverAt ahead: cancel and list (doc/delayed-delivery.md) */
  readonly scheduled: ScheduledMessages;
  /**
   * Starts the work driven from the store: takeover (doc/architecture.md §9: with a registry that
   * can lock, zk://, and a shared store, mysql://), recovery scans, tx check-backs, dead-letter moves.
   */
  start(registry: TakeoverRegistry): Promise<void>;
  /** Stops starting work from the store; resolves once the runs in progress ended. */
  stopWork(): Promise<void>;
  /**
   * Re-drives every parked message now (a binding changed, a group's first session, a takeover);
   * with `topics`, only those of these topics (a group's first session: its topics).
   */
  redriveParked(topics?: readonly string[]): void;
}

export function wireDeliveryEngine(deps: DeliveryEngineDeps): DeliveryEngine {
  const { config, store, log, clock, random, stats, sessions } = deps;
  const nowMs = () => clock.nowMs();
  const inFlight = new InFlightSet();
  const txChecks = new TxCheckRegistry();
  const txSerial = new TxSerial();
  const admission = new PublishAdmission(config, nowMs, deps.isStopping);
  const dueRetries = new DueRetries({
    store,
    log,
    onRetried: (topic) => stats.counters.bump('retried', topic),
    toDeliverPrepare: (request) => pipeline.deliverPrepare(request),
  });
  const scheduler = new RetryScheduler({
    clock,
    maxScheduled: config.maxRetryScheduled,
    onDue: (id) => void dueRetries.redeliver(id),
    hasRoom: () => inFlight.size + dueRetries.reads < REDRIVE_MAX_IN_FLIGHT,
  });
  const pipeline = buildPipeline({
    config,
    serverName: deps.serverName,
    store,
    log,
    get access(): GroupAccess {
      return deps.access();
    },
    counters: stats.counters,
    onPublishLatency: (ms) => stats.publishToStoreAck.recordMs(ms),
    onFirstDelivery: (ms) => stats.publishToDeliver.recordMs(ms),
    isStopping: deps.isStopping,
    nowMs,
    clock,
    random,
    bindings: deps.bindings,
    consumersOf: (groupId) => sessions.reading(groupId),
    onAuthenticated: deps.onAuthenticated,
    interceptStage: deps.interceptStage,
    admitPublish: (bytes, proceed) => admission.admit(bytes, proceed),
    inFlight,
    onJobStart: admission.onJobStart,
    onJobDone: admission.onJobDone,
    schedule: (id, atMs) => scheduler.schedule(id, atMs),
    txChecks,
    txSerial,
  });
  const recovery = new RecoveryManager({
    store,
    log,
    clock,
    inFlight,
    isScheduled: (id) => scheduler.has(id),
    schedule: (id, dueMs) => scheduler.schedule(id, dueMs),
    toDeliverPrepare: pipeline.deliverPrepare,
    canReceive: pipeline.canReceive,
    pageSize: config.recoverPageSize,
    maxInFlight: REDRIVE_MAX_IN_FLIGHT,
    intervalMs: config.recoverIntervalMs,
  });
  const dlqMover = new DlqMover({
    store,
    log,
    clock,
    schedule: { intervalMs: config.dlqIntervalMs, dailyHour: config.dlqExecHour },
    batch: 1000,
  });
  // doc/http-gateway.md "Transactions": a group with a checkUrl is checked back there
  const checkUrls = new CheckUrls({ access: deps.access, txAck: pipeline.txAck, log, nowMs });
  const txChecker = new TxChecker(
    {
      store,
      log,
      nowMs,
      random,
      checks: txChecks,
      serial: txSerial,
      inFlight,
      // a group's checkUrl, else its connections; a gateway consumer cannot answer a check-back
      producersOf: (groupId) => checkUrls.producersOf(groupId) ?? sessions.inGroup(groupId).filter((s) => !s.gateway),
      deliverCommitted: (message) =>
        pipeline.deliverPrepare({ message, attempt: message.deliverCount + 1, fly: false }),
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
  // The scan's look-ahead must reach the furthest recheck a park sets (parkRecheckSec: up to
  // noGroupRecheckMaxSec): it reads only messages due within it. Retries are due within 160 s
  // anyway, so the wider window adds only parked ones.
  const redriveParked = (topics?: readonly string[]): void => {
    // Ahead of the scan: the messages parked a moment ago (handler/recent-parks.ts). The scan walks
    // the backlog in due order and would meet them last.
    const redriven = pipeline.redriveRecentParks();
    if (redriven > 0) log.info({ redriven }, 'recovery: re-drove messages parked a moment ago');
    const lookaheadSec = Math.max(config.noGroupRecheckSec, config.noGroupRecheckMaxSec);
    void recovery.scan(topics ? { lookaheadSec, redriveParked: true, topics } : { lookaheadSec, redriveParked: true });
  };
  let takeover: TakeoverManager | null = null;
  const start = async (registry: TakeoverRegistry): Promise<void> => {
    const candidate = new TakeoverManager({
      registry,
      store,
      self: deps.serverName,
      log,
      graceMs: config.takeoverGraceMs,
      // the adopted rows are ours now: page them at once instead of at the next periodic scan
      onTakenOver: () => redriveParked(),
    });
    if (candidate.supported) {
      takeover = candidate;
      await candidate.start();
    }
    recovery.start();
    txChecker.start();
    dlqMover.start();
  };
  const stopWork = async (): Promise<void> => {
    scheduler.stop();
    await recovery.stop();
    await txChecker.stop();
    await takeover?.stop();
    await dlqMover.stop();
  };
  const scheduled = new ScheduledMessages({ store, inFlight, nowMs, pageSize: config.recoverPageSize });
  return { inFlight, admission, pipeline, scheduler, recovery, txChecks, scheduled, start, stopWork, redriveParked };
}
