/**
 * Retention: deletes events whose deliveries all finished longer ago than `retention.delivered`
 * (all delivered) or `retention.dead` (any dead). It deletes in small batches, each its own
 * short write in the group commit, yielding to the event loop between batches, so ingest never
 * waits behind a large delete.
 */
import type { Config } from '../config/schema.js';
import { Waiter } from '../delivery/waiter.js';
import type { GatewayEvents } from '../events.js';
import type { Logger } from '../log.js';
import type { Journal } from './port.js';

/** Events deleted per batch. */
export const RETENTION_BATCH = 500;
/** How often retention looks for expired events. */
const INTERVAL_MS = 60_000;
/** How often it looks whether the journal is short of space, and reclaims when it is. */
const PRESSURE_INTERVAL_MS = 1_000;

/** Deletes everything past retention now, batch by batch; resolves how many events went. */
export async function purgeExpired(
  journal: Journal,
  retention: Config['retention'],
  now: number,
  signal?: AbortSignal,
): Promise<number> {
  const cutoffs = { deliveredBefore: now - retention.delivered, deadBefore: now - retention.dead, dedupeBefore: now };
  let total = 0;
  for (;;) {
    if (signal?.aborted) return total;
    const deleted = await journal.purge(cutoffs, RETENTION_BATCH);
    total += deleted;
    if (deleted < RETENTION_BATCH) return total;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Deletes delivered events whatever their age, batch by batch, while the journal is short of
 * space: kept for `retention.delivered`, they would hold ingest at 503 for as long. Dead events
 * stay (the operator has yet to look at them). Resolves how many events went.
 */
export async function reclaimDelivered(
  journal: Journal,
  retention: Config['retention'],
  now: number,
  signal?: AbortSignal,
): Promise<number> {
  const cutoffs = { deliveredBefore: now + 1, deadBefore: now - retention.dead, dedupeBefore: now };
  let total = 0;
  while (!signal?.aborted && journal.storageFull()) {
    const deleted = await journal.purge(cutoffs, RETENTION_BATCH);
    total += deleted;
    if (deleted < RETENTION_BATCH) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return total;
}

/**
 * Runs `purgeExpired` every minute, and `reclaimDelivered` whenever the journal is short of space,
 * until `signal` aborts; resolves when the loop has stopped.
 */
export async function runRetention(options: {
  journal: Journal;
  retention: Config['retention'];
  logger: Logger;
  signal: AbortSignal;
  clock?: () => number;
  intervalMs?: number;
  /** Where early deletions for lack of space are reported (`journal:reclaimed`). */
  events?: GatewayEvents;
}): Promise<void> {
  const { journal, retention, logger, signal } = options;
  const clock = options.clock ?? Date.now;
  const waiter = new Waiter();
  const intervalMs = options.intervalMs ?? INTERVAL_MS;
  let nextPurge = 0;
  let reclaimed = 0;
  while (!signal.aborted) {
    try {
      if (clock() >= nextPurge) {
        nextPurge = clock() + intervalMs;
        const deleted = await purgeExpired(journal, retention, clock(), signal);
        if (deleted > 0) logger.info({ deleted }, 'retention deleted finished events');
      }
      if (journal.storageFull()) {
        const deleted = await reclaimDelivered(journal, retention, clock(), signal);
        reclaimed += deleted;
        if (deleted > 0) {
          options.events?.emit('journal:reclaimed', { count: deleted });
          logger.warn(
            { deleted, reclaimed },
            'journal storage full: deleted delivered events before their retention ended, to make room',
          );
        }
      }
    } catch (error) {
      logger.error({ err: error }, 'retention failed; will try again');
    }
    await waiter.wait(Math.min(intervalMs, PRESSURE_INTERVAL_MS), signal);
  }
}
