/**
 * PostgreSQL backend of the `Journal` port, for several Sluice nodes sharing one journal
 * (`storage.url`). Each node keeps a small pool; appends are group-committed (append.ts), claims
 * lock with `FOR UPDATE SKIP LOCKED` (claims.ts), and writes that other nodes must act on are
 * announced with NOTIFY and heard by a LISTEN connection (wakeups.ts), which the gateway turns into
 * scheduler wake-ups (`journal:wakeup`) and state reloads (`journal:state-changed`).
 *
 * A lost database makes every call reject with `JournalUnavailableError` (ingest answers 503 with
 * Retry-After, readiness fails); the pool reconnects on the next call, the listener by itself.
 *
 * `storageFull()` is always false: PostgreSQL's space is the database administrator's to watch,
 * and a full disk makes its writes fail, which reach senders as 503 like any unavailability. The
 * SQLite journal guards its own file because nobody else does.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { JournalUnavailableError } from '../../errors.js';
import type { GatewayEvents } from '../../events.js';
import { newEventId } from '../event-id.js';
import type {
  AppendResult,
  AttemptRecord,
  Claim,
  ClaimRequest,
  DeliveryRecord,
  DeliveryStatus,
  DestinationStats,
  EventPage,
  EventQuery,
  IncomingEvent,
  Journal,
  JournalCapabilities,
  NodeRecord,
  NodeReport,
  ReplayFilter,
  RetentionCutoffs,
  StoredEvent,
  StoredPace,
  Verdict,
} from '../port.js';
import { AppendGroups } from './append.js';
import * as claims from './claims.js';
import { createPool, rows } from './connection.js';
import { DEFAULT_LEASE_RENEWAL, LeaseRenewal, type LeaseRenewalOptions } from './lease-renewal.js';
import * as maintenance from './maintenance.js';
import { migratePgJournal } from './migrate.js';
import * as nodes from './nodes.js';
import * as reads from './reads.js';
import { reserveSendTokens } from './send-tokens.js';
import { redactStorageUrl } from './url.js';
import { WakeupListener } from './wakeups.js';

/** Options of the PostgreSQL journal. */
export interface PgJournalOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /** Most connections of this node (default 10; one more is kept for LISTEN, one for lease renewal). */
  poolSize?: number | undefined;
  /** Most append groups committing at once (default 4); later appends wait and form bigger groups. */
  maxCommitsInFlight?: number | undefined;
  /** Where group commits, wake-ups, state changes from other nodes and failing lease renewals are reported. */
  events?: GatewayEvents | undefined;
  /** Without it, no LISTEN connection is opened (a node that only reads, or a test). */
  listen?: boolean | undefined;
  /**
   * Short leases renewed while held (lease-renewal.ts; default 3 s, renewed every second), or false
   * to store the lease each claim asks for (the contract suite, whose clock is not the real one).
   */
  leaseRenewal?: LeaseRenewalOptions | false | undefined;
  /**
   * Destinations whose `concurrency` must hold across every node (by name): their claims take only
   * what the other nodes' live leases leave. Without an entry, each node keeps its own.
   */
  concurrency?: Readonly<Record<string, number>> | undefined;
}

/** Deliveries replayed per statement. */
const REPLAY_BATCH = 1_000;

/** Migrates the database (under an advisory lock), then opens the journal. */
export async function openPgJournal(options: PgJournalOptions): Promise<PgJournal> {
  await migratePgJournal(options.url, redactStorageUrl(options.url));
  const journal = new PgJournal(options);
  await journal.ready();
  return journal;
}

/** `Journal` on a PostgreSQL database. Create it with `openPgJournal` (which migrates first). */
export class PgJournal implements Journal {
  readonly capabilities: JournalCapabilities = { commitStats: true, crossProcessWakeups: true };
  /** Tells this node's own notifications from the others'. */
  readonly nodeId = randomUUID();
  readonly pool: pg.Pool;
  private readonly groups: AppendGroups;
  private readonly listener: WakeupListener | undefined;
  private readonly leases: LeaseRenewal | undefined;
  private readonly concurrency: Readonly<Record<string, number>>;
  private closed = false;
  /** This node wrote its row in `nodes` (removed on close). */
  private reported = false;

  constructor(options: PgJournalOptions) {
    const events = options.events;
    this.pool = createPool({ url: options.url, max: options.poolSize });
    this.groups = new AppendGroups(this.pool, this.nodeId, options.maxCommitsInFlight ?? 4, (batchSize, durationMs) =>
      events?.emit('journal:commit', { batchSize, durationMs }),
    );
    this.concurrency = options.concurrency ?? {};
    const renewal = options.leaseRenewal === undefined ? DEFAULT_LEASE_RENEWAL : options.leaseRenewal;
    this.leases =
      renewal === false
        ? undefined
        : new LeaseRenewal(options.url, renewal, (renewing, error) =>
            events?.emit('journal:lease-renewal', {
              renewing,
              error: error === undefined ? undefined : String((error as Error).message ?? error),
            }),
          );
    this.listener =
      options.listen === false
        ? undefined
        : new WakeupListener(options.url, this.nodeId, {
            onWakeup: (destinations) => events?.emit('journal:wakeup', { destinations }),
            onStateChange: (destination) => events?.emit('journal:state-changed', { destination }),
            onListening: (listening, error) =>
              events?.emit('journal:listening', {
                listening,
                error: error === undefined ? undefined : String((error as Error).message ?? error),
              }),
          });
  }

  /** Resolves once the LISTEN connection is up (or has failed once and retries by itself). */
  ready(): Promise<void> {
    return this.listener?.ready() ?? Promise.resolve();
  }

  storageFull(): boolean {
    return false;
  }

  async append(event: IncomingEvent): Promise<AppendResult> {
    this.open();
    const { id, seq, duplicate } = await this.groups.append(newEventId(), event);
    const { source, method, path, query, headers, body, remoteAddr, receivedAt } = event;
    return { id, seq, duplicate, source, method, path, query, headers, body, remoteAddr, receivedAt };
  }

  async claim(request: ClaimRequest): Promise<Claim[]> {
    this.open();
    const claimed = await claims.claim(
      this.pool,
      request,
      this.leases?.options.leaseMs,
      this.concurrency[request.destination],
    );
    this.leases?.track(claimed, request.now);
    return claimed;
  }

  leaseConfirmed(claim: Claim, now: number): boolean {
    return this.leases?.confirmed(claim, now) ?? true;
  }

  async complete(claim: Claim, attempt: AttemptRecord, verdict: Verdict): Promise<boolean> {
    this.open();
    const recorded = await claims.complete(this.pool, claim, attempt, verdict);
    this.leases?.forget([claim]);
    return recorded;
  }

  async release(released: readonly Claim[], now: number): Promise<number> {
    this.open();
    const n = await claims.release(this.pool, released, now);
    this.leases?.forget(released);
    return n;
  }

  async nextDueAt(destination: string, fifo: boolean, byKey?: boolean): Promise<number | undefined> {
    this.open();
    return claims.nextDueAt(this.pool, destination, fifo, byKey);
  }

  async purge(cutoffs: RetentionCutoffs, limit: number): Promise<number> {
    this.open();
    return maintenance.purge(this.pool, cutoffs, limit);
  }

  async replay(filter: ReplayFilter, now: number): Promise<number> {
    this.open();
    // In batches, each its own short statement: a replay of 100k events must not hold up ingest.
    let total = 0;
    for (;;) {
      const n = await maintenance.replayBatch(this.pool, filter, now, REPLAY_BATCH, this.nodeId);
      total += n;
      if (n < REPLAY_BATCH) return total;
    }
  }

  async deleteEvent(id: string): Promise<boolean> {
    this.open();
    return maintenance.deleteEvent(this.pool, id);
  }

  async setPaused(destination: string, paused: boolean, now: number): Promise<void> {
    this.open();
    return maintenance.setDestinationState(this.pool, destination, { paused }, now, this.nodeId);
  }

  async setHold(destination: string, until: number, now: number): Promise<void> {
    this.open();
    return maintenance.setDestinationState(this.pool, destination, { heldUntil: until }, now, this.nodeId);
  }

  async setPace(destination: string, pace: StoredPace | undefined, now: number): Promise<void> {
    this.open();
    return maintenance.setPace(this.pool, destination, pace, now);
  }

  async destinationPaces(): Promise<Record<string, StoredPace>> {
    this.open();
    return reads.destinationPaces(this.pool);
  }

  async pausedDestinations(): Promise<string[]> {
    this.open();
    return reads.pausedDestinations(this.pool);
  }

  async heldDestinations(now: number): Promise<Record<string, number>> {
    this.open();
    return reads.heldDestinations(this.pool, now);
  }

  async recentSends(destination: string, since: number): Promise<number> {
    this.open();
    return reads.recentSends(this.pool, destination, since);
  }

  async findEventIds(prefix: string, limit: number): Promise<string[]> {
    this.open();
    return reads.findEventIds(this.pool, prefix, limit);
  }

  async getEvent(id: string): Promise<(StoredEvent & { deliveries: DeliveryRecord[] }) | undefined> {
    this.open();
    return reads.getEvent(this.pool, id);
  }

  async countDeliveries(destination: string): Promise<Record<DeliveryStatus, number>> {
    this.open();
    return reads.countDeliveries(this.pool, destination);
  }

  async destinationStats(destination: string, now: number): Promise<DestinationStats> {
    this.open();
    return reads.destinationStats(this.pool, destination, now);
  }

  async listEvents(query: EventQuery): Promise<EventPage> {
    this.open();
    return reads.listEvents(this.pool, query);
  }

  async reserveSendTokens(destination: string, want: number, bucket: { rate: number; capacity: number }) {
    this.open();
    return reserveSendTokens(this.pool, destination, want, bucket);
  }

  /** A write transaction's worth of checking: the database is reachable and not read-only. */
  async probe(): Promise<void> {
    this.open();
    const [row] = await rows<{ readOnly: boolean }>(
      this.pool,
      `SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on' AS "readOnly"`,
    );
    if (row?.readOnly) throw new JournalUnavailableError('PostgreSQL journal is read-only (a standby?)');
  }

  async recordNode(report: NodeReport, now: number): Promise<void> {
    this.open();
    await nodes.recordNode(this.pool, this.nodeId, report, now);
    this.reported = true;
  }

  async nodes(now: number): Promise<NodeRecord[]> {
    this.open();
    return nodes.liveNodes(this.pool, now);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.groups.drain();
    // Gone at once for the other nodes' listings, within 2 s; a failure leaves the row to age out.
    if (this.reported) await withinMs(nodes.forgetNode(this.pool, this.nodeId), 2_000).catch(() => undefined);
    this.leases?.stop();
    await this.listener?.close();
    await this.pool.end();
  }

  private open(): void {
    if (this.closed) throw new JournalUnavailableError('journal is closed');
  }
}

/** `work`, or a rejection after `ms` (the work goes on, unheard). */
function withinMs<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  work.catch(() => {}); // a late rejection is unheard, not unhandled
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
