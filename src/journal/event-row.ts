/**
 * An event as both backends store it (headers as a JSON text column, the body as bytes), and its
 * mapping to the port's `StoredEvent`, so that every backend hands out events built alike.
 */
import type { HeaderPair, StoredEvent } from './port.js';

/** The columns of a stored event, as a backend reads them. */
export interface EventRow {
  id: string;
  seq: number;
  source: string;
  method: string;
  path: string;
  query: string;
  /** JSON array of [name, value] pairs, as received. */
  headers: string;
  body: Uint8Array;
  remoteAddr: string | null;
  receivedAt: number;
}

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
