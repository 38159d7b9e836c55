/**
 * What the page lists as recent activity: the last operator actions (`admin:action`, from the
 * admin API and from the dashboard), and the progress of bulk replays started from the page.
 */
import type { AdminActionEvent, GatewayEvents } from '../events.js';

/** Actions kept for the list: enough for a screen, bounded in memory. */
const KEEP = 50;

export interface Activity {
  subscribe(events: GatewayEvents): () => void;
  /** Newest first. */
  recent(): readonly AdminActionEvent[];
}

export function createActivity(): Activity {
  const actions: AdminActionEvent[] = [];
  return {
    subscribe(events) {
      const onAction = (action: AdminActionEvent) => {
        actions.unshift(action);
        if (actions.length > KEEP) actions.length = KEEP;
      };
      events.on('admin:action', onAction);
      return () => events.off('admin:action', onAction);
    },
    recent: () => actions,
  };
}

/** A bulk replay of dead deliveries and how far it has come. */
export interface ReplayProgress {
  destination: string;
  total: number;
  /** At most this many of the replayed deliveries are still to go. */
  left: number;
  startedAt: number;
}

/**
 * Progress of bulk replays, one per destination (a new one replaces the last). The journal counts
 * a destination's backlog, not which of it came from a replay; but replayed deliveries are claimed
 * only when no live delivery is due, so they are the last of the backlog: at most
 * min(total, backlog) of them are left. That bound never shows progress not made.
 */
export function createReplayTracker() {
  const byDestination = new Map<string, ReplayProgress>();
  return {
    start(destination: string, total: number, now: number) {
      byDestination.set(destination, { destination, total, left: total, startedAt: now });
    },
    /** Updates each replay from its destination's backlog now; answers them all. */
    progress(backlogOf: (destination: string) => number | undefined): ReplayProgress[] {
      for (const replay of byDestination.values()) {
        const backlog = backlogOf(replay.destination);
        if (backlog !== undefined) replay.left = Math.min(replay.left, replay.total, backlog);
      }
      return [...byDestination.values()];
    },
  };
}
export type ReplayTracker = ReturnType<typeof createReplayTracker>;
