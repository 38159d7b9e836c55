/**
 * GET /metrics parses as Prometheus text, and its numbers are what happened: requests by source
 * and outcome, attempts by destination and outcome, the attempt histogram, journal commits, and the
 * backlog gauges read from the journal at scrape time.
 */
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/admin/metrics.js';
import { createGatewayEvents } from '../../src/events.js';
import type { Journal } from '../../src/journal/port.js';
import { openSqliteJournal } from '../../src/journal/sqlite/journal.js';
import { type AdminFixture, adminTest, startAdminFixture } from '../helpers/admin.js';
import { tempDir } from '../helpers/gateway.js';
import { parsePrometheus, sample } from '../helpers/prometheus.js';
import { startReceiver } from '../helpers/receiver.js';
import { sleep, waitUntil } from '../helpers/wait.js';

const t = adminTest();

async function scrape(f: AdminFixture) {
  const res = await f.admin('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await res.text());
}

describe('GET /metrics', () => {
  it('parses as Prometheus text and counts what happened', async () => {
    const seen = new Set<string>();
    const receiver = (t.receiver = await startReceiver((r) => {
      const { kind } = JSON.parse(r.body.toString()) as { kind: string };
      if (kind === 'bad') return { status: 400 };
      if (kind === 'flaky' && !seen.has(kind)) {
        seen.add(kind);
        return { status: 500 };
      }
      return { status: 200 };
    }));
    const fx = (t.fx = await startAdminFixture({
      destinations: { crm: { url: receiver.url, concurrency: 4, retry: { initial: '50ms', max: '100ms' } } },
      sources: {
        shop: { path: '/in/shop', to: 'crm' },
        guarded: { path: '/in/guarded', to: 'crm', verify: { type: 'bearer', token: 's3cret' } },
      },
    }));
    const body = (kind: string) => JSON.stringify({ kind });
    for (const kind of ['ok', 'ok', 'ok', 'flaky', 'bad']) await fx.post('/in/shop', body(kind));
    expect((await fx.postRaw('/in/guarded', body('ok'))).status).toBe(401);
    expect((await fx.postRaw('/in/guarded', body('ok'), { authorization: 'Bearer nope' })).status).toBe(401);
    await fx.post('/in/guarded', body('ok'), { authorization: 'Bearer s3cret' });

    // 6 events: 5 delivered (one after a retry), 1 dead; 7 attempts.
    await waitUntil(
      async () =>
        sample(await scrape(fx!), 'sluice_delivery_attempt_duration_seconds_count', { destination: 'crm' }) === 7,
      20_000,
      '7 attempts',
    );
    const m = await scrape(fx);
    expect(receiver.received).toHaveLength(7);

    expect(m.get('sluice_events_received_total')?.type).toBe('counter');
    expect(sample(m, 'sluice_events_received_total', { source: 'shop', outcome: 'accepted' })).toBe(5);
    expect(sample(m, 'sluice_events_received_total', { source: 'shop', outcome: 'rejected' })).toBe(0);
    expect(sample(m, 'sluice_events_received_total', { source: 'guarded', outcome: 'accepted' })).toBe(1);
    expect(sample(m, 'sluice_events_received_total', { source: 'guarded', outcome: 'rejected' })).toBe(2);
    expect(sample(m, 'sluice_events_received_total', { source: 'guarded', outcome: 'unavailable' })).toBe(0);

    expect(sample(m, 'sluice_delivery_attempts_total', { destination: 'crm', outcome: 'delivered' })).toBe(5);
    expect(sample(m, 'sluice_delivery_attempts_total', { destination: 'crm', outcome: 'retry' })).toBe(1);
    expect(sample(m, 'sluice_delivery_attempts_total', { destination: 'crm', outcome: 'dead' })).toBe(1);
    expect(m.get('sluice_delivery_attempt_duration_seconds')?.type).toBe('histogram');
    const durationSum = sample(m, 'sluice_delivery_attempt_duration_seconds_sum', { destination: 'crm' });
    expect(durationSum).toBeGreaterThan(0);
    expect(durationSum).toBeLessThan(60);

    // Every append, claim and outcome went through a group commit.
    const commits = sample(m, 'sluice_journal_commit_batch_size_count');
    expect(commits).toBeGreaterThan(0);
    expect(sample(m, 'sluice_journal_commit_batch_size_sum')).toBeGreaterThanOrEqual(6 + 7 + 7);
    expect(sample(m, 'sluice_journal_commit_duration_seconds_count')).toBe(commits);

    expect(m.get('sluice_deliveries_dead')?.type).toBe('gauge');
    expect(sample(m, 'sluice_deliveries_dead', { destination: 'crm' })).toBe(1);
    expect(sample(m, 'sluice_deliveries_pending', { destination: 'crm' })).toBe(0);
    expect(sample(m, 'sluice_deliveries_retrying', { destination: 'crm' })).toBe(0);
    expect(sample(m, 'sluice_deliveries_in_flight', { destination: 'crm' })).toBe(0);
    expect(sample(m, 'sluice_oldest_pending_age_seconds', { destination: 'crm' })).toBe(0);
    expect(sample(m, 'sluice_destination_paused', { destination: 'crm' })).toBe(0);
  });

  it('reads the backlog gauges from the journal when scraped', async () => {
    const receiver = (t.receiver = await startReceiver());
    const fx = (t.fx = await startAdminFixture({ destinations: { crm: { url: receiver.url } } }));
    await fx.adminJson('/destinations/crm/pause', { method: 'POST' });
    const before = Date.now();
    for (let i = 0; i < 4; i++) await fx.post('/in/shop', `{"n":${i}}`);
    await sleep(1_100);
    const m = await scrape(fx);
    expect(sample(m, 'sluice_deliveries_pending', { destination: 'crm' })).toBe(4);
    expect(sample(m, 'sluice_destination_paused', { destination: 'crm' })).toBe(1);
    const age = sample(m, 'sluice_oldest_pending_age_seconds', { destination: 'crm' });
    expect(age).toBeGreaterThanOrEqual(1);
    expect(age).toBeLessThanOrEqual((Date.now() - before) / 1000 + 1);
    expect(sample(m, 'sluice_events_received_total', { source: 'shop', outcome: 'accepted' })).toBe(4);
    expect(receiver.received).toHaveLength(0);
  });
});

describe('createMetrics', () => {
  it('reads the journal at most once per destination however many scrapes come at once', async () => {
    const tmp = tempDir();
    const journal = openSqliteJournal({ path: `${tmp.dir}/sluice.db` });
    try {
      let reads = 0;
      const counting: Journal = Object.create(journal, {
        destinationStats: {
          value: (name: string, now: number) => {
            reads++;
            return journal.destinationStats(name, now);
          },
        },
      });
      const metrics = createMetrics({ defaultMetrics: false, statsTtlMs: 60_000 });
      metrics.bindJournal(counting, ['crm', 'erp']);
      const texts = await Promise.all(Array.from({ length: 10 }, () => metrics.registry.metrics()));
      expect(reads).toBe(2);
      for (const text of texts)
        expect(sample(parsePrometheus(text), 'sluice_deliveries_pending', { destination: 'erp' })).toBe(0);
      await metrics.registry.metrics();
      expect(reads).toBe(2);
    } finally {
      await journal.close();
      tmp.remove();
    }
  });

  it('measures the delivery rate over the last minute, from its first delivery on (10 s at least)', () => {
    let now = 1_000_000;
    const metrics = createMetrics({ defaultMetrics: false, clock: () => now });
    const events = createGatewayEvents();
    metrics.subscribe(events);
    const deliver = (destination = 'crm', outcome: 'delivered' | 'retry' | 'dead' = 'delivered') =>
      events.emit('delivery:attempt', { destination, outcome, status: 200, durationMs: 5 });
    expect(metrics.deliveredRate('crm')).toBeUndefined();
    for (let i = 0; i < 5; i++, now += 1_000) deliver();
    deliver('crm', 'retry');
    deliver('crm', 'dead');
    deliver('erp');
    // 5 in the first 5 s: the 10 s floor keeps one burst from looking like a steady pace.
    expect(metrics.deliveredRate('crm')).toBeCloseTo(0.5, 6);
    // Just after a resume, 30 s of deliveries are not divided by a whole minute.
    expect(metrics.deliveredRate('crm', 1_000_000 + 30_000)).toBeCloseTo(5 / 30, 6);
    // Past the minute they no longer count.
    expect(metrics.deliveredRate('crm', 1_000_000 + 65_000)).toBeUndefined();
    expect(metrics.deliveredRate('erp')).toBeCloseTo(0.1, 6);
    // A steady 2/s for two minutes reads as 2/s.
    for (let i = 0; i < 240; i++, now += 500) deliver('steady');
    expect(metrics.deliveredRate('steady')).toBeGreaterThan(1.95);
    expect(metrics.deliveredRate('steady')).toBeLessThan(2.1);
  });

  it('measures the sending pace since the first send, without the 10 s floor (1 s at least)', () => {
    let now = 1_000_000;
    const metrics = createMetrics({ defaultMetrics: false, clock: () => now });
    const events = createGatewayEvents();
    metrics.subscribe(events);
    expect(metrics.sendingRate('crm')).toBeUndefined();
    // 5 answered within 0.5 s, each after 100 ms: sent from 0.1 s before the first answer.
    for (let i = 0; i < 5; i++, now += 100)
      events.emit('delivery:attempt', { destination: 'crm', outcome: 'delivered', status: 200, durationMs: 100 });
    expect(metrics.sendingRate('crm', 1_000_000 + 1_900)).toBeCloseTo(5 / 2, 6);
    expect(metrics.sendingRate('crm', 1_000_000 + 400)).toBeCloseTo(5, 6); // the 1 s floor
    expect(metrics.deliveredRate('crm', 1_000_000 + 1_900)).toBeCloseTo(0.5, 6);
  });

  it('keeps its own registry: two instances do not share counters, and the default registry stays empty', async () => {
    const { register } = await import('prom-client');
    const a = createMetrics();
    const b = createMetrics({ defaultMetrics: false });
    const events = createGatewayEvents();
    a.subscribe(events);
    events.emit('ingest:received', { source: 'shop', outcome: 'accepted' });
    events.emit('ingest:received', { source: 'shop', outcome: 'duplicate' });
    events.emit('delivery:attempt', { destination: 'crm', outcome: 'retry', status: 503, durationMs: 250 });
    events.emit('journal:commit', { batchSize: 12, durationMs: 3 });
    const ma = parsePrometheus(await a.registry.metrics());
    expect(sample(ma, 'sluice_events_received_total', { source: 'shop', outcome: 'duplicate' })).toBe(1);
    expect(sample(ma, 'sluice_delivery_attempt_duration_seconds_bucket', { destination: 'crm', le: '0.25' })).toBe(1);
    expect(sample(ma, 'sluice_delivery_attempt_duration_seconds_bucket', { destination: 'crm', le: '0.1' })).toBe(0);
    expect(sample(ma, 'sluice_journal_commit_batch_size_sum')).toBe(12);
    expect(ma.has('process_cpu_user_seconds_total')).toBe(true);
    const mb = parsePrometheus(await b.registry.metrics());
    expect(mb.get('sluice_events_received_total')?.samples).toEqual([]);
    expect(mb.has('process_cpu_user_seconds_total')).toBe(false);
    expect(await register.getMetricsAsJSON()).toEqual([]);
  });
});
