// One mysql2 pool per host (master, optional replica) with bounded waits: connectTimeout for a new
// connection, queryTimeoutMs for a statement and for waiting on a pooled connection. Every failure
// leaves here as a StoreError with a reason a person can act on, e.g.
// "MySQL unreachable: connect ECONNREFUSED 127.0.0.1:3306" (doc/architecture.md §8, style.md "Errors").
// A connection that failed fatally or timed out is destroyed, never returned to the pool, so the pool
// dials afresh once the server is back.
import { createPool, type Pool, type PoolConnection, type ResultSetHeader } from 'mysql2/promise';
import { StoreError, StoreUnavailableError } from '../errors';
import type { MysqlHost, MysqlStoreConfig } from './uri';

export interface SqlRunner {
  /** rows of a SELECT */
  query<T = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<T[]>;
  /** an INSERT/UPDATE/DELETE: affected rows */
  execute(sql: string, values?: unknown[]): Promise<ResultSetHeader>;
  /**
   * Several statements in one round trip (multipleStatements), one result each. A batch flush costs
   * two round trips instead of six, which matters most when MySQL shares a busy 2-core machine.
   */
  script(statements: Statement[]): Promise<unknown[]>;
  /** ROLLBACK unless the connection is broken (then the server rolls back as it drops it) */
  rollbackAfter(error: unknown): Promise<void>;
}

export interface Statement {
  sql: string;
  values?: unknown[];
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
]);
const BUSY_CODES = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'ER_QUERY_INTERRUPTED']);

interface MysqlError extends Error {
  code?: string;
  fatal?: boolean;
}

class TimeoutError extends Error {}

/** Runs of a transaction that InnoDB chose as a deadlock victim before its caller hears of it. */
const DEADLOCK_ATTEMPTS = 5;

/** The server rolled the transaction back to break a deadlock (as a StoreError or the driver's error). */
export function isDeadlock(error: unknown): boolean {
  const e = error as { code?: string; cause?: { code?: string } };
  return e?.code === 'ER_LOCK_DEADLOCK' || e?.cause?.code === 'ER_LOCK_DEADLOCK';
}

/** Maps a driver error to the store's typed errors (doc/architecture.md §8: never a bare false). */
export function toStoreError(error: unknown, what: string): StoreError {
  if (error instanceof StoreError) return error;
  const e = error as MysqlError;
  const code = e?.code ?? '';
  const detail = e?.message || String(error);
  if (error instanceof TimeoutError || code === 'PROTOCOL_SEQUENCE_TIMEOUT') {
    return new StoreUnavailableError(`MySQL timed out (${what}): ${detail}`, { cause: error });
  }
  if (UNREACHABLE_CODES.has(code) || e?.fatal) {
    return new StoreUnavailableError(`MySQL unreachable: ${detail}`, { cause: error });
  }
  if (BUSY_CODES.has(code)) return new StoreUnavailableError(`MySQL busy (${what}): ${detail}`, { cause: error });
  return new StoreError(`MySQL error (${what}): ${code ? code + ': ' : ''}${detail}`, false, { cause: error });
}

export function isConnectionBroken(error: unknown): boolean {
  const e = error as MysqlError;
  return (
    error instanceof TimeoutError ||
    !!e?.fatal ||
    UNREACHABLE_CODES.has(e?.code ?? '') ||
    e?.code === 'PROTOCOL_SEQUENCE_TIMEOUT'
  );
}

export class MysqlEndpoint {
  private readonly pool: Pool;
  readonly address: string;

  constructor(
    host: MysqlHost,
    config: MysqlStoreConfig,
    private readonly queryTimeoutMs: number,
  ) {
    this.address = `${host.host}:${host.port}`;
    this.pool = createPool({
      host: host.host,
      port: host.port,
      user: config.username,
      password: config.password,
      connectionLimit: config.maxConn,
      maxIdle: config.maxConn,
      connectTimeout: config.connectTimeoutMs,
      waitForConnections: true,
      enableKeepAlive: true,
      supportBigNumbers: true,
      bigNumberStrings: false,
      charset: 'utf8mb4',
      multipleStatements: true, // only for script(): every value is escaped by the driver
      // No Error.captureStackTrace per call (4.3 % of broker CPU on the mysql bench): our errors say
      // what the store was doing (toStoreError), which tells more than the driver's call site.
      trace: false,
    });
  }

  /**
   * Runs fn on one pooled connection; the connection is destroyed when it broke. fn must be one whole
   * transaction or statements that are safe to run again: a deadlock victim is run again at once, since
   * InnoDB has rolled its whole transaction back (a publish never fails for a lock-order accident).
   */
  async withConnection<T>(what: string, fn: (run: SqlRunner) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.onceWithConnection(what, fn);
      } catch (error) {
        if (attempt >= DEADLOCK_ATTEMPTS || !isDeadlock(error)) throw error;
      }
    }
  }

  private async onceWithConnection<T>(what: string, fn: (run: SqlRunner) => Promise<T>): Promise<T> {
    const connection = await this.acquire(what);
    const runner = this.runnerOn(connection);
    try {
      const result = await fn(runner);
      connection.release();
      return result;
    } catch (error) {
      if (isConnectionBroken(error)) connection.destroy();
      else connection.release();
      throw toStoreError(error, what);
    }
  }

  /** fn inside BEGIN..COMMIT on one connection; ROLLBACK (or a destroyed connection) on failure. */
  transaction<T>(what: string, fn: (run: SqlRunner) => Promise<T>): Promise<T> {
    return this.withConnection(what, async (run) => {
      await run.execute('BEGIN');
      try {
        const result = await fn(run);
        await run.execute('COMMIT');
        return result;
      } catch (error) {
        await run.rollbackAfter(error);
        throw error;
      }
    });
  }

  query<T = Record<string, unknown>>(what: string, sql: string, values?: unknown[]): Promise<T[]> {
    return this.withConnection(what, (run) => run.query<T>(sql, values));
  }

  execute(what: string, sql: string, values?: unknown[]): Promise<ResultSetHeader> {
    return this.withConnection(what, (run) => run.execute(sql, values));
  }

  async end(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }

  private runnerOn(connection: PoolConnection): SqlRunner {
    const timeout = this.queryTimeoutMs;
    return {
      async query<T>(sql: string, values?: unknown[]): Promise<T[]> {
        const [rows] = await connection.query({ sql, values, timeout });
        return rows as T[];
      },
      async execute(sql: string, values?: unknown[]): Promise<ResultSetHeader> {
        const [result] = await connection.query({ sql, values, timeout });
        return result as ResultSetHeader;
      },
      async script(statements: Statement[]): Promise<unknown[]> {
        const sql = statements.map((s) => connection.format(s.sql, s.values ?? [])).join(';\n');
        const [results] = await connection.query({ sql, timeout });
        // one statement gives its result alone; several give an array of results
        return statements.length === 1 ? [results] : (results as unknown[]);
      },
      async rollbackAfter(error: unknown): Promise<void> {
        if (isConnectionBroken(error)) return;
        await connection.query({ sql: 'ROLLBACK', timeout }).catch(() => undefined);
      },
    };
  }

  /** pool.getConnection() with a bound: the pool itself would wait forever when every connection hangs. */
  private acquire(what: string): Promise<PoolConnection> {
    return new Promise((resolve, reject) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        reject(
          toStoreError(new TimeoutError(`no connection to ${this.address} within ${this.queryTimeoutMs} ms`), what),
        );
      }, this.queryTimeoutMs);
      this.pool.getConnection().then(
        (connection) => {
          clearTimeout(timer);
          if (timedOut) connection.release();
          else resolve(connection);
        },
        (error: unknown) => {
          clearTimeout(timer);
          if (!timedOut) reject(toStoreError(error, what));
        },
      );
    });
  }
}
