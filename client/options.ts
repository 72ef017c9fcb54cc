// Everything a KiteQClient is configured with, each default stated once (DEFAULTS) and in TSDoc.
import type { Binding } from '../binding/binding';
import type { Registry } from '../binding/registry';
import type { ClientTlsOptions } from './connection';
import type { Message } from './message-builder';
import { DEFAULT_RETRY, type RetryOptions } from './retry';

/** Consumer callback: true = consumed (DeliverAck status true); false or a throw = redeliver later. */
export type MessageListener = (message: Message) => boolean | Promise<boolean>;
/** A check-back answer: 'unknown' = not decided yet, the broker asks again later. */
export type TxDecision = 'commit' | 'rollback' | 'unknown';
/** Answers a broker check-back about a prepared message this group published (doc/transactions.md). */
export type TxCheckListener = (message: Pick<Message, 'header'>) => TxDecision | Promise<TxDecision>;
/** The local transaction of sendTx: resolve (or return true/nothing) = commit; false or a throw = rollback. */
export type LocalTransaction = (message: Message) => boolean | void | Promise<boolean | void>;

/** Where the client writes its log lines (pino's signature fits). */
export interface ClientLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface ClientOptions {
  /** `zk://host:port[,host:port]`, `file://path.yaml`, or a Registry object (then the caller closes it). */
  registry: string | Registry;
  /** This client's group: the publisher group of its sends, the consumer group of its bindings. */
  groupId: string;
  /** The group's secret key, checked by each broker on connect. */
  secretKey: string;
  /**
   * Topics this client publishes to.
   * @default []
   */
  publishTopics?: string[];
  /**
   * Bindings this client's group consumes (directBinding, regxBinding, fanoutBinding).
   * @default []
   */
  bindings?: Binding[];
  /** Called for every delivered message; without one, deliveries are refused and redelivered later. */
  listener?: MessageListener;
  /** Answers broker check-backs about this group's prepared (transactional) messages. */
  txCheckListener?: TxCheckListener;
  /**
   * Seconds after connecting during which the broker ramps deliveries up (warm-up).
   * @default 0
   */
  warmingupSec?: number;
  /**
   * A request (publish, handshake, heartbeat) with no reply after this long fails with TimeoutError.
   * @default 5000
   */
  requestTimeoutMs?: number;
  /**
   * Interval between heartbeats on each connection.
   * @default 10000
   */
  heartbeatMs?: number;
  /**
   * A TCP (or TLS) connect that takes longer fails and is retried.
   * @default 3000
   */
  connectTimeoutMs?: number;
  /**
   * Retries of a failed publish on another broker or connection (jittered exponential back-off).
   * @default { retries: 5, initialDelayMs: 100, maxDelayMs: 5000, factor: 2, jitter: 0.3 }
   */
  sendRetry?: Partial<RetryOptions>;
  /**
   * Back-off between reconnects to one broker, from 200 ms doubling up to 5 s.
   * @default { retries: Infinity, initialDelayMs: 200, maxDelayMs: 5000, factor: 2, jitter: 0.3 }
   */
  reconnect?: Partial<Omit<RetryOptions, 'retries'>>;
  /**
   * A broker that refused our key is asked again after this long (its config may be fixed); 0 = never.
   * Other brokers are not affected by one broker's refusal.
   * @default 30000
   */
  authRetryMs?: number;
  /**
   * Default time close({ drain: true }) waits for in-flight listener calls and sends.
   * @default 10000
   */
  drainTimeoutMs?: number;
  /**
   * Log lines (connects, reconnects, refusals).
   * @default no logging
   */
  logger?: ClientLogger;
  /**
   * Connect to brokers over TLS (brokers started with --tls-cert/--tls-key).
   * @default plain TCP
   */
  tls?: ClientTlsOptions;
}

export const DEFAULTS = Object.freeze({
  warmingupSec: 0,
  requestTimeoutMs: 5000,
  heartbeatMs: 10_000,
  connectTimeoutMs: 3000,
  authRetryMs: 30_000,
  drainTimeoutMs: 10_000,
  sendRetry: DEFAULT_RETRY,
  reconnect: Object.freeze({
    retries: Infinity,
    initialDelayMs: 200,
    maxDelayMs: 5000,
    factor: 2,
    jitter: 0.3,
  }) as Readonly<RetryOptions>,
});

/** Options with every default filled in. */
export type ResolvedOptions = Required<
  Omit<ClientOptions, 'listener' | 'txCheckListener' | 'logger' | 'tls' | 'sendRetry' | 'reconnect'>
> &
  Pick<ClientOptions, 'listener' | 'txCheckListener' | 'tls'> & {
    logger: ClientLogger;
    sendRetry: RetryOptions;
    reconnect: RetryOptions;
  };

const silent: ClientLogger = { warn() {}, info() {} };

export function resolveOptions(options: ClientOptions): ResolvedOptions {
  return {
    ...options,
    publishTopics: options.publishTopics ?? [],
    bindings: options.bindings ?? [],
    warmingupSec: options.warmingupSec ?? DEFAULTS.warmingupSec,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
    heartbeatMs: options.heartbeatMs ?? DEFAULTS.heartbeatMs,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    authRetryMs: options.authRetryMs ?? DEFAULTS.authRetryMs,
    drainTimeoutMs: options.drainTimeoutMs ?? DEFAULTS.drainTimeoutMs,
    logger: options.logger ?? silent,
    sendRetry: { ...DEFAULTS.sendRetry, ...options.sendRetry },
    reconnect: { ...DEFAULTS.reconnect, ...options.reconnect },
  };
}
