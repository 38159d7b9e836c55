/**
 * The admin API over real components, built by the gateway's own composition (`createGateway`): a
 * real SQLite journal in a temp dir, a real scheduler delivering to real receivers, the real
 * ingest app and the admin app under test, all reporting on one event bus that the metrics follow.
 */
import type { createAdminApp } from '../../src/admin/app.js';
import type { Metrics } from '../../src/admin/metrics.js';
import { adminTokenPath, readAdminToken } from '../../src/admin/token.js';
import type { NodeReporter } from '../../src/cluster/node-report.js';
import type { Config } from '../../src/config/schema.js';
import type { Scheduler } from '../../src/delivery/scheduler.js';
import { createGateway } from '../../src/gateway.js';
import type { SqliteJournal } from '../../src/journal/sqlite/journal.js';
import { type Logger, silentLogger } from '../../src/log.js';
import { perTest, tempDir, testConfig } from './gateway.js';
import type { Receiver } from './receiver.js';

export const TOKEN = 'admin-token-for-tests';

export interface AdminFixtureOptions {
  /** `destinations:` as in a config file (validated by the real schema). */
  destinations: Record<string, Record<string, unknown>>;
  /** `sources:` as in a config file; default one source `shop` at /in/shop to every destination. */
  sources?: Record<string, Record<string, unknown>>;
  /** The configured admin token; null: none in the config (the gateway makes one beside the journal). Default TOKEN. */
  token?: string | null;
  clock?: () => number;
  isReady?: () => boolean | Promise<boolean>;
  /** Default: a silent one. */
  logger?: Logger;
}

export interface AdminFixture {
  config: Config;
  dbPath: string;
  /** The token the admin API takes: the configured one, or the one the gateway made. */
  token: string;
  journal: SqliteJournal;
  scheduler: Scheduler;
  metrics: Metrics;
  /** The gateway's node report, for an admin app the test builds itself. */
  reporter: NodeReporter;
  app: ReturnType<typeof createAdminApp>;
  /**
   * An admin request with the token; a request that is not a GET carries a JSON body (`{}` when
   * `body` is not given), as the API takes changes only as JSON.
   */
  admin(path: string, init?: { method?: string; body?: unknown; token?: string | null }): Promise<Response>;
  /** `admin()` and the parsed JSON answer; throws unless the status is `status` (default 200). */
  adminJson<T = any>(path: string, init?: { method?: string; body?: unknown }, status?: number): Promise<T>;
  /** Posts a webhook through the real ingest app; resolves the event id (throws unless accepted). */
  post(path: string, body: string | Uint8Array, headers?: Record<string, string>): Promise<string>;
  /** Posts and returns the raw response (for refused requests). */
  postRaw(path: string, body: string | Uint8Array, headers?: Record<string, string>): Promise<Response>;
  /** Closes the gateway's parts, then builds them again on the same file, as a restart does. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startAdminFixture(options: AdminFixtureOptions): Promise<AdminFixture> {
  const tmp = tempDir();
  const configured = options.token === null ? undefined : (options.token ?? TOKEN);
  const config = testConfig(
    {
      destinations: options.destinations,
      sources: options.sources ?? { shop: { path: '/in/shop', to: Object.keys(options.destinations) } },
      ...(configured && { admin: { token: configured } }),
    },
    tmp.dir,
  );
  const dbPath = config.storage.path;

  const parts = async () => {
    const gateway = await createGateway({
      config,
      logger: options.logger ?? silentLogger(),
      isReady: options.isReady ?? (() => true),
      metrics: { defaultMetrics: false, statsTtlMs: 0 },
      ...(options.clock && { clock: options.clock }),
    });
    if (!gateway.admin) throw new Error('the admin API is disabled in this config');
    // No journal is injected, so it is the SQLite one.
    return { gateway, journal: gateway.journal as SqliteJournal, app: gateway.admin };
  };
  let current = await parts();
  const token = configured ?? generatedToken(config);

  const fixture: AdminFixture = {
    config,
    dbPath,
    token,
    get journal() {
      return current.journal;
    },
    get scheduler() {
      return current.gateway.scheduler;
    },
    get metrics() {
      return current.gateway.metrics;
    },
    get reporter() {
      return current.gateway.reporter;
    },
    get app() {
      return current.app;
    },
    async admin(path, init = {}) {
      const headers: Record<string, string> = {};
      const bearer = init.token === undefined ? token : init.token;
      if (bearer) headers.authorization = `Bearer ${bearer}`;
      const method = init.method ?? 'GET';
      const body = method === 'GET' ? undefined : JSON.stringify(init.body ?? {});
      if (body !== undefined) headers['content-type'] = 'application/json';
      return current.app.request(path, { method, headers, ...(body !== undefined && { body }) });
    },
    async adminJson(path, init, status = 200) {
      const res = await fixture.admin(path, init);
      const text = await res.text();
      if (res.status !== status)
        throw new Error(`${init?.method ?? 'GET'} ${path}: expected ${status}, got ${res.status} ${text}`);
      return JSON.parse(text);
    },
    async postRaw(path, body, headers = {}) {
      return current.gateway.ingest.request(path, {
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
      await current.gateway.close(5_000);
      current = await parts();
    },
    async close() {
      await current.gateway.close(1_000);
      tmp.remove();
    },
  };
  return fixture;
}

/** The token a gateway made for itself (its config has no `admin.token`), read from beside its journal. */
export function generatedToken(config: Config): string {
  const token = readAdminToken(adminTokenPath(config.storage.path));
  if (token === undefined) throw new Error(`no admin token beside ${config.storage.path}`);
  return token;
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
