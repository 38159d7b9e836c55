import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gateway: TestGateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

async function get(url: string, token?: string) {
  const res = await request(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

describe('listeners', () => {
  it('serves health checks on the public listener and the admin API only on its own, behind the token', async () => {
    gateway = await startTestGateway({
      admin: { token: 'op-token' },
      destinations: { crm: { url: 'http://127.0.0.1:9/' } },
      sources: { shop: { path: '/in/shop', to: 'crm' } },
    });
    expect(await get(`${gateway.url}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await get(`${gateway.url}/readyz`)).toEqual({ status: 200, body: { status: 'ready' } });
    expect((await get(`${gateway.url}/destinations`, 'op-token')).status).toBe(404);

    expect(gateway.adminUrl).toBeDefined();
    expect((await get(`${gateway.adminUrl}/destinations`)).status).toBe(401);
    const ok = await get(`${gateway.adminUrl}/destinations`, 'op-token');
    expect(ok.status).toBe(200);
    expect((ok.body.destinations as { name: string }[]).map((d) => d.name)).toEqual(['crm']);
    expect((await get(`${gateway.adminUrl}/readyz`)).status).toBe(200);
  });

  it('runs no admin listener when admin.enabled is false', async () => {
    gateway = await startTestGateway({
      admin: { enabled: false },
      destinations: { crm: { url: 'http://127.0.0.1:9/' } },
      sources: { shop: { path: '/in/shop', to: 'crm' } },
    });
    expect(gateway.adminUrl).toBeUndefined();
    expect((await get(`${gateway.url}/healthz`)).status).toBe(200);
  });
});
