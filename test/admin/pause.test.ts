/**
 * POST /destinations/:name/pause holds every delivery while ingest goes on, a restart (a fresh
 * scheduler on the same journal file) keeps the pause, and /resume sends the held events.
 */
import { describe, expect, it } from 'vitest';
import { type AdminFixture, adminTest, startAdminFixture } from '../helpers/admin.js';
import { startReceiver } from '../helpers/receiver.js';
import { sleep, waitUntil } from '../helpers/wait.js';

const t = adminTest();

const crmRow = async (f: AdminFixture) =>
  (await f.adminJson<{ destinations: Record<string, unknown>[] }>('/destinations')).destinations.find(
    (d) => d.name === 'crm',
  )!;

describe('pause and resume', () => {
  it('holds deliveries across a restart, keeps ingesting, and sends everything on resume', async () => {
    const receiver = (t.receiver = await startReceiver());
    const fx = (t.fx = await startAdminFixture({
      destinations: { crm: { url: `${receiver.url}/crm`, concurrency: 4 }, erp: { url: `${receiver.url}/erp` } },
    }));
    expect(await fx.adminJson('/destinations/crm/pause', { method: 'POST' })).toEqual({ name: 'crm', state: 'paused' });
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await fx.post('/in/shop', JSON.stringify({ n: i })));

    // The other destination of the same events is not held.
    await receiver.waitFor(5);
    await sleep(1_000);
    expect(receiver.received.filter((r) => r.url === '/crm')).toHaveLength(0);
    expect(await crmRow(fx)).toMatchObject({ state: 'paused', pending: 5, in_flight: 0 });

    await fx.restart();
    expect(fx.scheduler.state('crm')?.paused).toBe(true);
    expect(await crmRow(fx)).toMatchObject({ state: 'paused', pending: 5 });
    for (let i = 5; i < 7; i++) ids.push(await fx.post('/in/shop', JSON.stringify({ n: i })));
    await receiver.waitFor(7);
    await sleep(1_000);
    expect(receiver.received.filter((r) => r.url === '/crm')).toHaveLength(0);
    expect(await crmRow(fx)).toMatchObject({ state: 'paused', pending: 7 });

    expect(await fx.adminJson('/destinations/crm/resume', { method: 'POST' })).toEqual({
      name: 'crm',
      state: 'running',
    });
    await receiver.waitFor(14);
    const sent = receiver.received.filter((r) => r.url === '/crm').map((r) => r.headers['sluice-event-id']);
    expect(new Set(sent)).toEqual(new Set(ids));
    await waitUntil(async () => (await crmRow(fx!)).delivered_last_hour === 7, 10_000, 'outcomes recorded');

    // Resumed is persisted too.
    await fx.restart();
    expect(await crmRow(fx)).toMatchObject({ state: 'running', pending: 0 });
    await fx.post('/in/shop', '{}');
    await receiver.waitFor(16);
  });

  it('is idempotent: pausing twice and resuming twice answer the same', async () => {
    const receiver = (t.receiver = await startReceiver());
    const fx = (t.fx = await startAdminFixture({ destinations: { crm: { url: receiver.url } } }));
    for (let i = 0; i < 2; i++)
      expect(await fx.adminJson('/destinations/crm/pause', { method: 'POST' })).toEqual({
        name: 'crm',
        state: 'paused',
      });
    expect(await fx.journal.pausedDestinations()).toEqual(['crm']);
    for (let i = 0; i < 2; i++)
      expect(await fx.adminJson('/destinations/crm/resume', { method: 'POST' })).toEqual({
        name: 'crm',
        state: 'running',
      });
    expect(await fx.journal.pausedDestinations()).toEqual([]);
  });
});
