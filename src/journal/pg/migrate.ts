/**
 * Start-up migrations of the PostgreSQL journal: the ones drizzle-kit generated into migrations/pg/,
 * applied under a connection-level advisory lock, so that nodes starting together apply them once (the
 * others wait, then find nothing to do). A database migrated by a newer Sluice is refused, as the
 * SQLite journal refuses a newer file: this build would misread tables it does not know.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { JournalTooNewError } from '../../errors.js';
import { createClient, toJournalError } from './connection.js';

/** The migrations shipped with this build (next to src/ and dist/). */
export const PG_MIGRATIONS_FOLDER = fileURLToPath(new URL('../../../migrations/pg', import.meta.url));

/** Key of the advisory lock held while migrating (any constant: "sluice" in ASCII). */
const MIGRATION_LOCK = 0x736c75696365;

/** The newest migration this build ships (drizzle records each applied one by its `when`). */
export function newestShippedMigration(): number {
  const shipped = JSON.parse(readFileSync(`${PG_MIGRATIONS_FOLDER}/meta/_journal.json`, 'utf8')) as {
    entries: { when: number }[];
  };
  return Math.max(...shipped.entries.map((e) => e.when));
}

/** Applies the shipped migrations to the database at `url`; refuses one migrated by a newer build. */
export async function migratePgJournal(url: string, label: string): Promise<void> {
  const client = createClient(url);
  // A connection lost between two statements is reported by the next query; unheard, the 'error'
  // event would end the process.
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    // No statement timeout here: a migration that builds an index over a large deliveries table may
    // take longer than the journal's 30 s, and failing it would fail every start-up after it.
    await client.query('SET statement_timeout = 0');
    const { rows: found } = await client.query<{ exists: boolean }>(
      `SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS exists`,
    );
    const applied = found[0]?.exists
      ? ((
          await client.query<{ newest: number | null }>(
            'SELECT max(created_at) AS newest FROM drizzle.__drizzle_migrations',
          )
        ).rows[0]?.newest ?? null)
      : null;
    const newestShipped = newestShippedMigration();
    if (applied !== null && applied > newestShipped) {
      throw new JournalTooNewError(
        `journal ${label} was written by a newer Sluice (migration of ${new Date(applied).toISOString()}, ` +
          `this build knows up to ${new Date(newestShipped).toISOString()}); upgrade Sluice or point storage.url elsewhere`,
      );
    }
    await migrate(drizzle({ client }), { migrationsFolder: PG_MIGRATIONS_FOLDER });
  } catch (error) {
    throw toJournalError(error);
  } finally {
    // Closing the connection releases the advisory lock too, even when the unlock cannot be sent.
    await client.end().catch(() => {});
  }
}
