/**
 * Retention: deletes events whose deliveries all finished longer ago than `retention.delivered`
 * (all delivered) or `retention.dead` (any dead). It deletes in small batches, each its own
 * short write in the group commit, yielding to the event loop between batches, so ingest never
 * waits behind a large delete.
 */
import type { Config } from '../config/schema.js';
import { Waiter } from '../delivery/waiter.js';
import type { Logger } from '../log.js';
import type { Journal } from './port.js';

/** Events deleted per batch. */
export const RETENTION_BATCH = 500;
/** How often retention looks for expired events. */
const INTERVAL_MS = 60_000;

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

/** Runs `purgeExpired` every minute until `signal` aborts; resolves when the loop has stopped. */
export async function runRetention(options: {
  journal: Journal;
  retention: Config['retention'];
  logger: Logger;
  signal: AbortSignal;
  clock?: () => number;
  intervalMs?: number;
}): Promise<void> {
  const { journal, retention, logger, signal } = options;
  const clock = options.clock ?? Date.now;
  const waiter = new Waiter();
  while (!signal.aborted) {
    try {
      const deleted = await purgeExpired(journal, retention, clock(), signal);
      if (deleted > 0) logger.info({ deleted }, 'retention deleted finished events');
    } catch (error) {
      logger.error({ err: error }, 'retention failed; will try again');
    }
    await waiter.wait(options.intervalMs ?? INTERVAL_MS, signal);
  }
}
