/**
 * SQLite backend of the `Journal` port: one file, WAL, `synchronous=FULL` (a commit is on disk
 * before it returns). Writes go to a writer thread (journal-sqlite-worker.ts) that runs them in
 * group commits. The scheduler's small reads run here, on a second connection (WAL lets them
 * proceed during a commit); the admin API's and the metrics' reads, which can visit a whole
 * backlog, run on a reader thread (journal-sqlite-reader.ts), so that they never hold up HTTP.
 * Migrations are applied on open, before the writer starts; a file with migrations this build
 * does not know is refused.
 *
 * Writes issued during one turn of the event loop travel to the writer in one message, and
 * each promise settles only once the commit that holds its write has returned.
 */
import type { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { JournalUnavailableError } from './errors.js';
import { newEventId } from './event-id.js';
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
  ReplayFilter,
  RetentionCutoffs,
  StoredEvent,
  Verdict,
} from './journal.js';
import { migrateJournal, openConnection, SqliteStore, type AppendOutcome, type WriteOp } from './journal-sqlite-store.js';
import type { ReadOp } from './journal-sqlite-reader.js';
import type { WriterData } from './journal-sqlite-worker.js';
import { ReadThread, spawnThread, toError, type Result } from './journal-sqlite-threads.js';
import type { CommitObserver } from './journal-sqlite-writer.js';

export { MIGRATIONS_FOLDER } from './journal-sqlite-store.js';

/** Options of the SQLite journal. */
export interface SqliteJournalOptions {
  /** Database file; its directory is created if missing. */
  path: string;
  /** Largest the file may grow, in bytes; past it writes fail as unavailable (ingest answers 503). */
  maxSize?: number | undefined;
  /** How long a write waits for a lock held by another process before failing, in ms. */
  busyTimeoutMs?: number;
  /** Called after each group commit with its size and duration. */
  onCommit?: CommitObserver;
}

/** Opens (creating and migrating as needed) a SQLite journal and starts its writer thread. */
export function openSqliteJournal(options: SqliteJournalOptions): SqliteJournal {
  const sqlite = openConnection(options.path, { ...options, cacheKiB: READER_CACHE_KIB });
  try {
    migrateJournal(sqlite, options.path);
  } catch (error) {
    sqlite.close();
    throw error;
  }
  return new SqliteJournal(sqlite, options);
}

/**
 * Page cache of each reading connection, in KiB (SQLite's own default; better-sqlite3's is 16 MiB).
 * Their reads are index lookups (the scheduler's) or scans that no cache would hold (the backlog
 * counts): with 16 MiB each, two `/metrics` scrapes of a million-event backlog left 33 MB more RSS.
 */
const READER_CACHE_KIB = 2_048;
/**
 * The writer's page cache, in KiB. Its hot pages are the ends of the tables and indexes it appends
 * to and the deliveries being claimed; 4 MiB against 16 MiB: the same ingest and delivery rates
 * (scratch A/B, 2 runs each), 15 MB less peak RSS under load.
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
  private readonly reader: SqliteStore;
  private readonly readThread: ReadThread;
  private worker: Worker | undefined;
  private queue: Pending[] = [];
  private scheduled = false;
  private nextBatch = 0;
  /** Batches sent to the current writer and not answered yet; each writer has its own map. */
  private inFlight = new Map<number, Pending[]>();
  private closed = false;

  constructor(
    sqlite: Database.Database,
    private readonly options: SqliteJournalOptions,
  ) {
    this.reader = new SqliteStore(sqlite);
    this.readThread = new ReadThread({ path: options.path, busyTimeoutMs: options.busyTimeoutMs, cacheKiB: READER_CACHE_KIB });
    this.startWriter();
  }

  async append(event: IncomingEvent): Promise<AppendResult> {
    const outcome = (await this.write({ kind: 'append', id: newEventId(), event })) as AppendOutcome;
    const { destinations: _, dedupe: __, ...stored } = event;
    return { ...stored, ...outcome };
  }

  async claim(request: ClaimRequest): Promise<Claim[]> {
    return (await this.write({ kind: 'claim', request })) as Claim[];
  }

  async complete(claim: Claim, attempt: AttemptRecord, verdict: Verdict): Promise<boolean> {
    // Only the fencing pair travels to the writer, not the event (its body can be large).
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

  async heldDestinations(now: number): Promise<Record<string, number>> {
    return this.reader.heldDestinations(now);
  }

  async pausedDestinations(): Promise<string[]> {
    return this.reader.pausedDestinations();
  }

  async destinationStats(destination: string, now: number): Promise<DestinationStats> {
    return (await this.read({ kind: 'destinationStats', destination, now })) as DestinationStats;
  }

  async listEvents(query: EventQuery): Promise<EventPage> {
    return (await this.read({ kind: 'listEvents', query })) as EventPage;
  }

  async nextDueAt(destination: string, fifo: boolean): Promise<number | undefined> {
    return this.reader.nextDueAt(destination, fifo);
  }

  async getEvent(id: string): Promise<(StoredEvent & { deliveries: DeliveryRecord[] }) | undefined> {
    return (await this.read({ kind: 'getEvent', id })) as (StoredEvent & { deliveries: DeliveryRecord[] }) | undefined;
  }

  async countDeliveries(destination: string): Promise<Record<DeliveryStatus, number>> {
    return (await this.read({ kind: 'countDeliveries', destination })) as Record<DeliveryStatus, number>;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.send();
    const worker = this.worker;
    if (worker) {
      // The writer commits what it holds, then closes its connection and ends.
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ close: true });
      await exited;
    }
    await this.readThread.close();
    this.reader.sqlite.close();
  }

  private read(read: ReadOp): Promise<unknown> {
    if (this.closed) return Promise.reject(new JournalUnavailableError('journal is closed'));
    return this.readThread.run(read);
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
    if (!this.worker) this.startWriter();
    const id = this.nextBatch++;
    this.inFlight.set(id, batch);
    this.worker!.postMessage({ batch: id, ops: batch.map((p) => p.op) });
  }

  private startWriter(): void {
    const data: WriterData = { path: this.options.path, maxSize: this.options.maxSize, busyTimeoutMs: this.options.busyTimeoutMs, cacheKiB: WRITER_CACHE_KIB };
    const worker = spawnThread('journal-sqlite-worker', data);
    // This writer's batches only: a writer that died must not fail those sent to its successor
    // (its 'exit' can come after a new writer has taken writes).
    const inFlight = new Map<number, Pending[]>();
    worker.on('message', (message: { batch: number; results: Result[]; commits: [number, number][] }) => {
      if (!('batch' in message)) return;
      for (const [size, ms] of message.commits) this.options.onCommit?.(size, ms);
      const batch = inFlight.get(message.batch)!;
      inFlight.delete(message.batch);
      batch.forEach((p, i) => {
        const result = message.results[i]!;
        if (result.ok) p.resolve(result.value);
        else p.reject(toError(result.error));
      });
    });
    // A writer that dies takes its unanswered writes with it: fail them (ingest answers 503, the
    // sender retries) and start a new writer for the next ones.
    const failAll = (cause: unknown) => {
      if (this.worker === worker) this.worker = undefined;
      const error = new JournalUnavailableError('journal writer stopped', { cause });
      for (const batch of inFlight.values()) for (const p of batch) p.reject(error);
      inFlight.clear();
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => {
      if (inFlight.size > 0) failAll(new Error(`writer thread exited with code ${code}`));
    });
    this.worker = worker;
    this.inFlight = inFlight;
  }

}
