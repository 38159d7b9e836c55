/**
 * The queue of writes to the writer thread is bounded for new events: past the limit an append
 * fails as unavailable (ingest answers 503), while claims and outcomes are always queued.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JournalUnavailableError } from '../../src/errors.js';
import { openSqliteJournal, type SqliteJournal } from '../../src/journal/sqlite/journal.js';
import { makeEvent } from './contract/index.js';

let dir: string;
let journal: SqliteJournal | undefined;
afterEach(async () => {
  await journal?.close();
  journal = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const settle = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof JournalUnavailableError ? 'unavailable' : String(e)),
  );

describe('write queue bound', () => {
  it('refuses appends past the pending count, never claims, and takes appends again once they commit', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-queue-'));
    journal = openSqliteJournal({ path: join(dir, 'j.db'), maxPendingAppends: 3 });
    const appends = Array.from({ length: 5 }, () => settle(journal!.append(makeEvent({}))));
    const claim = settle(journal.claim({ destination: 'crm', limit: 1, now: Date.now(), leaseMs: 1000, fifo: false }));
    expect(await Promise.all(appends)).toEqual(['ok', 'ok', 'ok', 'unavailable', 'unavailable']);
    expect(await claim).toBe('ok');
    expect(await settle(journal.append(makeEvent({})))).toBe('ok');
  });

  it('refuses appends past the pending bytes', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-queue-'));
    journal = openSqliteJournal({ path: join(dir, 'j.db'), maxPendingBytes: 10_000 });
    const body = new Uint8Array(4_000);
    const appends = Array.from({ length: 3 }, () => settle(journal!.append(makeEvent({ body }))));
    expect(await Promise.all(appends)).toEqual(['ok', 'ok', 'unavailable']);
  });
});
