// Parses mysql://master:3306[,replica:3306]?db=kite&username=root&password=&shardnum=4&... (doc/architecture.md §8).
// KiteQ's own flags are the same values (-db, -dbShardNum, ...); the batching knobs are ours.

export interface MysqlHost {
  host: string;
  port: number;
}

export interface MysqlStoreConfig {
  master: MysqlHost;
  /** stale-tolerant reads (countsByTopic, listDeadLetters) go here when set */
  replica?: MysqlHost;
  /** database name prefix: shards are `<db>_0`..`<db>_{shardNum-1}` (KiteQ) */
  db: string;
  username: string;
  password: string;
  /** KiteQ's ShardNum: databases the 16 buckets are spread over */
  shardNum: number;
  /** connections per pool (master, replica) */
  maxConn: number;
  /** most operations of one kind in one multi-row statement */
  batchSize: number;
  /** flush transactions in flight at once (each holds one connection) */
  flushConcurrency: number;
  connectTimeoutMs: number;
  /** a statement (or waiting for a connection) longer than this fails with StoreUnavailableError */
  queryTimeoutMs: number;
}

const defaults = {
  db: 'kite',
  username: 'root',
  password: '',
  shardNum: 4,
  maxConn: 20,
  batchSize: 500,
  flushConcurrency: 4,
  connectTimeoutMs: 3000,
  queryTimeoutMs: 5000,
} as const;

function parseHost(text: string, uri: string): MysqlHost {
  const match = /^([^:,]+)(?::(\d+))?$/.exec(text.trim());
  if (!match) throw new Error(`bad host "${text}" in store URI ${uri}: expected host:port`);
  return { host: match[1], port: match[2] ? Number(match[2]) : 3306 };
}

function positiveInt(params: URLSearchParams, name: string, fallback: number, uri: string): number {
  const raw = params.get(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`bad ${name}="${raw}" in store URI ${uri}: expected an integer >= 1`);
  }
  return value;
}

export function parseMysqlUri(uri: string): MysqlStoreConfig {
  if (!uri.startsWith('mysql://')) throw new Error(`not a mysql:// store URI: ${uri}`);
  const rest = uri.slice('mysql://'.length);
  const queryAt = rest.indexOf('?');
  let authority = queryAt < 0 ? rest : rest.slice(0, queryAt);
  const params = new URLSearchParams(queryAt < 0 ? '' : rest.slice(queryAt + 1));
  let username = params.get('username') ?? params.get('user') ?? defaults.username;
  let password = params.get('password') ?? defaults.password;
  // Also accept the usual user:password@ form.
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const [user, pass] = authority.slice(0, at).split(':');
    username = decodeURIComponent(user);
    if (pass !== undefined) password = decodeURIComponent(pass);
    authority = authority.slice(at + 1);
  }
  authority = authority.replace(/\/+$/, '');
  const hosts = authority.split(',').filter((h) => h.length > 0);
  if (hosts.length === 0 || hosts.length > 2) {
    throw new Error(`store URI ${uri} must name a master and at most one replica: mysql://master:3306[,replica:3306]`);
  }
  const shardNum = positiveInt(params, 'shardnum', defaults.shardNum, uri);
  if (shardNum > 16) throw new Error(`shardnum=${shardNum} in ${uri}: at most 16 (KiteQ's 16 buckets)`);
  const db = params.get('db') || defaults.db;
  if (!/^[A-Za-z0-9_]+$/.test(db)) throw new Error(`bad db="${db}" in store URI ${uri}: letters, digits and _ only`);
  const config: MysqlStoreConfig = {
    master: parseHost(hosts[0], uri),
    db,
    username,
    password,
    shardNum,
    maxConn: positiveInt(params, 'maxConn', defaults.maxConn, uri),
    batchSize: positiveInt(params, 'batchSize', defaults.batchSize, uri),
    flushConcurrency: positiveInt(params, 'flushConcurrency', defaults.flushConcurrency, uri),
    connectTimeoutMs: positiveInt(params, 'connectTimeoutMs', defaults.connectTimeoutMs, uri),
    queryTimeoutMs: positiveInt(params, 'queryTimeoutMs', defaults.queryTimeoutMs, uri),
  };
  if (hosts[1]) config.replica = parseHost(hosts[1], uri);
  return config;
}
