/**
 * SQLite backend of the `Journal` port: one file, WAL, `synchronous=FULL` (a commit is on disk
 * before it returns). Writes go to a writer thread (writer-thread.ts) that runs them in
 * group commits. The scheduler's small reads run here, on a second connection (WAL lets them
 * proceed during a commit); the admin API's and the metrics' reads, which can visit a whole
 * backlog, run on a reader thread (reader-thread.ts), so that they never hold up HTTP.
 * Migrations are applied on open, before the writer starts; a file with migrations this build
 * does not know is refused.
 *
 * Writes issued during one turn of the event loop travel to the writer in one message, and
 * each promise settles only once the commit that holds its write has returned.
 */
import type Database from 'better-sqlite3';
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
  ReplayFilter,
  RetentionCutoffs,
  StoredEvent,
  StoredPace,
  Verdict,
} from '../port.js';
import { AppendEncoder, type EncodedAppends } from './append-codec.js';
import { migrateJournal, openConnection } from './connection.js';
import { type ClaimBatch, claimsFromBatch } from './delivery-claims.js';
import { destinationPaces, heldDestinations, pausedDestinations } from './destination-state.js';
import { recentSends } from './destination-stats.js';
import { type EncodedOutcome, encodeOutcome } from './outcome-codec.js';
import { lockJournal, type ProcessLock } from './process-lock.js';
import type { ReaderData, ReadOp } from './reader-thread.js';
import { checkStorageAccess } from './storage-access.js';
import { type AppendOutcome, SqliteStore, type WriteOp } from './store.js';
import { JournalThread, type Result, toError } from './thread-client.js';
import type { WriterAnswer, WriterData, WriterRequest } from './writer-thread.js';

export { MIGRATIONS_FOLDER } from './connection.js';

/** Options of the SQLite journal. */
export interface SqliteJournalOptions {
  /** Database file; its directory is created if missing. */
  path: string;
  /** Largest the file may grow, in bytes; new events are refused short of it (see storage-guard.ts). */
  maxSize?: number | undefined;
  /** Free bytes to keep on the filesystem for draining (see storage-guard.ts). */
  reserve?: number | undefined;
  /** How long a write waits for a lock held by another process before failing, in ms. */
  busyTimeoutMs?: number;
  /** Where each group commit is reported (`journal:commit`, with its size and duration). */
  events?: GatewayEvents;
}

/** Opens (creating and migrating as needed) a SQLite journal and starts its writer thread. */
export function openSqliteJournal(options: SqliteJournalOptions): SqliteJournal {
  checkStorageAccess(options.path);
  const lock = lockJournal(options.path);
  let sqlite: Database.Database | undefined;
  try {
    sqlite = openConnection(options.path, { ...options, cacheKiB: READER_CACHE_KIB });
    migrateJournal(sqlite, options.path);
  } catch (error) {
    sqlite?.close();
    lock.release();
    throw error;
  }
  return new SqliteJournal(sqlite, options, lock);
}

/**
 * Page cache of each reading connection, in KiB (SQLite's own default; better-sqlite3's is 16 MiB).
 * Their reads are index lookups (the scheduler's) or scans that no cache would hold (the backlog
 * counts), so a larger cache would only add RSS.
 */
const READER_CACHE_KIB = 2_048;
/**
 * The writer's page cache, in KiB. Its hot pages are the ends of the tables and indexes it appends
 * to and the deliveries being claimed, which 4 MiB holds: a larger cache adds RSS, not speed.
 */
const WRITER_CACHE_KIB = 4_096;

/** Deliveries replayed per write. */
const REPLAY_BATCH = 1_000;

interface Pending {
  op: WriteOp;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** `Journal` on a SQLite file. Create it with `openSqliteJournal`. */
export class SqliteJournal implements Journal {
  /** Group commits are measured (`onCommit`); other processes' writes are found by polling. */
  readonly capabilities: JournalCapabilities = { commitStats: true, crossProcessWakeups: false };
  private readonly reader: SqliteStore;
  private readonly writer: JournalThread<WriterRequest, WriterAnswer>;
  /** The writer's last word on the journal's space. */
  private full = false;
  private readonly readThread: JournalThread<{ read: ReadOp }, { result: Result }>;
  private queue: Pending[] = [];
  /** A `send()` is set for this turn's check phase: the writes queued until then go in its message. */
  private scheduled = false;
  private closed = false;

  constructor(
    sqlite: Database.Database,
    private readonly options: SqliteJournalOptions,
    private readonly lock: ProcessLock,
  ) {
    this.reader = new SqliteStore(sqlite);
    const writerData: WriterData = {
      path: options.path,
      maxSize: options.maxSize,
      reserve: options.reserve,
      busyTimeoutMs: options.busyTimeoutMs,
      cacheKiB: WRITER_CACHE_KIB,
    };
    this.writer = new JournalThread('writer-thread', 'writer', writerData);
    const readerData: ReaderData = {
      path: options.path,
      busyTimeoutMs: options.busyTimeoutMs,
      cacheKiB: READER_CACHE_KIB,
    };
    this.readThread = new JournalThread('reader-thread', 'reader', readerData);
    this.writer.start();
  }

  storageFull(): boolean {
    return this.full;
  }

  async append(event: IncomingEvent): Promise<AppendResult> {
    const ours = newEventId();
    // A number is the seq of our own event, newly stored (the writer's short answer).
    const outcome = (await this.write({ kind: 'append', id: ours, event })) as AppendOutcome | number;
    const { id, seq, duplicate } = typeof outcome === 'number' ? { id: ours, seq: outcome, duplicate: false } : outcome;
    // Field by field, not `{ ...stored, ...outcome }`: the spread's result survived young-generation
    // GCs and piled up in old space until a full one, which raised peak RSS under ingest load.
    const { source, method, path, query, headers, body, remoteAddr, receivedAt } = event;
    return { id, seq, duplicate, source, method, path, query, headers, body, remoteAddr, receivedAt };
  }

  async claim(request: ClaimRequest): Promise<Claim[]> {
    return claimsFromBatch((await this.write({ kind: 'claim', request })) as ClaimBatch);
  }

  async complete(claim: Claim, attempt: AttemptRecord, verdict: Verdict): Promise<boolean> {
    // Only the fencing pair travels to the writer, not the event (its body can be large); the op
    // crosses as a flat array (outcome-codec.ts).
    const ref = { deliveryId: claim.deliveryId, attempt: claim.attempt };
    return (await this.write({ kind: 'complete', claim: ref, attempt, verdict })) as boolean;
  }

  async release(claims: readonly Claim[], now: number): Promise<number> {
    const refs = claims.map((c) => ({ deliveryId: c.deliveryId, attempt: c.attempt }));
    return (await this.write({ kind: 'release', claims: refs, now })) as number;
  }

  async purge(cutoffs: RetentionCutoffs, limit: number): Promise<number> {
    return (await this.write({ kind: 'purge', cutoffs, limit })) as number;
  }

  async replay(filter: ReplayFilter, now: number): Promise<number> {
    // In batches, each its own short write: a replay of 100k events must not hold up ingest.
    let total = 0;
    for (;;) {
      const n = (await this.write({ kind: 'replay', filter, now, limit: REPLAY_BATCH })) as number;
      total += n;
      if (n < REPLAY_BATCH) return total;
    }
  }

  async deleteEvent(id: string): Promise<boolean> {
    return (await this.write({ kind: 'deleteEvent', id })) as boolean;
  }

  async setPaused(destination: string, paused: boolean, now: number): Promise<void> {
    await this.write({ kind: 'setPaused', destination, paused, now });
  }

  async probe(): Promise<void> {
    await this.write({ kind: 'probe' });
  }

  async setHold(destination: string, until: number, now: number): Promise<void> {
    await this.write({ kind: 'setHold', destination, until, now });
  }

  async setPace(destination: string, pace: StoredPace | undefined, now: number): Promise<void> {
    await this.write({ kind: 'setPace', destination, pace, now });
  }

  async destinationPaces(): Promise<Record<string, StoredPace>> {
    return destinationPaces(this.reader.db);
  }

  async heldDestinations(now: number): Promise<Record<string, number>> {
    return heldDestinations(this.reader.db, now);
  }

  async recentSends(destination: string, since: number): Promise<number> {
    return recentSends(this.reader.sqlite, destination, since);
  }

  async pausedDestinations(): Promise<string[]> {
    return pausedDestinations(this.reader.db);
  }

  async destinationStats(destination: string, now: number): Promise<DestinationStats> {
    return (await this.read({ kind: 'destinationStats', destination, now })) as DestinationStats;
  }

  async listEvents(query: EventQuery): Promise<EventPage> {
    return (await this.read({ kind: 'listEvents', query })) as EventPage;
  }

  async nextDueAt(destination: string, fifo: boolean, byKey = false): Promise<number | undefined> {
    return this.reader.nextDueAt(destination, fifo, byKey);
  }

  async getEvent(id: string): Promise<(StoredEvent & { deliveries: DeliveryRecord[] }) | undefined> {
    return (await this.read({ kind: 'getEvent', id })) as (StoredEvent & { deliveries: DeliveryRecord[] }) | undefined;
  }

  async findEventIds(prefix: string, limit: number): Promise<string[]> {
    return (await this.read({ kind: 'findEventIds', prefix, limit })) as string[];
  }

  async countDeliveries(destination: string): Promise<Record<DeliveryStatus, number>> {
    return (await this.read({ kind: 'countDeliveries', destination })) as Record<DeliveryStatus, number>;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.send();
    // The writer commits and answers what it holds, then closes its connection and ends.
    await this.writer.close();
    await this.readThread.close();
    this.reader.sqlite.close();
    this.lock.release();
  }

  private async read(read: ReadOp): Promise<unknown> {
    if (this.closed) throw new JournalUnavailableError('journal is closed');
    const { result } = await this.readThread.request({ read });
    if (!result.ok) throw toError(result.error);
    return result.value;
  }

  private write(op: WriteOp): Promise<unknown> {
    if (this.closed) return Promise.reject(new JournalUnavailableError('journal is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ op, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.send());
      }
    });
  }

  /** Sends everything queued during this turn of the event loop as one message. */
  private send(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    // A writer that dies takes its unanswered writes with it: they fail (ingest answers 503, the
    // sender retries), and the next batch starts a new writer.
    // Appends travel encoded (append-codec.ts), each in `ops` as its index among them, outcomes as
    // flat arrays (outcome-codec.ts). Pushed, not assigned into `new Array(n)`: a holey array is
    // cloned as a sparse one, key by key.
    const ops: (WriteOp | number | EncodedOutcome)[] = [];
    let encoded: EncodedAppends | undefined;
    try {
      const encoder = new AppendEncoder();
      for (let i = 0; i < batch.length; i++) {
        const op = batch[i]!.op;
        const index = encoder.size;
        ops.push(op.kind === 'append' && encoder.add(op) ? index : op.kind === 'complete' ? encodeOutcome(op) : op);
      }
      encoded = encoder.size > 0 ? encoder.finish() : undefined;
    } catch (error) {
      // Nothing was sent: the whole batch fails rather than waiting for an answer that never comes.
      for (const p of batch) p.reject(error);
      return;
    }
    this.writer
      .request({ ops, appends: encoded }, encoded && [encoded.numbers.buffer as ArrayBuffer, encoded.bodies])
      .then(
        ({ values, failures, commits, storage }) => {
          this.full = storage.full;
          for (const [batchSize, durationMs] of commits)
            this.options.events?.emit('journal:commit', { batchSize, durationMs });
          const failed = failures.length > 0 ? new Map(failures) : undefined;
          for (let i = 0; i < batch.length; i++) {
            const error = failed?.get(i);
            if (error !== undefined) batch[i]!.reject(toError(error));
            else batch[i]!.resolve(values[i]);
          }
        },
        (error: unknown) => {
          for (const p of batch) p.reject(error);
        },
      );
  }
}
