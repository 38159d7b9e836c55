/**
 * Connections of the PostgreSQL journal (node-postgres, chosen by measurement: test/bench/README.md).
 * Every connection runs with `synchronous_commit = on` whatever the server's default, so a COMMIT
 * has returned only once it is on the database's disk: an event is acknowledged after that.
 *
 * A lost connection is not fatal: the pool opens new ones on demand, so the first query after
 * the database is back succeeds; meanwhile every failure is a `JournalUnavailableError` (ingest
 * answers 503 with Retry-After).
 */
import pg from 'pg';
import { JournalUnavailableError, SluiceError } from '../../errors.js';

/** Something that runs a query: the pool, or one client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

/** PostgreSQL type oids read as numbers: int8 (our epoch ms, ids, counts) fits 2^53 easily. */
const INT8 = 20;
const NUMERIC = 1700;

/**
 * Type parsers of the journal's connections, set per pool (not on pg's global `types`, which other
 * code in the process may rely on).
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8 || oid === NUMERIC) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as unknown as pg.CustomTypesConfig;

/**
 * The database's clock as epoch ms, an SQL expression: for what every node must count alike, whatever
 * its own clock says. `clock_timestamp()` is the time of reading, not of the transaction's start.
 */
export const DATABASE_NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

/** Settings of every journal connection (sent in the startup packet: no extra round trip). */
export const CONNECTION_OPTIONS = '-c synchronous_commit=on -c statement_timeout=30000';

/** How the pool is sized and how long it waits. */
export interface PoolOptions {
  url: string;
  /** Most connections this node opens (group commits, claims and admin reads share them). */
  max?: number | undefined;
  /** How long a query waits for a connection (including opening one) before failing as unavailable. */
  connectTimeoutMs?: number | undefined;
  /** Called with errors of idle connections (the database restarted): they are dropped and replaced. */
  onIdleError?: ((error: Error) => void) | undefined;
}

/** Opens the pool (no connection yet: the first query opens one). */
export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    options: CONNECTION_OPTIONS,
    types,
    application_name: 'sluice',
  });
  // An idle connection that breaks emits 'error' on the pool; unhandled, it would end the process.
  pool.on('error', (error) => options.onIdleError?.(error));
  return pool;
}

/**
 * A single connection with the journal's settings (migrations, LISTEN, lease renewal). With
 * `statementTimeoutMs`, statements end after that long on the server and the client stops waiting
 * for them after that long too (a network that drops packets never answers).
 */
export function createClient(url: string, connectTimeoutMs = 5_000, statementTimeoutMs?: number): pg.Client {
  return new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: connectTimeoutMs,
    options:
      statementTimeoutMs === undefined
        ? CONNECTION_OPTIONS
        : `-c synchronous_commit=on -c statement_timeout=${Math.ceil(statementTimeoutMs)}`,
    ...(statementTimeoutMs === undefined ? {} : { query_timeout: Math.ceil(statementTimeoutMs) }),
    types,
    application_name: 'sluice',
  });
}

/** SQLSTATE classes that mean "the database cannot serve now", not "this statement is wrong". */
const UNAVAILABLE_CLASSES = new Set(['08', '53', '57', '58', 'XX']);
/** Also: read-only transaction (a standby after failover), the database or role does not exist (yet). */
const UNAVAILABLE_CODES = new Set(['25006', '3D000', '28000', '28P01', '55P03', '40P01', '40001']);

/**
 * True when `error` says the database is out of reach or cannot commit now. An error without a
 * SQLSTATE comes from the connection itself (refused, reset, timed out, terminated).
 */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof SluiceError) return error instanceof JournalUnavailableError;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return UNAVAILABLE_CLASSES.has(code.slice(0, 2)) || UNAVAILABLE_CODES.has(code);
}

/** The error a caller sees: unavailability as `JournalUnavailableError`, anything else (a bug) as is. */
export function toJournalError(error: unknown): unknown {
  if (error instanceof JournalUnavailableError || !isUnavailable(error)) return error;
  const message = (error as Error | undefined)?.message ?? String(error);
  return new JournalUnavailableError(`PostgreSQL journal unavailable: ${message}`, { cause: error });
}

/** Runs a query and returns its rows; failures come back as `toJournalError` says. */
export async function rows<T>(db: Queryable, text: string, params: unknown[] = []): Promise<T[]> {
  try {
    return (await db.query(text, params)).rows as T[];
  } catch (error) {
    throw toJournalError(error);
  }
}

/** Runs a statement and returns how many rows it changed. */
export async function changes(db: Queryable, text: string, params: unknown[] = []): Promise<number> {
  try {
    return (await db.query(text, params)).rowCount ?? 0;
  } catch (error) {
    throw toJournalError(error);
  }
}

/** A connection taken from the pool, until `release`. */
export interface CheckedOut {
  client: pg.PoolClient;
  /** Gives it back, or destroys it when `broken` (it failed, or was left in a transaction). */
  release(broken?: unknown): void;
}

/**
 * Takes a connection from the pool. While it is out, the pool does not listen to its errors: a
 * connection that breaks between two queries would emit an 'error' nobody handles, which ends the
 * process. It is listened to here, and a broken one is destroyed on release.
 */
export async function checkout(pool: pg.Pool): Promise<CheckedOut> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw toJournalError(error);
  }
  let failed: Error | undefined;
  const onError = (error: Error) => {
    failed ??= error;
  };
  client.on('error', onError);
  return {
    client,
    release(broken) {
      client.removeListener('error', onError);
      const reason = failed ?? broken;
      client.release(reason === undefined ? undefined : reason instanceof Error ? reason : true);
    },
  };
}

/**
 * Runs `work` in a transaction on one connection of `pool`. A connection that failed is destroyed
 * rather than returned to the pool.
 */
export async function transaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const { client, release } = await checkout(pool);
  let broken: unknown;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    broken = isUnavailable(error) ? error : undefined;
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      broken ??= rollbackError;
    });
    throw toJournalError(error);
  } finally {
    release(broken);
  }
}
