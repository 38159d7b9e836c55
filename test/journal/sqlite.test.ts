/**
 * The SQLite journal: the `Journal` contract on a real file, then what only SQLite has (migrations,
 * group commit, size limit, a lock held by another process, the files a crash leaves, cascades).
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JournalTooNewError, JournalUnavailableError } from '../../src/errors.js';
import { createGatewayEvents } from '../../src/events.js';
import { openJournal } from '../../src/journal/open.js';
import type { StoredEvent } from '../../src/journal/port.js';
import {
  MIGRATIONS_FOLDER,
  openSqliteJournal,
  SqliteJournal,
  type SqliteJournalOptions,
} from '../../src/journal/sqlite/journal.js';
import { describeJournalContract, makeEvent } from './contract/index.js';

describeJournalContract({
  name: 'sqlite',
  supports: { reopen: true },
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-journal-contract-'));
    const path = join(dir, 'journal.db');
    const journals = [openSqliteJournal({ path })];
    return {
      journal: journals[0]!,
      async reopen() {
        const journal = openSqliteJournal({ path });
        journals.push(journal);
        return journal;
      },
      async cleanup() {
        for (const journal of journals) await journal.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});

const T0 = Date.UTC(2030, 0, 1);

/** Newest migration timestamp shipped with this build. */
function newestShippedMigration(): { when: number; count: number } {
  const meta = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as {
    entries: { when: number }[];
  };
  return { when: Math.max(...meta.entries.map((e) => e.when)), count: meta.entries.length };
}

/**
 * Number of committed transactions in the WAL file of `file`, read from the file itself (so it does
 * not rely on the journal's own `journal:commit` report): frames of the current WAL generation (matching
 * the header's salts) whose "database size after commit" field is non-zero are commit frames.
 */
function walCommits(file: string): { salt: string; commits: number } {
  const wal = readFileSync(`${file}-wal`);
  const pageSize = wal.readUInt32BE(8);
  const salt = wal.subarray(16, 24);
  let commits = 0;
  for (let offset = 32; offset + 24 + pageSize <= wal.length; offset += 24 + pageSize) {
    if (!wal.subarray(offset + 8, offset + 16).equals(salt)) break;
    if (wal.readUInt32BE(offset + 4) !== 0) commits++;
  }
  return { salt: salt.toString('hex'), commits };
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

describe('SQLite journal', () => {
  let dir: string;
  let path: string;
  /** Everything opened by a test, closed after it (journals first, then raw connections). */
  let journals: SqliteJournal[];
  let connections: Database.Database[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-journal-sqlite-'));
    path = join(dir, 'journal.db');
    journals = [];
    connections = [];
  });

  afterEach(async () => {
    for (const j of journals) await j.close();
    for (const c of connections) {
      if (c.inTransaction) c.exec('ROLLBACK');
      c.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  function open(options: Partial<SqliteJournalOptions> = {}): SqliteJournal {
    const journal = openSqliteJournal({ path, ...options });
    journals.push(journal);
    return journal;
  }

  /** A plain better-sqlite3 connection to `file`, as another process would hold. */
  function raw(file = path, options?: Database.Options): Database.Database {
    const connection = new Database(file, options);
    connections.push(connection);
    return connection;
  }

  function count(connection: Database.Database, table: string): number {
    return (connection.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  }

  describe('migrations', () => {
    it('creates and migrates a new file (in a directory that does not exist yet), in WAL mode', async () => {
      path = join(dir, 'nested', 'deeper', 'journal.db');
      open();
      expect(existsSync(path)).toBe(true);
      const db = raw();
      const tables = (
        db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]
      ).map((r) => r.name);
      expect(tables).toEqual(expect.arrayContaining(['events', 'deliveries', 'attempts', '__drizzle_migrations']));
      const indexes = (
        db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index'`).all() as { name: string }[]
      ).map((r) => r.name);
      expect(indexes).toEqual(
        expect.arrayContaining([
          'deliveries_due_by_priority',
          'deliveries_fifo',
          'deliveries_by_order_key',
          'deliveries_finished',
          'deliveries_event',
          'attempts_delivery',
        ]),
      );
      expect(count(db, '__drizzle_migrations')).toBe(newestShippedMigration().count);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    });

    it('reopening an existing file keeps its data and does not migrate again', async () => {
      const first = open();
      const stored = await first.append(
        makeEvent({ body: new Uint8Array([1, 2, 0xff]), destinations: ['crm', 'billing'] }),
      );
      const claim = (await first.claim({ destination: 'crm', limit: 1, now: T0, leaseMs: 1_000, fifo: false }))[0]!;
      expect(
        await first.complete(claim, { attempt: 1, startedAt: T0, durationMs: 3, status: 200 }, { kind: 'delivered' }),
      ).toBe(true);
      await first.close();

      const second = open();
      const read = await second.getEvent(stored.id);
      expect(read).toBeDefined();
      expect(hex(read!.body)).toBe('0102ff');
      expect(read!.deliveries.map((d) => [d.destination, d.status])).toEqual([
        ['crm', 'delivered'],
        ['billing', 'pending'],
      ]);
      expect(read!.deliveries[0]!.attemptLog).toHaveLength(1);
      // Seq keeps increasing across reopenings.
      const next = await second.append(makeEvent());
      expect(next.seq).toBeGreaterThan(stored.seq);
      await second.close();
      expect(count(raw(), '__drizzle_migrations')).toBe(newestShippedMigration().count);
    });

    it('refuses a file migrated by a newer build (JOURNAL_TOO_NEW), without damaging it', async () => {
      const first = open();
      const stored = await first.append(makeEvent());
      await first.close();
      const db = raw();
      db.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run(
        'from-the-future',
        newestShippedMigration().when + 86_400_000,
      );

      let error: unknown;
      try {
        open();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(JournalTooNewError);
      expect((error as JournalTooNewError).code).toBe('JOURNAL_TOO_NEW');
      expect((error as Error).message).toContain(path);

      // The refused open left the file as it was (and released it): without the future row it opens again.
      db.prepare(`DELETE FROM __drizzle_migrations WHERE hash = 'from-the-future'`).run();
      const again = open();
      expect((await again.getEvent(stored.id))?.id).toBe(stored.id);
    });
  });

  describe('opening', () => {
    it('is what openJournal opens for storage.path, and declares what it supports', async () => {
      const journal = await openJournal({ path });
      expect(journal).toBeInstanceOf(SqliteJournal);
      journals.push(journal as SqliteJournal);
      // Commits are measured; another process's writes are found by polling, not announced.
      expect(journal.capabilities).toEqual({ commitStats: true, crossProcessWakeups: false });
      await journal.probe();
      expect(existsSync(path)).toBe(true);
    });
  });

  describe('group commit', () => {
    it('commits concurrent appends of one tick together, and resolves each only after its commit', async () => {
      const commits: number[] = [];
      const events = createGatewayEvents();
      events.on('journal:commit', ({ batchSize }) => commits.push(batchSize));
      const journal = open({ events });
      const reader = raw(path, { readonly: true });
      const findEvent = reader.prepare('SELECT count(*) AS n FROM events WHERE id = ?');

      const walBefore = walCommits(path);
      let committed = 0;
      const resolvedAt: { committedOps: number; visibleElsewhere: boolean }[] = [];
      const appends = Array.from({ length: 50 }, (_, i) =>
        journal.append(makeEvent({ receivedAt: T0 + i })).then((stored: StoredEvent) => {
          committed = commits.reduce((a, b) => a + b, 0);
          // Committed means another connection (another process) already sees it.
          resolvedAt.push({
            committedOps: committed,
            visibleElsewhere: (findEvent.get(stored.id) as { n: number }).n === 1,
          });
          return stored;
        }),
      );
      // Nothing is written synchronously: the batch waits for the end of the tick.
      expect(commits).toEqual([]);

      const stored = await Promise.all(appends);
      expect(stored).toHaveLength(50);
      expect(commits.reduce((a, b) => a + b, 0)).toBe(50);
      expect(commits.length).toBeLessThanOrEqual(5);
      // The file agrees: as many transactions reached the WAL as were reported (no checkpoint in between).
      const walAfter = walCommits(path);
      expect(walAfter.salt).toBe(walBefore.salt);
      expect(walAfter.commits - walBefore.commits).toBe(commits.length);
      expect(resolvedAt).toHaveLength(50);
      resolvedAt.forEach((r, i) => {
        expect(r.committedOps).toBeGreaterThanOrEqual(i + 1);
        expect(r.visibleElsewhere).toBe(true);
      });
      expect(count(reader, 'events')).toBe(50);
    });

    it('a faulty append among appends of one tick fails alone: the others are stored with their deliveries', async () => {
      const journal = open();
      // No body violates NOT NULL: the multi-row insert of the tick fails, and each append is retried alone.
      const faulty = { ...makeEvent({ receivedAt: T0 }), body: null } as unknown as ReturnType<typeof makeEvent>;
      const outcomes = await Promise.allSettled([
        journal.append(makeEvent({ receivedAt: T0 })),
        journal.append(faulty),
        journal.append(makeEvent({ receivedAt: T0 + 1 })),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      const [first, , third] = outcomes.map((o) => (o.status === 'fulfilled' ? o.value : undefined));
      expect(third!.seq).toBeGreaterThan(first!.seq);
      const reader = raw(path, { readonly: true });
      expect(count(reader, 'events')).toBe(2);
      expect(count(reader, 'deliveries')).toBe(2 * makeEvent().destinations.length);
      for (const stored of [first!, third!]) {
        expect((await journal.getEvent(stored.id))?.deliveries.map((d) => d.destination)).toEqual(['crm']);
      }
    });

    it('outcomes of one tick are recorded together, each only where its claim still holds the delivery', async () => {
      const journal = open();
      await journal.append(makeEvent({ receivedAt: T0 }));
      await journal.append(makeEvent({ receivedAt: T0 + 1 }));
      const [kept, lost] = await journal.claim({
        destination: 'crm',
        limit: 2,
        now: T0 + 1,
        leaseMs: 1_000,
        fifo: false,
      });
      await journal.release([lost!], T0 + 10);
      const attempt = (claim: typeof kept) => ({
        attempt: claim!.attempt,
        startedAt: T0 + 20,
        durationMs: 5,
        status: 200,
      });
      const recorded = await Promise.all([
        journal.complete(kept!, attempt(kept), { kind: 'delivered' }),
        journal.complete(lost!, attempt(lost), { kind: 'delivered' }),
      ]);
      expect(recorded).toEqual([true, false]);
      const reader = raw(path, { readonly: true });
      expect(reader.prepare('SELECT delivery_id AS id FROM attempts').all()).toEqual([{ id: kept!.deliveryId }]);
      const statuses = reader.prepare('SELECT id, status, finished_at AS finishedAt FROM deliveries ORDER BY id').all();
      expect(statuses).toEqual([
        { id: kept!.deliveryId, status: 'delivered', finishedAt: T0 + 25 },
        { id: lost!.deliveryId, status: 'pending', finishedAt: null },
      ]);
    });

    it('close() commits what is queued before closing', async () => {
      const journal = open();
      const pending = journal.append(makeEvent());
      await journal.close();
      const stored = await pending;
      const again = open();
      expect((await again.getEvent(stored.id))?.id).toBe(stored.id);
    });

    it('a closed journal refuses writes as unavailable', async () => {
      const journal = open();
      await journal.close();
      const error = await journal.append(makeEvent()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JournalUnavailableError);
      expect((error as JournalUnavailableError).code).toBe('JOURNAL_UNAVAILABLE');
    });
  });

  describe('unavailable store', () => {
    it('past maxSize, appends reject with JOURNAL_UNAVAILABLE and nothing half-written is left', async () => {
      const journal = open({ maxSize: 256 * 1024 });
      const body = new Uint8Array(16 * 1024).map((_, i) => (i * 7) & 0xff);
      const accepted: StoredEvent[] = [];
      let error: unknown;
      for (let i = 0; i < 100 && error === undefined; i++) {
        try {
          accepted.push(
            await journal.append(makeEvent({ body, receivedAt: T0 + i, destinations: ['crm', 'billing'] })),
          );
        } catch (e) {
          error = e;
        }
      }
      expect(error).toBeInstanceOf(JournalUnavailableError);
      expect((error as JournalUnavailableError).code).toBe('JOURNAL_UNAVAILABLE');
      expect(accepted.length).toBeGreaterThan(0);

      // A batch of several appends fails as a whole, still as unavailable.
      const batch = await Promise.allSettled(
        Array.from({ length: 5 }, (_, i) => journal.append(makeEvent({ body, receivedAt: T0 + 1_000 + i }))),
      );
      for (const r of batch) {
        expect(r.status).toBe('rejected');
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(JournalUnavailableError);
      }

      // Exactly the acknowledged events are stored, each whole, with both deliveries.
      const db = raw(path, { readonly: true });
      expect(count(db, 'events')).toBe(accepted.length);
      expect(count(db, 'deliveries')).toBe(accepted.length * 2);
      for (const e of accepted) {
        const read = await journal.getEvent(e.id);
        expect(hex(read!.body)).toBe(hex(body));
        expect(read!.deliveries).toHaveLength(2);
      }
      expect(await journal.countDeliveries('crm')).toEqual({
        pending: accepted.length,
        in_flight: 0,
        delivered: 0,
        dead: 0,
      });
    });

    it('while another connection holds the write lock, append rejects quickly as unavailable, then works once released', async () => {
      const journal = open({ busyTimeoutMs: 100 });
      const before = await journal.append(makeEvent());
      const other = raw();
      other.exec('BEGIN IMMEDIATE');

      const started = performance.now();
      const error = await journal.append(makeEvent({ receivedAt: T0 + 1 })).catch((e: unknown) => e);
      const waited = performance.now() - started;
      expect(error).toBeInstanceOf(JournalUnavailableError);
      expect((error as JournalUnavailableError).code).toBe('JOURNAL_UNAVAILABLE');
      // Bounded: the busy timeout (100 ms), with a wide margin for slow machines.
      expect(waited).toBeLessThan(10_000);
      // Reads still work meanwhile (WAL), and readiness says the journal takes no writes.
      expect((await journal.getEvent(before.id))?.id).toBe(before.id);
      await expect(journal.probe()).rejects.toMatchObject({ code: 'JOURNAL_UNAVAILABLE' });

      other.exec('COMMIT');
      await expect(journal.probe()).resolves.toBeUndefined();
      const after = await journal.append(makeEvent({ receivedAt: T0 + 2 }));
      expect((await journal.getEvent(after.id))?.id).toBe(after.id);
      expect(count(other, 'events')).toBe(2);
    });
  });

  describe('durability', () => {
    it('an acknowledged event is in the files on disk: a copy of them, recovered cold, holds it', async () => {
      const writer = open();
      const stored = await writer.append(makeEvent({ body: new Uint8Array([1, 2, 3]) }));
      // Copy what is on disk now (database and WAL, not the shared-memory index), as a crash would leave it.
      const copy = join(dir, 'copy.db');
      copyFileSync(path, copy);
      if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, `${copy}-wal`);
      const recovered = open({ path: copy });
      const read = await recovered.getEvent(stored.id);
      expect(read).toBeDefined();
      expect(hex(read!.body)).toBe('010203');
    });
  });

  describe('purge', () => {
    it('cascades to deliveries and attempts rows', async () => {
      const journal = open();
      const stored = await journal.append(makeEvent({ destinations: ['crm', 'billing'] }));
      const kept = await journal.append(makeEvent({ destinations: ['crm'], receivedAt: T0 + 1 }));
      for (const destination of ['crm', 'billing']) {
        const [c] = await journal.claim({ destination, limit: 1, now: T0, leaseMs: 1_000, fifo: false });
        expect(c!.event.id).toBe(stored.id);
        await journal.complete(
          c!,
          { attempt: 1, startedAt: T0, durationMs: 1, status: 200, response: new Uint8Array([1]) },
          { kind: 'delivered' },
        );
      }
      const db = raw(path, { readonly: true });
      expect(count(db, 'attempts')).toBe(2);
      expect(await journal.purge({ deliveredBefore: T0 + 10_000, deadBefore: T0 + 10_000, dedupeBefore: 0 }, 10)).toBe(
        1,
      );
      expect(count(db, 'events')).toBe(1);
      expect(count(db, 'deliveries')).toBe(1);
      expect(count(db, 'attempts')).toBe(0);
      expect((await journal.getEvent(kept.id))?.deliveries).toHaveLength(1);
    });
  });
});
