/**
 * The drizzle handle and the event row's type, shared by the write path (store.ts) and the read
 * modules; the row's mapping to the port's `StoredEvent` is the backends' shared one (../event-row.ts).
 */
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type * as schema from './schema.js';

/** drizzle on one connection of the journal. */
export type Db = BetterSQLite3Database<typeof schema>;

/** A row of `events`, as drizzle reads it. */
export type EventRow = typeof schema.events.$inferSelect;
