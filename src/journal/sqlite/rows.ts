/**
 * The drizzle handle and the event row's mapping to the port's `StoredEvent`, shared by the write
 * path (store.ts) and the read modules, so that a claimed event and a listed one are built alike.
 */
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type { HeaderPair, StoredEvent } from '../port.js';
import type * as schema from './schema.js';

/** drizzle on one connection of the journal. */
export type Db = BetterSQLite3Database<typeof schema>;

/** A row of `events`, as drizzle reads it. */
export type EventRow = typeof schema.events.$inferSelect;

/** An event row as the port hands it out: its headers parsed back from their JSON column. */
export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    seq: row.seq,
    source: row.source,
    method: row.method,
    path: row.path,
    query: row.query,
    headers: JSON.parse(row.headers) as HeaderPair[],
    body: row.body,
    remoteAddr: row.remoteAddr,
    receivedAt: row.receivedAt,
  };
}
