/** Microsoft Graph subscription validation: ?validationToken=… answered as text/plain, URL-decoded, never stored. */
import { afterEach, describe, expect, it } from 'vitest';
import { ingestFixture } from '../../helpers/ingest.js';

let fixture: ReturnType<typeof ingestFixture> | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

// As Graph sends it: percent escapes and `+` for spaces.
const encoded =
  'Validation%3a+Testing+client+application+reachability+for+subscription+Request-Id%3a+5e0f6f4f-2b6b-4c7e-9e9c-0e5a5b5e5f5a';
const decoded =
  'Validation: Testing client application reachability for subscription Request-Id: 5e0f6f4f-2b6b-4c7e-9e9c-0e5a5b5e5f5a';

describe('graph validationToken', () => {
  it.each(['POST', 'GET'])('answers a %s with 200 text/plain and the decoded token', async (method) => {
    fixture = ingestFixture({ sources: { graph: { path: '/in/graph', to: 'crm', handshake: 'graph' } } });
    const res = await fixture.app.request(`/in/graph?validationToken=${encoded}`, {
      method,
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toBe(decoded);
    expect(fixture.accepted).toEqual([]);
    expect(await fixture.stored()).toBe(0);
  });

  it('stores change notifications (POST without validationToken) as events', async () => {
    fixture = ingestFixture({ sources: { graph: { path: '/in/graph', to: 'crm', handshake: { type: 'graph' } } } });
    const res = await fixture.app.request('/in/graph', {
      method: 'POST',
      body: '{"value":[{"changeType":"created","clientState":"x"}]}',
    });
    expect(res.status).toBe(202);
    expect(fixture.accepted).toHaveLength(1);
  });
});
