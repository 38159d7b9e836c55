/**
 * The SQLite journal's writer thread. Every write (ingested events, claims, outcomes, retention)
 * runs here, in group commits, so that the fsync of a commit never blocks the event loop that
 * parses HTTP: while this thread commits one batch, the main thread keeps parsing requests, and
 * they all land in the next batch.
 *
 * Protocol (structured-cloned messages on the worker port):
 *   in:  { id: number, ops: WriteOp[] }  → out: { id, results: Result[], commits: [size, ms][] }
 *   in:  { close: true }                    → flushes, closes the connection, out: { closed: true }
 * All ops of one incoming message land in the same commit, so they settle together and are
 * answered in one message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { GroupCommitWriter } from './group-commit.js';
import { type ConnectionOptions, openConnection, SqliteStore, type WriteOp } from './store.js';
import { errorResult, type Result } from './thread-client.js';

/** What the main thread passes as workerData. */
export interface WriterData extends ConnectionOptions {
  path: string;
}

if (parentPort) {
  const port = parentPort;
  const data = workerData as WriterData;
  const store = new SqliteStore(openConnection(data.path, data));
  let commits: [number, number][] = [];
  const writer = new GroupCommitWriter(store.sqlite, (size, ms) => commits.push([size, ms]));

  const answering = new Set<Promise<void>>();

  port.on('message', (message: { id: number; ops: WriteOp[] } | { close: true }) => {
    if ('close' in message) {
      writer.close(); // commits what is queued
      // Answer every batch (their promises settle on the microtasks after the commit), then end.
      void Promise.all(answering).then(() => {
        store.sqlite.close();
        port.postMessage({ closed: true });
        port.close();
      });
      return;
    }
    const settled = message.ops.map((op) =>
      writer.run(() => store.apply(op)).then((value): Result => ({ ok: true, value }), errorResult),
    );
    const answer = Promise.all(settled).then((results) => {
      const done = commits;
      commits = [];
      port.postMessage({ id: message.id, results, commits: done });
      answering.delete(answer);
    });
    answering.add(answer);
  });
}
