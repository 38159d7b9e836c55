import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteJournal } from '../../src/journal/sqlite/journal.js';
import { gatewayTest, startTestGateway } from '../helpers/gateway.js';
import { post } from '../helpers/post.js';
import { startReceiver } from '../helpers/receiver.js';

const t = gatewayTest();

describe('graceful shutdown', () => {
  it('lets an in-flight delivery finish and records it before closing the journal', async () => {
    const receiver = (t.receiver = await startReceiver(() => ({ delayMs: 400 })));
    const gateway = (t.gateway = await startTestGateway({
      destinations: { crm: { url: receiver.url } },
      sources: { shop: { path: '/in/shop', to: 'crm' } },
    }));
    const { id } = await post(`${gateway.url}/in/shop`, '{}');
    await receiver.waitFor(1);
    await gateway.close();
    const journal = openSqliteJournal({ path: join(gateway.dir, 'sluice.db') });
    const event = await journal.getEvent(id!);
    await journal.close();
    expect(event!.deliveries[0]).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('acknowledges no new event once shutdown began', async () => {
    const receiver = (t.receiver = await startReceiver(() => ({ delayMs: 400 })));
    const gateway = (t.gateway = await startTestGateway({
      destinations: { crm: { url: receiver.url } },
      sources: { shop: { path: '/in/shop', to: 'crm' } },
    }));
    await post(`${gateway.url}/in/shop`, '{}');
    await receiver.waitFor(1);
    const closing = gateway.close();
    // Idle connections are closed and the listener refuses new ones (a request already on its way
    // gets 503: see test/ingest/reject.test.ts). Either way, no 2xx.
    const late = await post(`${gateway.url}/in/shop`, '{"late":true}').catch(() => ({ status: 0 }));
    expect([0, 503]).toContain(late.status);
    await closing;
    const journal = openSqliteJournal({ path: join(gateway.dir, 'sluice.db') });
    const counts = await journal.countDeliveries('crm');
    await journal.close();
    expect(counts.pending + counts.in_flight + counts.delivered + counts.dead).toBe(1);
  });

  it('after the grace period, aborts the attempt and leaves the event due for the next start', async () => {
    const receiver = (t.receiver = await startReceiver(() => ({ delayMs: 10_000 })));
    const gateway = (t.gateway = await startTestGateway({
      server: { shutdown_grace: '200ms' },
      destinations: { crm: { url: receiver.url, timeout: '30s' } },
      sources: { shop: { path: '/in/shop', to: 'crm' } },
    }));
    const { id } = await post(`${gateway.url}/in/shop`, '{}');
    await receiver.waitFor(1);
    const started = performance.now();
    await gateway.close();
    expect(performance.now() - started).toBeLessThan(5_000);
    const journal = openSqliteJournal({ path: join(gateway.dir, 'sluice.db') });
    const d = (await journal.getEvent(id!))!.deliveries[0]!;
    await journal.close();
    expect(d.status).toBe('pending');
    expect(d.dueAt).toBeLessThanOrEqual(Date.now());
    expect(d.attemptLog[0]!.error).toMatch(/aborted/);
  });
});
