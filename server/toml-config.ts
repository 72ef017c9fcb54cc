// KiteQ's TOML config (blackbeans/kiteq conf/cluster.toml, server/kite_server_config.go):
// `--config cluster.toml --cluster file_dev` picks [clusters.file_dev]; its `env` picks the registry
// hosts from [zookeeper.<env>] (KiteQ's sample) or [registry.<env>] (KiteQ's Option.Registry).
// Each key maps onto a kiteq-server option; server/cli.ts applies them below flags and KITEQ_*
// variables (precedence: flags > env > TOML > defaults). doc/operations.md lists what is honoured.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { ConfigError } from './config';

/** Values keyed by kiteq-server's option names (commander attribute names). */
export interface TomlOptions {
  registry?: string;
  store?: string;
  topics?: string;
  deliveryTimeoutMs?: number;
  recoverIntervalMs?: number;
  publishPermits?: number;
  /** mysql://: daily hour of the dead-letter move (server/dlq-mover.ts) */
  dlqExecHour?: number;
  /** seconds: the furthest kiteq.deliverAt accepted (doc/delayed-delivery.md) */
  maxDelay?: number;

  /** kiteq-ts only: the HTTP gateway's host:port (doc/http-gateway.md) */
  gateway?: string;
  gatewayIdle?: number;
}

export interface TomlCluster {
  options: TomlOptions;
  /** set when the cluster's env names no registry section: an error unless --registry is given */
  missingRegistry?: ConfigError;
  /** KiteQ keys read and accepted but with no effect here (doc/operations.md says why) */
  acceptedNotUsed: string[];
  /** keys KiteQ does not know either (likely typos) */
  unknown: string[];
}

const NOT_USED = ['deliveryFirst', 'logxml', 'maxDeliverWorkers'];
const USED = [
  'env',
  'topics',
  'db',
  'deliverySeconds',
  'recoverSeconds',
  'recievePermitsPerSecond',
  'dlqExecHour',
  // kiteq-ts's own: KiteQ has no delayed delivery
  'maxDelaySeconds',

  'gateway',
  'gatewayIdleSeconds',
];

type Table = Record<string, unknown>;

function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function positiveInt(key: string, value: unknown, unit: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)
    throw new ConfigError(key, value, `a positive integer (${unit})`);
  return value;
}

/** A relative file:// path is taken relative to the TOML file's directory, not the working directory. */
function relativeTo(baseDir: string, uri: string, scheme: 'file://'): string {
  const rest = uri.slice(scheme.length);
  const q = rest.indexOf('?');
  const path = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? '' : rest.slice(q);
  return `${scheme}${isAbsolute(path) ? path : resolve(baseDir, path)}${query}`;
}

/** KiteQ's `db` → a kiteq-ts store URI (doc/architecture.md §8). */
export function storeUriFromDb(key: string, db: unknown, baseDir: string): string {
  if (typeof db !== 'string' || !/^(file|memory|mysql):\/\//.test(db))
    throw new ConfigError(key, db, 'file://dir?..., memory://?... or mysql://host:port?db=...');
  if (db.startsWith('file://')) return relativeTo(baseDir, db, 'file://');
  if (db.startsWith('memory://')) {
    // KiteQ: memory://.?initcap=N&maxcap=M; kiteq-ts keeps at most maxMessages (full → store-ack false).
    const q = db.indexOf('?');
    const maxcap = new URLSearchParams(q < 0 ? '' : db.slice(q + 1)).get('maxcap');
    if (maxcap === null) return 'memory://';
    return `memory://?maxMessages=${positiveInt(`${key} maxcap`, Number(maxcap), 'messages')}`;
  }
  return db; // mysql://: same parameters (db, username, password, shardnum…); unknown ones are ignored
}

function registryUri(hosts: string, baseDir: string): string {
  if (hosts.startsWith('zk://')) return hosts;
  if (hosts.startsWith('file://')) return relativeTo(baseDir, hosts, 'file://');
  return `zk://${hosts.replace(/\s+/g, '')}`;
}

export function loadKiteqToml(path: string, clusterName: string): TomlCluster {
  let doc: Table;
  try {
    doc = parseToml(readFileSync(path, 'utf8')) as Table;
  } catch (error) {
    throw new ConfigError('config', path, `a readable TOML file (${(error as Error).message.split('\n')[0]})`);
  }
  const baseDir = dirname(resolve(path));
  const clusters = isTable(doc.clusters) ? doc.clusters : {};
  const cluster = clusters[clusterName];
  if (!isTable(cluster))
    throw new ConfigError('cluster', clusterName, `one of [${Object.keys(clusters).join(', ')}] in ${path}`);
  const at = (key: string) => `clusters.${clusterName}.${key}`;
  const options: TomlOptions = {};
  const result: TomlCluster = { options, acceptedNotUsed: [], unknown: [] };

  if (cluster.topics !== undefined) {
    if (!Array.isArray(cluster.topics) || cluster.topics.some((t) => typeof t !== 'string'))
      throw new ConfigError(at('topics'), cluster.topics, 'a list of topic names');
    options.topics = (cluster.topics as string[]).join(',');
  }
  if (cluster.db !== undefined) options.store = storeUriFromDb(at('db'), cluster.db, baseDir);
  if (cluster.deliverySeconds !== undefined)
    options.deliveryTimeoutMs = positiveInt(at('deliverySeconds'), cluster.deliverySeconds, 'seconds') * 1000;
  if (cluster.recoverSeconds !== undefined)
    options.recoverIntervalMs = positiveInt(at('recoverSeconds'), cluster.recoverSeconds, 'seconds') * 1000;
  if (cluster.recievePermitsPerSecond !== undefined) {
    const permits = cluster.recievePermitsPerSecond;
    if (typeof permits !== 'number' || !Number.isInteger(permits) || permits < 0)
      throw new ConfigError(at('recievePermitsPerSecond'), permits, 'an integer ≥ 0 (0 = unlimited)');
    options.publishPermits = permits;
  }
  if (cluster.dlqExecHour !== undefined) {
    const hour = cluster.dlqExecHour;
    if (typeof hour !== 'number' || !Number.isInteger(hour) || hour < 0 || hour > 23)
      throw new ConfigError(at('dlqExecHour'), hour, 'an hour of the day, 0-23');
    options.dlqExecHour = hour;
  }
  if (cluster.maxDelaySeconds !== undefined)
    options.maxDelay = positiveInt(at('maxDelaySeconds'), cluster.maxDelaySeconds, 'seconds');

  // kiteq-ts additions (KiteQ has no HTTP gateway): doc/http-gateway.md
  if (cluster.gateway !== undefined) {
    if (typeof cluster.gateway !== 'string' || !/^([^\s:]+:)?\d{1,5}$/.test(cluster.gateway))
      throw new ConfigError(at('gateway'), cluster.gateway, 'host:port, or a port (bound on 127.0.0.1)');
    options.gateway = cluster.gateway;
  }
  if (cluster.gatewayIdleSeconds !== undefined)
    options.gatewayIdle = positiveInt(at('gatewayIdleSeconds'), cluster.gatewayIdleSeconds, 'seconds');
  if (cluster.env !== undefined) {
    if (typeof cluster.env !== 'string')
      throw new ConfigError(at('env'), cluster.env, 'a string naming a [zookeeper.<env>] section');
    const sections = [doc.zookeeper, doc.registry].filter(isTable);
    const entry = sections.map((s) => s[cluster.env as string]).find(isTable);
    if (entry && typeof entry.hosts === 'string' && entry.hosts.trim() !== '')
      options.registry = registryUri(entry.hosts.trim(), baseDir);
    else
      result.missingRegistry = new ConfigError(
        at('env'),
        cluster.env,
        `a [zookeeper.${cluster.env}] section with hosts="host:port,..." in ${path} (or --registry)`,
      );
  }
  for (const key of Object.keys(cluster)) {
    if (NOT_USED.includes(key)) result.acceptedNotUsed.push(key);
    else if (!USED.includes(key)) result.unknown.push(key);
  }
  return result;
}
