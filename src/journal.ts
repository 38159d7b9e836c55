/**
 * The `Journal` port: everything Sluice stores goes through this narrow interface, so that a
 * second backend (PostgreSQL, for several nodes sharing one journal) only has to implement it
 * and pass the contract suite in test/journal/contract.ts. The SQLite backend is journal-sqlite.ts.
 *
 * Times are Unix epoch milliseconds, passed in by the caller (the backend never reads a clock
 * for decisions), so that tests and several nodes agree on what "now" means.
 */

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
}

/** An event as stored. */
export interface StoredEvent extends Omit<IncomingEvent, 'destinations'> {
  /** Public id, returned to the sender and sent to consumers as `sluice-event-id`. */
  id: string;
  /** Ingest order, strictly increasing; fifo destinations deliver in this order. */
  seq: number;
}

/** Where one event stands with one destination. */
export type DeliveryStatus = 'pending' | 'in_flight' | 'delivered' | 'dead';

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
  event: StoredEvent;
}

/** What becomes of a delivery after an attempt. */
export type Verdict =
  | { kind: 'delivered' }
  | { kind: 'retry'; at: number }
  | { kind: 'dead' };

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
}

/**
 * How long finished events are kept, per outcome. An event may go once every one of its
 * deliveries is finished and past the cutoff of its own outcome.
 */
export interface RetentionCutoffs {
  /** A delivered delivery is past retention when it finished before this time. */
  deliveredBefore: number;
  /** A dead delivery is past retention when it finished before this time. */
  deadBefore: number;
}

/** Storage port for events, deliveries and attempts. */
export interface Journal {
  /**
   * Stores an event and one pending delivery per destination. Resolves only once the write is
   * durable (survives kill -9 and power loss); rejects with `JournalUnavailableError` when it is not.
   */
  append(event: IncomingEvent): Promise<StoredEvent>;
  /** Leases due deliveries of one destination, oldest due first (or the fifo head). Counts the attempt. */
  claim(request: ClaimRequest): Promise<Claim[]>;
  /**
   * Records an attempt and moves the delivery on. Ignored (resolves false) when the lease was lost:
   * the delivery was claimed again meanwhile, and the newer claim decides.
   */
  complete(claim: Claim, attempt: AttemptRecord, verdict: Verdict): Promise<boolean>;
  /** When the destination next has something to claim: earliest due time, or `undefined` when idle. */
  nextDueAt(destination: string, fifo: boolean): Promise<number | undefined>;
  /** Deletes up to `limit` finished events past retention; resolves how many went. */
  purge(cutoffs: RetentionCutoffs, limit: number): Promise<number>;
  /** One event with its deliveries and attempts. */
  getEvent(id: string): Promise<(StoredEvent & { deliveries: DeliveryRecord[] }) | undefined>;
  /** Number of deliveries per status for one destination. */
  countDeliveries(destination: string): Promise<Record<DeliveryStatus, number>>;
  /** Finishes pending writes and closes the store. */
  close(): Promise<void>;
}
