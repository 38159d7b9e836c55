/**
 * GET /destinations: per destination, the numbers of what happened (pending, retrying, in flight,
 * dead, delivered in the last hour, oldest age), the rate over the last minute and the time to
 * drain the backlog at that rate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminFixture, startAdminFixture } from '../helpers/admin.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { waitUntil } from '../helpers/wait.js';

type Row = Record<string, unknown> & { name: string };

let fx: AdminFixture;
let receiver: Receiver;
let startedAt: number;

beforeAll(async () => {
  // The body says how the consumer answers: ok → 200, bad → 400 (dead at once), later → 500 (retried in an hour).
  receiver = await startReceiver((r) => ({
    status: { ok: 200, bad: 400, later: 500 }[(JSON.parse(r.body.toString()) as { kind: 'ok' | 'bad' | 'later' }).kind],
  }));
  fx = await startAdminFixture({
    destinations: {
      crm: { url: `${receiver.url}/crm`, concurrency: 4, retry: { initial: '1h', max: '1h' } },
      // 3 tokens, then one an hour: 3 deliveries go at once, the rest wait.
      erp: { url: `${receiver.url}/erp`, rate: '1/h', burst: 3 },
    },
    sources: { a: { path: '/in/a', to: 'crm' }, b: { path: '/in/b', to: 'erp' } },
  });
  startedAt = Date.now();
  for (const kind of ['ok', 'ok', 'ok', 'bad', 'bad', 'later']) await fx.post('/in/a', JSON.stringify({ kind }));
  for (let i = 0; i < 5; i++) await fx.post('/in/b', JSON.stringify({ kind: 'ok' }));
  await waitUntil(
    async () => {
      const { destinations } = await fx.adminJson<{ destinations: Row[] }>('/destinations');
      const [crm, erp] = destinations;
      return (
        crm?.delivered_last_hour === 3 &&
        crm.dead === 2 &&
        crm.retrying === 1 &&
        erp?.delivered_last_hour === 3 &&
        erp.in_flight === 0
      );
    },
    20_000,
    'deliveries to settle',
  );
  expect(await fx.adminJson('/destinations/crm/pause', { method: 'POST' })).toEqual({ name: 'crm', state: 'paused' });
  for (let i = 0; i < 4; i++) await fx.post('/in/a', JSON.stringify({ kind: 'ok' }));
});
afterAll(async () => {
  await fx.close();
  await receiver.close();
});

describe('GET /destinations', () => {
  it('reports state, backlog, rate and time to drain per destination', async () => {
    const { destinations } = await fx.adminJson<{ destinations: Row[] }>('/destinations');
    const maxAge = Math.ceil((Date.now() - startedAt) / 1000) + 1;
    const [crm, erp] = destinations;

    expect(crm).toEqual({
      name: 'crm',
      state: 'paused',
      pending: 4,
      in_flight: 0,
      claimed: 0,
      retrying: 1,
      dead: 2,
      delivered_last_hour: 3,
      oldest_pending_age_seconds: expect.any(Number),
      rate_per_second: expect.any(Number),
      eta_seconds: null, // paused: it does not drain
      held_until: null,
      held_by: null,
      ordering: 'unordered',
      pace: {
        adaptive: false,
        rate_per_second: null,
        concurrency: 4,
        nodes: 1,
        mode: null,
        last_signal: null,
        last_signal_at: null,
      },
    });
    expect(crm!.oldest_pending_age_seconds).toBeLessThanOrEqual(maxAge);
    // 3 in the last minute, counted over the time since the first of them (10 s at least).
    expect(crm!.rate_per_second).toBeGreaterThanOrEqual(0.05);
    expect(crm!.rate_per_second).toBeLessThanOrEqual(0.3);

    expect(erp).toEqual({
      name: 'erp',
      state: 'running',
      pending: 2,
      in_flight: 0,
      claimed: 0,
      retrying: 0,
      dead: 0,
      delivered_last_hour: 3,
      oldest_pending_age_seconds: expect.any(Number),
      rate_per_second: expect.any(Number),
      eta_seconds: 7_200, // 2 left: the burst is spent, and 1/h is all the bucket gives
      held_until: null,
      held_by: null,
      ordering: 'unordered',
      pace: {
        adaptive: false,
        rate_per_second: 0.000278, // 1/h
        concurrency: 1,
        nodes: 1,
        mode: null,
        last_signal: null,
        last_signal_at: null,
      },
    });
    expect(erp!.oldest_pending_age_seconds).toBeLessThanOrEqual(maxAge);
    expect(erp!.rate_per_second).toBeGreaterThanOrEqual(0.05);
    expect(erp!.rate_per_second).toBeLessThanOrEqual(0.3);
    expect(receiver.received.filter((r) => r.url === '/crm')).toHaveLength(6);
  });

  it('says running again after resume, and the paused backlog drains', async () => {
    expect(await fx.adminJson('/destinations/crm/resume', { method: 'POST' })).toEqual({
      name: 'crm',
      state: 'running',
    });
    await receiver.waitFor(6 + 3 + 4);
    await waitUntil(
      async () =>
        (await fx.adminJson<{ destinations: Row[] }>('/destinations')).destinations[0]!.delivered_last_hour === 7,
      20_000,
      'crm to drain',
    );
    const crm = (await fx.adminJson<{ destinations: Row[] }>('/destinations')).destinations[0]!;
    expect(crm).toMatchObject({ state: 'running', pending: 0, retrying: 1, in_flight: 0, dead: 2 });
    // 7 delivered within the last minute: between 7/60 and 7/10 a second; 1 retrying left to drain.
    const rate = crm.rate_per_second as number;
    expect(rate).toBeGreaterThanOrEqual(0.116);
    expect(rate).toBeLessThanOrEqual(0.7);
    // The time to drain may use the pace since the first send (no 10 s floor, this destination has no
    // rate to cap it): never longer than the shown rate gives.
    expect(crm.eta_seconds).toBeGreaterThanOrEqual(1);
    expect(crm.eta_seconds).toBeLessThanOrEqual(Math.ceil(1 / rate));
  });

  it('GET /nodes: with a journal of its own, this process alone, and what it drains', async () => {
    const listing = await fx.adminJson<{ shared: boolean; nodes: Record<string, unknown>[] }>('/nodes');
    expect(listing.shared).toBe(false);
    expect(listing.nodes).toHaveLength(1);
    expect(listing.nodes[0]).toMatchObject({ id: 'local', self: true, pid: process.pid, version: expect.any(String) });
    expect(Object.keys(listing.nodes[0]!.draining as object).sort()).toEqual(['crm', 'erp']);
    expect((listing.nodes[0]!.draining as Record<string, unknown>).erp).toMatchObject({
      in_flight: 0,
      rate_per_second: expect.closeTo(1 / 3600, 6),
      concurrency: 1,
    });
  });

  it('answers 404 not_found for a destination that is not in the config', async () => {
    for (const action of ['pause', 'resume', 'replay']) {
      const res = await fx.admin(`/destinations/nope/${action}`, { method: 'POST' });
      expect(res.status, action).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
  });
});
