/**
 * The SQLite journal's write path, as synchronous functions on one better-sqlite3 connection:
 * append, claim, complete, release, replay, purge, delete and a destination's lasting state.
 * The writer thread (writer-thread.ts) runs them inside its group commits; the main thread
 * (journal.ts) builds one too, on its own connection, for the scheduler's small reads
 * (`nextDueAt`, and the destination state through `db`). The admin API's reads live apart
 * (event-listing.ts, event-detail.ts, destination-stats.ts) and run on the reader thread.
 * Nothing here is async: better-sqlite3 transactions must not span an await.
 */
import type Database from 'better-sqlite3';
import { and, eq, gte, inArray, lt, lte, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import type {
  AttemptRecord,
  Claim,
  ClaimRequest,
  DeliveryStatus,
  IncomingEvent,
  ReplayFilter,
  RetentionCutoffs,
  StoredPace,
  Verdict,
} from '../port.js';
import { type ClaimBatch, DeliveryClaims } from './delivery-claims.js';
import { setDestinationState } from './destination-state.js';
import {
  type AppendItem,
  type AppendOutcome,
  type CompleteItem,
  MultiRowWrites,
  nextState,
  responseBytes,
} from './multi-row-writes.js';
import type { Db } from './rows.js';
import * as schema from './schema.js';

const { events, deliveries, dedupeKeys } = schema;

/** A write, as sent from the main thread to the writer thread. */
export type WriteOp =
  | ({ kind: 'append' } & AppendItem)
  | { kind: 'claim'; request: ClaimRequest }
  | ({ kind: 'complete' } & CompleteItem)
  | { kind: 'release'; claims: Pick<Claim, 'deliveryId' | 'attempt'>[]; now: number }
  | { kind: 'purge'; cutoffs: RetentionCutoffs; limit: number }
  | { kind: 'replay'; filter: ReplayFilter; now: number; limit: number }
  | { kind: 'deleteEvent'; id: string }
  | { kind: 'setPaused'; destination: string; paused: boolean; now: number }
  | { kind: 'setHold'; destination: string; until: number; now: number }
  | { kind: 'setPace'; destination: string; pace: StoredPace | undefined; now: number }
  | { kind: 'probe' };

export type { AppendOutcome } from './multi-row-writes.js';

type InsertEvent = [string, string, string, string, string, string, Uint8Array, string | null, number];

/** The journal's write queries on one connection. */
export class SqliteStore {
  /** drizzle on this connection: the destination-state reads (destination-state.ts) take it. */
  readonly db: Db;
  private readonly claims: DeliveryClaims;
  private readonly insertEvent: Database.Statement<InsertEvent>;
  private readonly insertDelivery: Database.Statement<[number, string, number, string | null]>;
  private readonly purgeStatement: Database.Statement<[{ del: number; dead: number; limit: number }]>;
  private readonly finishUpdate: Database.Statement<
    [string, number | null, number | null, string | null, number, number]
  >;
  private readonly releaseUpdate: Database.Statement<[{ id: number; attempt: number; now: number }]>;
  private readonly insertAttempt: Database.Statement<
    [number, number, number, number, number | null, string | null, Buffer | null]
  >;
  private readonly findDuplicate: Database.Statement<[string, string, number], { id: string; seq: number }>;
  private readonly rememberKey: Database.Statement<[string, string, string, number]>;
  private readonly multiRow: MultiRowWrites;

  constructor(readonly sqlite: Database.Database) {
    this.db = drizzle(sqlite, { schema });
    // The claim statements, prepared once here (see delivery-claims.ts).
    this.claims = new DeliveryClaims(sqlite, this.db);
    // The per-request insert is a plain prepared statement: nothing is built or mapped per call.
    this.insertEvent = sqlite.prepare<InsertEvent>(
      'INSERT INTO events (id, source, method, path, query, headers, body, remote_addr, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.insertDelivery = sqlite.prepare<[number, string, number, string | null]>(
      "INSERT INTO deliveries (event_seq, destination, status, due_at, order_key) VALUES (?, ?, 'pending', ?, ?)",
    );
    this.insertAttempt = sqlite.prepare(
      'INSERT INTO attempts (delivery_id, attempt, started_at, duration_ms, status, error, response) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.finishUpdate = sqlite.prepare<[string, number | null, number | null, string | null, number, number]>(
      "UPDATE deliveries SET status = ?, due_at = ?, finished_at = ?, last_error = ? WHERE id = ? AND attempts = ? AND status = 'in_flight'",
    );
    this.releaseUpdate = sqlite.prepare(
      "UPDATE deliveries SET status = 'pending', attempts = attempts - 1, due_at = @now WHERE id = @id AND attempts = @attempt AND status = 'in_flight'",
    );
    this.findDuplicate = sqlite.prepare<[string, string, number], { id: string; seq: number }>(
      'SELECT e.id, e.seq FROM dedupe_keys k JOIN events e ON e.id = k.event_id WHERE k.source = ? AND k.key = ? AND k.expires_at > ?',
    );
    this.rememberKey = sqlite.prepare<[string, string, string, number]>(
      'INSERT INTO dedupe_keys (source, key, event_id, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (source, key) DO UPDATE SET event_id = excluded.event_id, expires_at = excluded.expires_at',
    );
    this.multiRow = new MultiRowWrites(
      sqlite,
      (id, event) => this.append(id, event),
      (claim, attempt, verdict) => this.complete(claim, attempt, verdict),
    );
    const expired = (alias: string) =>
      `(${alias}.status = 'delivered' AND ${alias}.finished_at < @del) OR (${alias}.status = 'dead' AND ${alias}.finished_at < @dead)`;
    this.purgeStatement = sqlite.prepare(
      // DISTINCT: one row per event, not per delivery, so that LIMIT counts events (a fan-out event
      // would otherwise use up several slots of the limit and the batch would delete fewer events).
      `DELETE FROM events WHERE seq IN (
         SELECT DISTINCT d.event_seq FROM deliveries d
         WHERE d.finished_at IS NOT NULL AND (${expired('d')})
           AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.event_seq = d.event_seq AND NOT (o.finished_at IS NOT NULL AND (${expired('o')})))
         LIMIT @limit)`,
    );
  }

  /** Runs one write operation (inside the caller's transaction); the result goes back to the caller. */
  apply(op: WriteOp): unknown {
    switch (op.kind) {
      case 'append':
        return this.append(op.id, op.event);
      case 'claim':
        return this.claim(op.request);
      case 'complete':
        return this.complete(op.claim, op.attempt, op.verdict);
      case 'release':
        return this.release(op.claims, op.now);
      case 'purge':
        return this.purge(op.cutoffs, op.limit);
      case 'replay':
        return this.replay(op.filter, op.now, op.limit);
      case 'deleteEvent':
        return this.deleteEvent(op.id);
      case 'probe':
        // Runs inside the writer's IMMEDIATE transaction: it needs the write lock, like any write.
        return undefined;
      case 'setPaused':
        return setDestinationState(this.db, op.destination, { paused: op.paused }, op.now);
      case 'setHold':
        return setDestinationState(this.db, op.destination, { heldUntil: op.until }, op.now);
      case 'setPace':
        return setDestinationState(
          this.db,
          op.destination,
          {
            paceRate: op.pace?.rate ?? null,
            paceConcurrency: op.pace?.concurrency ?? null,
            paceAt: op.pace?.at ?? null,
          },
          op.now,
        );
    }
  }

  /** Inserts an event and its pending deliveries, unless it duplicates a recent one. */
  append(id: string, e: IncomingEvent): AppendOutcome {
    if (e.dedupe) {
      const original = this.findDuplicate.get(e.source, e.dedupe.key, e.receivedAt);
      if (original) return { id: original.id, seq: original.seq, duplicate: true };
    }
    const { lastInsertRowid } = this.insertEvent.run(
      id,
      e.source,
      e.method,
      e.path,
      e.query,
      JSON.stringify(e.headers),
      e.body,
      e.remoteAddr,
      e.receivedAt,
    );
    // A rowid, not `RETURNING seq`: RETURNING gathers its rows apart before handing them back.
    const seq = Number(lastInsertRowid);
    for (const destination of e.destinations) {
      this.insertDelivery.run(seq, destination, e.receivedAt, e.orderKeys?.[destination] ?? null);
    }
    if (e.dedupe) this.rememberKey.run(e.source, e.dedupe.key, id, e.dedupe.until);
    return { id, seq, duplicate: false };
  }

  /** `append` for several events, with multi-row inserts (see multi-row-writes.ts). */
  appendMany(items: readonly AppendItem[]): (AppendOutcome | Error)[] {
    return this.multiRow.appendMany(items);
  }

  /** Deletes up to `limit` events past retention, and expired deduplication keys. */
  purge(cutoffs: RetentionCutoffs, limit: number): number {
    this.db.delete(dedupeKeys).where(lte(dedupeKeys.expiresAt, cutoffs.dedupeBefore)).run();
    return this.purgeStatement.run({ del: cutoffs.deliveredBefore, dead: cutoffs.deadBefore, limit }).changes;
  }

  /** One batch of `Journal.replay`: up to `limit` deliveries; resolves how many. */
  replay(filter: ReplayFilter, now: number, limit: number): number {
    const statuses: DeliveryStatus[] = filter.status
      ? [filter.status]
      : filter.eventId
        ? ['dead', 'delivered']
        : ['dead'];
    const conditions = [inArray(deliveries.status, statuses)];
    if (filter.destination) conditions.push(eq(deliveries.destination, filter.destination));
    const eventConditions = [];
    if (filter.eventId) eventConditions.push(eq(events.id, filter.eventId));
    if (filter.since !== undefined) eventConditions.push(gte(events.receivedAt, filter.since));
    if (filter.until !== undefined) eventConditions.push(lt(events.receivedAt, filter.until));
    if (eventConditions.length > 0) {
      conditions.push(
        inArray(
          deliveries.eventSeq,
          this.db
            .select({ seq: events.seq })
            .from(events)
            .where(and(...eventConditions)),
        ),
      );
    }
    const ids = this.db
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(and(...conditions))
      .limit(limit)
      .all();
    if (ids.length === 0) return 0;
    return this.db
      .update(deliveries)
      .set({
        status: 'pending',
        dueAt: now,
        finishedAt: null,
        priority: 1,
        replayedAt: now,
        attemptsBeforeReplay: sql`${deliveries.attempts}`,
      })
      .where(
        inArray(
          deliveries.id,
          ids.map((r) => r.id),
        ),
      )
      .run().changes;
  }

  /** Deletes one event (its deliveries and attempts go with it). */
  deleteEvent(id: string): boolean {
    this.db.delete(dedupeKeys).where(eq(dedupeKeys.eventId, id)).run();
    return this.db.delete(events).where(eq(events.id, id)).run().changes === 1;
  }

  /** See `Journal.claim`; the claims come as one flat array of fields (see `ClaimBatch`). */
  claim(request: ClaimRequest): ClaimBatch {
    return this.claims.claim(request);
  }

  /** See `Journal.complete`. */
  complete(claim: Pick<Claim, 'deliveryId' | 'attempt'>, attempt: AttemptRecord, verdict: Verdict): boolean {
    const next = nextState(attempt, verdict);
    const result = this.finishUpdate.run(
      next.status,
      next.dueAt,
      next.finishedAt,
      next.lastError,
      claim.deliveryId,
      claim.attempt,
    );
    // A lost lease is ignored (see `Journal.complete`): record the attempt only when this claim
    // still held the delivery. Recording it anyway logged the late report next to the
    // 'lease expired' record of the same attempt number.
    if (result.changes !== 1) return false;
    this.insertAttempt.run(
      claim.deliveryId,
      attempt.attempt,
      attempt.startedAt,
      Math.round(attempt.durationMs),
      attempt.status ?? null,
      attempt.error ?? null,
      responseBytes(attempt),
    );
    return true;
  }

  /** `complete` for several outcomes, with multi-row statements (see multi-row-writes.ts). */
  completeMany(items: readonly CompleteItem[]): (boolean | Error)[] {
    return this.multiRow.completeMany(items);
  }

  /** See `Journal.release`. */
  release(claims: readonly Pick<Claim, 'deliveryId' | 'attempt'>[], now: number): number {
    let released = 0;
    for (const c of claims) released += this.releaseUpdate.run({ id: c.deliveryId, attempt: c.attempt, now }).changes;
    return released;
  }

  /** See `Journal.nextDueAt`. */
  nextDueAt(destination: string, fifo: boolean, byKey = false): number | undefined {
    return this.claims.nextDueAt(destination, fifo, byKey);
  }
}
