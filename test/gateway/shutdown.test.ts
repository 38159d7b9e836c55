import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { openSqliteJournal } from '../../src/journal/sqlite/journal.js';
import { gatewayTest, startTestGateway } from '../helpers/gateway.js';
import { capturedLogger } from '../helpers/log.js';
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

  it('answers 503 with Retry-After during the grace period, and keeps /readyz and the admin API reachable', async () => {
    const receiver = (t.receiver = await startReceiver(() => ({ delayMs: 3_000 })));
    const log = capturedLogger();
    const gateway = (t.gateway = await startTestGateway(
      {
        admin: { token: 'op-token' },
        destinations: { crm: { url: receiver.url } },
        sources: { shop: { path: '/in/shop', to: 'crm' } },
      },
      { logger: log.logger },
    ));
    await post(`${gateway.url}/in/shop`, '{}');
    await receiver.waitFor(1);
    const closing = gateway.close();
    const late = await request(`${gateway.url}/in/shop`, {
      method: 'POST',
      body: '{"late":true}',
      headers: { 'content-type': 'application/json' },
    });
    await late.body.text();
    expect(late.statusCode).toBe(503);
    expect(late.headers['retry-after']).toMatch(/^\d+$/);
    const ready = await request(`${gateway.url}/readyz`);
    await ready.body.text();
    expect(ready.statusCode).toBe(503);
    const status = await request(`${gateway.adminUrl}/destinations`, { headers: { authorization: 'Bearer op-token' } });
    const body = (await status.body.json()) as { destinations: { name: string; in_flight: number }[] };
    expect(status.statusCode).toBe(200);
    expect(body.destinations[0]).toMatchObject({ name: 'crm', in_flight: 1 });
    await closing;
    expect(log.entries().find((e) => String(e.msg).startsWith('shutting down'))).toMatchObject({ inFlight: 1 });
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
