/**
 * A destination's lasting state (the `destination_state` table): a pause, a hold, a learned pace.
 * The writer sets it; the scheduler reads it back on start, on the main thread's connection.
 */
import { eq, gt, isNotNull } from 'drizzle-orm';
import type { StoredPace } from '../port.js';
import type { Db } from './rows.js';
import { destinationState } from './schema.js';

/** Sets some of a destination's lasting state (a pause, a hold), leaving the rest as it was. */
export function setDestinationState(
  db: Db,
  name: string,
  set:
    | { paused: boolean }
    | { heldUntil: number }
    | { paceRate: number | null; paceConcurrency: number | null; paceAt: number | null },
  now: number,
): undefined {
  db.insert(destinationState)
    .values({ name, ...set, updatedAt: now })
    .onConflictDoUpdate({ target: destinationState.name, set: { ...set, updatedAt: now } })
    .run();
  return undefined;
}

/** See `Journal.pausedDestinations`. */
export function pausedDestinations(db: Db): string[] {
  return db
    .select({ name: destinationState.name })
    .from(destinationState)
    .where(eq(destinationState.paused, true))
    .all()
    .map((r) => r.name);
}

/** See `Journal.heldDestinations`. */
export function heldDestinations(db: Db, now: number): Record<string, number> {
  const rows = db
    .select({ name: destinationState.name, heldUntil: destinationState.heldUntil })
    .from(destinationState)
    .where(gt(destinationState.heldUntil, now))
    .all();
  return Object.fromEntries(rows.map((r) => [r.name, r.heldUntil!]));
}

/** See `Journal.destinationPaces`. */
export function destinationPaces(db: Db): Record<string, StoredPace> {
  const rows = db
    .select({
      name: destinationState.name,
      rate: destinationState.paceRate,
      concurrency: destinationState.paceConcurrency,
      at: destinationState.paceAt,
    })
    .from(destinationState)
    .where(isNotNull(destinationState.paceConcurrency))
    .all();
  return Object.fromEntries(
    rows.map((r) => [r.name, { rate: r.rate ?? undefined, concurrency: r.concurrency!, at: r.at ?? 0 }]),
  );
}
