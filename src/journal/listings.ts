/**
 * What the journal reports and is asked about, beside the records it stores (port.ts): a
 * destination's backlog figures, event listings and their filters, replay and retention filters,
 * an adaptive destination's learned pace, and the nodes sharing a journal.
 */

/** Where one event stands with one destination. */
export type DeliveryStatus = 'pending' | 'in_flight' | 'delivered' | 'dead';

/**
 * How long finished events are kept, per outcome. An event may go once every one of its
 * deliveries is finished and past the cutoff of its own outcome.
 */
export interface RetentionCutoffs {
  /** A delivered delivery is past retention when it finished before this time. */
  deliveredBefore: number;
  /** A dead delivery is past retention when it finished before this time. */
  deadBefore: number;
  /** Deduplication keys whose window ended before this time are forgotten. */
  dedupeBefore: number;
}

/** The pace an adaptive destination learned (see `Journal.setPace`). */
export interface StoredPace {
  /** Requests per second; undefined when the rate was not limited. */
  rate: number | undefined;
  /** Requests at once. */
  concurrency: number;
  /** When it was recorded (epoch ms). */
  at: number;
}

/** What one node is doing with one destination (see `NodeReport`). */
export interface NodeDraining {
  /** Requests at the consumer now. */
  sending: number;
  /** Claimed from the journal and not sent yet (claimed ahead of a free slot). */
  claimed: number;
  /** Deliveries this node finished per second, over the last minute (from its first delivery in it). */
  deliveredPerSecond: number;
  /** The pace this node sends at: requests per second (undefined: not limited) and at once. */
  rate: number | undefined;
  concurrency: number;
}

/** What a node tells the others sharing its journal, every second (`Journal.recordNode`). */
export interface NodeReport {
  host: string;
  pid: number;
  /** Sluice's version. */
  version: string;
  /** The URLs it listens on, by role. */
  listeners: { ingest?: string | undefined; admin?: string | undefined };
  startedAt: number;
  /** By destination name. */
  draining: Record<string, NodeDraining>;
}

/** A node as the journal knows it (`Journal.nodes`). */
export interface NodeRecord extends NodeReport {
  id: string;
  /** The node's clock at its last report. */
  seenAt: number;
}

/**
 * A node whose last report is older than this is gone (it reports every second: this leaves room
 * for a slow database and a missed beat or two).
 */
export const NODE_LIVE_MS = 5_000;

/** A node whose last report is older than this missed two: shown as silent, it may have stopped. */
export const NODE_SILENT_MS = 2_500;

/** Backlog figures of one destination. */
export interface DestinationStats {
  /** Waiting for an attempt, never tried yet or replayed. */
  pending: number;
  inFlight: number;
  /** Waiting for a retry after a failed attempt. */
  retrying: number;
  dead: number;
  // No all-time delivered count: retention keeps delivered events for days (7 by default), and
  // counting them all on every scrape grew with that history (120M rows at 200/s).
  deliveredLastHour: number;
  deliveredLastMinute: number;
  /** Receive time of the oldest event not yet finished with this destination. */
  oldestUnfinishedAt: number | undefined;
}

/** Filters of `listEvents`. */
export interface EventQuery {
  /** Events with a delivery in this status (to `destination`, when given). */
  status?: DeliveryStatus | undefined;
  source?: string | undefined;
  /** Events with a delivery to this destination. */
  destination?: string | undefined;
  /** Received at or after (ms). */
  since?: number | undefined;
  /** Received before (ms). */
  until?: number | undefined;
  limit: number;
  /** Opaque position from a previous page. */
  cursor?: string | undefined;
}

/** One event in a listing: no body or headers, its deliveries in brief. */
export interface EventSummary {
  id: string;
  seq: number;
  source: string;
  method: string;
  path: string;
  receivedAt: number;
  bodySize: number;
  deliveries: { destination: string; status: DeliveryStatus; attempts: number; lastError: string | null }[];
}

/** A page of `listEvents`. */
export interface EventPage {
  events: EventSummary[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor?: string | undefined;
}

/** Which deliveries `replay` makes pending again. */
export interface ReplayFilter {
  /** One event's deliveries (all its finished ones, or only to `destination`). */
  eventId?: string | undefined;
  destination?: string | undefined;
  /** Which finished deliveries: dead (default) or delivered. */
  status?: 'dead' | 'delivered' | undefined;
  /** Events received at or after / before (ms). */
  since?: number | undefined;
  until?: number | undefined;
}
