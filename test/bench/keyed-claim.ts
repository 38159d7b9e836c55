/**
 * How long one claim of a destination ordered by key takes on a large backlog, against an unordered
 * and a fifo claim on the same journal: `npx tsx test/bench/keyed-claim.ts [backlog] [keys...]`
 * (default 1,000,000 events, over 50 keys, then over 1 key). A measurement of the journal alone
 * (one SQLite file, the store's own statements on this thread), not of a gateway.
 *
 * Per key count, after preloading `backlog` pending deliveries spread round-robin over the keys:
 *   - heads due: a claim of up to 64 heads, and its two parts alone (the quick path, the key walk);
 *   - heads blocked: every head in flight, so the claim finds nothing, the case where a scan of the
 *     due deliveries would read the whole backlog behind the heads;
 *   - nextDueAt with every head blocked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { migrateJournal, openConnection } from '../../src/journal/sqlite/connection.js';
import { CLAIM_FIELDS } from '../../src/journal/sqlite/delivery-claims.js';
import { prepareKeyedQueries } from '../../src/journal/sqlite/keyed-claim.js';
import { SqliteStore } from '../../src/journal/sqlite/store.js';

const DESTINATION = 'crm';
const RUNS = 25;
const LIMIT = 64;
const LEASE_MS = 60_000;

const backlog = Number(process.argv[2] ?? 1_000_000);
const keyCounts = process.argv.length > 3 ? process.argv.slice(3).map(Number) : [50, 1];

/**
 * Median of the durations (ms) of `runs` calls of `fn`, each in a transaction rolled back after it:
 * the query and its updates without the commit (an fsync, the same whatever the claim), and every
 * run sees the same state.
 */
function medianMs(sqlite: Database.Database, runs: number, fn: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    sqlite.exec('BEGIN IMMEDIATE');
    const start = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    sqlite.exec('ROLLBACK');
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function measure(keys: number): Record<string, number | string> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-keyed-claim-'));
  try {
    const path = join(dir, 'sluice.db');
    // The writer thread's page cache (src/journal/sqlite/journal.ts): the claim runs there.
    const sqlite = openConnection(path, { cacheKiB: 4_096 });
    migrateJournal(sqlite, path);
    const store = new SqliteStore(sqlite);
    const insertEvent = sqlite.prepare(
      "INSERT INTO events (id, source, method, path, query, headers, body, remote_addr, received_at) VALUES (?, 'bench', 'POST', '/in', '', '[]', ?, NULL, ?) RETURNING seq",
    );
    const insertDelivery = sqlite.prepare(
      "INSERT INTO deliveries (event_seq, destination, status, due_at, order_key) VALUES (?, ?, 'pending', ?, ?)",
    );
    const body = Buffer.from(JSON.stringify({ type: 'order.updated', data: { id: 1 } }));
    const t0 = Date.now() - backlog;
    const preloadStart = Date.now();
    const batch = sqlite.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const { seq } = insertEvent.get(`ev-${i}`, body, t0 + i) as { seq: number };
        insertDelivery.run(seq, DESTINATION, t0 + i, `customer-${i % keys}`);
      }
    });
    for (let from = 0; from < backlog; from += 50_000) batch(from, Math.min(backlog, from + 50_000));
    // As the gateway finds a journal after a clean shutdown: without it, every read first consults a WAL of the
    // whole preload (the measured claims are rolled back, so none of them would checkpoint it), and the first
    // case measured came out several times slower than the same claim later.
    sqlite.pragma('wal_checkpoint(TRUNCATE)');
    const preloadS = (Date.now() - preloadStart) / 1000;
    const now = Date.now();
    const request = { destination: DESTINATION, limit: LIMIT, now, leaseMs: LEASE_MS, fifo: false };

    let claimed = 0;
    const keyedDue = medianMs(sqlite, RUNS, () => {
      claimed = store.claim({ ...request, byKey: true }).fields.length / CLAIM_FIELDS;
    });
    // Its two parts alone, reading only (no lease): the quick path, and the walk over the keys.
    const parts = prepareKeyedQueries(sqlite, 'd.id');
    const read = { destination: DESTINATION, now, limit: LIMIT };
    const quickOnly = medianMs(sqlite, RUNS, () => parts.dueHeadsInWindow.all({ ...read, window: 4 * LIMIT }));
    const walkOnly = medianMs(sqlite, RUNS, () => parts.dueHeads.all(read));
    const unorderedDue = medianMs(sqlite, RUNS, () => store.claim(request));
    const fifoDue = medianMs(sqlite, RUNS, () => store.claim({ ...request, fifo: true }));
    // Lease every head: from now on a keyed claim finds nothing until a lease ends.
    const leased = store.claim({ ...request, limit: keys + 1, byKey: true }).fields.length / CLAIM_FIELDS;
    let found = -1;
    const keyedBlocked = medianMs(sqlite, RUNS, () => {
      found = store.claim({ ...request, byKey: true }).fields.length / CLAIM_FIELDS;
    });
    const nextDueBlocked = medianMs(sqlite, RUNS, () => store.nextDueAt(DESTINATION, false, true));
    sqlite.close();
    if (claimed !== Math.min(LIMIT, keys) || leased !== keys || found !== 0)
      throw new Error(`unexpected claim sizes: due ${claimed}, leased ${leased}, blocked ${found}`);
    const ms = (x: number) => x.toFixed(2);
    return {
      backlog,
      keys,
      'preload s': preloadS.toFixed(0),
      'keyed claim, heads due (ms)': ms(keyedDue),
      'quick path alone (ms)': ms(quickOnly),
      'key walk alone (ms)': ms(walkOnly),
      'keyed claim, all heads blocked (ms)': ms(keyedBlocked),
      'keyed nextDueAt, blocked (ms)': ms(nextDueBlocked),
      'unordered claim (ms)': ms(unorderedDue),
      'fifo claim (ms)': ms(fifoDue),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = keyCounts.map((keys) => {
  process.stderr.write(`${backlog} events over ${keys} keys…\n`);
  return measure(keys);
});
const columns = Object.keys(rows[0]!);
console.log(`| ${columns.join(' | ')} |`);
console.log(`| ${columns.map(() => '---').join(' | ')} |`);
for (const row of rows) console.log(`| ${columns.map((c) => row[c]).join(' | ')} |`);
