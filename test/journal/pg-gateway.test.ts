/**
 * Gateways on a PostgreSQL journal (storage.url), in this process, against a real server: ingest
 * answers 503 with Retry-After while the database refuses connections and recovers by itself; an
 * event ingested on one node is delivered by another at once (NOTIFY); a pause made on one node
 * stops delivery on the other.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type GatewayParts } from '../../src/gateway.js';
import { silentLogger } from '../../src/log.js';
import { tempDir, testConfig } from '../helpers/gateway.js';
import { ADMIN_PG_URL, createTestDatabase, requirePostgres, type TestDatabase } from '../helpers/postgres.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { sleep, waitUntil } from '../helpers/wait.js';

const available = await requirePostgres('the PostgreSQL gateway tests');
const TOKEN = 'pg-gateway-test-token';

describe.skipIf(!available)('gateways on a PostgreSQL journal', () => {
  let db: TestDatabase;
  let receiver: Receiver;
  let parts: GatewayParts[] = [];
  let dirs: ReturnType<typeof tempDir>[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    receiver = await startReceiver();
  });
  afterEach(async () => {
    // A scheduler stopped by the test cannot be stopped twice: the journal is then closed directly.
    for (const p of parts) await p.close(0).catch(() => p.journal.close());
    for (const d of dirs) d.remove();
    parts = [];
    dirs = [];
  });
  afterAll(async () => {
    await receiver?.close();
    await db?.drop();
  });

  async function node(destination: Record<string, unknown> = {}, url = `${receiver.url}/hooks`): Promise<GatewayParts> {
    const dir = tempDir();
    dirs.push(dir);
    const config = testConfig(
      {
        storage: { url: db.url },
        destinations: { crm: { url, ...destination } },
        sources: { shop: { path: '/in/shop', to: ['crm'] } },
        admin: { token: TOKEN },
      },
      dir.dir,
    );
    const gateway = await createGateway({ config, logger: silentLogger() });
    parts.push(gateway);
    return gateway;
  }

  const post = (g: GatewayParts, n: number) =>
    g.ingest.request('/in/shop', {
      method: 'POST',
      body: JSON.stringify({ n }),
      headers: { 'content-type': 'application/json' },
    });

  it('answers 503 with Retry-After while the database refuses connections, then takes events again', async () => {
    const gateway = await node();
    expect((await post(gateway, 1)).status).toBe(202);
    const admin = new pg.Client({ connectionString: ADMIN_PG_URL });
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [db.name]);
      const refused = await post(gateway, 2);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect((await gateway.ingest.request('/readyz')).status).toBe(503);
    } finally {
      await admin.query(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    // Nothing to restart: the next request opens a new connection.
    await waitUntil(async () => (await post(gateway, 3)).status === 202, 10_000, 'ingest to recover');
    await waitUntil(async () => (await gateway.ingest.request('/readyz')).status === 200, 10_000, 'readiness');
  });

  it('a pause or resume on one node reaches the other; an event taken by one node is sent by the other at once', async () => {
    const first = await node();
    const second = await node();
    await first.scheduler.pause('crm');
    await waitUntil(() => second.scheduler.state('crm')?.paused === true, 10_000, 'the pause to reach node 2');
    await second.scheduler.resume('crm');
    await waitUntil(() => first.scheduler.state('crm')?.paused === false, 10_000, 'the resume to reach node 1');

    // Node 1 only takes events from now on; node 2 must deliver them, woken by NOTIFY rather than its
    // 5 s poll.
    await first.scheduler.stop(0);
    await sleep(500);
    const before = receiver.received.length;
    const started = performance.now();
    expect((await post(first, 42)).status).toBe(202);
    await waitUntil(() => receiver.received.length > before, 10_000, 'node 2 to deliver');
    expect(performance.now() - started).toBeLessThan(4_000);
  });

  it('any node lists the live nodes and what each is draining, and counts every node in flight', async () => {
    // Answers held 3 s: the requests stay at the consumer long enough to be seen there.
    const slow = await startReceiver(() => ({ delayMs: 3_000 }));
    try {
      const first = await node({ concurrency: 6 }, `${slow.url}/hooks`);
      const second = await node({ concurrency: 6 }, `${slow.url}/hooks`);
      const get = async <T>(g: GatewayParts, path: string): Promise<T> => {
        const answer = await g.admin!.request(path, { headers: { authorization: `Bearer ${TOKEN}` } });
        expect(answer.status).toBe(200);
        return (await answer.json()) as T;
      };
      type Listing = {
        shared: boolean;
        nodes: { id: string; self: boolean; draining: Record<string, { in_flight: number }> }[];
      };
      await waitUntil(async () => (await get<Listing>(second, '/nodes')).nodes.length === 2, 10_000, 'two nodes');
      for (let n = 0; n < 12; n++) expect((await post(first, n)).status).toBe(202);
      // Both nodes drain (the concurrency of 6 holds across them), and either one's answer counts both.
      await waitUntil(() => slow.inFlight === 6, 10_000, '6 requests at the consumer');
      await waitUntil(
        async () => {
          const listing = await get<Listing>(first, '/nodes');
          return listing.nodes.every((n) => (n.draining.crm?.in_flight ?? 0) > 0);
        },
        10_000,
        'both nodes to report requests in flight',
      );
      const listing = await get<Listing>(second, '/nodes');
      expect(listing.shared).toBe(true);
      expect(listing.nodes.filter((n) => n.self)).toHaveLength(1);
      expect(new Set(listing.nodes.map((n) => n.id)).size).toBe(2);
      expect(listing.nodes.reduce((sum, n) => sum + (n.draining.crm?.in_flight ?? 0), 0)).toBe(6);
      for (const g of [first, second]) {
        const { destinations } = await get<{ destinations: { in_flight: number }[] }>(g, '/destinations');
        expect(destinations[0]!.in_flight).toBe(6);
      }
      // A node that stops cleanly leaves the listing at once.
      await second.close(10_000);
      parts = parts.filter((p) => p !== second);
      expect((await get<Listing>(first, '/nodes')).nodes).toHaveLength(1);
    } finally {
      await slow.close();
    }
  });

  it('adaptive pacing across two nodes: the cluster learns a pace near what a rate-limited consumer takes', async () => {
    // The consumer takes 40 requests a second (a token bucket, burst 5) and answers 429 past it,
    // without Retry-After: only the pacers' learning keeps the two nodes under it.
    const LIMIT = 40;
    let tokens = 5;
    let refilled = performance.now();
    const accepted = new Set<string>();
    const limited = await startReceiver((r) => {
      const now = performance.now();
      tokens = Math.min(5, tokens + ((now - refilled) * LIMIT) / 1000);
      refilled = now;
      if (tokens < 1) return { status: 429 };
      tokens -= 1;
      accepted.add(r.body.toString());
      return {};
    });
    try {
      const ceilings = {
        rate: '200/s',
        burst: 10,
        concurrency: 16,
        adaptive: true,
        retry: { initial: '200ms', max: '1s' },
      };
      const nodes = [await node(ceilings, `${limited.url}/hooks`), await node(ceilings, `${limited.url}/hooks`)];
      const EVENTS = 300;
      for (let n = 0; n < EVENTS; n++) expect((await post(nodes[n % 2]!, n)).status).toBe(202);
      await waitUntil(
        () => accepted.size === EVENTS,
        60_000,
        () => `all delivered (${accepted.size})`,
      );
      const refused = limited.received.length - EVENTS;
      const paces = await Promise.all(
        nodes.map(async (g) => {
          const answer = await g.admin!.request('/destinations', { headers: { authorization: `Bearer ${TOKEN}` } });
          return ((await answer.json()) as { destinations: { pace: { rate_per_second: number; nodes: number } }[] })
            .destinations[0]!.pace;
        }),
      );
      console.log(
        `2 adaptive nodes, consumer at ${LIMIT}/s: ${refused} refusals for ${EVENTS} events; cluster pace ${paces.map((p) => p.rate_per_second).join(' / ')}/s`,
      );
      // A fixed pace at the 200/s ceiling gets about 4 refusals per event here; learning, a fraction of one.
      expect(refused).toBeLessThan(EVENTS);
      for (const pace of paces) {
        expect(pace.nodes).toBe(2);
        expect(pace.rate_per_second).toBeLessThan(120);
      }
    } finally {
      await limited.close();
    }
  });
});
