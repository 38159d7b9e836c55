/**
 * The PostgreSQL journal's reads for the admin API, metrics and start-up: the same answers as the
 * SQLite store's (../sqlite/store.ts), over the whole shared journal, so that any node shows the
 * cluster's numbers.
 */

import { type AttemptRow, attemptLogOf, deliveriesOf, toStoredEvent } from '../event-row.js';
import type {
  DeliveryRecord,
  DeliveryStatus,
  DestinationStats,
  EventPage,
  EventQuery,
  EventSummary,
  StoredEvent,
  StoredPace,
} from '../port.js';
import { type Queryable, rows } from './connection.js';

/** See `Journal.findEventIds`: a LIKE on the index `events_id_prefix`, not a scan. */
export async function findEventIds(db: Queryable, prefix: string, limit: number): Promise<string[]> {
  if (prefix === '') return [];
  const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const found = await rows<{ id: string }>(db, `SELECT id FROM events WHERE id LIKE $1 ORDER BY id LIMIT $2`, [
    pattern,
    limit,
  ]);
  return found.map((r) => r.id);
}

/** See `Journal.getEvent`. */
export async function getEvent(
  db: Queryable,
  id: string,
): Promise<(StoredEvent & { deliveries: DeliveryRecord[] }) | undefined> {
  const [event] = await rows<Parameters<typeof toStoredEvent>[0]>(
    db,
    `SELECT seq, id, source, method, path, query, headers, body, remote_addr AS "remoteAddr", received_at AS "receivedAt"
     FROM events WHERE id = $1`,
    [id],
  );
  if (!event) return undefined;
  const ds = await rows<Omit<DeliveryRecord, 'attemptLog'>>(
    db,
    `SELECT id, destination, status, attempts, due_at AS "dueAt", finished_at AS "finishedAt", last_error AS "lastError"
     FROM deliveries WHERE event_seq = $1 ORDER BY id`,
    [event.seq],
  );
  const log = ds.length
    ? await rows<AttemptRow>(
        db,
        `SELECT delivery_id AS "deliveryId", attempt, started_at AS "startedAt", duration_ms AS "durationMs", status, error, response
         FROM attempts WHERE delivery_id = ANY($1::bigint[]) ORDER BY id`,
        [ds.map((d) => d.id)],
      )
    : [];
  return {
    ...toStoredEvent(event),
    deliveries: ds.map((d) => ({
      ...d,
      attemptLog: attemptLogOf(d.id, log),
    })),
  };
}

/** See `Journal.destinationStats`: one statement, the unfinished deliveries read once. */
export async function destinationStats(db: Queryable, destination: string, now: number): Promise<DestinationStats> {
  const [row] = await rows<Omit<DestinationStats, 'oldestUnfinishedAt'> & { oldestUnfinishedAt: number | null }>(
    db,
    `WITH u AS (SELECT status, attempts, attempts_before_replay FROM deliveries WHERE destination = $1 AND due_at IS NOT NULL)
     SELECT
       (SELECT count(*) FROM u WHERE status = 'pending' AND attempts <= attempts_before_replay) AS pending,
       (SELECT count(*) FROM u WHERE status = 'pending' AND attempts > attempts_before_replay) AS retrying,
       (SELECT count(*) FROM u WHERE status = 'in_flight') AS "inFlight",
       (SELECT count(*) FROM deliveries WHERE destination = $1 AND status = 'dead' AND finished_at >= 0) AS dead,
       (SELECT count(*) FROM deliveries WHERE destination = $1 AND status = 'delivered' AND finished_at >= $2) AS "deliveredLastHour",
       (SELECT count(*) FROM deliveries WHERE destination = $1 AND status = 'delivered' AND finished_at >= $3) AS "deliveredLastMinute",
       (SELECT e.received_at FROM deliveries d JOIN events e ON e.seq = d.event_seq
        WHERE d.destination = $1 AND d.due_at IS NOT NULL ORDER BY d.event_seq LIMIT 1) AS "oldestUnfinishedAt"`,
    [destination, now - 3_600_000, now - 60_000],
  );
  return { ...row!, oldestUnfinishedAt: row!.oldestUnfinishedAt ?? undefined };
}

/** See `Journal.countDeliveries`. */
export async function countDeliveries(db: Queryable, destination: string): Promise<Record<DeliveryStatus, number>> {
  const counts: Record<DeliveryStatus, number> = { pending: 0, in_flight: 0, delivered: 0, dead: 0 };
  const found = await rows<{ status: DeliveryStatus; n: number }>(
    db,
    'SELECT status, count(*) AS n FROM deliveries WHERE destination = $1 GROUP BY status',
    [destination],
  );
  for (const r of found) counts[r.status] = r.n;
  return counts;
}

/** See `Journal.listEvents`: keyset pagination on seq, newest first. */
export async function listEvents(db: Queryable, query: EventQuery): Promise<EventPage> {
  const params: unknown[] = [];
  const where: string[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (query.cursor !== undefined) where.push(`e.seq < ${param(Number(query.cursor))}`);
  if (query.source) where.push(`e.source = ${param(query.source)}`);
  if (query.since !== undefined) where.push(`e.received_at >= ${param(query.since)}`);
  if (query.until !== undefined) where.push(`e.received_at < ${param(query.until)}`);
  if (query.status || query.destination) {
    const own = ['d.event_seq = e.seq'];
    if (query.status) own.push(`d.status = ${param(query.status)}`);
    if (query.destination) own.push(`d.destination = ${param(query.destination)}`);
    where.push(`EXISTS (SELECT 1 FROM deliveries d WHERE ${own.join(' AND ')})`);
  }
  const found = await rows<Omit<EventSummary, 'deliveries'>>(
    db,
    `SELECT e.id, e.seq, e.source, e.method, e.path, e.received_at AS "receivedAt", octet_length(e.body) AS "bodySize"
     FROM events e ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY e.seq DESC LIMIT ${param(query.limit + 1)}`,
    params,
  );
  const page = found.slice(0, query.limit);
  const ds = page.length
    ? await rows<{
        eventSeq: number;
        destination: string;
        status: DeliveryStatus;
        attempts: number;
        lastError: string | null;
      }>(
        db,
        `SELECT event_seq AS "eventSeq", destination, status, attempts, last_error AS "lastError"
         FROM deliveries WHERE event_seq = ANY($1::bigint[]) ORDER BY id`,
        [page.map((r) => r.seq)],
      )
    : [];
  return {
    events: page.map((r) => ({
      ...r,
      deliveries: deliveriesOf(r.seq, ds),
    })),
    ...(found.length > query.limit && { nextCursor: String(page[page.length - 1]!.seq) }),
  };
}

/** See `Journal.pausedDestinations`. */
export async function pausedDestinations(db: Queryable): Promise<string[]> {
  return (await rows<{ name: string }>(db, 'SELECT name FROM destination_state WHERE paused ORDER BY name')).map(
    (r) => r.name,
  );
}

/** See `Journal.heldDestinations`. */
export async function heldDestinations(db: Queryable, now: number): Promise<Record<string, number>> {
  const found = await rows<{ name: string; heldUntil: number }>(
    db,
    'SELECT name, held_until AS "heldUntil" FROM destination_state WHERE held_until > $1',
    [now],
  );
  return Object.fromEntries(found.map((r) => [r.name, r.heldUntil]));
}

/** See `Journal.destinationPaces`. */
export async function destinationPaces(db: Queryable): Promise<Record<string, StoredPace>> {
  const found = await rows<{ name: string; rate: number | null; concurrency: number; at: number | null }>(
    db,
    `SELECT name, pace_rate AS rate, pace_concurrency AS concurrency, pace_at AS at
     FROM destination_state WHERE pace_concurrency IS NOT NULL`,
  );
  return Object.fromEntries(
    found.map((r) => [r.name, { rate: r.rate ?? undefined, concurrency: r.concurrency, at: r.at ?? 0 }]),
  );
}

/** See `Journal.recentSends` (the SQLite store's query, over every node's attempts and leases). */
export async function recentSends(db: Queryable, destination: string, since: number): Promise<number> {
  const [row] = await rows<{ n: number }>(
    db,
    `SELECT
       (SELECT count(*) FROM attempts a WHERE a.started_at >= $2 AND a.delivery_id IN (
          SELECT id FROM deliveries WHERE destination = $1 AND due_at IS NOT NULL
          UNION
          SELECT id FROM deliveries WHERE destination = $1 AND status IN ('delivered', 'dead') AND finished_at >= $2))
     + (SELECT count(*) FROM deliveries WHERE destination = $1 AND status = 'in_flight' AND due_at > $2) AS n`,
    [destination, since],
  );
  return row?.n ?? 0;
}
