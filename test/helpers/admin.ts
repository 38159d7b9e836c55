/**
 * The admin API over real components, wired as the gateway wires them: a real SQLite journal in a
 * temp dir (its commits feeding the metrics), a real scheduler delivering to real receivers (its
 * attempts feeding the metrics), the real ingest app, and the admin app under test.
 */
import { join } from 'node:path';
import { Hono } from 'hono';
import { createAdminApp } from '../../src/admin/app.js';
import { createMetrics, type Metrics, type ReceivedOutcome } from '../../src/admin/metrics.js';
import { type Config, configSchema } from '../../src/config/schema.js';
import { type Scheduler, startScheduler } from '../../src/delivery/scheduler.js';
import { createIngestApp } from '../../src/ingest/app.js';
import { openSqliteJournal, type SqliteJournal } from '../../src/journal/sqlite/journal.js';
import { silentLogger } from '../../src/log.js';
import { perTest, tempDir } from './gateway.js';
import type { Receiver } from './receiver.js';

export const TOKEN = 'admin-token-for-tests';

export interface AdminFixtureOptions {
  /** `destinations:` as in a config file (validated by the real schema). */
  destinations: Record<string, Record<string, unknown>>;
  /** `sources:` as in a config file; default one source `shop` at /in/shop to every destination. */
  sources?: Record<string, Record<string, unknown>>;
  /** The admin token; null: none (open routes). Default TOKEN. */
  token?: string | null;
  clock?: () => number;
  isReady?: () => boolean | Promise<boolean>;
}

export interface AdminFixture {
  config: Config;
  dbPath: string;
  journal: SqliteJournal;
  scheduler: Scheduler;
  metrics: Metrics;
  app: ReturnType<typeof createAdminApp>;
  /** An admin request with the token (JSON body when `body` is given). */
  admin(path: string, init?: { method?: string; body?: unknown; token?: string | null }): Promise<Response>;
  /** `admin()` and the parsed JSON answer; throws unless the status is `status` (default 200). */
  adminJson<T = any>(path: string, init?: { method?: string; body?: unknown }, status?: number): Promise<T>;
  /** Posts a webhook through the real ingest app; resolves the event id (throws unless accepted). */
  post(path: string, body: string | Uint8Array, headers?: Record<string, string>): Promise<string>;
  /** Posts and returns the raw response (for refused requests). */
  postRaw(path: string, body: string | Uint8Array, headers?: Record<string, string>): Promise<Response>;
  /** Stops the scheduler, closes the journal, then opens the same file with a fresh scheduler, as a restart does. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startAdminFixture(options: AdminFixtureOptions): Promise<AdminFixture> {
  const tmp = tempDir();
  const dbPath = join(tmp.dir, 'sluice.db');
  const config = configSchema.parse({
    destinations: options.destinations,
    sources: options.sources ?? { shop: { path: '/in/shop', to: Object.keys(options.destinations) } },
  });
  const token = options.token === null ? undefined : (options.token ?? TOKEN);
  const metrics = createMetrics({
    defaultMetrics: false,
    sources: Object.keys(config.sources),
    destinations: config.destinations,
    statsTtlMs: 0,
  });
  const sourceByPath = new Map(Object.entries(config.sources).map(([name, s]) => [s.path, name]));

  const parts = async () => {
    const journal = openSqliteJournal({ path: dbPath, onCommit: (size, ms) => metrics.commit(size, ms) });
    const paused = (await journal.pausedDestinations()).filter((name) => name in config.destinations);
    const scheduler = startScheduler({
      destinations: config.destinations,
      journal,
      paused,
      logger: silentLogger(),
      onAttempt: (event) => metrics.attempt(event),
      ...(options.clock && { clock: options.clock }),
    });
    metrics.bindJournal(journal, config.destinations, options.clock);
    const ingest = createIngestApp({
      sources: config.sources,
      maxBody: config.server.max_body,
      journal,
      logger: silentLogger(),
      onAccepted: (_event, destinations) => scheduler.notify(destinations),
      ...(options.clock && { clock: options.clock }),
    });
    // What the gateway reports per request on a source's path.
    const front = new Hono();
    front.use('*', async (c, next) => {
      await next();
      const source = sourceByPath.get(c.req.path);
      if (source) metrics.received(source, outcomeOf(c.res.status));
    });
    front.route('/', ingest);
    const app = createAdminApp({
      journal,
      scheduler,
      destinations: config.destinations,
      token,
      metrics,
      isReady: options.isReady ?? (() => true),
      ...(options.clock && { clock: options.clock }),
    });
    return { journal, scheduler, front, app };
  };
  let current = await parts();

  const fixture: AdminFixture = {
    config,
    dbPath,
    get journal() {
      return current.journal;
    },
    get scheduler() {
      return current.scheduler;
    },
    get app() {
      return current.app;
    },
    metrics,
    async admin(path, init = {}) {
      const headers: Record<string, string> = {};
      const bearer = init.token === undefined ? token : init.token;
      if (bearer) headers.authorization = `Bearer ${bearer}`;
      if (init.body !== undefined) headers['content-type'] = 'application/json';
      return current.app.request(path, {
        method: init.method ?? 'GET',
        headers,
        ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
      });
    },
    async adminJson(path, init, status = 200) {
      const res = await fixture.admin(path, init);
      const text = await res.text();
      if (res.status !== status)
        throw new Error(`${init?.method ?? 'GET'} ${path}: expected ${status}, got ${res.status} ${text}`);
      return JSON.parse(text);
    },
    async postRaw(path, body, headers = {}) {
      return current.front.request(path, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', ...headers },
      });
    },
    async post(path, body, headers = {}) {
      const res = await fixture.postRaw(path, body, headers);
      const text = await res.text();
      if (res.status >= 300) throw new Error(`POST ${path} got ${res.status} ${text}`);
      return (JSON.parse(text) as { id: string }).id;
    },
    async restart() {
      await current.scheduler.stop(5_000);
      await current.journal.close();
      current = await parts();
    },
    async close() {
      await current.scheduler.stop(1_000);
      await current.journal.close();
      tmp.remove();
    },
  };
  return fixture;
}

function outcomeOf(status: number): ReceivedOutcome {
  if (status === 503) return 'unavailable';
  return status < 300 ? 'accepted' : 'rejected';
}

/** What one admin test holds; `adminTest()` releases it after each test. */
export interface AdminTest {
  fx?: AdminFixture | undefined;
  receiver?: Receiver | undefined;
}

/** Per-test state of an admin test: the fixture is closed first, then the receiver. */
export function adminTest(): AdminTest {
  return perTest<AdminTest>(async (t) => {
    await t.fx?.close();
    await t.receiver?.close();
  });
}
