/**
 * One event as the admin API shows it: the stored request, each delivery's state and every attempt
 * made for it. Run on the reader thread.
 */
import { asc, eq, inArray } from 'drizzle-orm';
import { attemptLogOf, toStoredEvent } from '../event-row.js';
import type { DeliveryRecord, StoredEvent } from '../port.js';
import type { Db } from './rows.js';
import { attempts, deliveries, events } from './schema.js';

/** See `Journal.getEvent`. */
export function getEvent(db: Db, id: string): (StoredEvent & { deliveries: DeliveryRecord[] }) | undefined {
  const row = db.select().from(events).where(eq(events.id, id)).get();
  if (!row) return undefined;
  const rows = db.select().from(deliveries).where(eq(deliveries.eventSeq, row.seq)).orderBy(asc(deliveries.id)).all();
  const log = rows.length
    ? db
        .select()
        .from(attempts)
        .where(
          inArray(
            attempts.deliveryId,
            rows.map((d) => d.id),
          ),
        )
        .orderBy(asc(attempts.id))
        .all()
    : [];
  return {
    ...toStoredEvent(row),
    deliveries: rows.map((d) => ({
      id: d.id,
      destination: d.destination,
      status: d.status,
      attempts: d.attempts,
      dueAt: d.dueAt,
      finishedAt: d.finishedAt,
      lastError: d.lastError,
      attemptLog: attemptLogOf(d.id, log),
    })),
  };
}
