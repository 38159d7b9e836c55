/**
 * The journal's space runs out: new events are refused while claims, outcomes and deletions still
 * commit, retention reclaims delivered events early, and new events are taken again afterwards.
 * A real SQLite file, capped with `maxSize`, on the real writer thread.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JournalUnavailableError } from '../../src/errors.js';
import { reclaimDelivered } from '../../src/journal/retention.js';
import { openSqliteJournal, type SqliteJournal } from '../../src/journal/sqlite/journal.js';
import { makeEvent } from './contract/index.js';

const T0 = Date.UTC(2030, 0, 1);
const RETENTION = { delivered: 7 * 86_400_000, dead: 30 * 86_400_000 };

let dir: string;
let journal: SqliteJournal | undefined;
afterEach(async () => {
  await journal?.close();
  journal = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** Appends 8 KiB events until the journal refuses one; resolves how many it took. */
async function fill(j: SqliteJournal): Promise<number> {
  const body = new Uint8Array(8 * 1024).fill(7);
  for (let i = 0; i < 1_000; i++) {
    const refused = await j.append(makeEvent({ body, receivedAt: T0 + i })).then(
      () => false,
      (e: unknown) => e instanceof JournalUnavailableError,
    );
    if (refused) return i;
  }
  throw new Error('the journal never refused an event');
}

describe('a full journal', () => {
  it('refuses new events but still claims, records outcomes, reclaims delivered events, then takes events again', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-storage-full-'));
    journal = openSqliteJournal({ path: join(dir, 'journal.db'), maxSize: 1024 * 1024 });
    const taken = await fill(journal);
    expect(taken).toBeGreaterThan(20);
    expect(journal.storageFull()).toBe(true);

    // Delivery goes on: every stored event is claimed and its outcome recorded.
    let delivered = 0;
    for (let round = 0; delivered < taken && round < 100; round++) {
      const now = T0 + 10_000 + round;
      const claims = await journal.claim({ destination: 'crm', limit: 64, now, leaseMs: 30_000, fifo: false });
      for (const claim of claims) {
        const attempt = { attempt: claim.attempt, startedAt: now, durationMs: 5, status: 200 };
        expect(await journal.complete(claim, attempt, { kind: 'delivered' })).toBe(true);
        delivered++;
      }
    }
    expect(delivered).toBe(taken);

    // Delivered events are deleted before their retention ends, and the space is reused.
    expect(await reclaimDelivered(journal, RETENTION, T0 + 20_000)).toBeGreaterThan(0);
    await journal.append(makeEvent({ body: new Uint8Array(8 * 1024), receivedAt: T0 + 30_000 }));
    expect(journal.storageFull()).toBe(false);
  });
});
