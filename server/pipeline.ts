// The only place that knows the order of the stages (doc/architecture.md §5): decode → access → validate →
// accept → check-message → persist → tx-ack → deliver-prepare → deliver-qos → deliver →
// deliver-result. Each stage is built once and handed its next.
import type { Binding } from '../binding/binding';
import type { BindingTable } from '../binding/matcher';
import { type AcceptingSession, createAcceptStage } from '../handler/accept';
import { createAccessStage } from '../handler/access';
import { createCheckMessageStage } from '../handler/check-message';
import { decodeClientFrame } from '../handler/decode';
import { createDeliverStage } from '../handler/deliver';
import { canReceive, createDeliverPrepareStage } from '../handler/deliver-prepare';
import { RecentParks } from '../handler/recent-parks';
import { DeliverQos } from '../handler/deliver-qos';
import { createDeliverResultStage } from '../handler/deliver-result';
import type { InFlightSet } from '../handler/delivery-in-flight';
import { inStage, StageError, type StageInterceptor } from '../handler/stage-error';
import type { DeliveryJob } from '../handler/delivery-job';
import type { DeliveryRequest } from '../handler/events';
import { createPersistStage } from '../handler/persist';
import { parkRecheckSec } from '../handler/retry-schedule';
import type { SessionPort } from '../handler/session-port';
import { createTxAckStage, type TxAckSession, type TxOutcome } from '../handler/tx-ack';
import type { TxCheckRegistry } from '../handler/tx-check-registry';
import type { TxSerial } from '../handler/tx-serial';
import { validatePacket } from '../handler/validate';
import { ProtocolError } from '../protocol/errors';
import type { Frame } from '../protocol/frame-decoder';
import type { KiteMessage } from '../protocol/messages/message';
import type { TxAck } from '../protocol/messages/tx-ack';
import type { MessageStore, StoredMessage } from '../store/contract';
import type { FlowCounters } from '../stat/counters';
import type { Clock } from './clock';
import type { BrokerConfig } from './config';
import type { GroupAccess } from './groups';
import { HandshakeThrottle } from './limits';
import type { Logger } from './logger';
import type { Session } from './session';

export interface PipelineContext {
  config: BrokerConfig;
  serverName: string;
  store: MessageStore;
  log: Logger;
  access: GroupAccess;
  counters: FlowCounters;
  nowMs: () => number;
  /** the timers of the delivery engine (watermark drain); virtual in tests */
  clock: Clock;
  random: () => number;
  bindings: () => BindingTable;
  consumersOf: (groupId: string) => readonly SessionPort[];
  onAuthenticated: (session: Session) => void;
  /** tests only: wraps each stage of the inbound path as it is built (StageInterceptor) */
  interceptStage?: StageInterceptor;
  /** publish admission: rate limit and undelivered-bytes bound */
  admitPublish: (bodyBytes: number, proceed: (admitted: boolean) => void) => boolean;
  inFlight: InFlightSet;
  onJobStart: (job: DeliveryJob) => void;
  onJobDone: (job: DeliveryJob) => void;
  schedule: (messageId: string, atMs: number) => void;
  /** check-backs awaiting an answer and the per-message decision lock, shared with server/tx-checker.ts */
  txChecks: TxCheckRegistry;
  txSerial: TxSerial;
  onPublishLatency?: (ms: number) => void;
  /** publish received → its first delivery packet written (doc/architecture.md §10 latency histograms) */
  onFirstDelivery?: (ms: number) => void;
  /** true once the broker is shutting down: immediate retries are left to the next start */
  isStopping?: () => boolean;
}

export interface Pipeline {
  onFrame: (session: Session, frame: Frame) => void;
  /**
   * A publish that came without a connection's frame (the HTTP gateway, doc/http-gateway.md): the
   * same stages from validate on, answered by `session.sendStoreAck`. `raw` is the message's
   * protobuf bytes (the delivery body when check-message changes nothing).
   */
  publish: (session: AcceptingSession, opaque: number, message: KiteMessage, raw: Buffer) => void;
  /** A commit or rollback that came without a TX_ACK frame (the HTTP gateway, its checkUrl answers): the tx-ack stage. */
  txAck: (ack: TxAck, session: TxAckSession, opaque: number) => Promise<TxOutcome>;
  /** returns the store write when it settled the message itself (park, finish, dead letter) */
  deliverPrepare: (request: DeliveryRequest) => Promise<unknown> | undefined;
  /** an attempt now would reach a group (handler/deliver-prepare.ts canReceive) */
  canReceive: (message: StoredMessage) => boolean;
  /**
   * A group came online or the bindings changed: re-drives now the messages the publish path parked
   * a moment ago that a group can now receive; returns how many (handler/recent-parks.ts).
   */
  redriveRecentParks: () => number;
  qos: DeliverQos;
  /** the access stage's brute-force protection: refused keys counted per (address, group) */
  handshakes: HandshakeThrottle;
}

const ignore = (): void => undefined;
const asBuilt: StageInterceptor = (_stage, fn) => fn;

/**
 * How long, and how many, publish-path parks are kept for a consumer that is connecting: a moment's
 * worth. They are re-driven all at once, unpaced, so older ones are left to the (paced) scan.
 */
const RECENT_PARK_MS = 2_000;
const RECENT_PARK_MAX = 1_000;

export function buildPipeline(ctx: PipelineContext): Pipeline {
  const { config, store, log, counters, nowMs } = ctx;
  const intercept = ctx.interceptStage ?? asBuilt;
  const topics = new Set(config.topics);

  const logStoreError = (error: unknown, messageId: string) =>
    log.error({ err: error, messageId }, 'store operation failed');
  const storeOp = (what: string, messageId: string, op: Promise<unknown>): Promise<void> =>
    op.then(ignore, (error) => log.error({ err: error, messageId, op: what }, 'store operation failed'));

  const recentParks = new RecentParks(RECENT_PARK_MS, RECENT_PARK_MAX);
  /** a consumer of the group is connected (deliver-prepare targets it; deliver-result re-drives for it) */
  const isOnline = (groupId: string): boolean => ctx.consumersOf(groupId).length > 0;
  // finish and deadLetter resolve once the store has the outcome (deliver-result keeps the message
  // in flight until then); they never reject.
  // not async, like park below: the delete's own promise is enough (one per acked message)
  const finish = ({ message, fly }: DeliveryRequest): Promise<void> | undefined =>
    fly ? undefined : storeOp('delete', message.header.messageId, store.delete(message.header.messageId));
  const deadLetter = async ({ message, fly }: DeliveryRequest, reason: string): Promise<void> => {
    counters.bump('deadLettered', message.header.topic);
    log.warn({ messageId: message.header.messageId, topic: message.header.topic, reason }, 'dead letter');
    if (!fly) await storeOp('deadLetter', message.header.messageId, store.deadLetter(message.header.messageId, reason));
  };
  // Kept for a group that is not bound, or bound but with no consumer online (doc/architecture.md §6: persistent
  // groups wait for their consumers). failGroups [] marks it parked: a binding change or a group's
  // first consumer re-drives it at once (server/recovery.ts); otherwise it is looked at again after
  // noGroupRecheckSec, then less often as it ages (parkRecheckSec). Resolves once recorded; never
  // rejects. Not an async function: its frame would hold the message (body, decoded header) until
  // the record is written; a recovery walk parks 10^6.
  const park = (request: DeliveryRequest): Promise<void> | undefined => {
    const { message, fly } = request;
    if (fly) return undefined; // nothing stored: a fly message is gone by design
    const id = message.header.messageId;
    // just published: its group's consumer may be connecting now (handler/recent-parks.ts)
    if (request.publishedAtMs !== undefined) recentParks.add({ ...request, wire: undefined }, nowMs());
    const nowSec = Math.floor(nowMs() / 1000);
    const nextDeliverTime =
      nowSec + parkRecheckSec(message.publishTime, nowSec, config.noGroupRecheckSec, config.noGroupRecheckMaxSec);
    return storeOp(
      'park',
      id,
      store.recordDelivery(id, {
        succGroups: message.succGroups,
        failGroups: [],
        deliverCount: message.deliverCount,
        nextDeliverTime,
      }),
    );
  };

  // doc/delayed-delivery.md: a scheduled message stays in the store, due at ⌈deliverAt⌉ in whole
  // seconds (never early). Only one due before the next recovery scan goes on the retry heap, at its
  // exact millisecond; a later one is found by a scan and put on the heap then, so a million scheduled
  // messages cost the store's rows and no memory here. Not async, like park.
  const defer = ({ message }: DeliveryRequest, deliverAtMs: number): Promise<void> | undefined => {
    const id = message.header.messageId;
    if (deliverAtMs - nowMs() <= config.recoverIntervalMs + 2000) ctx.schedule(id, deliverAtMs); // the scan's look-ahead, server/recovery.ts
    const nextDeliverTime = Math.ceil(deliverAtMs / 1000);
    if (message.nextDeliverTime >= nextDeliverTime) return undefined; // stored with its time already
    // a committed prepared message still has its check-back time: a restart must not deliver it then
    return storeOp(
      'defer',
      id,
      store.recordDelivery(id, {
        succGroups: message.succGroups,
        failGroups: message.failGroups,
        deliverCount: message.deliverCount,
        nextDeliverTime,
      }),
    );
  };

  const settle = createDeliverResultStage({
    inFlight: ctx.inFlight,
    nowMs,
    finish,
    park,
    isOnline,
    record: (id, result) => store.recordDelivery(id, result),
    toDeliverPrepare: (request) => {
      // Shutting down: the attempt's outcome is recorded (due now); the next broker start retries it
      // instead of burning attempts 2 and 3 on connections that are closing (doc/operations.md).
      if (ctx.isStopping?.()) return;
      counters.bump('retried', request.message.header.topic);
      deliverPrepare(request);
    },
    schedule: ctx.schedule,
    deadLetter,
    onError: logStoreError,
    onGroupResult: (job, groupId, ok) => counters.bump(ok ? 'acked' : 'failed', job.message.header.topic, groupId),
    onJobDone: ctx.onJobDone,
  });
  const deliver = intercept(
    'deliver',
    createDeliverStage({
      consumersOf: ctx.consumersOf,
      nowMs,
      random: ctx.random,
      settle: (job, groupId, ok, handedBack) => settle(job, groupId, ok, handedBack),
    }),
  );
  // Deliveries run from timers and other connections' packets, not one connection's: a bug met
  // there fails that group's attempt (retried on schedule) and the broker serves on (doc/security.md).
  const deliverGuarded = (job: DeliveryJob, binding: Binding): void => {
    try {
      deliver(job, binding);
    } catch (error) {
      const settled = error instanceof StageError && error.stage === 'deliver';
      log.error(
        { err: error, stage: 'deliver', messageId: job.messageId, groupId: binding.groupId },
        'unexpected error in a stage: the delivery counts as failed',
      );
      if (!settled) settle(job, binding.groupId, false);
    }
  };
  const qos = new DeliverQos({
    clock: ctx.clock,
    toDeliver: (job, binding) => {
      counters.bump('delivered', job.message.header.topic, binding.groupId);
      if (job.publishedAtMs !== undefined && ctx.onFirstDelivery) {
        ctx.onFirstDelivery(performance.now() - job.publishedAtMs);
        job.publishedAtMs = undefined;
      }
      deliverGuarded(job, binding);
    },
  });
  const deliverPrepare = createDeliverPrepareStage({
    bindings: ctx.bindings,
    isOnline,
    inFlight: ctx.inFlight,
    nowMs,
    deadLetter,
    park,
    defer,
    finish,
    toDeliverQos: (job) => {
      ctx.onJobStart(job);
      qos.submit(job);
    },
    onUncommitted: ({ message }) =>
      log.error(
        { messageId: message.header.messageId, groupId: message.header.groupId },
        'a prepared message reached delivery: not delivered, left to the check-back',
      ),
  });
  const txAck = intercept(
    'tx-ack',
    createTxAckStage({
      store,
      inFlight: ctx.inFlight,
      checks: ctx.txChecks,
      serial: ctx.txSerial,
      toDeliverPrepare: deliverPrepare,
      // doc/architecture.md §10: no per-message log line on the hot path; refusals and late answers matter.
      onOutcome: (messageId, outcome, feedback, answeredCheck) => {
        // unknownMessage is routine: kiteq-ts clients send a decision to every broker of the topic.
        if (outcome === 'refused') log.warn({ messageId, outcome, feedback, answeredCheck }, 'tx decision not applied');
        else log.debug({ messageId, outcome, feedback, answeredCheck }, 'tx decision');
      },
      onError: logStoreError,
      onNotPublishingGroup: (session, messageId, publishingGroup) =>
        log.warn(
          { remote: session.remote, groupId: session.groupId, messageId, publishingGroup },
          'tx decision refused: the connection is not of the publishing group',
        ),
    }),
  );
  const persist = intercept(
    'persist',
    createPersistStage({
      store,
      inFlight: ctx.inFlight,
      txCheckAgeSec: config.txCheckAgeSec,
      nowMs,
      onStoreError: logStoreError,
      onStored: (event) => {
        counters.bump('stored', event.stored.header.topic);
        ctx.onPublishLatency?.(performance.now() - event.receivedAtMs);
      },
      toDeliverPrepare: deliverPrepare,
    }),
  );
  const checkMessage = intercept(
    'check-message',
    createCheckMessageStage({
      servesTopic: (topic) => topics.has(topic),
      mayPublish: (groupId, topic) => ctx.access.mayPublish(groupId, topic),
      serverName: ctx.serverName,
      maxDelayMs: config.maxDelaySec * 1000,
      nowMs,
      // never rejects by design: a rejection is a bug, and closes the publisher's connection
      toPersist: (event) => void persist(event).catch((error) => event.session.failed('persist', error)),
    }),
  );
  const accept = intercept(
    'accept',
    createAcceptStage({
      admitPublish: ctx.admitPublish,
      toCheckMessage: (event) => {
        counters.bump('received', event.message.header.topic);
        try {
          checkMessage(event);
        } catch (error) {
          throw inStage('check-message', error);
        }
      },
      toTxAck: (ack, session, opaque) =>
        void txAck(ack, session, opaque).catch((error) => session.failed('tx-ack', error)),
      onLateAck: (session, messageId) => log.debug({ remote: session.remote, messageId }, 'late or unknown DeliverAck'),
    }),
  );
  const handshakes = new HandshakeThrottle(config, nowMs, log);
  const access = intercept(
    'access',
    createAccessStage({
      authenticate: (groupId, secretKey) => ctx.access.authenticate(groupId, secretKey),
      refuseUnchecked: (session, groupId) => handshakes.refusal((session as Session).socketAddress, groupId),
      onAuthenticated: (session) => ctx.onAuthenticated(session as Session),
      onRejected: (session, groupId, reason) => {
        log.warn({ remote: session.remote, groupId, reason }, 'authentication refused');
        handshakes.refused((session as Session).socketAddress, groupId);
      },
    }),
  );
  const decode = intercept('decode', decodeClientFrame);
  const validate = intercept('validate', validatePacket);

  // Bad input closes the connection (protocol violation); any other error is a bug met while
  // handling this connection's packet: that connection closes and the broker serves the rest.
  const onFrame = (session: Session, frame: Frame): void => {
    let stage = 'decode';
    try {
      const packet = decode(frame);
      stage = 'validate';
      validate(session, packet);
      stage = packet.kind === 'connMeta' ? 'access' : 'accept';
      if (packet.kind === 'connMeta') access(session, packet.opaque, packet.meta);
      else accept(session, packet);
    } catch (error) {
      if (error instanceof ProtocolError) session.protocolViolation(error);
      else if (error instanceof StageError) session.failed(error.stage, error.cause);
      else session.failed(stage, error);
    }
  };

  const publish = (session: AcceptingSession, opaque: number, message: KiteMessage, raw: Buffer): void => {
    try {
      const packet = { kind: 'publish', opaque, message, raw } as const;
      validate(session, packet);
      accept(session, packet);
    } catch (error) {
      if (error instanceof StageError) session.failed(error.stage, error.cause);
      else session.failed('accept', error);
    }
  };

  const redriveRecentParks = (): number => {
    const taken = recentParks.takeReceivable(({ message }) => canReceive(ctx.bindings(), isOnline, message), nowMs());
    for (const request of taken) deliverPrepare(request);
    return taken.length;
  };

  return {
    onFrame,
    publish,
    txAck,
    deliverPrepare,
    canReceive: (message) => canReceive(ctx.bindings(), isOnline, message),
    redriveRecentParks,
    qos,
    handshakes,
  };
}
