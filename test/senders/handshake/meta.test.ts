/**
 * Meta (WhatsApp, Messenger, Instagram) subscription check: GET ?hub.mode=subscribe with the
 * verify token; answered with the bare challenge, even on a POST-only source, never stored.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ingestFixture } from '../../helpers/ingest.js';

let fixture: ReturnType<typeof ingestFixture> | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

function setup(verifyToken: string) {
  fixture = ingestFixture({
    sources: {
      meta: {
        path: '/in/meta',
        to: 'crm',
        verify: { type: 'github', secret: 'app-secret' },
        handshake: { type: 'meta', verify_token: verifyToken },
      },
    },
  });
  return fixture;
}

const subscribe = (token: string | undefined, challenge = '1158201444') =>
  `/in/meta?hub.mode=subscribe${token === undefined ? '' : `&hub.verify_token=${encodeURIComponent(token)}`}&hub.challenge=${challenge}`;

describe('meta verification request', () => {
  it('answers 200 text/plain with the bare challenge when the token matches, on a POST-only source', async () => {
    const f = setup('m3ta-t0ken');
    const res = await f.app.request(subscribe('m3ta-t0ken'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toBe('1158201444');
    expect(f.accepted).toEqual([]);
    expect(await f.stored()).toBe(0);
  });

  it('answers 403 to a wrong or missing token', async () => {
    const f = setup('m3ta-t0ken');
    for (const token of ['m3ta-t0ke', 'm3ta-t0ken-and-more', '', undefined]) {
      const res = await f.app.request(subscribe(token));
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({
        error: { code: 'handshake_invalid', message: 'hub.verify_token does not match' },
      });
    }
    expect(await f.stored()).toBe(0);
  });

  it('never matches an empty configured token, not even an empty one sent', async () => {
    const f = setup('');
    expect((await f.app.request(subscribe(''))).status).toBe(403);
    expect((await f.app.request(subscribe(undefined))).status).toBe(403);
  });

  it('leaves other GETs to the method check', async () => {
    const f = setup('m3ta-t0ken');
    expect(
      (await f.app.request('/in/meta?hub.mode=unsubscribe&hub.verify_token=m3ta-t0ken&hub.challenge=1')).status,
    ).toBe(405);
    expect((await f.app.request('/in/meta')).status).toBe(405);
  });

  it('still verifies the events that follow (X-Hub-Signature-256 with the app secret)', async () => {
    const f = setup('m3ta-t0ken');
    expect((await f.app.request('/in/meta', { method: 'POST', body: '{}' })).status).toBe(401);
  });
});
