/**
 * SQLite backend of the `Journal` port: one file, WAL, `synchronous=FULL` (a commit is on disk
 * before it returns), all writes through the group-commit writer. Migrations from migrations/
 * are applied on open; a file with migrations this build does not know is refused.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { and, asc, eq, inArray, isNotNull, lte, sql } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { JournalTooNewError, JournalUnavailableError } from './errors.js';
import { newEventId } from './event-id.js';
import type {
  AttemptRecord,
  Claim,
  ClaimRequest,
  DeliveryRecord,
  DeliveryStatus,
  HeaderPair,
  IncomingEvent,
  Journal,
  RetentionCutoffs,
  StoredEvent,
  Verdict,
} from './journal.js';
import * as schema from './journal-sqlite-schema.js';
import { GroupCommitWriter, type CommitObserver } from './journal-sqlite-writer.js';

const { events, deliveries, attempts } = schema;

/** The migrations shipped with this build (next to src/ and dist/). */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../migrations', import.meta.url));

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

/** Opens (creating and migrating as needed) a SQLite journal. */
export function openSqliteJournal(options: SqliteJournalOptions): SqliteJournal {
  mkdirSync(dirname(options.path), { recursive: true });
  let sqlite: Database.Database;
  try {
    sqlite = new Database(options.path);
  } catch (cause) {
    throw new JournalUnavailableError(`cannot open journal ${options.path}: ${(cause as Error).message}`, { cause });
  }
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    // Waiting blocks the event loop (better-sqlite3 is synchronous): keep it short and answer 503 instead.
    sqlite.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 200}`);
    if (options.maxSize) {
      const pageSize = sqlite.pragma('page_size', { simple: true }) as number;
      sqlite.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxSize / pageSize))}`);
    }
    const db = drizzle(sqlite, { schema });
    refuseNewerJournal(sqlite, options.path);
    migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
    return new SqliteJournal(sqlite, db, options.onCommit);
  } catch (error) {
    sqlite.close();
    throw error;
  }
}

/** Throws when the file holds migrations newer than the newest this build ships. */
function refuseNewerJournal(sqlite: Database.Database, path: string): void {
  const hasTable = sqlite.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'`).get();
  if (!hasTable) return;
  const applied = sqlite.prepare('SELECT max(created_at) AS newest FROM __drizzle_migrations').get() as { newest: number | null };
  const shipped = JSON.parse(readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, 'utf8')) as { entries: { when: number; tag: string }[] };
  const newestShipped = Math.max(...shipped.entries.map((e) => e.when));
  if (applied.newest !== null && applied.newest > newestShipped) {
    throw new JournalTooNewError(
      `journal ${path} was written by a newer Sluice (migration of ${new Date(applied.newest).toISOString()}, ` +
        `this build knows up to ${new Date(newestShipped).toISOString()}); upgrade Sluice or point storage.path elsewhere`,
    );
  }
}

type Db = BetterSQLite3Database<typeof schema>;

/** `Journal` on a SQLite file. Create it with `openSqliteJournal`. */
export class SqliteJournal implements Journal {
  private readonly writer: GroupCommitWriter;
  private readonly insertEvent: Database.Statement<[string, string, string, string, string, string, Buffer, string | null, number], { seq: number }>;
  private readonly insertDelivery: Database.Statement<[number, string, number]>;

  constructor(
    private readonly sqlite: Database.Database,
    private readonly db: Db,
    onCommit?: CommitObserver,
  ) {
    this.writer = new GroupCommitWriter(sqlite, onCommit);
    // The per-request insert is a plain prepared statement: nothing is built or mapped per call.
    this.insertEvent = sqlite.prepare<[string, string, string, string, string, string, Buffer, string | null, number], { seq: number }>(
      'INSERT INTO events (id, source, method, path, query, headers, body, remote_addr, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq',
    );
    this.insertDelivery = sqlite.prepare<[number, string, number]>(
      "INSERT INTO deliveries (event_seq, destination, status, due_at) VALUES (?, ?, 'pending', ?)",
    );
  }

  append(event: IncomingEvent): Promise<StoredEvent> {
    const id = newEventId();
    const body = Buffer.from(event.body.buffer, event.body.byteOffset, event.body.byteLength);
    const headers = JSON.stringify(event.headers);
    return this.writer.run(() => {
      const e = event;
      const row = this.insertEvent.get(id, e.source, e.method, e.path, e.query, headers, body, e.remoteAddr, e.receivedAt)!;
      for (const destination of e.destinations) this.insertDelivery.run(row.seq, destination, e.receivedAt);
      const { destinations: _, ...stored } = event;
      return { ...stored, id, seq: row.seq };
    });
  }

  claim(request: ClaimRequest): Promise<Claim[]> {
    return this.writer.run(() => {
      const { destination, now, leaseMs } = request;
      const due = request.fifo
        ? this.db
            .select()
            .from(deliveries)
            .where(and(eq(deliveries.destination, destination), isNotNull(deliveries.dueAt)))
            .orderBy(asc(deliveries.eventSeq))
            .limit(1)
            .all()
            .filter((d) => d.dueAt! <= now)
        : this.db
            .select()
            .from(deliveries)
            .where(and(eq(deliveries.destination, destination), lte(deliveries.dueAt, now)))
            .orderBy(asc(deliveries.dueAt), asc(deliveries.id))
            .limit(request.limit)
            .all();
      if (due.length === 0) return [];

      const leaseUntil = now + leaseMs;
      for (const d of due) {
        if (d.status === 'in_flight') {
          // Its lease ran out: the process that held it stopped (or stalled) mid-attempt.
          this.db
            .insert(attempts)
            .values({ deliveryId: d.id, attempt: d.attempts, startedAt: d.dueAt! - leaseMs, durationMs: 0, error: 'lease expired: no outcome recorded (process stopped during the attempt)' })
            .run();
        }
        this.db
          .update(deliveries)
          .set({ status: 'in_flight', attempts: d.attempts + 1, dueAt: leaseUntil })
          .where(eq(deliveries.id, d.id))
          .run();
      }
      const rows = this.db.select().from(events).where(inArray(events.seq, due.map((d) => d.eventSeq))).all();
      const bySeq = new Map(rows.map((r) => [r.seq, toStoredEvent(r)]));
      return due.map((d) => ({ deliveryId: d.id, destination, attempt: d.attempts + 1, leaseUntil, event: bySeq.get(d.eventSeq)! }));
    });
  }

  complete(claim: Claim, attempt: AttemptRecord, verdict: Verdict): Promise<boolean> {
    const response = attempt.response ? Buffer.from(attempt.response) : null;
    return this.writer.run(() => {
      const finishedAt = attempt.startedAt + Math.round(attempt.durationMs);
      const next =
        verdict.kind === 'retry'
          ? { status: 'pending' as const, dueAt: verdict.at, finishedAt: null }
          : { status: verdict.kind, dueAt: null, finishedAt };
      const result = this.db
        .update(deliveries)
        .set({ ...next, lastError: verdict.kind === 'delivered' ? null : (attempt.error ?? null) })
        .where(and(eq(deliveries.id, claim.deliveryId), eq(deliveries.attempts, claim.attempt), eq(deliveries.status, 'in_flight')))
        .run();
      // A lost lease is ignored (see `Journal.complete`): record the attempt only when this claim
      // still held the delivery. Recording it anyway logged the late report next to the
      // 'lease expired' record of the same attempt number.
      if (result.changes !== 1) return false;
      this.db
        .insert(attempts)
        .values({ deliveryId: claim.deliveryId, attempt: attempt.attempt, startedAt: attempt.startedAt, durationMs: Math.round(attempt.durationMs), status: attempt.status ?? null, error: attempt.error ?? null, response })
        .run();
      return true;
    });
  }

  async nextDueAt(destination: string, fifo: boolean): Promise<number | undefined> {
    const row = fifo
      ? this.db
          .select({ dueAt: deliveries.dueAt })
          .from(deliveries)
          .where(and(eq(deliveries.destination, destination), isNotNull(deliveries.dueAt)))
          .orderBy(asc(deliveries.eventSeq))
          .limit(1)
          .get()
      : this.db
          .select({ dueAt: deliveries.dueAt })
          .from(deliveries)
          .where(and(eq(deliveries.destination, destination), isNotNull(deliveries.dueAt)))
          .orderBy(asc(deliveries.dueAt))
          .limit(1)
          .get();
    return row?.dueAt ?? undefined;
  }

  purge(cutoffs: RetentionCutoffs, limit: number): Promise<number> {
    const expired = (alias: string) =>
      `(${alias}.status = 'delivered' AND ${alias}.finished_at < @del) OR (${alias}.status = 'dead' AND ${alias}.finished_at < @dead)`;
    const statement = this.sqlite.prepare(
      // DISTINCT: one row per event, not per delivery, so that LIMIT counts events (a fan-out event
      // would otherwise use up several slots of the limit and the batch would delete fewer events).
      `DELETE FROM events WHERE seq IN (
         SELECT DISTINCT d.event_seq FROM deliveries d
         WHERE d.finished_at IS NOT NULL AND (${expired('d')})
           AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.event_seq = d.event_seq AND NOT (o.finished_at IS NOT NULL AND (${expired('o')})))
         LIMIT @limit)`,
    );
    return this.writer.run(() => statement.run({ del: cutoffs.deliveredBefore, dead: cutoffs.deadBefore, limit }).changes);
  }

  async getEvent(id: string): Promise<(StoredEvent & { deliveries: DeliveryRecord[] }) | undefined> {
    const row = this.db.select().from(events).where(eq(events.id, id)).get();
    if (!row) return undefined;
    const rows = this.db.select().from(deliveries).where(eq(deliveries.eventSeq, row.seq)).orderBy(asc(deliveries.id)).all();
    const log = rows.length
      ? this.db.select().from(attempts).where(inArray(attempts.deliveryId, rows.map((d) => d.id))).orderBy(asc(attempts.id)).all()
      : [];
    return {
      ...toStoredEvent(row),
      deliveries: rows.map((d) => ({
        id: d.id,
        destination: d.destination,
        status: d.status,
        attempts: d.attempts,
        dueAt: d.dueAt,
        finishedAt: d.finishedAt,
        lastError: d.lastError,
        attemptLog: log
          .filter((a) => a.deliveryId === d.id)
          .map((a) => ({ attempt: a.attempt, startedAt: a.startedAt, durationMs: a.durationMs, status: a.status ?? undefined, error: a.error ?? undefined, response: a.response ?? undefined })),
      })),
    };
  }

  async countDeliveries(destination: string): Promise<Record<DeliveryStatus, number>> {
    const counts: Record<DeliveryStatus, number> = { pending: 0, in_flight: 0, delivered: 0, dead: 0 };
    const rows = this.db
      .select({ status: deliveries.status, n: sql<number>`count(*)` })
      .from(deliveries)
      .where(eq(deliveries.destination, destination))
      .groupBy(deliveries.status)
      .all();
    for (const r of rows) counts[r.status] = r.n;
    return counts;
  }

  async close(): Promise<void> {
    if (!this.sqlite.open) return;
    this.writer.close();
    this.sqlite.close();
  }
}

function toStoredEvent(row: typeof events.$inferSelect): StoredEvent {
  return {
    id: row.id,
    seq: row.seq,
    source: row.source,
    method: row.method,
    path: row.path,
    query: row.query,
    headers: JSON.parse(row.headers) as HeaderPair[],
    body: row.body,
    remoteAddr: row.remoteAddr,
    receivedAt: row.receivedAt,
  };
}
