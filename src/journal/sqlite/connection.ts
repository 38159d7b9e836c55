/**
 * Opening the journal's SQLite file: the pragmas every connection runs with, and the migrations
 * applied before the writer starts (a file written by a newer Sluice is refused).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { JournalTooNewError, JournalUnavailableError } from '../../errors.js';

/** The migrations shipped with this build (next to src/ and dist/). */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../../migrations/sqlite', import.meta.url));

/** How a connection is opened. */
export interface ConnectionOptions {
  /** Largest the file may grow, in bytes; past it writes fail as unavailable (ingest answers 503). */
  maxSize?: number | undefined;
  /** How long a write waits for a lock held by another process before failing, in ms. */
  busyTimeoutMs?: number | undefined;
  /**
   * SQLite's page cache for this connection, in KiB. better-sqlite3 builds SQLite with 16 MiB per
   * connection; a reader that counts a backlog fills it, and keeps it: 16–32 MiB of RSS each.
   */
  cacheKiB?: number | undefined;
}

/** Opens a connection with the journal's pragmas: WAL, fsync on every commit, foreign keys. */
export function openConnection(path: string, options: ConnectionOptions = {}): Database.Database {
  mkdirSync(dirname(path), { recursive: true });
  let sqlite: Database.Database;
  try {
    sqlite = new Database(path);
  } catch (cause) {
    throw new JournalUnavailableError(`cannot open journal ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    // Statement and savepoint journals in memory, not in temp files: the writer's multi-row inserts
    // (multi-row-writes.ts) run in a savepoint, whose journal spilled to a file past 64 KiB (a
    // pwrite per page). Only in-transaction rollbacks read it; durability is the WAL's.
    sqlite.pragma('temp_store = MEMORY');
    // Waiting blocks the thread (better-sqlite3 is synchronous): keep it short and answer 503 instead.
    sqlite.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 200}`);
    if (options.cacheKiB !== undefined) sqlite.pragma(`cache_size = -${options.cacheKiB}`);
    if (options.maxSize) {
      const pageSize = sqlite.pragma('page_size', { simple: true }) as number;
      sqlite.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxSize / pageSize))}`);
    }
  } catch (error) {
    sqlite.close();
    throw error;
  }
  return sqlite;
}

/** Applies the shipped migrations; refuses a file that holds migrations newer than this build's. */
export function migrateJournal(sqlite: Database.Database, path: string): void {
  const hasTable = sqlite
    .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'`)
    .get();
  if (hasTable) {
    const applied = sqlite.prepare('SELECT max(created_at) AS newest FROM __drizzle_migrations').get() as {
      newest: number | null;
    };
    const shipped = JSON.parse(readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, 'utf8')) as {
      entries: { when: number }[];
    };
    const newestShipped = Math.max(...shipped.entries.map((e) => e.when));
    if (applied.newest !== null && applied.newest > newestShipped) {
      throw new JournalTooNewError(
        `journal ${path} was written by a newer Sluice (migration of ${new Date(applied.newest).toISOString()}, ` +
          `this build knows up to ${new Date(newestShipped).toISOString()}); upgrade Sluice or point storage.path elsewhere`,
      );
    }
  }
  migrate(drizzle(sqlite), { migrationsFolder: MIGRATIONS_FOLDER });
}
