/**
 * An event, its deliveries and attempts as both backends store them (headers as a JSON text column,
 * the body as bytes, absent values as NULL), and their mapping to the port's types, so that every
 * backend hands them out built alike.
 */
import type { AttemptRecord, DeliveryStatus, EventSummary, HeaderPair, StoredEvent } from './port.js';

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

/** An attempt as both backends store it: absent values are NULL. */
export interface AttemptRow {
  deliveryId: number;
  attempt: number;
  startedAt: number;
  durationMs: number;
  status: number | null;
  error: string | null;
  response: Uint8Array | null;
}

/** The attempts of one delivery, in the order given, as the port's `AttemptRecord`s. */
export function attemptLogOf(deliveryId: number, attempts: readonly AttemptRow[]): AttemptRecord[] {
  return attempts
    .filter((a) => a.deliveryId === deliveryId)
    .map((a) => ({
      attempt: a.attempt,
      startedAt: a.startedAt,
      durationMs: a.durationMs,
      status: a.status ?? undefined,
      error: a.error ?? undefined,
      response: a.response ?? undefined,
    }));
}

/** A delivery as an event listing shows it, with the event it belongs to. */
export interface DeliverySummaryRow {
  eventSeq: number;
  destination: string;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
}

/** The deliveries of the event `seq`, in the order given, as `EventSummary.deliveries`. */
export function deliveriesOf(seq: number, deliveries: readonly DeliverySummaryRow[]): EventSummary['deliveries'] {
  return deliveries
    .filter((d) => d.eventSeq === seq)
    .map((d) => ({ destination: d.destination, status: d.status, attempts: d.attempts, lastError: d.lastError }));
}
