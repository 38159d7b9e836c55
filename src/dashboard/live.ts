/**
 * What the page shows live, per destination: the admin API's status row (backlog, oldest age, ETA:
 * `destinationStatus`) plus the state in words (running, paused, or held and why), the live in and
 * out rates, and the effective pace (the pacer's rate and concurrency now, which adaptive pacing
 * moves). One snapshot is shared by every open page for up to a second, so that ten tabs do not
 * make ten times the journal reads.
 */

import type { Metrics } from '../admin/metrics.js';
import { type destinationStatus, readDestinationStatuses } from '../admin/routes/destination-handlers.js';
import { drainingElsewhere, isBusy, listNodes } from '../cluster/node-listing.js';
import type { NodeReporter } from '../cluster/node-report.js';
import type { Config } from '../config/schema.js';
import type { Scheduler } from '../delivery/scheduler.js';
import type { AdminActionEvent } from '../events.js';
import { type Journal, NODE_SILENT_MS, type NodeRecord } from '../journal/port.js';
import type { Activity, ReplayProgress, ReplayTracker } from './activity.js';
import type { History } from './history.js';

export type DestinationView = ReturnType<typeof destinationStatus> & {
  /** running, paused, or held (held also while probing a consumer that was down). */
  view_state: 'running' | 'paused' | 'held';
  /** Why it is held, in words; null when not held. */
  held_reason: string | null;
  backlog: number;
  in_per_second: number;
  out_per_second: number;
};

/** One node sharing the journal, as the page lists it. */
export interface NodeView {
  label: string;
  self: boolean;
  version: string;
  started_at: number;
  seen_at: number;
  /** It missed two reports (`NODE_SILENT_MS`): it may have stopped. */
  silent: boolean;
  /** Per destination it drains now: requests at the consumer and deliveries per second. */
  draining: { destination: string; in_flight: number; per_second: number }[];
}

export interface LiveSnapshot {
  at: number;
  destinations: DestinationView[];
  /** The live nodes, when several share the journal (PostgreSQL); absent otherwise. */
  nodes?: NodeView[];
  activity: readonly AdminActionEvent[];
  replays: ReplayProgress[];
}

export interface LiveDeps {
  journal: Journal;
  scheduler: Scheduler;
  destinations: Config['destinations'];
  metrics: Metrics;
  /** This node's live report: with a shared journal, the other nodes' requests at the consumer count too. */
  reporter: NodeReporter;
  history: History;
  activity: Activity;
  replays: ReplayTracker;
  clock?: () => number;
}

/**
 * Snapshots no older than a second, shared; `invalidate` drops the shared one, so that the state an
 * operator just changed shows at the next read, not up to a second later.
 */
export function createLiveView(deps: LiveDeps): { snapshot(): Promise<LiveSnapshot>; invalidate(): void } {
  const clock = deps.clock ?? Date.now;
  let cached: { at: number; value: Promise<LiveSnapshot> } | undefined;
  const take = async (now: number): Promise<LiveSnapshot> => {
    const listing = await listNodes(deps.journal, deps.reporter, now);
    const statuses = await readDestinationStatuses(deps, now, listing);
    const destinations = statuses.map((status) => {
      const { name } = status;
      const state = deps.scheduler.state(name);
      const rates = deps.history.liveRates(name, now);
      return {
        ...status,
        ...describeState(state, now),
        // `in_flight` is only what is at the consumer; `claimed` (claimed ahead, or leases of a stopped
        // process) is backlog too, or a bulk replay would read done before it is.
        backlog: status.pending + status.retrying + status.in_flight + status.claimed,
        // With several nodes, what they all take in and send: the others' from their last report (their
        // ingest is not reported: this node's history counts only what it took in).
        in_per_second: rates.in,
        out_per_second: rates.out + (drainingElsewhere(listing, name)?.deliveredPerSecond ?? 0),
      };
    });
    const backlogs = new Map(destinations.map((d) => [d.name, d.backlog]));
    return {
      at: now,
      destinations,
      ...(listing.shared && { nodes: listing.nodes.map((n) => nodeView(n, listing.self, now)) }),
      activity: deps.activity.recent().slice(0, 20),
      replays: deps.replays.progress((name) => backlogs.get(name)),
    };
  };
  return {
    invalidate() {
      cached = undefined;
    },
    snapshot() {
      const now = clock();
      if (!cached || now - cached.at >= 1000) {
        const value = take(now);
        cached = { at: now, value };
        // A failed read is not kept: the next call tries again.
        value.catch(() => {
          if (cached?.value === value) cached = undefined;
        });
      }
      return cached.value;
    },
  };
}

function describeState(
  state: ReturnType<Scheduler['state']>,
  now: number,
): Pick<DestinationView, 'view_state' | 'held_reason'> {
  if (!state) return { view_state: 'running', held_reason: null };
  if (state.paused) return { view_state: 'paused', held_reason: null };
  const until = state.heldUntil !== undefined ? ` for ${Math.max(1, Math.ceil((state.heldUntil - now) / 1000))} s` : '';
  if (state.heldBy === 'retry_after')
    return { view_state: 'held', held_reason: `the consumer asked to wait (Retry-After)${until}` };
  if (state.heldBy === 'unreachable')
    return { view_state: 'held', held_reason: `the consumer did not answer; probing again${until}` };
  if (state.mode === 'probing')
    return { view_state: 'held', held_reason: 'probing: one request at a time until the consumer answers' };
  if (state.mode === 'held') return { view_state: 'held', held_reason: 'held' };
  return { view_state: 'running', held_reason: null };
}

function nodeView(n: NodeRecord, self: string, now: number): NodeView {
  return {
    label: `${n.host}:${n.pid}`,
    self: n.id === self,
    version: n.version,
    started_at: n.startedAt,
    seen_at: n.seenAt,
    silent: now - n.seenAt > NODE_SILENT_MS,
    draining: Object.entries(n.draining)
      .filter(([, d]) => isBusy(d))
      .map(([destination, d]) => ({ destination, in_flight: d.sending, per_second: d.deliveredPerSecond })),
  };
}
