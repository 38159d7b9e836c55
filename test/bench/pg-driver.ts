/**
 * Which PostgreSQL driver the journal uses: node-postgres (`pg`) against postgres.js (`postgres`), on
 * the two things the journal does most. Repeatable: a fresh database per run, dropped at the end.
 *
 *   npx tsx test/bench/pg-driver.ts          (SLUICE_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/test)
 *   BENCH_PG_SECONDS=5 npx tsx test/bench/pg-driver.ts
 *
 * - grouped insert: one statement inserting 32 events (1.5 KB body each) and their deliveries, with
 *   synchronous_commit=on, one commit each, back to back on one connection (what a group commit does);
 * - parallel grouped inserts: the same from 4 connections at once (several flushes in flight);
 * - claim round trips: one `FOR UPDATE SKIP LOCKED` claim of one delivery after another.
 * Each driver runs each case twice, alternating, so that both see the same machine.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import postgres from 'postgres';

const ADMIN_URL = process.env.SLUICE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECONDS = Number(process.env.BENCH_PG_SECONDS ?? 4);
const GROUP = 32;
const BODY = randomBytes(1_500);

const DDL = `
CREATE TABLE events (seq bigserial PRIMARY KEY, id text NOT NULL UNIQUE, source text NOT NULL, headers text NOT NULL,
  body bytea NOT NULL, received_at bigint NOT NULL);
CREATE TABLE deliveries (id bigserial PRIMARY KEY, event_seq bigint NOT NULL REFERENCES events(seq) ON DELETE CASCADE,
  destination text NOT NULL, status text NOT NULL, attempts int NOT NULL DEFAULT 0, due_at bigint);
CREATE INDEX deliveries_due ON deliveries (destination, due_at, id) WHERE due_at IS NOT NULL;`;

/** One statement: the events, then one delivery each (a CTE, so one round trip and one commit). */
function groupedInsertSql(n: number): string {
  const rows = Array.from({ length: n }, (_, i) => {
    const p = i * 5;
    return `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}::bytea, $${p + 5}::bigint)`;
  });
  return `WITH e AS (INSERT INTO events (id, source, headers, body, received_at) VALUES ${rows.join(', ')} RETURNING seq)
    INSERT INTO deliveries (event_seq, destination, status, due_at) SELECT seq, 'crm', 'pending', 0 FROM e`;
}

const CLAIM_SQL = `UPDATE deliveries SET status = 'in_flight', attempts = attempts + 1, due_at = $1
  WHERE id IN (SELECT id FROM deliveries WHERE destination = 'crm' AND due_at <= $2 ORDER BY due_at, id
               LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id`;

let counter = 0;
function groupParams(): unknown[] {
  const params: unknown[] = [];
  for (let i = 0; i < GROUP; i++) params.push(`ev-${++counter}-${process.pid}`, 'stripe', '[]', BODY, Date.now());
  return params;
}

interface Driver {
  name: string;
  query(text: string, params: unknown[]): Promise<unknown>;
  end(): Promise<void>;
}

function nodePostgres(url: string, max: number): Driver {
  const pool = new pg.Pool({ connectionString: url, max });
  return {
    name: 'pg 8.23.1',
    query: (text, params) => pool.query(text, params),
    end: () => pool.end(),
  };
}

function postgresJs(url: string, max: number): Driver {
  const sql = postgres(url, { max, onnotice: () => {} });
  return {
    name: 'postgres 3.4.9',
    // Named prepared statements, as pg's are not: postgres.js prepares by default; it is its strength.
    query: (text, params) => sql.unsafe(text, params as never[], { prepare: true }),
    end: () => sql.end(),
  };
}

/** Runs `step` from `parallel` loops for SECONDS; returns operations per second and p50/p99 latency. */
async function measure(parallel: number, step: () => Promise<unknown>) {
  const latencies: number[] = [];
  const until = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (performance.now() < until) {
        const started = performance.now();
        await step();
        latencies.push(performance.now() - started);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { perSecond: latencies.length / SECONDS, p50: at(0.5), p99: at(0.99) };
}

async function main() {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const dbName = `sluice_bench_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  const rows: string[] = [];
  try {
    const setup = new pg.Client({ connectionString: url.href });
    await setup.connect();
    await setup.query(DDL);
    const settings = await setup.query(`SELECT current_setting('synchronous_commit') AS sc, version() AS v`);
    console.error(`synchronous_commit=${settings.rows[0].sc}; ${settings.rows[0].v}`);
    const insertSql = groupedInsertSql(GROUP);
    for (let run = 1; run <= 2; run++) {
      for (const make of [nodePostgres, postgresJs]) {
        const driver = make(url.href, 4);
        await driver.query('SELECT 1', []);
        const one = await measure(1, () => driver.query(insertSql, groupParams()));
        const four = await measure(4, () => driver.query(insertSql, groupParams()));
        // Claims need a backlog: top it up so that claims never run dry.
        await setup.query(`UPDATE deliveries SET status = 'pending', due_at = 0`);
        await setup.query('VACUUM ANALYZE deliveries');
        const claims = await measure(1, () => driver.query(CLAIM_SQL, [Date.now() + 30_000, Date.now()]));
        await driver.end();
        const f = (x: number) => x.toFixed(2);
        rows.push(
          `| ${run} | ${driver.name} | ${Math.round(one.perSecond * GROUP)} ev/s (${Math.round(one.perSecond)} commits/s, p50 ${f(one.p50)} ms) | ` +
            `${Math.round(four.perSecond * GROUP)} ev/s (p99 ${f(four.p99)} ms) | ${Math.round(claims.perSecond)}/s (p50 ${f(claims.p50)} ms) |`,
        );
        console.error(rows.at(-1));
      }
    }
    await setup.end();
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
  console.log('| run | driver | grouped insert, 1 connection | grouped insert, 4 connections | claim round trips |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
}

await main();
