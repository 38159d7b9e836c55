import { afterEach, describe, expect, it } from 'vitest';
import { ingestFixture } from '../helpers/ingest.js';

let fixture: ReturnType<typeof ingestFixture> | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

describe('accepting an event', () => {
  it('answers 202 with the event id only once the event is in the journal', async () => {
    fixture = ingestFixture();
    const res = await fixture.app.request('/in/shop?a=1&b=2', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-trace': 't1' },
      body: '{"n":1}',
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const stored = await fixture.journal.getEvent(id);
    expect(stored).toMatchObject({ id, source: 'shop', method: 'POST', path: '/in/shop', query: 'a=1&b=2' });
    expect(Buffer.from(stored!.body).toString()).toBe('{"n":1}');
    expect(stored!.headers).toContainEqual(['x-trace', 't1']);
    expect(stored!.deliveries.map((d) => [d.destination, d.status])).toEqual([['crm', 'pending']]);
    expect(fixture.accepted).toEqual([id]);
  });

  it('answers with the status the source configures', async () => {
    fixture = ingestFixture({ sources: { shop: { path: '/in/shop', to: 'crm', response: { status: 200 } } } });
    const res = await fixture.app.request('/in/shop', { method: 'POST', body: 'x' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: expect.any(String) });
  });

  it('fans out: one pending delivery per destination', async () => {
    fixture = ingestFixture({ sources: { shop: { path: '/in/shop', to: ['crm', 'erp'] } } });
    const res = await fixture.app.request('/in/shop', { method: 'POST', body: 'x' });
    const { id } = (await res.json()) as { id: string };
    const stored = await fixture.journal.getEvent(id);
    expect(stored!.deliveries.map((d) => d.destination).sort()).toEqual(['crm', 'erp']);
  });

  it('stores an empty body and a GET when the source takes GET', async () => {
    fixture = ingestFixture({ sources: { ping: { path: '/in/ping', methods: ['GET', 'POST'], to: 'crm' } } });
    const res = await fixture.app.request('/in/ping?challenge=1');
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const stored = await fixture.journal.getEvent(id);
    expect(stored).toMatchObject({ method: 'GET', query: 'challenge=1' });
    expect(stored!.body.byteLength).toBe(0);
  });

  it('gives concurrent requests distinct ids and stores each once', async () => {
    fixture = ingestFixture();
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => fixture!.app.request('/in/shop', { method: 'POST', body: `{"i":${i}}` })),
    );
    const ids = await Promise.all(responses.map(async (r) => ((await r.json()) as { id: string }).id));
    expect(new Set(ids).size).toBe(40);
    const bodies = await Promise.all(
      ids.map(async (id) => Buffer.from((await fixture!.journal.getEvent(id))!.body).toString()),
    );
    expect(bodies.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `{"i":${i}}`).sort());
  });
});
