/**
 * Opens the journal that the config's `storage:` section describes: the one place that picks a
 * backend. Today `storage.path` means SQLite. A PostgreSQL backend (`storage.url`, for several
 * nodes sharing one journal) goes here as a second branch, chosen before the SQLite default.
 */
import type { Config } from '../config/schema.js';
import type { Journal } from './port.js';
import { openSqliteJournal, type SqliteJournalOptions } from './sqlite/journal.js';

/** What the composition root hands the backend besides the config (observers, tuning). */
export type JournalDeps = Omit<SqliteJournalOptions, 'path' | 'maxSize' | 'reserve'>;

/** Opens (creating and migrating as needed) the configured journal. */
export function openJournal(storage: Config['storage'], deps: JournalDeps = {}): Journal {
  return openSqliteJournal({ ...deps, path: storage.path, maxSize: storage.max_size, reserve: storage.reserve });
}
