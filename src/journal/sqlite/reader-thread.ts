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
import type { DestinationStats, EventQuery } from '../port.js';
import { type ConnectionOptions, openConnection } from './connection.js';
import { SqliteStore } from './store.js';
import { errorResult, nameThread, type Result } from './thread-client.js';

/** What the main thread passes as workerData. */
export interface ReaderData extends ConnectionOptions {
  path: string;
}

/** A read that the reader thread runs; each maps to the `SqliteStore` method of the same name. */
export type ReadOp =
  | { kind: 'destinationStats'; destination: string; now: number }
  | { kind: 'listEvents'; query: EventQuery }
  | { kind: 'getEvent'; id: string }
  | { kind: 'findEventIds'; prefix: string; limit: number }
  | { kind: 'countDeliveries'; destination: string };

/** Runs one read on `store`. */
export function runRead(store: SqliteStore, read: ReadOp): unknown {
  switch (read.kind) {
    case 'destinationStats':
      return store.destinationStats(read.destination, read.now) satisfies DestinationStats;
    case 'listEvents':
      return store.listEvents(read.query);
    case 'getEvent':
      return store.getEvent(read.id);
    case 'findEventIds':
      return store.findEventIds(read.prefix, read.limit);
    case 'countDeliveries':
      return store.countDeliveries(read.destination);
  }
}

if (parentPort) {
  nameThread('sluice-reader');
  const port = parentPort;
  const data = workerData as ReaderData;
  const store = new SqliteStore(openConnection(data.path, data));
  port.on('message', (message: { id: number; read: ReadOp } | { close: true }) => {
    if ('close' in message) {
      store.sqlite.close();
      port.close();
      return;
    }
    let result: Result;
    try {
      result = { ok: true, value: runRead(store, message.read) };
    } catch (error) {
      result = errorResult(error);
    }
    port.postMessage({ id: message.id, result });
  });
}
