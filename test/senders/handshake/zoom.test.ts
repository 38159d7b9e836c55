/**
 * Zoom endpoint.url_validation: a signed POST answered with plainToken and the hex HMAC-SHA256 of
 * it under the secret, never stored. Unsigned ones get 401: otherwise anyone could have Sluice
 * compute HMACs with the Zoom secret.
 */
import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ingestFixture } from '../../helpers/ingest.js';
import { zoomHeaders } from '../../helpers/senders.js';

const SECRET = 'zoom-secret-token';
const validation = JSON.stringify({
  payload: { plainToken: 'qgg8vlvZRS6UYooatFL8Aw' },
  event_ts: 1654503849680,
  event: 'endpoint.url_validation',
});
const expectedFor = (secret: string) => createHmac('sha256', secret).update('qgg8vlvZRS6UYooatFL8Aw').digest('hex');

let fixture: ReturnType<typeof ingestFixture> | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

const post = (body: string, headers: Record<string, string>) =>
  fixture!.app.request('/in/zoom', {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });

describe('zoom endpoint.url_validation', () => {
  it('answers 200 with plainToken and encryptedToken', async () => {
    fixture = ingestFixture({
      sources: { zoom: { path: '/in/zoom', to: 'crm', verify: { type: 'zoom', secret: SECRET } } },
    });
    const res = await post(validation, zoomHeaders(SECRET, validation));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe(
      JSON.stringify({ plainToken: 'qgg8vlvZRS6UYooatFL8Aw', encryptedToken: expectedFor(SECRET) }),
    );
    expect(fixture.accepted).toEqual([]);
    expect(await fixture.stored()).toBe(0);
  });

  it('answers with the secret of the rotation list that signed the request', async () => {
    fixture = ingestFixture({
      sources: {
        zoom: { path: '/in/zoom', to: 'crm', verify: { type: 'zoom', secret: [SECRET, 'zoom-next-secret'] } },
      },
    });
    const res = await post(validation, zoomHeaders('zoom-next-secret', validation));
    expect(await res.json()).toEqual({
      plainToken: 'qgg8vlvZRS6UYooatFL8Aw',
      encryptedToken: expectedFor('zoom-next-secret'),
    });
  });

  it('answers 401 to an unsigned validation, computing nothing', async () => {
    fixture = ingestFixture({
      sources: { zoom: { path: '/in/zoom', to: 'crm', verify: { type: 'zoom', secret: SECRET } } },
    });
    const res = await post(validation, {});
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain(expectedFor(SECRET));
  });

  it('stores ordinary events', async () => {
    fixture = ingestFixture({
      sources: { zoom: { path: '/in/zoom', to: 'crm', verify: { type: 'zoom', secret: SECRET } } },
    });
    const event = JSON.stringify({ event: 'meeting.ended', payload: { object: { id: '1' } } });
    expect((await post(event, zoomHeaders(SECRET, event))).status).toBe(202);
    expect(fixture.accepted).toHaveLength(1);
  });
});
