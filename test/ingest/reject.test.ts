import { afterEach, describe, expect, it } from 'vitest';
import { ingestFixture, streamOf } from '../helpers/ingest.js';

let fixture: ReturnType<typeof ingestFixture> | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

async function pendingCount() {
  return (await fixture!.journal.countDeliveries('crm')).pending;
}

describe('requests that are not accepted', () => {
  it('404 for a path no source listens on', async () => {
    fixture = ingestFixture();
    const res = await fixture.app.request('/in/other', { method: 'POST', body: 'x' });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
    expect(await pendingCount()).toBe(0);
  });

  it('405 with Allow for a method the source does not take', async () => {
    fixture = ingestFixture({ sources: { shop: { path: '/in/shop', methods: ['POST', 'PUT'], to: 'crm' } } });
    const res = await fixture.app.request('/in/shop', { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST, PUT');
    expect(await pendingCount()).toBe(0);
  });

  it('413 when Content-Length is over max_body', async () => {
    fixture = ingestFixture({ maxBody: '1kb' });
    const res = await fixture.app.request('/in/shop', {
      method: 'POST',
      body: 'x'.repeat(1025),
      headers: { 'content-length': '1025' },
    });
    expect(res.status).toBe(413);
    expect(await pendingCount()).toBe(0);
  });

  it('413 for a chunked body that grows past max_body while streaming', async () => {
    fixture = ingestFixture({ maxBody: '64kb' });
    const res = await fixture.app.request('/in/shop', {
      method: 'POST',
      body: streamOf(new Uint8Array(200 * 1024)),
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await pendingCount()).toBe(0);
  });

  it('accepts a body of exactly max_body, chunked or not', async () => {
    fixture = ingestFixture({ maxBody: '1kb' });
    const a = await fixture.app.request('/in/shop', { method: 'POST', body: 'x'.repeat(1024) });
    const b = await fixture.app.request('/in/shop', {
      method: 'POST',
      body: streamOf(new Uint8Array(1024), 100),
      duplex: 'half',
    } as RequestInit);
    expect([a.status, b.status]).toEqual([202, 202]);
  });

  it('503 with Retry-After while shutting down, and nothing stored', async () => {
    fixture = ingestFixture({ accepting: () => false });
    const res = await fixture.app.request('/in/shop', { method: 'POST', body: 'x' });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await pendingCount()).toBe(0);
  });
});
