/**
 * Every operator action through the admin API is an `admin:action` event (via: api) and an info line
 * in the gateway's log: the audit trail.
 */
import { describe, expect, it } from 'vitest';
import { adminTest, startAdminFixture } from '../helpers/admin.js';
import { capturedLogger } from '../helpers/log.js';
import { startReceiver } from '../helpers/receiver.js';
import { waitUntil } from '../helpers/wait.js';

const t = adminTest();

describe('audit trail of admin actions', () => {
  it('logs pause, resume, replay and delete at info, each naming its target', async () => {
    const receiver = (t.receiver = await startReceiver());
    const log = capturedLogger();
    const fx = (t.fx = await startAdminFixture({ destinations: { crm: { url: receiver.url } }, logger: log.logger }));
    const id = await fx.post('/in/shop', '{}');
    await receiver.waitFor(1);
    await waitUntil(
      async () => (await fx.journal.getEvent(id))?.deliveries[0]?.status === 'delivered',
      10_000,
      'delivered',
    );

    await fx.adminJson('/destinations/crm/pause', { method: 'POST' });
    await fx.adminJson('/destinations/crm/resume', { method: 'POST' });
    await fx.adminJson(`/events/${id}/replay`, { method: 'POST' });
    await receiver.waitFor(2);
    await waitUntil(
      async () => (await fx.journal.getEvent(id))?.deliveries[0]?.status === 'delivered',
      10_000,
      'redelivered',
    );
    await fx.adminJson('/destinations/crm/replay', { method: 'POST', body: { status: 'delivered' } });
    await receiver.waitFor(3);
    await waitUntil(
      async () => (await fx.journal.getEvent(id))?.deliveries[0]?.status === 'delivered',
      10_000,
      'again',
    );
    await fx.adminJson(`/events/${id}`, { method: 'DELETE' });

    const audit = log.entries().filter((e) => e.audit === true);
    expect(audit.map((e) => [e.level, e.action, e.target, e.via])).toEqual([
      [30, 'pause', 'crm', 'api'],
      [30, 'resume', 'crm', 'api'],
      [30, 'replay', id, 'api'],
      [30, 'replay', 'crm', 'api'],
      [30, 'delete', id, 'api'],
    ]);
    expect(audit[2]).toMatchObject({ count: 1 });
    expect(String(audit[0]!.msg)).toContain('pause crm');
  });
});
