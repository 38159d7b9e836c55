/**
 * How long one claim of a destination ordered by key takes on a large backlog in the PostgreSQL
 * journal: `npx tsx test/bench/pg-keyed-claim.ts [backlog] [keys...]` (default 1,000,000 events,
 * over 50 keys, then over 1 key; SLUICE_TEST_PG_URL names the server, as for the tests). The
 * journal's own calls on one node, against an unordered and a fifo claim of the same journal; the
 * SQLite counterpart is keyed-claim.ts.
 *
 * Per key count, in a database of its own, after preloading `backlog` pending deliveries spread
 * round-robin over the keys (one INSERT … SELECT, then VACUUM ANALYZE, as autovacuum would):
 *   - heads due: a claim of up to 64 heads (committed, then given back with `release`, untimed);
 *   - heads blocked: every head in flight, so the claim finds nothing;
 *   - nextDueAt with every head blocked.
 */
import pg from 'pg';
import { openPgJournal, type PgJournal } from '../../src/journal/pg/journal.js';
import type { ClaimRequest } from '../../src/journal/port.js';
import { createTestDatabase } from '../helpers/postgres.js';

const DESTINATION = 'crm';
const RUNS = 25;
const LIMIT = 64;
const LEASE_MS = 60_000;

const backlog = Number(process.argv[2] ?? 1_000_000);
const keyCounts = process.argv.length > 3 ? process.argv.slice(3).map(Number) : [50, 1];

/** Median duration (ms) of `runs` calls of `fn`; `after` (untimed) puts things back between them. */
async function medianMs(runs: number, fn: () => Promise<unknown>, after?: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    await after?.();
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function preload(url: string, keys: number): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const t0 = Date.now() - backlog;
    await client.query(
      `INSERT INTO events (id, source, method, path, query, headers, body, remote_addr, received_at)
       SELECT 'ev-' || g, 'bench', 'POST', '/in', '', '[]', convert_to('{"type":"order.updated"}', 'UTF8'), NULL, $1::bigint + g
       FROM generate_series(0, $2::int - 1) g`,
      [t0, backlog],
    );
    await client.query(
      `INSERT INTO deliveries (event_seq, destination, status, due_at, order_key)
       SELECT seq, $1, 'pending', received_at, 'customer-' || ((seq - 1) % $2::int) FROM events ORDER BY seq`,
      [DESTINATION, keys],
    );
    await client.query('VACUUM ANALYZE');
    return t0 + backlog;
  } finally {
    await client.end();
  }
}

async function measure(keys: number): Promise<Record<string, number | string>> {
  const db = await createTestDatabase();
  let journal: PgJournal | undefined;
  try {
    journal = await openPgJournal({ url: db.url, listen: false, leaseRenewal: false });
    const j = journal;
    const preloadStart = Date.now();
    const now = await preload(db.url, keys);
    const preloadS = (Date.now() - preloadStart) / 1000;
    const request: ClaimRequest = { destination: DESTINATION, limit: LIMIT, now, leaseMs: LEASE_MS, fifo: false };

    /** Times claims of `request`, each given back before the next. */
    const claimMs = async (r: ClaimRequest) => {
      let got: Awaited<ReturnType<PgJournal['claim']>> = [];
      const ms = await medianMs(
        RUNS,
        async () => (got = await j.claim(r)),
        () => j.release(got, now),
      );
      return { ms, claimed: got.length };
    };
    const keyed = await claimMs({ ...request, byKey: true });
    const unordered = await claimMs(request);
    const fifo = await claimMs({ ...request, fifo: true });
    // Lease every head: from now on a keyed claim finds nothing until a lease ends.
    let leased = 0;
    for (;;) {
      const got = await j.claim({ ...request, limit: 1_000, byKey: true });
      if (got.length === 0) break;
      leased += got.length;
    }
    const blocked = await claimMs({ ...request, byKey: true });
    const nextDueBlocked = await medianMs(RUNS, () => j.nextDueAt(DESTINATION, false, true));
    if (keyed.claimed !== Math.min(LIMIT, keys) || leased !== keys || blocked.claimed !== 0)
      throw new Error(`unexpected claim sizes: due ${keyed.claimed}, leased ${leased}, blocked ${blocked.claimed}`);
    const ms = (x: number) => x.toFixed(2);
    return {
      backlog,
      keys,
      'preload s': preloadS.toFixed(0),
      'keyed claim, heads due (ms)': ms(keyed.ms),
      'keyed claim, all heads blocked (ms)': ms(blocked.ms),
      'keyed nextDueAt, blocked (ms)': ms(nextDueBlocked),
      'unordered claim (ms)': ms(unordered.ms),
      'fifo claim (ms)': ms(fifo.ms),
    };
  } finally {
    await journal?.close();
    await db.drop();
  }
}

const results: Record<string, number | string>[] = [];
for (const keys of keyCounts) {
  process.stderr.write(`${backlog} events over ${keys} keys…\n`);
  results.push(await measure(keys));
}
const columns = Object.keys(results[0]!);
console.log(`| ${columns.join(' | ')} |`);
console.log(`| ${columns.map(() => '---').join(' | ')} |`);
for (const row of results) console.log(`| ${columns.map((c) => row[c]).join(' | ')} |`);
