/** /metrics says whether a destination is held, why, and until when, from the scheduler's live state. */
import { describe, expect, it } from 'vitest';
import { adminTest, startAdminFixture } from '../helpers/admin.js';
import { parsePrometheus, sample } from '../helpers/prometheus.js';
import { startReceiver } from '../helpers/receiver.js';
import { waitUntil } from '../helpers/wait.js';

const t = adminTest();

describe('hold gauges', () => {
  it("show a consumer's Retry-After hold, and 0 once an operator lifts it", async () => {
    const receiver = (t.receiver = await startReceiver(() => ({ status: 429, headers: { 'retry-after': '120' } })));
    const fx = (t.fx = await startAdminFixture({ destinations: { crm: { url: receiver.url } } }));
    const scrape = async () => parsePrometheus(await (await fx.admin('/metrics')).text());

    let m = await scrape();
    expect(sample(m, 'sluice_destination_held', { destination: 'crm', reason: 'retry_after' })).toBe(0);
    expect(sample(m, 'sluice_destination_held_until_seconds', { destination: 'crm' })).toBe(0);

    await fx.post('/in/shop', '{}');
    await receiver.waitFor(1);
    await waitUntil(() => fx.scheduler.state('crm')?.heldUntil !== undefined, 10_000, 'the hold');
    m = await scrape();
    expect(sample(m, 'sluice_destination_held', { destination: 'crm', reason: 'retry_after' })).toBe(1);
    expect(sample(m, 'sluice_destination_held', { destination: 'crm', reason: 'unreachable' })).toBe(0);
    const until = sample(m, 'sluice_destination_held_until_seconds', { destination: 'crm' });
    expect(until).toBeGreaterThan(Date.now() / 1000 + 60);
    expect(until).toBeLessThan(Date.now() / 1000 + 180);

    await fx.adminJson('/destinations/crm/resume', { method: 'POST' });
    m = await scrape();
    expect(sample(m, 'sluice_destination_held', { destination: 'crm', reason: 'retry_after' })).toBe(0);
    expect(sample(m, 'sluice_destination_held_until_seconds', { destination: 'crm' })).toBe(0);
  });
});
