/**
 * A real PostgreSQL for tests: the server named by SLUICE_TEST_PG_URL (an admin connection, default
 * postgres://postgres@127.0.0.1:5432/test), on which each test run creates databases with random
 * names and drops them afterwards. Without a reachable server the tests that need it skip with a
 * visible message, except under CI=true, where they fail.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The admin connection's URL. */
export const ADMIN_PG_URL = process.env.SLUICE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** True when the server answers; checked once, before the tests are registered (top-level await). */
export async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: ADMIN_PG_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Whether to run the PostgreSQL tests: yes when reachable; when not, under CI=true it throws (the
 * run must fail), otherwise it prints why they are skipped.
 */
export async function requirePostgres(what: string): Promise<boolean> {
  if (await postgresReachable()) return true;
  const message = `PostgreSQL not reachable at ${ADMIN_PG_URL} (set SLUICE_TEST_PG_URL): ${what}`;
  if (process.env.CI === 'true') throw new Error(`${message} cannot run under CI=true`);
  console.warn(`SKIPPED: ${message} skipped`);
  return false;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_PG_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A database made for a test run. */
export interface TestDatabase {
  url: string;
  name: string;
  /** Drops it, ending connections still open. */
  drop(): Promise<void>;
}

/** A new, empty database with a random name. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `sluice_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    name,
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}

/** Empties every table of the journal (a migrated database) and restarts its sequences. */
export async function emptyJournalTables(db: Pick<pg.Pool, 'query'>): Promise<void> {
  await db.query(
    'TRUNCATE events, deliveries, attempts, dedupe_keys, destination_state, destination_tokens RESTART IDENTITY CASCADE',
  );
}
