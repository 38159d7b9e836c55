/**
 * The SQLite journal's reader thread: the admin API's and the metrics' reads, on a connection of
 * its own. Counting a backlog visits every unfinished delivery (a million of them took 360–650 ms
 * per `GET /destinations` or `/metrics` scrape); run on the main thread, that stopped HTTP
 * parsing, and so every acknowledgement, for as long. Here it only takes a core that is otherwise
 * idle, and WAL lets it read while the writer commits.
 *
 * Protocol (structured-cloned messages on the worker port):
 *   in:  { id: number, read: ReadOp }  → out: { id, result: Result }
 * Reads are answered in the order they arrive.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import type { DestinationStats, EventQuery } from '../port.js';
import { type ConnectionOptions, openConnection } from './connection.js';
import { countDeliveries, destinationStats } from './destination-stats.js';
import { getEvent } from './event-detail.js';
import { findEventIds, listEvents } from './event-listing.js';
import type { Db } from './rows.js';
import * as schema from './schema.js';
import { errorResult, nameThread, type Result } from './thread-client.js';

/** What the main thread passes as workerData. */
export interface ReaderData extends ConnectionOptions {
  path: string;
}

/**
 * A read that the reader thread runs; each maps to the function of the same name (in
 * destination-stats.ts, event-listing.ts, event-detail.ts).
 */
export type ReadOp =
  | { kind: 'destinationStats'; destination: string; now: number }
  | { kind: 'listEvents'; query: EventQuery }
  | { kind: 'getEvent'; id: string }
  | { kind: 'findEventIds'; prefix: string; limit: number }
  | { kind: 'countDeliveries'; destination: string };

/** Runs one read on `db`. */
export function runRead(db: Db, read: ReadOp): unknown {
  switch (read.kind) {
    case 'destinationStats':
      return destinationStats(db, read.destination, read.now) satisfies DestinationStats;
    case 'listEvents':
      return listEvents(db, read.query);
    case 'getEvent':
      return getEvent(db, read.id);
    case 'findEventIds':
      return findEventIds(db, read.prefix, read.limit);
    case 'countDeliveries':
      return countDeliveries(db, read.destination);
  }
}

if (parentPort) {
  nameThread('sluice-reader');
  const port = parentPort;
  const data = workerData as ReaderData;
  // Only reads run here: no write statements are prepared on this connection.
  const sqlite = openConnection(data.path, data);
  const db = drizzle(sqlite, { schema });
  port.on('message', (message: { id: number; read: ReadOp } | { close: true }) => {
    if ('close' in message) {
      sqlite.close();
      port.close();
      return;
    }
    let result: Result;
    try {
      result = { ok: true, value: runRead(db, message.read) };
    } catch (error) {
      result = errorResult(error);
    }
    port.postMessage({ id: message.id, result });
  });
}
