/**
 * The writer thread's multi-row writes: the appends of one message in one INSERT of events and one
 * of their deliveries, the outcomes of one message in one UPDATE and one INSERT of attempts, each
 * for up to 64 rows, where the single-row `append` and `complete` (store.ts) run two statements
 * per event or outcome. Each statement costs SQLite a start and a halt, better-sqlite3 a call:
 * measured in test/bench/README.md ("Writer thread, 2026-12-01").
 * A multi-row statement that fails is undone (it runs in a savepoint) and its items go through the
 * single-row functions, each in a savepoint of its own, so that only a faulty one fails, as in a
 * commit of single writes; an error of the store itself (`isUnavailable`) is thrown, for the group
 * commit to handle as before.
 */
import type Database from 'better-sqlite3';
import type { AttemptRecord, Claim, IncomingEvent, Verdict } from '../port.js';
import { isUnavailable } from './group-commit.js';

/** One event to append, with its new id. */
export interface AppendItem {
  id: string;
  event: IncomingEvent;
}

/** One outcome to record (`Journal.complete`). */
export interface CompleteItem {
  claim: Pick<Claim, 'deliveryId' | 'attempt'>;
  attempt: AttemptRecord;
  verdict: Verdict;
}

/** What the writer answers to an append. */
export interface AppendOutcome {
  id: string;
  seq: number;
  duplicate: boolean;
}

/**
 * Most rows one multi-row statement writes. A statement of each kind is prepared per row count, so
 * this bounds the statements kept, and the parameters bound at once (576 for events, far below
 * SQLite's 32,766); a message with more appends or outcomes takes several statements.
 */
const ROWS_PER_INSERT = 64;

const EVENT_COLUMNS =
  'INSERT INTO events (id, source, method, path, query, headers, body, remote_addr, received_at) VALUES ';
const ATTEMPT_HEAD =
  'INSERT INTO attempts (delivery_id, attempt, started_at, duration_ms, status, error, response) VALUES ';
/** `complete`'s UPDATE for several deliveries; each VALUES row: id, attempt, status, due_at, finished_at, last_error. */
const FINISH_HEAD =
  'UPDATE deliveries SET status = v.column3, due_at = v.column4, finished_at = v.column5, last_error = v.column6 FROM (VALUES ';
const FINISH_TAIL =
  ") AS v WHERE deliveries.id = v.column1 AND deliveries.attempts = v.column2 AND deliveries.status = 'in_flight' RETURNING deliveries.id";

/** A delivery's columns after an attempt with `verdict`. */
export function nextState(attempt: AttemptRecord, verdict: Verdict) {
  const finishedAt = attempt.startedAt + Math.round(attempt.durationMs);
  const lastError = verdict.kind === 'delivered' ? null : (attempt.error ?? null);
  return verdict.kind === 'retry'
    ? { status: 'pending' as const, dueAt: verdict.at, finishedAt: null, lastError }
    : { status: verdict.kind, dueAt: null, finishedAt, lastError };
}

/** The attempt's response bytes as better-sqlite3 binds a BLOB (a Buffer), or NULL. */
export function responseBytes(attempt: AttemptRecord): Buffer | null {
  const r = attempt.response;
  return r ? Buffer.from(r.buffer, r.byteOffset, r.byteLength) : null;
}

const DELIVERY_COLUMNS = 'INSERT INTO deliveries (event_seq, destination, status, due_at, order_key) VALUES ';

/** Multi-row appends and outcomes on one connection, falling back on the single-row functions given. */
export class MultiRowWrites {
  /** Multi-row inserts of events and of deliveries, by row count (prepared on first use). */
  private readonly insertEvents: Database.Statement<unknown[]>[] = [];
  private readonly insertDeliveries: Database.Statement<unknown[]>[] = [];
  private readonly finishUpdates: Database.Statement<unknown[]>[] = [];
  private readonly insertAttempts: Database.Statement<unknown[]>[] = [];
  /** `complete` in a savepoint of its own; `completeRun` in one (see `completeMany`). */
  private readonly completeAlone: (item: CompleteItem) => boolean;
  private readonly completeRunAtomically: (items: readonly CompleteItem[], from: number, to: number) => Set<number>;
  /** `append` in a savepoint of its own, so that a failing one leaves nothing behind. */
  private readonly appendAlone: (item: AppendItem) => AppendOutcome;
  /** `insertRun` in a savepoint: if one of its statements fails, none of its rows stay. */
  private readonly insertRunAtomically: (items: readonly AppendItem[], from: number, to: number) => number;

  constructor(
    private readonly sqlite: Database.Database,
    private readonly appendOne: (id: string, event: IncomingEvent) => AppendOutcome,
    private readonly completeOne: (
      claim: Pick<Claim, 'deliveryId' | 'attempt'>,
      attempt: AttemptRecord,
      verdict: Verdict,
    ) => boolean,
  ) {
    // Inside the writer's group transaction, better-sqlite3 runs these as savepoints.
    this.appendAlone = sqlite.transaction((item: AppendItem) => this.appendOne(item.id, item.event));
    this.insertRunAtomically = sqlite.transaction((items: readonly AppendItem[], from: number, to: number) =>
      this.insertRun(items, from, to),
    );
    this.completeAlone = sqlite.transaction((item: CompleteItem) =>
      this.completeOne(item.claim, item.attempt, item.verdict),
    );
    this.completeRunAtomically = sqlite.transaction((items: readonly CompleteItem[], from: number, to: number) =>
      this.completeRun(items, from, to),
    );
  }

  /**
   * `append` for several events, in order, with one INSERT per up to 64 events and one per up to 64
   * of their deliveries, where `append` runs two statements per event: each statement costs SQLite
   * a start and a halt, and better-sqlite3 a call. An event with a deduplication key goes alone
   * (it must see the events before it). Each item's result is its outcome or its error: when a
   * multi-row insert fails, its events are appended again one by one, each in its own savepoint,
   * so that only the faulty one fails, as in a commit of single appends. An error of the store
   * itself (`isUnavailable`: disk full, locked…) is thrown, for the group commit to handle.
   */
  appendMany(items: readonly AppendItem[]): (AppendOutcome | Error)[] {
    const results: (AppendOutcome | Error)[] = new Array(items.length);
    let from = 0;
    while (from < items.length) {
      let to = from;
      while (to < items.length && to - from < ROWS_PER_INSERT && !items[to]!.event.dedupe) to++;
      if (to - from < 2) {
        to = from + 1;
        results[from] = tryAlone(this.appendAlone, items[from]!);
      } else {
        try {
          const first = this.insertRunAtomically(items, from, to);
          for (let i = from; i < to; i++) results[i] = { id: items[i]!.id, seq: first + i - from, duplicate: false };
        } catch (error) {
          // The store cannot take writes (disk full, locked…): the whole commit fails, as it would have.
          if (isUnavailable(error)) throw error;
          for (let i = from; i < to; i++) results[i] = tryAlone(this.appendAlone, items[i]!);
        }
      }
      from = to;
    }
    return results;
  }

  /** Inserts `items[from, to)` (no deduplication keys) and their deliveries; returns the first event's seq. */
  private insertRun(items: readonly AppendItem[], from: number, to: number): number {
    const n = to - from;
    const params: unknown[] = [];
    for (let i = from; i < to; i++) {
      const e = items[i]!.event;
      params.push(items[i]!.id, e.source, e.method, e.path, e.query, JSON.stringify(e.headers), e.body);
      params.push(e.remoteAddr, e.receivedAt);
    }
    const statement = this.rowsStatement(this.insertEvents, n, EVENT_COLUMNS, '(?, ?, ?, ?, ?, ?, ?, ?, ?)');
    // The rowids of one multi-row INSERT are consecutive: the single writer holds the write lock,
    // and AUTOINCREMENT gives each new row the largest rowid so far plus one.
    const first = Number(statement.run(params).lastInsertRowid) - n + 1;
    let rows = 0;
    let deliveryParams: unknown[] = [];
    for (let i = from; i < to; i++) {
      const e = items[i]!.event;
      const seq = first + i - from;
      for (const destination of e.destinations) {
        deliveryParams.push(seq, destination, e.receivedAt, e.orderKeys?.[destination] ?? null);
        if (++rows === ROWS_PER_INSERT) {
          this.insertDeliveryRows(rows, deliveryParams);
          rows = 0;
          deliveryParams = [];
        }
      }
    }
    if (rows > 0) this.insertDeliveryRows(rows, deliveryParams);
    return first;
  }

  private insertDeliveryRows(n: number, params: unknown[]): void {
    this.rowsStatement(this.insertDeliveries, n, DELIVERY_COLUMNS, "(?, ?, 'pending', ?, ?)").run(params);
  }

  /** The statement of `n` rows of `row` between `head` and `tail`, from `cache` (by `n`), prepared on first use. */
  private rowsStatement(cache: Database.Statement<unknown[]>[], n: number, head: string, row: string, tail = '') {
    let statement = cache[n];
    if (!statement) {
      statement = this.sqlite.prepare(`${head}${`${row}, `.repeat(n - 1)}${row}${tail}`);
      cache[n] = statement;
    }
    return statement;
  }

  /**
   * `complete` for several outcomes: one UPDATE … FROM (VALUES …) for up to 64 of them, and one
   * multi-row INSERT of the attempts of those whose claim still held the delivery, where `complete`
   * runs two statements per outcome. Each item's result is `complete`'s, or its error; as in
   * `appendMany`, a failing statement sends its items through `complete` one by one, each in a
   * savepoint, and an error of the store itself is thrown.
   */
  completeMany(items: readonly CompleteItem[]): (boolean | Error)[] {
    const results: (boolean | Error)[] = new Array(items.length);
    for (let from = 0; from < items.length; from += ROWS_PER_INSERT) {
      const to = Math.min(items.length, from + ROWS_PER_INSERT);
      const ids = new Set<number>();
      for (let i = from; i < to; i++) ids.add(items[i]!.claim.deliveryId);
      // Two outcomes for one delivery: UPDATE … FROM would apply only one of them; go one by one.
      if (ids.size < to - from || to - from < 2) {
        for (let i = from; i < to; i++) results[i] = tryAlone(this.completeAlone, items[i]!);
        continue;
      }
      try {
        const held = this.completeRunAtomically(items, from, to);
        for (let i = from; i < to; i++) results[i] = held.has(items[i]!.claim.deliveryId);
      } catch (error) {
        if (isUnavailable(error)) throw error;
        for (let i = from; i < to; i++) results[i] = tryAlone(this.completeAlone, items[i]!);
      }
    }
    return results;
  }

  /** Records `items[from, to)` (distinct deliveries); returns the deliveries their claims still held. */
  private completeRun(items: readonly CompleteItem[], from: number, to: number): Set<number> {
    const n = to - from;
    const params: unknown[] = [];
    for (let i = from; i < to; i++) {
      const { claim, attempt, verdict } = items[i]!;
      const next = nextState(attempt, verdict);
      params.push(claim.deliveryId, claim.attempt, next.status, next.dueAt, next.finishedAt, next.lastError);
    }
    const update = this.rowsStatement(this.finishUpdates, n, FINISH_HEAD, '(?, ?, ?, ?, ?, ?)', FINISH_TAIL);
    const held = new Set(update.pluck().all(params) as number[]);
    const attemptParams: unknown[] = [];
    for (let i = from; i < to; i++) {
      const { claim, attempt } = items[i]!;
      if (!held.has(claim.deliveryId)) continue;
      attemptParams.push(claim.deliveryId, attempt.attempt, attempt.startedAt, Math.round(attempt.durationMs));
      attemptParams.push(attempt.status ?? null, attempt.error ?? null, responseBytes(attempt));
    }
    if (held.size > 0) {
      this.rowsStatement(this.insertAttempts, held.size, ATTEMPT_HEAD, '(?, ?, ?, ?, ?, ?, ?)').run(attemptParams);
    }
    return held;
  }
}

/**
 * `write` (an `…Alone`: one item in its own savepoint) for one item: its result, or its error. An
 * error of the store itself (`isUnavailable`) is thrown, for the group commit to handle.
 */
function tryAlone<I, R>(write: (item: I) => R, item: I): R | Error {
  try {
    return write(item);
  } catch (error) {
    if (isUnavailable(error)) throw error;
    return error instanceof Error ? error : new Error(String(error));
  }
}
