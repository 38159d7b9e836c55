/**
 * Group commit for the SQLite journal. Every write (an ingested event, a claim, an attempt's
 * outcome, a retention batch) is queued, and the queue runs in a single IMMEDIATE transaction.
 * Once it holds a new event it is flushed on `setImmediate`, so all writes queued during that turn
 * of the event loop share the commit: one fsync covers every request parsed in the turn, and no
 * request waits for its own. A queue of only background writes (claims, outcomes, anything but a
 * new event) may wait `backgroundDelayMs` for more before its commit. Each write settles only after
 * the COMMIT that holds it has returned.
 *
 * better-sqlite3 is synchronous, so the operations are plain functions: nothing async runs
 * inside the transaction.
 */
import type { Database } from 'better-sqlite3';
import { JournalUnavailableError } from '../../errors.js';

/** Called once a queued write has committed (`ok`, with its result) or failed (with the error). */
export type Settle = (ok: boolean, value: unknown) => void;

interface Pending {
  op: () => unknown;
  /** A new event: dropped from a batch that the disk cannot hold, so that the rest still commits. */
  sheddable: boolean;
  settle: Settle;
  /** How many writes the op holds (several appends in one multi-row op): what a commit's size counts. */
  writes: number;
}

/** Observes each commit: how many writes it held and how long it took (for metrics and tests). */
export type CommitObserver = (batchSize: number, durationMs: number) => void;

/** Background writes that commit at once rather than wait for more (see the constructor). */
const BACKGROUND_FLUSH_WRITES = 64;

/** SQLite result codes that mean "the store cannot take writes now", not "this write is wrong". */
const UNAVAILABLE = /^SQLITE_(FULL|BUSY|LOCKED|READONLY|IOERR|CANTOPEN|PROTOCOL|NOLFS|CORRUPT|NOTADB|PERM)/;

/** SQLite result codes that mean the file or the disk has no room left. */
const FULL = /^SQLITE_FULL/;

/** True when `error` says the database cannot commit at the moment (disk full, locked, read-only…). */
export function isUnavailable(error: unknown): boolean {
  return UNAVAILABLE.test(codeOf(error));
}

/**
 * Queues synchronous write operations and commits them together: in the turn a new event is queued,
 * else after `backgroundDelayMs`.
 */
export class GroupCommitWriter {
  private queue: Pending[] = [];
  /** Writes (see Pending.writes) in the queue. */
  private queuedWrites = 0;
  /** A flush is set for this turn (setImmediate)… */
  private scheduled = false;
  /** …or for later: the queue holds only background writes (see `backgroundDelayMs`). */
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  /** Runs every op of a batch in one IMMEDIATE transaction, each result in its slot. */
  private readonly transaction: (batch: Pending[], results: unknown[]) => void;

  /**
   * `backgroundDelayMs`: how long a queue that holds no new event may wait for more writes before it
   * commits (0: never waits). Nobody waits for those commits but the journal's own loops (an outcome
   * is recorded after its slot is freed; claims are bought ahead), and under a drain each turn's
   * outcomes were a commit of their own, with its fsync and its rewrite of the indexes' last pages.
   * A new event (a sender waiting for its acknowledgement) commits in the turn it arrives, with
   * whatever waits; so does a queue of `BACKGROUND_FLUSH_WRITES` writes.
   */
  constructor(
    private readonly db: Database,
    private readonly onCommit?: CommitObserver,
    private readonly backgroundDelayMs = 0,
  ) {
    // Built once: better-sqlite3's `transaction()` wraps the function anew on every call.
    const all = db.transaction((batch: Pending[], results: unknown[]) => {
      for (let i = 0; i < batch.length; i++) results[i] = batch[i]!.op();
    });
    this.transaction = all.immediate;
  }

  /**
   * Runs `op` inside the next group transaction; resolves with its result once committed. A
   * `sheddable` op (a new event) is the one to fail when the disk is full: the claims, outcomes and
   * deletions of the same batch are committed without it, since they are what frees space.
   */
  run<T>(op: () => T, sheddable = false): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      this.enqueue(op, sheddable, (ok, value) => (ok ? resolve(value as T) : reject(value))),
    );
  }

  /**
   * `run` without a promise: `settle` is called once the op's commit has returned, or with its
   * error. The writer thread queues every op of every message this way: two promises per event
   * were a visible share of its CPU.
   */
  enqueue(op: () => unknown, sheddable: boolean, settle: Settle, writes = 1): void {
    if (this.closed) {
      settle(false, new JournalUnavailableError('journal is closed'));
      return;
    }
    this.queue.push({ op, sheddable, settle, writes });
    this.queuedWrites += writes;
    if (sheddable || this.backgroundDelayMs === 0 || this.queuedWrites >= BACKGROUND_FLUSH_WRITES) {
      if (this.timer !== undefined) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flushNow);
      }
    } else if (!this.scheduled && this.timer === undefined) {
      this.timer = setTimeout(this.flushNow, this.backgroundDelayMs);
    }
  }

  private readonly flushNow = () => this.flush();

  /** Commits everything queued so far (normally called by the scheduled flush). */
  flush(): void {
    this.scheduled = false;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    this.queuedWrites = 0;
    this.commit(batch);
  }

  private commit(batch: Pending[]): void {
    const started = performance.now();
    const results: unknown[] = new Array(batch.length);
    try {
      this.transaction(batch, results);
    } catch (error) {
      const kept = batch.filter((p) => !p.sheddable);
      if (FULL.test(codeOf(error)) && kept.length > 0 && kept.length < batch.length) {
        // No room for the new events: fail them (their senders get 503 and retry), commit the rest.
        const failure = wrap(error);
        for (const p of batch) if (p.sheddable) p.settle(false, failure);
        this.commit(kept);
        return;
      }
      if (isUnavailable(error) || batch.length === 1) {
        const failure = wrap(error);
        for (const p of batch) p.settle(false, failure);
        return;
      }
      // One operation is wrong (a bug or a constraint), not the store: give each its own transaction
      // so that only the faulty one fails.
      for (const p of batch) this.runAlone(p);
      return;
    }
    if (this.onCommit) {
      let writes = 0;
      for (const p of batch) writes += p.writes;
      this.onCommit(writes, performance.now() - started);
    }
    for (let i = 0; i < batch.length; i++) batch[i]!.settle(true, results[i]);
  }

  /** Flushes what is queued and refuses further writes. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private runAlone(p: Pending): void {
    const started = performance.now();
    try {
      const result = this.db.transaction(p.op).immediate();
      this.onCommit?.(p.writes, performance.now() - started);
      p.settle(true, result);
    } catch (error) {
      p.settle(false, wrap(error));
    }
  }
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' ? code : '';
}

function wrap(error: unknown): unknown {
  if (!isUnavailable(error)) return error;
  const code = codeOf(error);
  return new JournalUnavailableError(`journal cannot commit (${code})`, { cause: error });
}
