/**
 * The SQLite journal's writer thread. Every write (ingested events, claims, outcomes, retention)
 * runs here, in group commits, so that the fsync of a commit never blocks the event loop that
 * parses HTTP: while this thread commits one batch, the main thread keeps parsing requests, and
 * they all land in the next batch.
 *
 * Protocol (messages on the worker port):
 *   in:  WriterRequest & { id: number }  → out: WriterAnswer & { id }, or { answers: [those] } for
 *        all the messages one turn answered
 *        (appends encoded by append-codec.ts, each in `ops` as its index among them; outcomes as
 *        flat arrays, outcome-codec.ts; in `values`, a number for an append is its seq, stored
 *        under the id it was sent with)
 *   in:  { close: true }                    → flushes, closes the connection, out: { closed: true }
 * All ops of one incoming message land in the same commit, so they settle together and are
 * answered in one message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { JournalUnavailableError } from '../../errors.js';
import { decodeAppends, type EncodedAppends } from './append-codec.js';
import { type ConnectionOptions, openConnection } from './connection.js';
import { GroupCommitWriter } from './group-commit.js';
import type { AppendItem, AppendOutcome, CompleteItem } from './multi-row-writes.js';
import { decodeOutcome, type EncodedOutcome } from './outcome-codec.js';
import { StorageGuard, type StorageState, walLimitPages } from './storage-guard.js';
import { SqliteStore, type WriteOp } from './store.js';
import { type ErrorData, errorData, nameThread } from './thread-client.js';

/**
 * How long claims and outcomes may wait for more before their commit (see GroupCommitWriter). A
 * drain of 30,000 deliveries to a fast consumer made 1,123 commits without it, 634 with 2 ms, 523
 * with 5 ms, which also slowed the drain by a tenth (test/bench/README.md).
 */
const BACKGROUND_DELAY_MS = 2;

/** What the main thread passes as workerData. */
export interface WriterData extends ConnectionOptions {
  path: string;
  /** Free bytes to keep on the journal's filesystem for draining (`storage.reserve`). */
  reserve?: number | undefined;
}

/** One message of ops to the writer. */
export interface WriterRequest {
  /** The ops, in order; a number stands for that append of `appends`, an array for an encoded outcome. */
  ops: (WriteOp | number | EncodedOutcome)[];
  appends: EncodedAppends | undefined;
}

/**
 * What the writer answers to one message of ops. The values go bare, not each in a `{ ok, value }`
 * object: cloning those cost about 0.9 µs per op, both ways (test/bench/README.md).
 */
export interface WriterAnswer {
  /** By op, what it returned (a number for an append newly stored under its own id: its seq); null where it failed. */
  values: unknown[];
  /** The ops that failed, by index, with their errors. */
  failures: [number, ErrorData][];
  commits: [number, number][];
  /** The journal's space after this batch (see storage-guard.ts). */
  storage: StorageState;
}

if (parentPort) {
  nameThread('sluice-writer');
  const port = parentPort;
  const data = workerData as WriterData;
  const sqlite = openConnection(data.path, data);
  const pageSize = sqlite.pragma('page_size', { simple: true }) as number;
  const walPages = walLimitPages(data.path, pageSize);
  sqlite.pragma(`wal_autocheckpoint = ${walPages}`);
  // A WAL that grew during a burst gives its space back to the filesystem at the next checkpoint.
  sqlite.pragma(`journal_size_limit = ${walPages * pageSize}`);
  const store = new SqliteStore(sqlite);
  const guard = new StorageGuard(sqlite, data);
  let commits: [number, number][] = [];
  const writer = new GroupCommitWriter(store.sqlite, (size, ms) => commits.push([size, ms]), BACKGROUND_DELAY_MS);

  /** Whether the space was read in this turn (see below); cleared before the next message is taken. */
  let spaceRead = false;
  const readSpace = () => {
    spaceRead = true;
    // Cleared by a setImmediate in this turn's check phase, before the next message is taken: the
    // messages of one turn share one reading. The commit itself may come later (a queue of only
    // background writes waits on a timer), and a message taken before it reads the space again.
    setImmediate(() => {
      spaceRead = false;
    });
    return guard.check();
  };

  /** Messages not answered yet: the close waits for them. */
  let unanswered = 0;
  let onAllAnswered: (() => void) | undefined;
  /**
   * The answers of this turn (a commit answers every message it held, five or so under load), posted
   * as one message once the turn's work is done: each message costs both threads its own cloning,
   * queueing and dispatch, and often a wake-up.
   */
  let answers: (WriterAnswer & { id: number })[] = [];
  const postAnswers = () => {
    const batch = answers;
    answers = [];
    port.postMessage(batch.length === 1 ? batch[0] : { answers: batch });
    unanswered -= batch.length;
    if (unanswered === 0) onAllAnswered?.();
  };

  port.on('message', (message: (WriterRequest & { id: number }) | { close: true }) => {
    if ('close' in message) {
      writer.close(); // commits what is queued, and so answers every message taken
      const end = () => {
        store.sqlite.close();
        port.postMessage({ closed: true });
        port.close();
      };
      if (unanswered === 0) end();
      else onAllAnswered = end;
      return;
    }
    const appends = message.appends ? decodeAppends(message.appends) : [];
    const ops: WriteOp[] = message.ops.map((op) =>
      typeof op === 'number'
        ? { kind: 'append', id: appends[op]!.id, event: appends[op]!.event }
        : Array.isArray(op)
          ? decodeOutcome(op)
          : op,
    );
    // Read the space before new events go in, and after deletions may have freed some: once per turn
    // of this thread, as all messages of a turn go into the same commit. Read per message, it was a
    // statfs and a read transaction of its own (locks, a read of the header page) five times a commit.
    const storage =
      !spaceRead && ops.some((op) => op.kind === 'append' || op.kind === 'purge') ? readSpace() : guard.current;
    // Every op of the message lands in the same commit; the answer goes once the last has settled.
    // Filled with nulls first, so that the array is packed: a holey one is cloned as a sparse one, key by key.
    const values: unknown[] = [];
    for (let i = 0; i < ops.length; i++) values.push(null);
    const failures: [number, ErrorData][] = [];
    let left = ops.length;
    unanswered += 1;
    const answer = () => {
      const done = commits;
      commits = [];
      const reply: WriterAnswer & { id: number } = {
        id: message.id,
        values,
        failures,
        commits: done,
        storage: guard.current,
      };
      if (answers.length === 0) queueMicrotask(postAnswers);
      answers.push(reply);
    };
    const settle = (i: number, ok: boolean, value: unknown) => {
      const op = ops[i]!;
      if (!ok) failures.push([i, errorData(value)]);
      // A new event is stored under the id it was sent with (SqliteStore.append, appendMany): its seq says it all.
      else if (op.kind === 'append' && !(value as AppendOutcome).duplicate) values[i] = (value as AppendOutcome).seq;
      else values[i] = value;
      if (--left === 0) answer();
    };
    /** A run of ops of one kind as one op; each item's result (or Error) settles its own slot. */
    const enqueueRun = <T>(from: number, items: T[], write: (items: T[]) => unknown[], sheddable: boolean) =>
      writer.enqueue(
        () => write(items),
        sheddable,
        (ok, value) => {
          for (let k = 0; k < items.length; k++) {
            const outcome = ok ? (value as unknown[])[k] : value;
            settle(from + k, ok && !(outcome instanceof Error), outcome);
          }
        },
        items.length,
      );
    for (let i = 0; i < ops.length; ) {
      const op = ops[i]!;
      const from = i++;
      if (op.kind === 'append' && storage.full) {
        settle(from, false, storageFull(storage));
        continue;
      }
      if (op.kind === 'append' || op.kind === 'complete') {
        // Consecutive appends, or outcomes, go in as one op: multi-row writes (SqliteStore.appendMany, completeMany).
        while (i < ops.length && ops[i]!.kind === op.kind) i++;
        if (i - from > 1) {
          const run = ops.slice(from, i);
          if (op.kind === 'append') enqueueRun(from, run as AppendItem[], (items) => store.appendMany(items), true);
          else enqueueRun(from, run as CompleteItem[], (items) => store.completeMany(items), false);
          continue;
        }
      }
      writer.enqueue(
        () => store.apply(op),
        op.kind === 'append',
        (ok, value) => settle(from, ok, value),
      );
    }
    if (ops.length === 0) answer();
  });
}

function storageFull(storage: StorageState): JournalUnavailableError {
  const what = storage.limit === 'disk' ? 'the disk is nearly full' : 'the journal is near storage.max_size';
  return new JournalUnavailableError(
    `journal storage full (${what}): new events are refused until delivery frees space`,
  );
}
