/**
 * The drizzle handle's type, shared by the write path (store.ts) and the read modules.
 */
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type * as schema from './schema.js';

/** drizzle on one connection of the journal. */
export type Db = BetterSQLite3Database<typeof schema>;
