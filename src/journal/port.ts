/**
 * The `Journal` port: everything Sluice stores goes through this narrow interface, so that a
 * second backend (PostgreSQL, for several nodes sharing one journal) only has to implement it
 * and pass the contract suite in test/journal/contract/. The SQLite backend is sqlite/journal.ts;
 * open.ts picks the backend the config names.
 *
 * Times are Unix epoch milliseconds, passed in by the caller (the backend never reads a clock
 * for decisions), so that tests and several nodes agree on what "now" means.
 */

import type {
  DeliveryStatus,
  DestinationStats,
  EventPage,
  EventQuery,
  NodeRecord,
  NodeReport,
  ReplayFilter,
  RetentionCutoffs,
  StoredPace,
} from './listings.js';

// What the journal reports and is asked about lives in listings.ts; importers see it here, with the port.
export * from './listings.js';

/** A header as received: original name case, repeated headers kept as separate entries, in order. */
export type HeaderPair = [name: string, value: string];

/** A webhook request to journal, with the destinations it must be delivered to. */
export interface IncomingEvent {
  source: string;
  method: string;
  path: string;
  /** Raw query string without the `?` ('' when none). */
  query: string;
  headers: HeaderPair[];
  body: Uint8Array;
  remoteAddr: string | null;
  receivedAt: number;
  destinations: string[];
  /**
   * Deduplication: when an event of the same source with the same key was accepted and its
   * window has not ended, this one is not stored and `append` returns the original.
   */
  dedupe?: { key: string; until: number } | undefined;
  /**
   * Ordering keys, by destination, for the destinations that order by key (`ordering: { key }`) and
   * only where the event has one (see `ClaimRequest.byKey`). A destination absent from it puts the
   * event in its group of events without a key.
   */
  orderKeys?: Readonly<Record<string, string>> | undefined;
}

/** An event as stored. */
export interface StoredEvent extends Omit<IncomingEvent, 'destinations'> {
  /** Public id, returned to the sender and sent to consumers as `sluice-event-id`. */
  id: string;
  /** Ingest order, strictly increasing; fifo destinations deliver in this order. */
  seq: number;
}

/** One recorded delivery attempt. */
export interface AttemptRecord {
  /** 1 for the first attempt. */
  attempt: number;
  startedAt: number;
  durationMs: number;
  /** HTTP status of the consumer's answer; absent when no answer came (network error, timeout). */
  status?: number | undefined;
  /** Why the attempt failed, when it did not get a 2xx. */
  error?: string | undefined;
  /** The first bytes of the consumer's response body (at most 1 KiB). */
  response?: Uint8Array | undefined;
}

/** One event's delivery to one destination, with its attempts. */
export interface DeliveryRecord {
  id: number;
  destination: string;
  status: DeliveryStatus;
  attempts: number;
  /** When the next attempt is due (pending) or the lease ends (in flight); absent once finished. */
  dueAt: number | null;
  finishedAt: number | null;
  lastError: string | null;
  attemptLog: AttemptRecord[];
}

/** A delivery leased to this process: it must be completed before `leaseUntil`, or it is claimed again. */
export interface Claim {
  deliveryId: number;
  destination: string;
  /** The number of this attempt (1 for the first). Also the fencing token of the lease. */
  attempt: number;
  leaseUntil: number;
  /**
   * Where the retry budget starts: a replay gives a delivery a fresh budget, so max_attempts
   * counts attempts after `attemptsBefore`, and max_age runs from `since` (receive or replay time).
   */
  budget: { attemptsBefore: number; since: number };
  event: StoredEvent;
}

/** What becomes of a delivery after an attempt. */
export type Verdict = { kind: 'delivered' } | { kind: 'retry'; at: number } | { kind: 'dead' };

/** What to claim. */
export interface ClaimRequest {
  destination: string;
  /** Most deliveries to lease at once. */
  limit: number;
  now: number;
  /** How long the lease lasts; past it another claim may take the delivery again. */
  leaseMs: number;
  /** Strict ingest order: only the oldest unfinished delivery may be claimed, and only when due. */
  fifo: boolean;
  /**
   * Strict ingest order within each ordering key (`IncomingEvent.orderKeys`), parallel across keys
   * (ignored when `fifo` is set). A key's head is its oldest unfinished delivery (lowest event seq,
   * whatever its status or priority); only a head may be claimed, and only when due, so a key whose
   * head is in flight (lease not expired) or waiting for a retry gives nothing while every other key
   * goes on. Each claim leases at most one delivery per key. Deliveries stored without a key (none
   * was found in the event, or it was received before the destination ordered by key) form one more
   * group, ordered the same way. Among the due heads, live ones come before replayed ones, then the
   * earliest due first, as without ordering; `limit` caps the number of heads leased.
   * A finished head (delivered or dead) no longer blocks: the next delivery of its key becomes the
   * head. A replayed delivery is unfinished again and older than the rest of its key, so it becomes
   * the head and goes before them (as with fifo; if a later delivery of the key is in flight at that
   * moment, the two may overlap once).
   * The claim must not read every unfinished delivery (a backlog may hold millions behind a few
   * heads). The SQLite journal (sqlite/keyed-claim.ts) first takes the heads among the 4 × `limit`
   * earliest due live deliveries (a delivery is a head when no older unfinished one has its key: one
   * index lookup each); only when that does not fill `limit` does it walk the destination's distinct
   * keys through an index on (destination, key, seq) over unfinished deliveries, one lookup per key.
   * In PostgreSQL the same with a recursive CTE (or a lateral join) for the walk, and the heads then
   * locked with `FOR UPDATE SKIP LOCKED`: a head another node is claiming is skipped, never waited
   * for, and nothing behind it is taken in its place, since the head is computed without locks. The
   * group without a key needs `IS NULL`, not `=`, to use the index.
   */
  byKey?: boolean | undefined;
  /**
   * The destination's retry budget. A due delivery that has spent it is made dead instead of
   * claimed: one whose lease expired because the process died during the attempt is otherwise
   * never judged, and an event that crashes the process on every try would loop forever.
   */
  budget?: { maxAttempts: number; maxAgeMs: number } | undefined;
}

/**
 * What a backend can do beyond the port's methods, so that callers adapt to it instead of testing
 * which backend they have.
 */
export interface JournalCapabilities {
  /** It reports each commit's size and duration (group commits: the `sluice_journal_commit_*` metrics). */
  readonly commitStats: boolean;
  /**
   * A write by another process (another node on the same journal) wakes this process's delivery
   * loops at once (PostgreSQL's LISTEN/NOTIFY). Without it, a loop sees them at its next poll.
   */
  readonly crossProcessWakeups: boolean;
}

/** Storage port for events, deliveries and attempts. */
export interface Journal {
  /** What this backend supports. */
  readonly capabilities: JournalCapabilities;
  /**
   * Stores an event and one pending delivery per destination. Resolves only once the write is
   * durable (survives kill -9 and power loss); rejects with `JournalUnavailableError` when it is not.
   * A duplicate (see `IncomingEvent.dedupe`) stores nothing and resolves the original's id with
   * `duplicate: true`.
   */
  append(event: IncomingEvent): Promise<AppendResult>;
  /** Leases due deliveries of one destination, oldest due first (or the fifo head). Counts the attempt. */
  claim(request: ClaimRequest): Promise<Claim[]>;
  /**
   * Records an attempt and moves the delivery on. Ignored (resolves false) when the lease was lost:
   * the delivery was claimed again meanwhile, and the newer claim decides.
   */
  complete(claim: Claim, attempt: AttemptRecord, verdict: Verdict): Promise<boolean>;
  /**
   * Gives back claims that were never sent (claimed ahead, then a pause, a hold or shutdown came
   * first): each delivery is pending again, due `now`, and the attempt its claim counted is
   * uncounted, so nothing is recorded for it. A claim whose lease was lost is ignored, as in
   * `complete`. Resolves how many were given back.
   */
  release(claims: readonly Claim[], now: number): Promise<number>;
  /**
   * When the destination next has something to claim: earliest due time, or `undefined` when idle.
   * With `fifo`, the due time of the oldest unfinished delivery; with `byKey`, the earliest due time
   * among the heads of the keys (see `ClaimRequest.byKey`), so that a loop whose every key is blocked
   * sleeps until a head is due instead of polling.
   */
  nextDueAt(destination: string, fifo: boolean, byKey?: boolean): Promise<number | undefined>;
  /** Deletes up to `limit` finished events past retention; resolves how many went. */
  purge(cutoffs: RetentionCutoffs, limit: number): Promise<number>;
  /**
   * Ids of stored events that start with `prefix`, in id order, at most `limit` of them (operators
   * type the start of an id; asking for two tells a unique prefix from an ambiguous one).
   */
  findEventIds(prefix: string, limit: number): Promise<string[]>;
  /** One event with its deliveries and attempts. */
  getEvent(id: string): Promise<(StoredEvent & { deliveries: DeliveryRecord[] }) | undefined>;
  /** Number of deliveries per status for one destination. */
  countDeliveries(destination: string): Promise<Record<DeliveryStatus, number>>;
  /** Backlog figures of one destination (for status, metrics and drain estimates). */
  destinationStats(destination: string, now: number): Promise<DestinationStats>;
  /** Events newest first, filtered, with keyset pagination (`cursor` is the last page's `nextCursor`). */
  listEvents(query: EventQuery): Promise<EventPage>;
  /**
   * Makes finished deliveries (dead by default, or delivered) pending again, due `now`, behind live
   * events (they are claimed only when no live delivery is due). Attempts already made stay on
   * record and count on. Resolves how many deliveries were replayed. A fifo destination keeps strict
   * ingest order for replays too: a replayed event goes before later events, as it came first; so
   * does a destination ordered by key, within the replayed event's key.
   */
  replay(filter: ReplayFilter, now: number): Promise<number>;
  /** Deletes one event with its deliveries and attempts; false when there was none. */
  deleteEvent(id: string): Promise<boolean>;
  /** Pauses or resumes a destination; the state survives restarts. */
  setPaused(destination: string, paused: boolean, now: number): Promise<void>;
  /** Names of the paused destinations. */
  pausedDestinations(): Promise<string[]>;
  /**
   * Records a consumer's Retry-After hold on a destination (nothing is to be sent before `until`),
   * so that a restart keeps to it. A later call replaces it.
   */
  setHold(destination: string, until: number, now: number): Promise<void>;
  /** Holds that have not ended by `now`, by destination name. */
  heldDestinations(now: number): Promise<Record<string, number>>;
  /**
   * Records the pace an adaptive destination learned (`undefined` forgets it), so that a restart
   * starts from it instead of from the configured ceilings. A later call replaces it; pause and
   * hold are left as they are. One row per destination, like the pause and the hold.
   */
  setPace(destination: string, pace: StoredPace | undefined, now: number): Promise<void>;
  /** The paces recorded by `setPace`, by destination name (destinations without one are absent). */
  destinationPaces(): Promise<Record<string, StoredPace>>;
  /**
   * Requests to `destination` that may have gone out since `since`: attempts started at or after
   * it, plus deliveries in flight whose lease runs past it (claimed, perhaps sent, no outcome yet).
   * A start-up read: a new pacer counts what an earlier process sent, so a restart adds no burst.
   */
  recentSends(destination: string, since: number): Promise<number>;
  /**
   * True while the journal refuses new events for lack of space. It still records claims, outcomes
   * and deletions meanwhile: retention then reclaims delivered events early, and ingest resumes
   * once delivery has freed enough.
   */
  storageFull(): boolean;
  /**
   * Present on a journal that several nodes share: takes up to `want` tokens from the destination's
   * token bucket in the journal (refilled at `bucket.rate` per second up to `bucket.capacity`, on the
   * database's clock), so that the nodes together keep to one pace. Resolves how many it took.
   */
  reserveSendTokens?(destination: string, want: number, bucket: { rate: number; capacity: number }): Promise<number>;
  /**
   * Present on a journal that stores short leases and renews them while the claim is held (several
   * nodes share it): false when this node can no longer be sure the journal holds `claim`'s lease for
   * it a margin beyond `now` (renewals failed, or another node took the delivery over). Such a claim
   * must not be sent: another node may send it too. Checked right before each send. A journal one
   * process holds (SQLite) stores the whole lease at claim time and has no need of it.
   */
  leaseConfirmed?(claim: Claim, now: number): boolean;
  /**
   * Present on a journal that several nodes share, with `nodes`: this node's report, written every
   * second (cluster/heartbeat.ts), so that any node can list the others and what each is draining.
   */
  recordNode?(report: NodeReport, now: number): Promise<void>;
  /** The nodes that reported within `NODE_LIVE_MS` of `now` (this one included, once it has reported). */
  nodes?(now: number): Promise<NodeRecord[]>;
  /** This node's id in `nodes` (present with it). */
  readonly nodeId?: string;
  /** Resolves when the journal takes writes right now (readiness); rejects like a failed write. */
  probe(): Promise<void>;
  /** Finishes pending writes and closes the store. */
  close(): Promise<void>;
}

/** What `append` resolves. */
export interface AppendResult extends StoredEvent {
  /** True when this request duplicated an earlier event: nothing was stored, `id` is the original's. */
  duplicate: boolean;
}
