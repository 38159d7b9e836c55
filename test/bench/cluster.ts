/**
 * Several nodes on one PostgreSQL journal, against one node on SQLite (figures in README.md,
 * "PostgreSQL"). Not part of `npm run bench`: it needs a PostgreSQL server (SLUICE_TEST_PG_URL,
 * default postgres://postgres@127.0.0.1:5432/test as an admin connection) and makes a database of
 * its own per case, dropped afterwards.
 *
 *   npm run build && npx tsx test/bench/cluster.ts            (BENCH_DURATION=5 by default)
 *   BENCH_CLUSTER_CASES=ingest npx tsx test/bench/cluster.ts  (one half: ingest or delivery)
 *
 * - ingest: autocannon (50 connections, 1.5 KB) against 1 SQLite node, then 1, 2 and 3 PostgreSQL
 *   nodes (the connections spread over the nodes, one load worker per node);
 * - delivery: a backlog written straight into the database, drained by 1 and 3 nodes into
 *   `sluice sink` (concurrency 32 per node, no rate), then by 3 nodes under a global rate far above
 *   what they reach (the cost of reserving tokens from the shared bucket).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { removeAllWorkspaces, SOURCE_PATH, workspace } from './journal.js';
import { CONNECTIONS, runLoad, webhookBody } from './load.js';
import {
  freePort,
  installExitHooks,
  type Server,
  sleep,
  spawnCli,
  startServer,
  stopAll,
  waitForPort,
} from './processes.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const BACKLOG = Number(process.env.BENCH_CLUSTER_BACKLOG ?? 20_000);
/** `BENCH_CLUSTER_CASES=ingest` or `delivery`: one half only. */
const CASES = (process.env.BENCH_CLUSTER_CASES ?? 'ingest,delivery').split(',');

/** A gateway config: the SQLite journal, or `url`. */
function nodeConfig(destination: Record<string, unknown>, url?: string): string {
  const ws = workspace({ url: 'http://127.0.0.1:9/hooks' });
  const config = {
    server: { host: '127.0.0.1', port: 0, shutdown_grace: '1s' },
    admin: { enabled: false },
    storage: url ? { path: ws.dbPath, url } : { path: ws.dbPath },
    log: { level: 'info' },
    destinations: { target: destination },
    sources: { bench: { path: SOURCE_PATH, to: 'target' } },
  };
  const file = join(ws.dir, 'cluster.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

function startNodes(n: number, config: string): Promise<Server[]> {
  return Promise.all(
    Array.from({ length: n }, () => startServer(() => spawnCli('sluice', ['start', '-c', config]), 60_000)),
  );
}

/** Ingest req/s with `nodes` nodes sharing the load; events go to a destination that takes ~nothing. */
async function ingest(nodes: number, url: string | undefined): Promise<string> {
  // A destination nobody answers, at 1/s: delivery does almost nothing during the run.
  const config = nodeConfig({ url: 'http://127.0.0.1:9/hooks', rate: '1/s', concurrency: 1 }, url);
  const servers = await startNodes(nodes, config);
  try {
    const body = webhookBody();
    const runs = await Promise.all(
      servers.map((s) =>
        runLoad(
          {
            url: `http://127.0.0.1:${s.port}${SOURCE_PATH}`,
            connections: Math.ceil(CONNECTIONS / nodes),
            warmupS: 2,
            durationS: DURATION,
            body,
          },
          [s.pid],
        ),
      ),
    );
    const rps = runs.reduce((sum, r) => sum + r.rps, 0);
    const p99 = Math.max(...runs.map((r) => r.p99));
    const non2xx = runs.reduce((sum, r) => sum + r.non2xx + r.errors, 0);
    return `| ingest | ${url ? 'PostgreSQL' : 'SQLite'} | ${nodes} | ${Math.round(rps)} req/s | p99 ${p99.toFixed(1)} ms | ${non2xx} non-2xx |`;
  } finally {
    await Promise.all(servers.map((s) => s.stop(2_000)));
  }
}

/** Writes `count` events with one pending delivery each straight into the journal (migrated by a node). */
async function preload(url: string, count: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const body = Buffer.from(webhookBody());
  await client.query(
    `WITH e AS (
       INSERT INTO events (id, source, method, path, query, headers, body, remote_addr, received_at)
       SELECT gen_random_uuid()::text, 'bench', 'POST', $1, '', '[["content-type","application/json"]]', $2, NULL,
              (extract(epoch from now()) * 1000)::bigint - 60000 + i
       FROM generate_series(1, $3) AS i RETURNING seq, received_at)
     INSERT INTO deliveries (event_seq, destination, status, due_at) SELECT seq, 'target', 'pending', received_at FROM e`,
    [SOURCE_PATH, body, count],
  );
  await client.end();
}

async function delivered(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query(`SELECT count(*)::int AS n FROM deliveries WHERE status = 'delivered'`);
  await client.end();
  return rows[0].n as number;
}

/** Deliveries per second while `nodes` nodes drain a preloaded backlog into `sluice sink`. */
async function drain(db: TestDatabase, nodes: number, rate: string | undefined): Promise<string> {
  const port = await freePort();
  const sink = spawnCli('sink', ['sink', '--port', String(port)], { LOG_LEVEL: 'warn' });
  try {
    await waitForPort(port);
    const destination = {
      url: `http://127.0.0.1:${port}/hooks`,
      concurrency: 32,
      ...(rate && { rate, burst: 2_000 }),
    };
    const config = nodeConfig(destination, db.url);
    // A first node migrates the database; the backlog is written before the drain starts.
    const [first] = await startNodes(1, nodeConfig({ url: 'http://127.0.0.1:9/hooks', rate: '1/s' }, db.url));
    await first!.stop(2_000);
    await preload(db.url, BACKLOG);
    const started = performance.now();
    const servers = await startNodes(nodes, config);
    let done = 0;
    while (done < BACKLOG && performance.now() - started < 300_000) {
      await sleep(250);
      done = await delivered(db.url);
    }
    const seconds = (performance.now() - started) / 1000;
    await Promise.all(servers.map((s) => s.stop(2_000)));
    return `| delivery | PostgreSQL${rate ? `, global rate ${rate}` : ''} | ${nodes} | ${Math.round(done / seconds)} deliveries/s | ${BACKLOG} in ${seconds.toFixed(1)} s (start-up included) | |`;
  } finally {
    await sink.stop(1_000);
  }
}

async function withDatabase<T>(work: (db: TestDatabase) => Promise<T>): Promise<T> {
  const db = await createTestDatabase();
  try {
    return await work(db);
  } finally {
    await db.drop();
  }
}

async function main() {
  installExitHooks(removeAllWorkspaces);
  const rows: string[] = [];
  const report = (row: string) => {
    rows.push(row);
    console.error(row);
  };
  try {
    if (CASES.includes('ingest')) {
      report(await ingest(1, undefined));
      for (const n of [1, 2, 3]) report(await withDatabase((db) => ingest(n, db.url)));
    }
    if (CASES.includes('delivery')) {
      report(await withDatabase((db) => drain(db, 1, undefined)));
      report(await withDatabase((db) => drain(db, 3, undefined)));
      report(await withDatabase((db) => drain(db, 3, '100000/s')));
    }
  } finally {
    await stopAll();
    removeAllWorkspaces();
  }
  console.log('| what | journal | nodes | throughput | detail | errors |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
}

await main();
