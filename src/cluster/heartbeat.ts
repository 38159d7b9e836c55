/**
 * Every second, this node's report goes to the journal that several nodes share, so that any node's
 * admin API and `sluice status` list the live nodes and what each is draining. A node that stops
 * reporting (crash, lost database) drops out of the listings within `NODE_LIVE_MS`.
 */

import { Waiter } from '../delivery/waiter.js';
import type { Journal } from '../journal/port.js';
import type { Logger } from '../log.js';
import type { NodeReporter } from './node-report.js';

/** How often a node reports: well within `NODE_LIVE_MS`. */
const HEARTBEAT_MS = 1_000;

/** Reports until `signal` aborts; resolves when the loop has stopped. Failures are logged once until one succeeds. */
export async function runNodeHeartbeat(options: {
  record: NonNullable<Journal['recordNode']>;
  reporter: NodeReporter;
  logger: Logger;
  signal: AbortSignal;
  clock?: () => number;
  everyMs?: number;
}): Promise<void> {
  const { record, reporter, logger, signal } = options;
  const clock = options.clock ?? Date.now;
  const waiter = new Waiter();
  // A report the database never answers must not hold up the stop (it waits on this loop).
  const stopped = new Promise<typeof STOPPED>((resolve) => {
    if (signal.aborted) resolve(STOPPED);
    else signal.addEventListener('abort', () => resolve(STOPPED), { once: true });
  });
  let failing = false;
  while (!signal.aborted) {
    const now = clock();
    const written = record(reporter.report(now), now).then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
    const outcome = await Promise.race([written, stopped]);
    if (outcome === STOPPED) break;
    if (outcome === undefined) {
      if (failing) logger.info('node report written again: this node is listed to the others');
      failing = false;
    } else {
      if (!failing)
        logger.warn({ err: outcome.error }, 'could not write this node report; the other nodes will not list it');
      failing = true;
    }
    await waiter.wait(options.everyMs ?? HEARTBEAT_MS, signal);
  }
}

const STOPPED = Symbol('stopped');
