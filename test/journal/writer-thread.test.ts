/**
 * The SQLite journal's writer thread dying: its unanswered writes fail as unavailable (ingest
 * answers 503, the sender retries), and the next write starts a new writer and commits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterEach, expect, it } from 'vitest';
import { openSqliteJournal, type SqliteJournal } from '../../src/journal/sqlite/journal.js';
import { makeEvent } from './contract/index.js';

let dir: string | undefined;
let journal: SqliteJournal | undefined;

afterEach(async () => {
  await journal?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  journal = undefined;
  dir = undefined;
});

it("a dead writer's late exit does not fail the writes its successor took", async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-writer-thread-'));
  journal = openSqliteJournal({ path: join(dir, 'journal.db') });
  await journal.append(makeEvent({ receivedAt: 1 }));

  // Fault injection: a message the writer cannot read throws in its handler, an uncaught
  // exception. The thread reports 'error' at once and 'exit' only once it has wound down.
  const writer = (journal as unknown as { writer: { start(): { worker: Worker } } }).writer.start().worker;
  const exited = new Promise<void>((resolve) => writer.once('exit', () => resolve()));
  const errored = new Promise<void>((resolve) => writer.once('error', () => resolve()));
  writer.postMessage({ id: -1, ops: null });
  await errored;

  // Sent after the 'error', so to a new writer; the old one's 'exit' comes while it is in flight.
  const appended = journal.append(makeEvent({ receivedAt: 2 }));
  await exited;
  const stored = await appended;
  expect(stored.duplicate).toBe(false);
  expect(await journal.getEvent(stored.id)).toMatchObject({ id: stored.id, receivedAt: 2 });
});
