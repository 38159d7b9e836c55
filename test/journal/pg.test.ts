/**
 * The PostgreSQL journal: the `Journal` contract on a real server, in a database of its own created
 * for this run (random name) and dropped afterwards; each test starts from empty tables. Then what
 * only PostgreSQL has: migrations by nodes starting together, a database of a newer build refused,
 * wake-ups and claims shared across nodes, a lost connection.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sharedPacerFactory } from '../../src/delivery/pacing/shared-pacer.js';
import { JournalTooNewError, JournalUnavailableError } from '../../src/errors.js';
import { createGatewayEvents } from '../../src/events.js';
import { openJournal } from '../../src/journal/open.js';
import { openPgJournal, PgJournal } from '../../src/journal/pg/journal.js';
import { newestShippedMigration } from '../../src/journal/pg/migrate.js';
import { testConfig } from '../helpers/gateway.js';
import { createTestDatabase, emptyJournalTables, requirePostgres, type TestDatabase } from '../helpers/postgres.js';
import { waitUntil } from '../helpers/wait.js';
import { describeJournalContract, makeEvent } from './contract/index.js';

const T0 = Date.UTC(2030, 0, 1);

const available = await requirePostgres('the PostgreSQL journal tests');

describe.skipIf(!available)('PostgreSQL journal', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  describeJournalContract({
    name: 'postgres',
    supports: { reopen: true },
    async open() {
      const journals: PgJournal[] = [await openPgJournal({ url: db.url, listen: false, leaseRenewal: false })];
      await emptyJournalTables(journals[0]!.pool);
      return {
        journal: journals[0]!,
        async reopen() {
          const journal = await openPgJournal({ url: db.url, listen: false, leaseRenewal: false });
          journals.push(journal);
          return journal;
        },
        async cleanup() {
          for (const journal of journals) await journal.close();
        },
      };
    },
  });

  describe('PostgreSQL only', () => {
    let opened: PgJournal[] = [];
    let clients: pg.Client[] = [];
    afterEach(async () => {
      for (const j of opened) await j.close();
      for (const c of clients) await c.end().catch(() => {});
      opened = [];
      clients = [];
    });
    async function node(options: Partial<Parameters<typeof openPgJournal>[0]> = {}): Promise<PgJournal> {
      const journal = await openPgJournal({ url: db.url, listen: false, leaseRenewal: false, ...options });
      opened.push(journal);
      return journal;
    }
    async function raw(url = db.url): Promise<pg.Client> {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      clients.push(client);
      return client;
    }

    it('is what openJournal opens for storage.url, and declares commit stats and cross-process wake-ups', async () => {
      const journal = await openJournal({ path: '/nonexistent/unused.db', url: db.url });
      expect(journal).toBeInstanceOf(PgJournal);
      opened.push(journal as PgJournal);
      expect(journal.capabilities).toEqual({ commitStats: true, crossProcessWakeups: true });
      expect(journal.storageFull()).toBe(false);
      await journal.probe();
    });

    it('nodes starting together on a new database migrate it once (advisory lock)', async () => {
      const fresh = await createTestDatabase();
      try {
        const nodes = await Promise.all(
          Array.from({ length: 4 }, () => openPgJournal({ url: fresh.url, listen: false })),
        );
        opened.push(...nodes);
        const client = await raw(fresh.url);
        const { rows } = await client.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations');
        expect(rows[0].n).toBeGreaterThanOrEqual(1);
        const stored = await nodes[0]!.append(makeEvent());
        expect((await nodes[3]!.getEvent(stored.id))?.id).toBe(stored.id);
        for (const n of nodes) await n.close();
        opened = [];
        await client.end();
        clients = [];
      } finally {
        await fresh.drop();
      }
    });

    it('refuses a database migrated by a newer build (JOURNAL_TOO_NEW), without touching it', async () => {
      const client = await raw();
      await client.query('INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ($1, $2)', [
        'from-the-future',
        newestShippedMigration() + 86_400_000,
      ]);
      try {
        const error = await openPgJournal({ url: db.url, listen: false, leaseRenewal: false }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(JournalTooNewError);
        expect((error as JournalTooNewError).code).toBe('JOURNAL_TOO_NEW');
        expect((error as Error).message).toContain(db.name);
      } finally {
        await client.query(`DELETE FROM drizzle.__drizzle_migrations WHERE hash = 'from-the-future'`);
      }
      await node();
    });

    it('two nodes claiming at once never get the same delivery (FOR UPDATE SKIP LOCKED)', async () => {
      const [a, b] = [await node(), await node()];
      await emptyJournalTables(a.pool);
      await Promise.all(Array.from({ length: 60 }, (_, i) => a.append(makeEvent({ receivedAt: T0 + i }))));
      const claimed: number[] = [];
      await Promise.all(
        [a, b, a, b, a, b].map(async (j) => {
          for (;;) {
            const got = await j.claim({ destination: 'crm', limit: 4, now: T0 + 1_000, leaseMs: 30_000, fifo: false });
            if (got.length === 0) return;
            claimed.push(...got.map((c) => c.deliveryId));
          }
        }),
      );
      expect(claimed).toHaveLength(60);
      expect(new Set(claimed).size).toBe(60);
    });

    it('two nodes claiming one destination by key never hold two deliveries of a key at once', async () => {
      const [a, b] = [await node(), await node()];
      await emptyJournalTables(a.pool);
      // Four keys and the group without a key, 12 events each, interleaved.
      const keys = ['a', 'b', 'c', 'd', null];
      const keyOf = new Map<string, string>();
      const ingestOrder = new Map<string, string[]>();
      for (let i = 0; i < 60; i++) {
        const key = keys[i % keys.length]!;
        const orderKeys = key === null ? undefined : { crm: key };
        const { id } = await a.append(makeEvent({ receivedAt: T0 + i, orderKeys }));
        const group = key ?? '(none)';
        keyOf.set(id, group);
        ingestOrder.set(group, [...(ingestOrder.get(group) ?? []), id]);
      }
      const held = new Set<string>();
      const overlaps: string[] = [];
      const deliveredOrder = new Map<string, string[]>();
      let delivered = 0;
      let retried = 0;
      const now = T0 + 1_000;
      await Promise.all(
        [a, b, a, b].map(async (j, worker) => {
          for (let round = 0; delivered < 60 && round < 2_000; round++) {
            const got = await j.claim({ destination: 'crm', limit: 3, now, leaseMs: 60_000, fifo: false, byKey: true });
            for (const c of got) {
              const key = keyOf.get(c.event.id)!;
              if (held.has(key)) overlaps.push(`${key}: ${c.event.id}`);
              held.add(key);
            }
            if (got.length === 0) await new Promise((r) => setTimeout(r, 2));
            await Promise.all(
              got.map(async (c, i) => {
                await new Promise((r) => setTimeout(r, (worker + i) % 3));
                const key = keyOf.get(c.event.id)!;
                // Given up before the outcome is sent: from here on the database alone holds the key.
                held.delete(key);
                // Every fourth first attempt fails and is due again at once: its key must wait for it.
                const retry = c.attempt === 1 && (c.deliveryId + worker) % 4 === 0;
                const attempt = { attempt: c.attempt, startedAt: now, durationMs: 1, status: retry ? 503 : 200 };
                const verdict = retry ? ({ kind: 'retry', at: now } as const) : ({ kind: 'delivered' } as const);
                if (!retry) deliveredOrder.set(key, [...(deliveredOrder.get(key) ?? []), c.event.id]);
                expect(await j.complete(c, attempt, verdict)).toBe(true);
                if (retry) retried++;
                else delivered++;
              }),
            );
          }
        }),
      );
      expect(overlaps).toEqual([]);
      expect(delivered).toBe(60);
      expect(retried).toBeGreaterThan(0);
      expect(Object.fromEntries(deliveredOrder)).toEqual(Object.fromEntries(ingestOrder));
    });

    it('a lease that ran out on one node is taken back by another', async () => {
      const [a, b] = [await node(), await node()];
      await emptyJournalTables(a.pool);
      const stored = await a.append(makeEvent());
      const [first] = await a.claim({ destination: 'crm', limit: 1, now: T0, leaseMs: 3_000, fifo: false });
      expect(await b.claim({ destination: 'crm', limit: 1, now: T0 + 2_999, leaseMs: 3_000, fifo: false })).toEqual([]);
      const [again] = await b.claim({ destination: 'crm', limit: 1, now: T0 + 3_000, leaseMs: 3_000, fifo: false });
      expect(again?.event.id).toBe(stored.id);
      expect(again?.attempt).toBe(2);
      // The first node's late outcome is fenced off.
      expect(
        await a.complete(first!, { attempt: 1, startedAt: T0, durationMs: 1, status: 200 }, { kind: 'delivered' }),
      ).toBe(false);
    });

    it('lists the nodes that reported in the last 5 s, each with what it drains; a closed node leaves at once', async () => {
      const [a, b, c] = [await node(), await node(), await node()];
      await a.pool.query('DELETE FROM nodes');
      const report = (pid: number, sending: number) => ({
        host: 'h',
        pid,
        version: '0.1.0',
        listeners: { ingest: `http://127.0.0.1:${pid}` },
        startedAt: T0 + pid,
        draining: { crm: { sending, claimed: 1, deliveredPerSecond: 2.5, rate: undefined, concurrency: 4 } },
      });
      await a.recordNode(report(1, 3), T0);
      await b.recordNode(report(2, 0), T0 + 4_000);
      await c.recordNode(report(3, 1), T0 + 5_000);
      // The journal lists them in no order (listNodes sorts them).
      const pids = (nodes: { pid: number }[]) => nodes.map((n) => n.pid).sort((x, y) => x - y);
      // At T0 + 5 s, a's report is 5 s old: still live; 1 ms later it is not.
      expect(pids(await b.nodes(T0 + 5_000))).toEqual([1, 2, 3]);
      const later = await b.nodes(T0 + 5_001);
      expect(pids(later)).toEqual([2, 3]);
      expect(later.find((n) => n.id === c.nodeId)).toEqual({ id: c.nodeId, seenAt: T0 + 5_000, ...report(3, 1) });
      // A report replaces the node's last one.
      await a.recordNode(report(1, 7), T0 + 5_001);
      expect((await c.nodes(T0 + 5_001)).find((n) => n.id === a.nodeId)?.draining.crm?.sending).toBe(7);
      await b.close();
      opened = opened.filter((j) => j !== b);
      expect(pids(await a.nodes(T0 + 5_001))).toEqual([1, 3]);
    });

    it("removes a node's row an hour after its last report, an hour on the database's clock", async () => {
      const [a, b] = [await node(), await node()];
      await a.pool.query('DELETE FROM nodes');
      const report = { host: 'h', pid: 1, version: '0.1.0', listeners: {}, startedAt: 0, draining: {} };
      const now = Date.now();
      await a.recordNode(report, now - 3_700_000); // crashed more than an hour ago
      const live = await node();
      await live.recordNode(report, now);
      // A node whose clock runs two hours ahead removes nobody that reported within the hour.
      await b.recordNode(report, now + 7_200_000);
      const ids = async () =>
        (await a.pool.query<{ id: string }>('SELECT id FROM nodes ORDER BY id')).rows.map((r) => r.id);
      expect(await ids()).toEqual([live.nodeId, b.nodeId].sort());
    });

    it('a lease that ran out is taken back before the backlog that was due before it ran out', async () => {
      const [a, b] = [await node(), await node()];
      await emptyJournalTables(a.pool);
      const held = await a.append(makeEvent({ receivedAt: T0 }));
      const [first] = await a.claim({ destination: 'crm', limit: 1, now: T0, leaseMs: 3_000, fifo: false });
      expect(first?.event.id).toBe(held.id);
      // A backlog received after the claim, all due before the lease runs out at T0 + 3 s.
      for (let i = 1; i <= 5; i++) await a.append(makeEvent({ receivedAt: T0 + i * 100 }));
      const [again] = await b.claim({ destination: 'crm', limit: 1, now: T0 + 3_000, leaseMs: 3_000, fifo: false });
      expect(again?.event.id).toBe(held.id);
      expect(again?.attempt).toBe(2);
      const rest = await b.claim({ destination: 'crm', limit: 10, now: T0 + 3_000, leaseMs: 3_000, fifo: false });
      expect(rest.map((c) => c.event.receivedAt)).toEqual([1, 2, 3, 4, 5].map((i) => T0 + i * 100));
    });

    it('a replayed delivery whose lease ran out is claimed once, not once per claim query', async () => {
      const [a, b] = [await node(), await node()];
      await emptyJournalTables(a.pool);
      const stored = await a.append(makeEvent({ receivedAt: T0 }));
      const [first] = await a.claim({ destination: 'crm', limit: 1, now: T0, leaseMs: 1_000, fifo: false });
      await a.complete(first!, { attempt: 1, startedAt: T0, durationMs: 1, error: 'x' }, { kind: 'dead' });
      expect(await a.replay({ eventId: stored.id }, T0 + 1_000)).toBe(1);
      // The replayed delivery (priority 1) is claimed, then its node stops: the lease runs out at T0 + 4 s.
      const [replayed] = await a.claim({ destination: 'crm', limit: 1, now: T0 + 1_000, leaseMs: 3_000, fifo: false });
      expect(replayed?.event.id).toBe(stored.id);
      const again = await b.claim({ destination: 'crm', limit: 10, now: T0 + 4_000, leaseMs: 3_000, fifo: false });
      expect(again.map((c) => c.deliveryId)).toEqual([replayed!.deliveryId]);
      const { rows: lost } = await a.pool.query('SELECT count(*)::int AS n FROM attempts WHERE error LIKE $1', [
        'lease expired%',
      ]);
      expect(lost[0].n).toBe(1);
    });

    it('the same deduplication key accepted by two nodes at once stores one event', async () => {
      const [a, b] = [await node(), await node()];
      await emptyJournalTables(a.pool);
      const dedupe = { key: 'evt_1', until: T0 + 60_000 };
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).append(makeEvent({ dedupe, receivedAt: T0 + i }))),
      );
      expect(new Set(results.map((r) => r.id)).size).toBe(1);
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(await a.countDeliveries('crm')).toMatchObject({ pending: 1 });
    });

    it('an event appended on one node wakes the other (NOTIFY), and so does a pause', async () => {
      const eventsB = createGatewayEvents();
      const woken: string[][] = [];
      const changed: string[] = [];
      eventsB.on('journal:wakeup', ({ destinations }) => woken.push([...destinations]));
      eventsB.on('journal:state-changed', ({ destination }) => changed.push(destination));
      const a = await node();
      await node({ listen: true, events: eventsB });
      await waitUntil(() => woken.length > 0, 10_000, 'the notification'); // the wake-up that follows every (re)connection
      woken.length = 0;
      await a.append(makeEvent({ destinations: ['crm', 'billing'] }));
      await waitUntil(() => woken.some((d) => d.includes('crm') && d.includes('billing')), 10_000, 'the notification');
      await a.setPaused('crm', true, T0);
      await waitUntil(() => changed.includes('crm'), 10_000, 'the notification');
    });

    it('an unreachable database rejects as unavailable; a lost connection is replaced by itself', async () => {
      const bad = new URL(db.url);
      bad.port = '1';
      const error = await openPgJournal({ url: bad.href, listen: false }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JournalUnavailableError);

      const events = createGatewayEvents();
      const listening: boolean[] = [];
      events.on('journal:listening', ({ listening: l }) => listening.push(l));
      const journal = await node({ listen: true, events });
      await journal.append(makeEvent());
      const admin = await raw();
      // The database drops every connection of this journal (as a restart or failover would).
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
        [db.name],
      );
      // The first call may meet a dead pooled connection (unavailable, never another error); then it works again.
      const results = [];
      for (let i = 0; i < 5; i++)
        results.push(
          await journal.append(makeEvent()).then(
            () => 'ok',
            (e: unknown) => e,
          ),
        );
      for (const r of results) if (r !== 'ok') expect(r).toBeInstanceOf(JournalUnavailableError);
      expect(results.at(-1)).toBe('ok');
      await waitUntil(() => listening.lastIndexOf(false) >= 0 && listening.at(-1) === true, 10_000, 'the notification');
    });

    it('a short lease is renewed while its node lives, and taken back soon after the node stops', async () => {
      const renewal = { leaseMs: 600, everyMs: 150 };
      const a = await node({ leaseRenewal: renewal });
      const b = await node({ leaseRenewal: renewal });
      await emptyJournalTables(a.pool);
      await a.append(makeEvent({ receivedAt: Date.now() }));
      const request = () => ({ destination: 'crm', limit: 1, now: Date.now(), leaseMs: 35_000, fifo: false });
      const [held] = await a.claim(request());
      expect(held!.leaseUntil).toBeGreaterThan(Date.now() + 30_000); // the loop still sees the lease it asked for
      for (let i = 0; i < 6; i++) {
        await new Promise((r) => setTimeout(r, 250));
        expect(await b.claim(request())).toEqual([]);
      }
      // The node dies: nobody renews, nobody releases.
      const stoppedAt = Date.now();
      await a.close();
      let taken: Awaited<ReturnType<PgJournal['claim']>> = [];
      await waitUntil(
        async () => (taken = await b.claim(request())).length === 1,
        10_000,
        'the lease to be taken back',
      );
      expect(Date.now() - stoppedAt).toBeLessThan(5_000);
      expect(taken[0]!.attempt).toBe(2);
    });

    it('renews on a connection of its own: a node whose pool is taken still keeps its leases', async () => {
      const renewal = { leaseMs: 600, everyMs: 150 };
      const a = await node({ leaseRenewal: renewal, poolSize: 1 });
      const b = await node({ leaseRenewal: renewal });
      await emptyJournalTables(a.pool);
      await a.append(makeEvent({ receivedAt: Date.now() }));
      const request = () => ({ destination: 'crm', limit: 1, now: Date.now(), leaseMs: 35_000, fifo: false });
      const [held] = await a.claim(request());
      // Every pooled connection is busy (group commits, claims waiting on an advisory lock) for 5 leases.
      const busy = await a.pool.connect();
      try {
        for (let i = 0; i < 6; i++) {
          await new Promise((r) => setTimeout(r, 500));
          expect(await b.claim(request())).toEqual([]);
          expect(a.leaseConfirmed(held!, Date.now())).toBe(true);
        }
      } finally {
        busy.release();
      }
    });

    it('a claim whose renewal fails is no longer confirmed (reported once), and is again once renewal works', async () => {
      const renewal = { leaseMs: 600, everyMs: 150 };
      const events = createGatewayEvents();
      const reports: { renewing: boolean; error?: string | undefined }[] = [];
      events.on('journal:lease-renewal', (r) => reports.push(r));
      const a = await node({ leaseRenewal: renewal, events });
      await emptyJournalTables(a.pool);
      await a.append(makeEvent({ receivedAt: Date.now() }));
      const [held] = await a.claim({ destination: 'crm', limit: 1, now: Date.now(), leaseMs: 35_000, fifo: false });
      expect(a.leaseConfirmed(held!, Date.now())).toBe(true);
      // Another connection locks the row: each renewal waits on it until its statement timeout.
      const blocker = await raw();
      await blocker.query('BEGIN');
      await blocker.query('SELECT id FROM deliveries WHERE id = $1 FOR UPDATE', [held!.deliveryId]);
      await waitUntil(() => !a.leaseConfirmed(held!, Date.now()), 5_000, 'the lease to be unconfirmed');
      await new Promise((r) => setTimeout(r, 800)); // several failed renewals: still one report
      expect(reports).toHaveLength(1);
      expect(reports[0]!.renewing).toBe(false);
      expect(reports[0]!.error).toMatch(/timeout/i);
      expect(a.leaseConfirmed(held!, Date.now())).toBe(false);
      await blocker.query('COMMIT');
      await waitUntil(() => a.leaseConfirmed(held!, Date.now()), 5_000, 'the lease to be confirmed again');
      expect(reports.at(-1)?.renewing).toBe(true);
      expect(reports).toHaveLength(2);
    });

    it('a claim another node took over after its lease ran out stays unconfirmed', async () => {
      const a = await node({ leaseRenewal: { leaseMs: 600, everyMs: 150 } });
      const b = await node({ leaseRenewal: false });
      await emptyJournalTables(a.pool);
      await a.append(makeEvent({ receivedAt: Date.now() }));
      const request = () => ({ destination: 'crm', limit: 1, now: Date.now(), leaseMs: 35_000, fifo: false });
      const [held] = await a.claim(request());
      const blocker = await raw();
      await blocker.query('BEGIN');
      await blocker.query('SELECT id FROM deliveries WHERE id = $1 FOR UPDATE', [held!.deliveryId]);
      await new Promise((r) => setTimeout(r, 900));
      await blocker.query('COMMIT');
      // The stored lease ran out while renewal waited: b takes the delivery before a renews it again.
      const [taken] = await b.claim({ ...request(), now: Date.now() + 60_000 });
      expect(taken!.attempt).toBe(2);
      await new Promise((r) => setTimeout(r, 600));
      expect(a.leaseConfirmed(held!, Date.now())).toBe(false);
    });

    it('the shared token bucket grants at most capacity + rate·T to all nodes together', async () => {
      const nodes = [await node(), await node(), await node()];
      await emptyJournalTables(nodes[0]!.pool);
      const bucket = { rate: 40, capacity: 5 };
      const started = Date.now();
      const runMs = 1_500;
      let taken = 0;
      await Promise.all(
        nodes.map(async (n) => {
          while (Date.now() - started < runMs) {
            const got = await n.reserveSendTokens('crm', 2, bucket);
            taken += got;
          }
        }),
      );
      const elapsed = Date.now() - started;
      expect(taken).toBeLessThanOrEqual(bucket.capacity + (bucket.rate * elapsed) / 1000 + 1);
      // And the nodes did get tokens (the bound is not met by granting nothing).
      expect(taken).toBeGreaterThanOrEqual(bucket.capacity + (bucket.rate * runMs) / 1000 / 2);
    });

    it('an adaptive destination keeps its adaptive pacer under the shared bucket, from the learned pace', async () => {
      const journal = await node();
      await emptyJournalTables(journal.pool);
      const config = testConfig(
        {
          destinations: {
            crm: { url: 'http://127.0.0.1:9/', rate: '50/s', concurrency: 16, adaptive: true },
            fixed: { url: 'http://127.0.0.1:9/', rate: '50/s', concurrency: 16 },
          },
          sources: { shop: { path: '/in/shop', to: ['crm', 'fixed'] } },
        },
        '/nonexistent',
      );
      await journal.setPace('crm', { rate: 8, concurrency: 4, at: T0 }, T0);
      const learned = (await journal.destinationPaces()).crm;
      const create = sharedPacerFactory(journal.reserveSendTokens.bind(journal));
      const now = Date.now();
      const adaptive = create(config.destinations.crm!, 'crm', now, { learned });
      // It starts from the learned pace (at most), far under the ceilings, and reports itself adaptive.
      expect(adaptive.status).toBeDefined();
      expect(adaptive.rate).toBeLessThanOrEqual(8);
      expect(adaptive.concurrency).toBeLessThanOrEqual(4);
      expect(adaptive.resume).toBeTypeOf('function');
      const fixed = create(config.destinations.fixed!, 'fixed', now, { learned });
      expect(fixed.status).toBeUndefined();
      expect(fixed.rate).toBe(50);
      // It sends, on tokens of the shared bucket, at its own learned pace (about 4/s here), far from the ceiling.
      let taken = 0;
      for (const end = Date.now() + 1_500; Date.now() < end; ) {
        const at = Date.now();
        if (adaptive.tryTake(at)) taken++;
        await new Promise((r) => setTimeout(r, Math.min(20, adaptive.msUntilNext(at))));
      }
      expect(taken).toBeGreaterThanOrEqual(1);
      expect(taken).toBeLessThanOrEqual(8 * 1.5 + 4);
    });

    it("a destination's concurrency holds across nodes: claims take only what live leases leave", async () => {
      const [a, b] = [await node({ concurrency: { crm: 3 } }), await node({ concurrency: { crm: 3 } })];
      await emptyJournalTables(a.pool);
      await Promise.all(Array.from({ length: 10 }, (_, i) => a.append(makeEvent({ receivedAt: T0 + i }))));
      const request = { destination: 'crm', limit: 10, now: T0 + 100, leaseMs: 30_000, fifo: false };
      const both = await Promise.all([a.claim(request), b.claim(request), a.claim(request), b.claim(request)]);
      expect(both.flat()).toHaveLength(3);
      const one = both.flat()[0]!;
      await a.complete(one, { attempt: 1, startedAt: T0 + 100, durationMs: 5, status: 200 }, { kind: 'delivered' });
      expect(await b.claim({ ...request, now: T0 + 200 })).toHaveLength(1);
      // Leases that ran out (a dead node's) no longer count.
      expect(await b.claim({ ...request, now: T0 + 200 + 30_000 })).toHaveLength(3);
    });
  });
});
