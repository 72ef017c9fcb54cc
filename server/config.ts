// Broker configuration: defaults here; CLI flags, KITEQ_* variables and KiteQ's TOML fill it
// (server/cli.ts). Validated once at start: a bad value names the key, the value and what is expected.
import type { GroupConfig } from './groups';
import type { TxFinalAction } from './tx-checker';

export interface BrokerConfig {
  /** host:port to listen on */
  bind: string;
  /** host:port registered in the registry (defaults to bind) */
  advertise?: string;
  registry: string;
  store: string;
  topics: string[];
  /** null: no access control (every group/key accepted) */
  groups: GroupConfig[] | null;
  maxBodyBytes: number;
  /** connection cap: past it new sockets are closed at once, with a log line */
  maxConnections: number;
  /** a connection that has not authenticated (CONN_META) within this is closed */
  authTimeoutMs: number;
  /** refused keys for one group from one address within authFailWindowMs before that pair is blocked for authBlockMs */
  authFailLimit: number;
  authFailWindowMs: number;
  authBlockMs: number;
  /** publishes of one connection awaiting their store-ack; at it, the socket is paused (back-pressure) */
  maxInFlightPublishes: number;
  /** outgoing bytes queued for one connection: past half, no new deliveries; past it, the connection is closed */
  maxBufferedBytes: number;
  /** PEM files: TLS for client connections when cert and key are set; ca requires client certificates */
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  deliveryTimeoutMs: number;
  /** a connection silent (no packet, no heartbeat) this long is evicted */
  clientIdleMs: number;
  /** publishes per second accepted (KiteQ's recievePermitsPerSecond); 0 = unlimited */
  publishPermitsPerSecond: number;
  /** bound on undelivered message bytes held in memory; past it publishes get "overflow" */
  maxUndeliveredBytes: number;
  recoverIntervalMs: number;
  recoverPageSize: number;
  maxRetryScheduled: number;
  txCheckAgeSec: number;
  txCheckIntervalSec: number;
  txMaxChecks: number;
  txFinalAction: TxFinalAction;
  txMaxChecksPerSec: number;
  /** unanswered check-backs allowed on one producer connection at a time (doc/architecture.md §7: no flood) */
  txMaxChecksPerProducer: number;
  /** seconds a message with no bound group waits before it is looked at again */
  noGroupRecheckSec: number;
  /** a parked message is rechecked after its age, at least noGroupRecheckSec and at most this */
  noGroupRecheckMaxSec: number;
  /** a kiteq.deliverAt further ahead than this many seconds is refused (doc/delayed-delivery.md) */
  maxDelaySec: number;
  /** admin HTTP (doc/architecture.md §10): host:port, or a bare port on 127.0.0.1; off when unset */
  http?: string;
  /** bearer token of the admin POST endpoints; without it they answer 403 */
  httpToken?: string;
  /** HTTP gateway (doc/http-gateway.md): host:port, or a bare port on 127.0.0.1; off when unset */
  gateway?: string;
  /**
   * a group pulling over the gateway keeps its binding while it polls at least this often
   * (doc/http-gateway.md "Pull consume"); @default 60
   */
  gatewayIdleSec: number;
  /** SIGTERM/SIGINT: the longest stop() waits for in-flight publishes and deliveries */
  shutdownTimeoutMs: number;
  logLevel: string;
  logPretty: boolean;
  /** mysql:// only: create databases and tables at start */
  initSchema: boolean;
  /**
   * zk:// + mysql://: a broker gone from /kiteq/alive_servers this long has its messages taken over
   * (doc/architecture.md §9)
   */
  takeoverGraceMs: number;
  /** stores with a dead-letter table (mysql://): move expired/over-limit messages every this many ms */
  dlqIntervalMs: number;
  /** 0–23: instead, move them daily at this local hour (KiteQ's dlqExecHour); always once at start */
  dlqExecHour?: number;
}

export const DEFAULT_CONFIG: Readonly<BrokerConfig> = Object.freeze({
  bind: '127.0.0.1:13800',
  registry: 'file://conf/registry.yaml',
  store: 'memory://',
  topics: ['trade', 'user-profile'],
  groups: null,
  maxBodyBytes: 2 * 1024 * 1024,
  maxConnections: 10_000,
  authTimeoutMs: 10_000,
  authFailLimit: 10,
  authFailWindowMs: 10_000,
  authBlockMs: 30_000,
  maxInFlightPublishes: 1000,
  maxBufferedBytes: 64 * 1024 * 1024,
  deliveryTimeoutMs: 5000,
  clientIdleMs: 30_000,
  publishPermitsPerSecond: 0,
  maxUndeliveredBytes: 256 * 1024 * 1024,
  recoverIntervalMs: 5000,
  recoverPageSize: 500,
  maxRetryScheduled: 100_000,
  txCheckAgeSec: 6,
  txCheckIntervalSec: 30,
  txMaxChecks: 15,
  txFinalAction: 'rollback',
  txMaxChecksPerSec: 1000,
  txMaxChecksPerProducer: 200,
  noGroupRecheckSec: 60,
  noGroupRecheckMaxSec: 3600,
  maxDelaySec: 40 * 24 * 3600,
  gatewayIdleSec: 60,
  shutdownTimeoutMs: 10_000,
  logLevel: 'info',
  logPretty: false,
  initSchema: false,
  takeoverGraceMs: 10_000,
  dlqIntervalMs: 10 * 60_000,
});

export class ConfigError extends Error {
  constructor(key: string, value: unknown, expected: string) {
    super(`bad config ${key}=${JSON.stringify(value)}: expected ${expected}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const HOST_PORT = /^[^\s:]+:\d{1,5}$/;

export function validateConfig(config: BrokerConfig): BrokerConfig {
  if (!HOST_PORT.test(config.bind)) throw new ConfigError('bind', config.bind, 'host:port');
  if (config.advertise !== undefined && !HOST_PORT.test(config.advertise))
    throw new ConfigError('advertise', config.advertise, 'host:port');
  if (!/^(file|zk):\/\//.test(config.registry))
    throw new ConfigError('registry', config.registry, 'zk://host:port[,host:port] or file://path.yaml');
  if (!/^(memory|file|mysql):\/\//.test(config.store))
    throw new ConfigError('store', config.store, 'memory://, file:///dir or mysql://host:port?db=...');
  if (config.topics.length === 0 || config.topics.some((t) => !/^[\w.-]+$/.test(t))) {
    throw new ConfigError('topics', config.topics, 'a comma-separated list of topic names ([A-Za-z0-9_.-])');
  }
  const positive: (keyof BrokerConfig)[] = [
    'maxBodyBytes',
    'maxConnections',
    'authTimeoutMs',
    'authFailLimit',
    'authFailWindowMs',
    'authBlockMs',
    'maxInFlightPublishes',
    'maxBufferedBytes',
    'deliveryTimeoutMs',
    'clientIdleMs',
    'maxUndeliveredBytes',
    'recoverIntervalMs',
    'recoverPageSize',
    'maxRetryScheduled',
    'txCheckAgeSec',
    'txCheckIntervalSec',
    'txMaxChecks',
    'txMaxChecksPerSec',
    'txMaxChecksPerProducer',
    'noGroupRecheckSec',
    'noGroupRecheckMaxSec',
    'maxDelaySec',
    'gatewayIdleSec',
    'shutdownTimeoutMs',
    'takeoverGraceMs',
    'dlqIntervalMs',
  ];
  for (const key of positive) {
    const value = config[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
      throw new ConfigError(key, value, 'a positive number');
  }
  if (!(config.publishPermitsPerSecond >= 0))
    throw new ConfigError('publishPermitsPerSecond', config.publishPermitsPerSecond, 'a number ≥ 0 (0 = unlimited)');
  if (config.txFinalAction !== 'rollback' && config.txFinalAction !== 'commit')
    throw new ConfigError('txFinalAction', config.txFinalAction, 'rollback or commit');
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined))
    throw new ConfigError(
      'tlsCert/tlsKey',
      [config.tlsCert, config.tlsKey],
      'both a certificate and a key, or neither',
    );
  if (config.tlsCa !== undefined && config.tlsCert === undefined)
    throw new ConfigError('tlsCa', config.tlsCa, 'only with tlsCert and tlsKey');
  if (config.http !== undefined && !/^([^\s:]+:)?\d{1,5}$/.test(config.http))
    throw new ConfigError('http', config.http, 'host:port, or a port (bound on 127.0.0.1)');
  if (config.gateway !== undefined && !/^([^\s:]+:)?\d{1,5}$/.test(config.gateway))
    throw new ConfigError('gateway', config.gateway, 'host:port, or a port (bound on 127.0.0.1)');
  if (
    config.dlqExecHour !== undefined &&
    !(Number.isInteger(config.dlqExecHour) && config.dlqExecHour >= 0 && config.dlqExecHour <= 23)
  )
    throw new ConfigError('dlqExecHour', config.dlqExecHour, 'an hour 0–23');
  if (!LOG_LEVELS.includes(config.logLevel)) throw new ConfigError('logLevel', config.logLevel, LOG_LEVELS.join('|'));
  return config;
}
