/**
 * Opens the journal that the config's `storage:` section describes: the one place that picks a
 * backend. `storage.url` means PostgreSQL (several nodes sharing one journal); otherwise
 * `storage.path` means SQLite, the default.
 */
import type { Config } from '../config/schema.js';
import type { GatewayEvents } from '../events.js';
import { openPgJournal } from './pg/journal.js';
import type { Journal } from './port.js';
import { openSqliteJournal, type SqliteJournalOptions } from './sqlite/journal.js';

/** What the composition root hands the backend besides the config (observers, tuning). */
export type JournalDeps = Omit<SqliteJournalOptions, 'path' | 'maxSize' | 'reserve'> & {
  events?: GatewayEvents;
  /** The configured destinations: a journal shared by several nodes keeps their concurrency across them. */
  destinations?: Config['destinations'];
};

/** Opens (creating and migrating as needed) the configured journal. */
export async function openJournal(storage: Config['storage'], deps: JournalDeps = {}): Promise<Journal> {
  if (storage.url !== undefined) {
    const concurrency = Object.fromEntries(
      Object.entries(deps.destinations ?? {}).map(([name, d]) => [name, d.concurrency]),
    );
    return openPgJournal({ url: storage.url, events: deps.events, concurrency });
  }
  const { destinations: _, ...sqliteDeps } = deps;
  return openSqliteJournal({ ...sqliteDeps, path: storage.path, maxSize: storage.max_size, reserve: storage.reserve });
}
