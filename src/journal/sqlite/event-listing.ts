/**
 * The admin API's event listing: a page of events, newest first, each with its deliveries' status,
 * and the lookup of an event by a prefix of its id. Run on the reader thread.
 */

import { and, asc, desc, eq, exists, gte, inArray, lt, sql } from 'drizzle-orm';
import { deliveriesOf } from '../event-row.js';
import type { EventPage, EventQuery } from '../port.js';
import type { Db } from './rows.js';
import { deliveries, events } from './schema.js';

/** See `Journal.listEvents`. */
export function listEvents(db: Db, query: EventQuery): EventPage {
  const conditions = [];
  if (query.cursor !== undefined) conditions.push(lt(events.seq, Number(query.cursor)));
  if (query.source) conditions.push(eq(events.source, query.source));
  if (query.since !== undefined) conditions.push(gte(events.receivedAt, query.since));
  if (query.until !== undefined) conditions.push(lt(events.receivedAt, query.until));
  if (query.status || query.destination) {
    const own = [eq(deliveries.eventSeq, events.seq)];
    if (query.status) own.push(eq(deliveries.status, query.status));
    if (query.destination) own.push(eq(deliveries.destination, query.destination));
    // `exists()` parenthesizes the subquery itself: wrapping it again gave `EXISTS ((select …))`, a syntax error in SQLite.
    conditions.push(
      exists(
        db
          .select({ one: sql`1` })
          .from(deliveries)
          .where(and(...own)),
      ),
    );
  }
  const rows = db
    .select({
      id: events.id,
      seq: events.seq,
      source: events.source,
      method: events.method,
      path: events.path,
      receivedAt: events.receivedAt,
      bodySize: sql<number>`length(${events.body})`,
    })
    .from(events)
    .where(and(...conditions))
    .orderBy(desc(events.seq))
    .limit(query.limit + 1)
    .all();
  const page = rows.slice(0, query.limit);
  const ds = page.length
    ? db
        .select()
        .from(deliveries)
        .where(
          inArray(
            deliveries.eventSeq,
            page.map((r) => r.seq),
          ),
        )
        .orderBy(asc(deliveries.id))
        .all()
    : [];
  return {
    events: page.map((r) => ({
      ...r,
      deliveries: deliveriesOf(r.seq, ds),
    })),
    ...(rows.length > query.limit && { nextCursor: String(page[page.length - 1]!.seq) }),
  };
}

/** See `Journal.findEventIds`: a range on the unique index of `events.id`, not a scan. */
export function findEventIds(db: Db, prefix: string, limit: number): string[] {
  if (prefix === '') return [];
  // U+FFFF sorts after every character an id can hold (SQLite compares text as UTF-8 bytes).
  return db
    .select({ id: events.id })
    .from(events)
    .where(and(gte(events.id, prefix), lt(events.id, `${prefix}\uffff`)))
    .orderBy(asc(events.id))
    .limit(limit)
    .all()
    .map((r) => r.id);
}
