/**
 * The SQLite journal's backlog reads (admin API, metrics) run on a thread of their own: counting a
 * large backlog must not hold the event loop that parses HTTP, whatever it costs in wall time.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { JournalUnavailableError } from '../../src/errors.js';
import { openSqliteJournal, type SqliteJournal } from '../../src/journal/sqlite/journal.js';
import type { ReadOp } from '../../src/journal/sqlite/reader-thread.js';
import { JournalThread, type Result } from '../../src/journal/sqlite/thread-client.js';

const BACKLOG = 200_000;

let dir: string | undefined;
let journal: SqliteJournal | undefined;
let reader: JournalThread<{ read: ReadOp }, { result: Result }> | undefined;

afterEach(async () => {
  await reader?.close();
  reader = undefined;
  await journal?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  journal = undefined;
  dir = undefined;
});

/** Writes `count` pending deliveries to `target` straight into the file, in one transaction. */
function fillBacklog(path: string, count: number, now: number): void {
  const db = new Database(path);
  try {
    const insertEvent = db.prepare(
      "INSERT INTO events (id, source, method, path, query, headers, body, received_at) VALUES (?, 's', 'POST', '/in', '', '[]', x'7b7d', ?)",
    );
    const insertDelivery = db.prepare(
      "INSERT INTO deliveries (event_seq, destination, status, due_at) VALUES (?, 'target', 'pending', ?)",
    );
    db.transaction(() => {
      for (let i = 0; i < count; i++) {
        const { lastInsertRowid } = insertEvent.run(`backlog-${i}`, now - count + i);
        insertDelivery.run(lastInsertRowid, now - count + i);
      }
    })();
  } finally {
    db.close();
  }
}

it('counts a backlog without holding the calling thread', async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-reader-thread-'));
  const path = join(dir, 'journal.db');
  const now = Date.now();
  journal = openSqliteJournal({ path });
  fillBacklog(path, BACKLOG, now);
  await journal.destinationStats('target', now); // the reader thread starts on first use

  const before = performance.eventLoopUtilization();
  const started = performance.now();
  const stats = await journal.destinationStats('target', now);
  const wall = performance.now() - started;
  const busy = performance.eventLoopUtilization(before).active;

  expect(stats.pending).toBe(BACKLOG);
  // Counting 200k deliveries takes tens of ms; on this thread it was all event-loop time.
  expect(wall).toBeGreaterThan(10);
  expect(busy).toBeLessThan(wall / 2);
});

it('fails a read as unavailable when the reader thread cannot open the journal, and starts a new one for the next read', async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-reader-thread-'));
  // A file where the journal's directory should be: the thread fails to open the journal.
  const blocked = join(dir, 'data');
  writeFileSync(blocked, '');
  const path = join(blocked, 'journal.db');
  reader = new JournalThread('reader-thread', 'reader', { path });
  const count = { read: { kind: 'countDeliveries', destination: 'target' } } as const;
  await expect(reader.request(count)).rejects.toBeInstanceOf(JournalUnavailableError);

  rmSync(blocked);
  mkdirSync(blocked);
  journal = openSqliteJournal({ path });
  await expect(reader.request(count)).resolves.toMatchObject({
    result: { ok: true, value: { pending: 0, in_flight: 0, delivered: 0, dead: 0 } },
  });
});
