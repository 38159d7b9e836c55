/**
 * GET /events/:id never shows a credential: ingest no longer stores the source's own, but events
 * stored by an earlier version (or by a source with `forward.credentials`) still hold them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminFixture, startAdminFixture } from '../helpers/admin.js';

let fx: AdminFixture;

beforeAll(async () => {
  fx = await startAdminFixture({
    destinations: { crm: { url: 'http://127.0.0.1:9/crm' } },
    sources: { a: { path: '/in/a', to: 'crm', forward: { credentials: true } } },
  });
  await fx.adminJson('/destinations/crm/pause', { method: 'POST' });
});
afterAll(async () => {
  await fx.close();
});

type Detail = { headers: [string, string][] };

describe('GET /events/:id and credentials', () => {
  it('redacts Authorization (keeping the scheme), Proxy-Authorization and Cookie of a stored event', async () => {
    const stored = await fx.journal.append({
      source: 'a',
      method: 'POST',
      path: '/in/a',
      query: '',
      headers: [
        ['Authorization', 'Bearer tk-123456'],
        ['Proxy-Authorization', 'Basic cHJveHk6cHc='],
        ['Cookie', 'sid=abc123'],
        ['authorization', 'opaque-credential'],
        ['X-Signature', 'sha256=deadbeef'],
      ],
      body: new TextEncoder().encode('{}'),
      remoteAddr: '127.0.0.1',
      receivedAt: Date.now(),
      destinations: ['crm'],
    });
    const event = await fx.adminJson<Detail>(`/events/${stored.id}`);
    expect(event.headers).toEqual([
      ['Authorization', 'Bearer [redacted]'],
      ['Proxy-Authorization', 'Basic [redacted]'],
      ['Cookie', '[redacted]'],
      ['authorization', '[redacted]'],
      ['X-Signature', 'sha256=deadbeef'],
    ]);
  });

  it('redacts them also when the source keeps them for the consumer', async () => {
    const id = await fx.post('/in/a', '{}', { authorization: 'Bearer tk-789', cookie: 'sid=1' });
    const event = await fx.adminJson<Detail>(`/events/${id}`);
    expect(event.headers).toContainEqual(['authorization', 'Bearer [redacted]']);
    expect(event.headers).toContainEqual(['cookie', '[redacted]']);
    expect(JSON.stringify(event)).not.toMatch(/tk-789|sid=1/);
  });
});
