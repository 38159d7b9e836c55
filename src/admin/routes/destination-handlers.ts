/**
 * The handlers of the destination routes (destination-routes.ts): the backlog and drain estimate of
 * each destination, and an operator's replay, pause and resume. Each action is told to the audit log.
 */
import type { RouteHandler } from '@hono/zod-openapi';
import {
  addRates,
  type DrainingElsewhere,
  drainingElsewhere,
  listNodes,
  type NodeListing,
} from '../../cluster/node-listing.js';
import type { NodeReporter } from '../../cluster/node-report.js';
import { type Config, orderingLabel } from '../../config/schema.js';
import type { Scheduler } from '../../delivery/scheduler.js';
import type { DestinationStats, Journal } from '../../journal/port.js';
import type { Metrics } from '../metrics.js';
import type { destinationRoutes as routes } from './destination-routes.js';
import { type HandlerContext, iso, unknownDestination } from './handler-context.js';

/** The destination routes' handlers, by route name. */
export function destinationHandlers(context: HandlerContext) {
  const { journal, scheduler, destinations, clock, audit } = context;
  const listDestinations: RouteHandler<typeof routes.listDestinations> = async (c) => {
    const now = clock();
    const list = await readDestinationStatuses(context, now);
    return c.json({ destinations: list }, 200);
  };

  const replayDestination: RouteHandler<typeof routes.replayDestination> = async (c) => {
    const { name } = c.req.valid('param');
    const body = c.req.valid('json');
    if (!(name in destinations)) return unknownDestination(c, name);
    const replayed = await journal.replay(
      { destination: name, status: body.status, since: body.since, until: body.until },
      clock(),
    );
    if (replayed > 0) scheduler.notify([name]);
    audit('replay', name, replayed);
    return c.json({ replayed }, 200);
  };

  const pause: RouteHandler<typeof routes.pause> = async (c) => {
    const { name } = c.req.valid('param');
    if (!(name in destinations)) return unknownDestination(c, name);
    await scheduler.pause(name);
    audit('pause', name);
    return c.json({ name, state: 'paused' as const }, 200);
  };

  const resume: RouteHandler<typeof routes.resume> = async (c) => {
    const { name } = c.req.valid('param');
    if (!(name in destinations)) return unknownDestination(c, name);
    // Resume means "send now": it ends a Retry-After hold (or the wait before probing) as well.
    const lifted = await scheduler.liftHold(name);
    await scheduler.resume(name);
    if (lifted) audit('lift-hold', name);
    audit('resume', name);
    const hold = lifted && { held_until: iso(lifted.until), held_by: lifted.by };
    return c.json({ name, state: 'running' as const, ...(hold && { hold_lifted: hold }) }, 200);
  };

  return { listDestinations, replayDestination, pause, resume };
}

/** What reading a destination's status takes. */
export interface StatusSources {
  journal: Journal;
  scheduler: Scheduler;
  metrics: Metrics;
  reporter: NodeReporter;
  destinations: Config['destinations'];
}

/**
 * Every destination's status (`readDestinationStatus`). With a journal several nodes share, the
 * requests at the consumer, the rates and the paces add up every live node's (the others' from their
 * last reports, a second old at most).
 */
export async function readDestinationStatuses(
  from: StatusSources,
  now: number,
  /** The nodes, when the caller has read them already. */
  nodes?: NodeListing,
): Promise<ReturnType<typeof destinationStatus>[]> {
  const listing = nodes ?? (await listNodes(from.journal, from.reporter, now));
  return Promise.all(
    Object.entries(from.destinations).map(([name, destination]) =>
      readDestinationStatus(from, name, destination, now, drainingElsewhere(listing, name)),
    ),
  );
}

/**
 * The status of one destination as `GET /destinations` and the dashboard show it: the journal's
 * figures, the loop's live state and this process's rates, put together by `destinationStatus` with
 * what the other nodes sharing the journal do with it (`elsewhere`: their requests at the consumer,
 * rates and paces).
 */
async function readDestinationStatus(
  from: Pick<StatusSources, 'journal' | 'scheduler' | 'metrics'>,
  name: string,
  destination: Config['destinations'][string],
  now: number,
  elsewhere?: DrainingElsewhere,
): Promise<ReturnType<typeof destinationStatus>> {
  return destinationStatus(name, await from.journal.destinationStats(name, now), {
    state: from.scheduler.state(name),
    elsewhere,
    now,
    localRate: from.metrics.deliveredRate(name, now),
    sendingRate: from.metrics.sendingRate(name, now),
    configuredRate: destination.rate,
    configuredConcurrency: destination.concurrency,
    ordering: destination.ordering,
  });
}

/**
 * One row of GET /destinations (and of `sluice status`).
 *
 * The rate is the journal's deliveries in the last minute over 60 s, or, when higher, this process's
 * own count over the time since its first delivery in that minute plus the other live nodes' last
 * reported rates (just after a start or a resume, a whole minute would understate it). The time to
 * drain divides the backlog by that rate, or by the pace since this process's first send plus the
 * others' when higher (just after a restart), capped by the configured rate (a burst says nothing
 * of the pace after it).
 */
export function destinationStatus(
  name: string,
  s: DestinationStats,
  at: {
    state: ReturnType<Scheduler['state']>;
    /** What the other nodes sharing the journal do with it (their requests at the consumer, rates and paces). */
    elsewhere?: DrainingElsewhere | undefined;
    now: number;
    localRate?: number | undefined;
    /** `Metrics.sendingRate`: this process's pace without the 10 s floor, for the time to drain. */
    sendingRate?: number | undefined;
    configuredRate?: number | undefined;
    configuredConcurrency?: number | undefined;
    ordering?: Config['destinations'][string]['ordering'] | undefined;
  },
) {
  const paused = at.state?.paused ?? false;
  // With several nodes, each one's own rate counts: the journal's minute lags as much after a start.
  const rate = Math.max(s.deliveredLastMinute / 60, (at.localRate ?? 0) + (at.elsewhere?.deliveredPerSecond ?? 0));
  // Right after a start the floored local rate and the journal's minute (which spans the downtime)
  // both understate the pace, by up to ten times: the ETA then used the unfloored pace since the
  // first send, capped by the configured rate, which a burst cannot pass.
  const drainRate = Math.min(
    Math.max(rate, (at.sendingRate ?? 0) + (at.elsewhere?.deliveredPerSecond ?? 0)),
    at.configuredRate ?? Infinity,
  );
  const backlog = s.pending + s.retrying + s.inFlight;
  // The journal counts every claimed delivery as in flight, also those claimed ahead of a free slot
  // (claim-ahead.ts) and the leases of a stopped process: only the loops know which are at the consumer.
  const sending =
    at.state === undefined ? s.inFlight : Math.min(s.inFlight, at.state.inFlight + (at.elsewhere?.sending ?? 0));
  return {
    name,
    state: paused ? ('paused' as const) : ('running' as const),
    ordering: orderingLabel(at.ordering ?? 'unordered'),
    pending: s.pending,
    in_flight: sending,
    claimed: s.inFlight - sending,
    retrying: s.retrying,
    dead: s.dead,
    delivered_last_hour: s.deliveredLastHour,
    oldest_pending_age_seconds:
      s.oldestUnfinishedAt === undefined ? null : Math.max(0, Math.floor((at.now - s.oldestUnfinishedAt) / 1000)),
    rate_per_second: Math.round(rate * 1000) / 1000,
    eta_seconds: backlog === 0 ? 0 : paused || drainRate === 0 ? null : Math.ceil(backlog / drainRate),
    held_until: at.state?.heldUntil === undefined ? null : new Date(at.state.heldUntil).toISOString(),
    held_by: at.state?.heldBy ?? null,
    pace: at.state ? paceStatus(at.state, at.elsewhere, at.configuredRate, at.configuredConcurrency) : null,
  };
}

/**
 * The pace a destination is sent at now: configured, or learned by its adaptive pacer, and what last
 * moved it. With several nodes on one journal, the cluster's: each node's pacer learns its share (the
 * consumer's refusals reach every node once their sum is too much, so each settles near its share, as
 * AIMD flows sharing a link do), and the cluster's pace is their sum, within the configured ceilings
 * that the shared token bucket and claims hold for all of them together. Mode and signal are this node's.
 */
function paceStatus(
  state: NonNullable<ReturnType<Scheduler['state']>>,
  elsewhere: DrainingElsewhere | undefined,
  configuredRate: number | undefined,
  configuredConcurrency: number | undefined,
) {
  // Without other nodes draining it, `elsewhere` is absent or all zeros: this node's pace alone.
  const summed = elsewhere ? addRates(state.rate, elsewhere.rate) : state.rate;
  const rate = Math.min(summed ?? Infinity, configuredRate ?? Infinity);
  const concurrency = Math.min(state.concurrency + (elsewhere?.concurrency ?? 0), configuredConcurrency ?? Infinity);
  return {
    adaptive: state.pace !== undefined,
    rate_per_second: Number.isFinite(rate) ? Number(rate.toPrecision(3)) : null,
    concurrency,
    nodes: (elsewhere?.nodes ?? 0) + 1,
    mode: state.pace?.mode ?? null,
    last_signal: state.pace?.signal ?? null,
    last_signal_at: state.pace?.signalAt === undefined ? null : new Date(state.pace.signalAt).toISOString(),
  };
}
