/** Dropbox endpoint check: GET ?challenge=… echoed as text/plain with nosniff, never stored. */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { ingestFixture, listen } from '../../helpers/ingest.js';

let fixture: ReturnType<typeof ingestFixture> | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

describe('dropbox challenge', () => {
  it('echoes the challenge exactly, as text/plain with nosniff, on a POST-only source', async () => {
    fixture = ingestFixture({ sources: { dbx: { path: '/in/dbx', to: 'crm', handshake: 'dropbox' } } });
    const challenge = '<script>alert(1)</script> é+&';
    const res = await fixture.app.request(`/in/dbx?challenge=${encodeURIComponent(challenge)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toBe(challenge);
    expect(fixture.accepted).toEqual([]);
    expect(await fixture.stored()).toBe(0);
  });

  it('stores the notifications (POST) as events, and leaves a GET without challenge to the method check', async () => {
    fixture = ingestFixture({ sources: { dbx: { path: '/in/dbx', to: 'crm', handshake: 'dropbox' } } });
    expect(
      (await fixture.app.request('/in/dbx', { method: 'POST', body: '{"list_folder":{"accounts":["dbid:1"]}}' }))
        .status,
    ).toBe(202);
    expect((await fixture.app.request('/in/dbx')).status).toBe(405);
    expect(fixture.accepted).toHaveLength(1);
  });

  it('is not answered on a source without the handshake: a GET there is an event or a 405', async () => {
    fixture = ingestFixture({
      sources: { a: { path: '/in/a', to: 'crm' }, b: { path: '/in/b', methods: ['GET'], to: 'crm' } },
    });
    expect((await fixture.app.request('/in/a?challenge=x')).status).toBe(405);
    expect((await fixture.app.request('/in/b?challenge=x')).status).toBe(202);
  });

  it('is answered the same on a real listener', async () => {
    fixture = ingestFixture({ sources: { dbx: { path: '/in/dbx', to: 'crm', handshake: 'dropbox' } } });
    const server = await listen(fixture);
    try {
      const res = await request(`${server.url}/in/dbx?challenge=a%2Bb+c`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(await res.body.text()).toBe('a+b c');
    } finally {
      await server.close();
    }
  });
});
