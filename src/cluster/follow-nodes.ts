/**
 * With a journal shared by several nodes: another node's new or replayed deliveries wake the delivery
 * loops here at once (they would otherwise be found at the next poll), a pause, resume or hold made
 * there is applied here too, and the journal's connection troubles are logged.
 */
import type { Config } from '../config/schema.js';
import type { Scheduler } from '../delivery/scheduler.js';
import type { GatewayEvents } from '../events.js';
import type { Journal } from '../journal/port.js';
import type { Logger } from '../log.js';

/** Follows the other nodes on the journal: wakes the loops, adopts their pauses and holds, logs journal troubles. */
export function followOtherNodes(
  journal: Journal,
  scheduler: Scheduler,
  events: GatewayEvents,
  logger: Logger,
  config: Config,
  clock: () => number = Date.now,
): void {
  const all = Object.keys(config.destinations);
  events.on('journal:wakeup', ({ destinations }) => scheduler.notify(destinations.length > 0 ? destinations : all));
  events.on('journal:state-changed', ({ destination }) => {
    if (!(destination in config.destinations)) return;
    Promise.all([journal.pausedDestinations(), journal.heldDestinations(clock())]).then(
      ([paused, held]) =>
        scheduler.adopt(destination, { paused: paused.includes(destination), heldUntil: held[destination] ?? 0 }),
      (error: unknown) => logger.warn({ err: error, destination }, 'could not read the state another node set'),
    );
  });
  events.on('journal:listening', ({ listening, error }) => {
    if (listening) logger.info('journal notifications: listening');
    else logger.warn({ error }, 'journal notifications lost: reconnecting (delivery loops poll meanwhile)');
  });
  events.on('journal:lease-renewal', ({ renewing, error }) => {
    if (renewing) logger.info('journal lease renewal works again');
    else
      logger.warn(
        { error },
        'journal lease renewal failing: claims whose lease is not confirmed are released, not sent, and may go to other nodes',
      );
  });
}
