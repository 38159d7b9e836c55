/**
 * What the dashboard's buttons do: pause, resume, replay one event, replay a destination's dead
 * deliveries. The same effects as the admin API's routes (resume also lifts a hold), each emitted
 * as `admin:action` with `via: 'ui'` for the audit log and the activity list.
 */
import type { Scheduler } from '../delivery/scheduler.js';
import type { AdminActionEvent, GatewayEvents } from '../events.js';
import type { Journal } from '../journal/port.js';
import type { ReplayTracker } from './activity.js';

export interface ActionDeps {
  journal: Journal;
  scheduler: Scheduler;
  events: GatewayEvents;
  replays: ReplayTracker;
  clock: () => number;
}

/** An action refused: what the page shows, with the HTTP status it answers. */
export class ActionRefused extends Error {
  constructor(
    readonly status: 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

export function createActions(deps: ActionDeps) {
  const { journal, scheduler, events, clock } = deps;
  const log = (action: AdminActionEvent['action'], target: string, count?: number) =>
    events.emit('admin:action', { action, target, via: 'ui', at: clock(), ...(count !== undefined && { count }) });

  return {
    async pause(name: string) {
      await scheduler.pause(name);
      log('pause', name);
    },
    async resume(name: string) {
      const lifted = await scheduler.liftHold(name);
      await scheduler.resume(name);
      if (lifted) log('lift-hold', name);
      log('resume', name);
    },
    async replayEvent(id: string): Promise<number> {
      const event = await journal.getEvent(id);
      if (!event) throw new ActionRefused(404, `no event "${id}"`);
      const replayed = await journal.replay({ eventId: id }, clock());
      if (replayed === 0)
        throw new ActionRefused(409, 'nothing to replay: its deliveries are still pending or in flight');
      scheduler.notify(event.deliveries.map((d) => d.destination));
      log('replay', id, replayed);
      return replayed;
    },
    async replayDead(name: string): Promise<number> {
      const now = clock();
      const replayed = await journal.replay({ destination: name, status: 'dead' }, now);
      if (replayed > 0) {
        deps.replays.start(name, replayed, now);
        scheduler.notify([name]);
      }
      log('replay', name, replayed);
      return replayed;
    },
  };
}
export type Actions = ReturnType<typeof createActions>;
