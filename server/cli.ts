#!/usr/bin/env -S node --initial-old-space-size=64
// kiteq-server: flags (each also a KITEQ_* environment variable), defaults that run a broker on
// one machine with nothing else installed (file registry, embedded store).
// The shebang (and `npm start`) give V8 a 64 MB initial old-generation limit: with its default, a
// heap as small as the broker's is marked and compacted every few hundred ms whatever it allocates,
// and those pauses become the p99 (doc/operations.md). It is a launch flag
// only: V8 reads it when the heap is set up, and NODE_OPTIONS does not take it.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { Broker } from './broker';
import { type BrokerConfig, ConfigError, DEFAULT_CONFIG } from './config';
import { loadGroupsFile } from './groups';
import { loadKiteqToml, type TomlCluster } from './toml-config';

const PACKAGE_ROOT = resolve(__dirname, '..', '..');

/** A path given relative to the working directory, else to the package (so `npx kiteq-server` works anywhere). */
function localOrPackaged(path: string): string {
  return existsSync(path) ? resolve(path) : resolve(PACKAGE_ROOT, path);
}

function num(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new ConfigError(name, value, 'a number');
    return n;
  };
}

export function buildCommand(): Command {
  const opt = (flags: string, description: string, env: string) => new Option(flags, description).env(env);
  return new Command('kiteq-server')
    .description('kiteq-ts: a KiteQ-compatible message broker')
    .addOption(opt('--bind <host:port>', 'address to listen on for clients', 'KITEQ_BIND').default(DEFAULT_CONFIG.bind))
    .addOption(
      opt('--advertise <host:port>', 'address registered in the registry (default: --bind)', 'KITEQ_ADVERTISE'),
    )
    .addOption(
      opt('--registry <uri>', 'zk://host:port[,host:port] or file://path.yaml', 'KITEQ_REGISTRY').default(
        'file://conf/registry.yaml',
      ),
    )
    .addOption(
      opt('--store <uri>', 'memory://, file:///dir?fsync=batch or mysql://host:port?db=kite', 'KITEQ_STORE').default(
        'file://./data',
      ),
    )
    .addOption(
      opt('--topics <list>', 'comma-separated topics this broker serves', 'KITEQ_TOPICS').default(
        DEFAULT_CONFIG.topics.join(','),
      ),
    )
    .addOption(
      opt(
        '--groups <file>',
        'YAML of groups and secret keys (groups: [{groupId, secretKey, publish, subscribe}]); "none" accepts every group',
        'KITEQ_GROUPS',
      ).default('conf/groups.yaml'),
    )
    .addOption(
      opt(
        '--delivery-timeout-ms <ms>',
        'a delivery not acked within this counts as failed',
        'KITEQ_DELIVERY_TIMEOUT_MS',
      )
        .argParser(num('deliveryTimeoutMs'))
        .default(DEFAULT_CONFIG.deliveryTimeoutMs),
    )
    .addOption(
      opt('--max-body-bytes <n>', 'largest packet body accepted; larger closes the connection', 'KITEQ_MAX_BODY_BYTES')
        .argParser(num('maxBodyBytes'))
        .default(DEFAULT_CONFIG.maxBodyBytes),
    )
    .addOption(
      opt(
        '--max-connections <n>',
        'client connections at once; past it new sockets are closed at once',
        'KITEQ_MAX_CONNECTIONS',
      )
        .argParser(num('maxConnections'))
        .default(DEFAULT_CONFIG.maxConnections),
    )
    .addOption(
      opt(
        '--auth-timeout-ms <ms>',
        'close a connection that sent no CONN_META (or TLS handshake) within this',
        'KITEQ_AUTH_TIMEOUT_MS',
      )
        .argParser(num('authTimeoutMs'))
        .default(DEFAULT_CONFIG.authTimeoutMs),
    )
    .addOption(
      opt(
        '--auth-fail-limit <n>',
        'refused keys for one group from one address within --auth-fail-window-ms before that group is blocked from it',
        'KITEQ_AUTH_FAIL_LIMIT',
      )
        .argParser(num('authFailLimit'))
        .default(DEFAULT_CONFIG.authFailLimit),
    )
    .addOption(
      opt('--auth-fail-window-ms <ms>', 'window over which refused keys are counted', 'KITEQ_AUTH_FAIL_WINDOW_MS')
        .argParser(num('authFailWindowMs'))
        .default(DEFAULT_CONFIG.authFailWindowMs),
    )
    .addOption(
      opt(
        '--auth-block-ms <ms>',
        'how long a blocked (address, group) has its handshakes refused',
        'KITEQ_AUTH_BLOCK_MS',
      )
        .argParser(num('authBlockMs'))
        .default(DEFAULT_CONFIG.authBlockMs),
    )
    .addOption(
      opt(
        '--max-inflight-publishes <n>',
        'un-acked publishes per connection before its socket is paused',
        'KITEQ_MAX_INFLIGHT_PUBLISHES',
      )
        .argParser(num('maxInFlightPublishes'))
        .default(DEFAULT_CONFIG.maxInFlightPublishes),
    )
    .addOption(
      opt(
        '--max-buffered-bytes <n>',
        'outgoing bytes queued per connection; past half no new deliveries, past it the connection is closed',
        'KITEQ_MAX_BUFFERED_BYTES',
      )
        .argParser(num('maxBufferedBytes'))
        .default(DEFAULT_CONFIG.maxBufferedBytes),
    )
    .addOption(opt('--tls-cert <file>', 'PEM certificate: serve clients over TLS (with --tls-key)', 'KITEQ_TLS_CERT'))
    .addOption(opt('--tls-key <file>', 'PEM private key for --tls-cert', 'KITEQ_TLS_KEY'))
    .addOption(opt('--tls-ca <file>', 'PEM CA bundle: require client certificates signed by it', 'KITEQ_TLS_CA'))
    .addOption(
      opt('--client-idle-ms <ms>', 'evict a connection silent (no heartbeat) this long', 'KITEQ_CLIENT_IDLE_MS')
        .argParser(num('clientIdleMs'))
        .default(DEFAULT_CONFIG.clientIdleMs),
    )
    .addOption(
      opt(
        '--publish-permits <n>',
        'publishes accepted per second, 0 = unlimited (KiteQ recievePermitsPerSecond)',
        'KITEQ_PUBLISH_PERMITS',
      )
        .argParser(num('publishPermitsPerSecond'))
        .default(DEFAULT_CONFIG.publishPermitsPerSecond),
    )
    .addOption(
      opt(
        '--max-undelivered-bytes <n>',
        'bound on undelivered bytes in memory; past it publishes get "overflow"',
        'KITEQ_MAX_UNDELIVERED_BYTES',
      )
        .argParser(num('maxUndeliveredBytes'))
        .default(DEFAULT_CONFIG.maxUndeliveredBytes),
    )
    .addOption(
      opt('--recover-interval-ms <ms>', 'how often stored due messages are re-driven', 'KITEQ_RECOVER_INTERVAL_MS')
        .argParser(num('recoverIntervalMs'))
        .default(DEFAULT_CONFIG.recoverIntervalMs),
    )
    .addOption(
      opt('--tx-check-age-sec <s>', 'age of a prepared message before its first check-back', 'KITEQ_TX_CHECK_AGE_SEC')
        .argParser(num('txCheckAgeSec'))
        .default(DEFAULT_CONFIG.txCheckAgeSec),
    )
    .addOption(
      opt('--tx-check-interval-sec <s>', 'wait between check-backs of one message', 'KITEQ_TX_CHECK_INTERVAL_SEC')
        .argParser(num('txCheckIntervalSec'))
        .default(DEFAULT_CONFIG.txCheckIntervalSec),
    )
    .addOption(
      opt('--tx-max-checks <n>', 'check-backs before the final action', 'KITEQ_TX_MAX_CHECKS')
        .argParser(num('txMaxChecks'))
        .default(DEFAULT_CONFIG.txMaxChecks),
    )
    .addOption(
      opt(
        '--tx-final-action <action>',
        'after the last check-back: rollback (kept as a dead letter) or commit',
        'KITEQ_TX_FINAL_ACTION',
      )
        .choices(['rollback', 'commit'])
        .default(DEFAULT_CONFIG.txFinalAction),
    )
    .addOption(
      opt(
        '--max-delay <s>',
        'refuse a message whose kiteq.deliverAt is further ahead than this many seconds (default 40 days)',
        'KITEQ_MAX_DELAY',
      )
        .argParser(num('maxDelaySec'))
        .default(DEFAULT_CONFIG.maxDelaySec),
    )
    .addOption(
      opt(
        '--http <host:port>',
        'admin HTTP (/stat /binds /metrics /healthz /messages /dlq /reload); a bare port binds 127.0.0.1; off unless set',
        'KITEQ_HTTP',
      ),
    )
    .addOption(
      opt(
        '--http-token <token>',
        'bearer token required by the admin POST endpoints (refused without one)',
        'KITEQ_HTTP_TOKEN',
      ),
    )
    .addOption(
      opt(
        '--gateway <host:port>',
        'HTTP gateway: publish and consume over HTTP (doc/http-gateway.md); a bare port binds 127.0.0.1; TLS with --tls-*; off unless set',
        'KITEQ_GATEWAY',
      ),
    )
    .addOption(
      opt(
        '--gateway-idle <s>',
        'a group pulling over the gateway keeps its binding while it polls at least this often',
        'KITEQ_GATEWAY_IDLE',
      )
        .argParser(num('gatewayIdleSec'))
        .default(DEFAULT_CONFIG.gatewayIdleSec),
    )
    .addOption(
      opt('--config <file>', "KiteQ's TOML (conf/cluster.toml); below flags and KITEQ_* variables", 'KITEQ_CONFIG'),
    )
    .addOption(
      opt(
        '--cluster <name>',
        'the [clusters.<name>] section of --config (KiteQ -clusterName)',
        'KITEQ_CLUSTER',
      ).default('default_dev'),
    )
    .addOption(
      opt(
        '--shutdown-timeout-ms <ms>',
        'SIGTERM/SIGINT: longest wait for in-flight publishes and deliveries',
        'KITEQ_SHUTDOWN_TIMEOUT_MS',
      )
        .argParser(num('shutdownTimeoutMs'))
        .default(DEFAULT_CONFIG.shutdownTimeoutMs),
    )
    .addOption(opt('--init-schema', 'mysql:// store: create databases and tables, then serve', 'KITEQ_INIT_SCHEMA'))
    .addOption(
      opt(
        '--takeover-grace-ms <ms>',
        'zk:// + mysql://: take over the messages of a broker gone from alive_servers this long',
        'KITEQ_TAKEOVER_GRACE_MS',
      )
        .argParser(num('takeoverGraceMs'))
        .default(DEFAULT_CONFIG.takeoverGraceMs),
    )
    .addOption(
      opt(
        '--dlq-interval-ms <ms>',
        'mysql://: move expired and over-limit messages to kite_msg_dlq at start, then every this many ms',
        'KITEQ_DLQ_INTERVAL_MS',
      )
        .argParser(num('dlqIntervalMs'))
        .default(DEFAULT_CONFIG.dlqIntervalMs),
    )
    .addOption(
      opt(
        '--dlq-exec-hour <hour>',
        'mysql://: instead of the interval, daily at this local hour 0-23 (KiteQ dlqExecHour); still once at start',
        'KITEQ_DLQ_EXEC_HOUR',
      ).argParser(num('dlqExecHour')),
    )
    .addOption(
      opt('--log-level <level>', 'trace|debug|info|warn|error', 'KITEQ_LOG_LEVEL').default(DEFAULT_CONFIG.logLevel),
    )
    .addOption(opt('--log-pretty', 'human-readable logs instead of JSON', 'KITEQ_LOG_PRETTY'));
}

export function configFromOptions(o: Record<string, unknown>): BrokerConfig {
  const registry = String(o.registry);
  const groupsPath = String(o.groups);
  return {
    ...DEFAULT_CONFIG,
    bind: String(o.bind),
    advertise: o.advertise as string | undefined,
    registry: registry.startsWith('file://') ? `file://${localOrPackaged(registry.slice('file://'.length))}` : registry,
    store: String(o.store),
    topics: String(o.topics)
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
    groups: groupsPath === 'none' ? null : loadGroupsFile(localOrPackaged(groupsPath)),
    deliveryTimeoutMs: o.deliveryTimeoutMs as number,
    maxBodyBytes: o.maxBodyBytes as number,
    clientIdleMs: o.clientIdleMs as number,
    maxConnections: o.maxConnections as number,
    authTimeoutMs: o.authTimeoutMs as number,
    authFailLimit: o.authFailLimit as number,
    authFailWindowMs: o.authFailWindowMs as number,
    authBlockMs: o.authBlockMs as number,
    maxInFlightPublishes: o.maxInflightPublishes as number,
    maxBufferedBytes: o.maxBufferedBytes as number,
    tlsCert: o.tlsCert as string | undefined,
    tlsKey: o.tlsKey as string | undefined,
    tlsCa: o.tlsCa as string | undefined,
    publishPermitsPerSecond: o.publishPermits as number,
    maxUndeliveredBytes: o.maxUndeliveredBytes as number,
    recoverIntervalMs: o.recoverIntervalMs as number,
    txCheckAgeSec: o.txCheckAgeSec as number,
    maxDelaySec: o.maxDelay as number,
    txCheckIntervalSec: o.txCheckIntervalSec as number,
    txMaxChecks: o.txMaxChecks as number,
    txFinalAction: o.txFinalAction as BrokerConfig['txFinalAction'],
    http: o.http as string | undefined,
    httpToken: o.httpToken as string | undefined,
    gateway: o.gateway as string | undefined,
    gatewayIdleSec: o.gatewayIdle as number,
    initSchema: Boolean(o.initSchema),
    takeoverGraceMs: o.takeoverGraceMs as number,
    dlqIntervalMs: o.dlqIntervalMs as number,
    dlqExecHour: o.dlqExecHour as number | undefined,
    logLevel: String(o.logLevel),
    logPretty: Boolean(o.logPretty),
    shutdownTimeoutMs: o.shutdownTimeoutMs as number,
  };
}

/**
 * Precedence (doc/architecture.md §10): flags > KITEQ_* variables > KiteQ's TOML (--config/--cluster) > defaults.
 * Commander records where each value came from; a TOML value only fills an option still at its default.
 */
export function resolveConfig(argv: string[]): { config: BrokerConfig; toml: TomlCluster | null } {
  const command = buildCommand().exitOverride().parse(argv);
  const opts = command.opts();
  let toml: TomlCluster | null = null;
  if (opts.config !== undefined) {
    toml = loadKiteqToml(String(opts.config), String(opts.cluster));
    const fromDefault = (key: string) => {
      const source = command.getOptionValueSource(key);
      return source === undefined || source === 'default';
    };
    for (const [key, value] of Object.entries(toml.options)) {
      if (value !== undefined && fromDefault(key)) command.setOptionValueWithSource(key, value, 'config');
    }
    if (toml.missingRegistry && fromDefault('registry')) throw toml.missingRegistry;
  }
  return { config: configFromOptions(command.opts()), toml };
}

async function main(): Promise<void> {
  let broker: Broker;
  try {
    const { config, toml } = resolveConfig(process.argv);
    broker = new Broker(config, { loadConfig: () => resolveConfig(process.argv).config });
    if (toml && toml.acceptedNotUsed.length > 0)
      broker.log.info(
        { keys: toml.acceptedNotUsed },
        'TOML keys accepted but not used by kiteq-ts (doc/operations.md)',
      );
    if (toml && toml.unknown.length > 0)
      broker.log.warn({ keys: toml.unknown }, 'TOML keys unknown to KiteQ and kiteq-ts: ignored');
  } catch (error) {
    // A bad config names the key, the value and what is expected (server/config.ts ConfigError).
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') process.exit(0);
    process.stderr.write(`kiteq-server: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const exit = (code: number) => broker.log.flush(() => process.exit(code));
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    broker.log.info({ signal, shutdownTimeoutMs: broker.config.shutdownTimeoutMs }, 'shutting down');
    // Bounded: if stop() itself hangs (a store that never answers), give up a little after the grace time.
    const hard = setTimeout(() => {
      broker.log.error(
        { shutdownTimeoutMs: broker.config.shutdownTimeoutMs },
        'shutdown did not finish in time: exiting',
      );
      exit(1);
    }, broker.config.shutdownTimeoutMs + 5000);
    hard.unref();
    broker.stop().then(
      () => exit(0),
      (error) => {
        broker.log.error({ err: error }, 'shutdown failed');
        exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    await broker.start();
  } catch (error) {
    broker.log.fatal({ err: error }, 'broker failed to start');
    process.stderr.write(`kiteq-server: failed to start: ${(error as Error).message}\n`);
    exit(1);
    return;
  }
  // One machine-readable line on stdout when serving (test harnesses and scripts wait for it).
  process.stdout.write(
    `${JSON.stringify({ event: 'ready', address: broker.address, http: broker.httpAddress || undefined, gateway: broker.gatewayAddress || undefined, pid: process.pid })}\n`,
  );
}

if (require.main === module) void main();
