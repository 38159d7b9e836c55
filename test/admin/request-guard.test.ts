/**
 * A web page in the operator's browser cannot use the admin API: not under a name of its own (DNS
 * rebinding), not from its own origin, not by posting a form. Checked over a real listener, where
 * the Host header is the one a browser would send.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenerHostNames } from '../../src/admin/request-guard.js';
import { type AdminFixture, startAdminFixture } from '../helpers/admin.js';
import { listen } from '../helpers/ingest.js';

let fx: AdminFixture;
let server: { url: string; close(): Promise<void> };
let port: string;

beforeAll(async () => {
  fx = await startAdminFixture({ destinations: { crm: { url: 'http://127.0.0.1:9/' } }, token: null });
  server = await listen(fx.app);
  port = new URL(server.url).port;
});
afterAll(async () => {
  await server.close();
  await fx.close();
});

async function call(path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const res = await request(`${server.url}${path}`, {
    method: (init.method ?? 'GET') as 'GET',
    headers: { authorization: `Bearer ${fx.token}`, ...init.headers },
    ...(init.body !== undefined && { body: init.body }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: JSON.parse(text) as { error?: { code: string } } };
}

describe('admin request guard', () => {
  it('answers under its own names, with the token', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'LOCALHOST']) {
      expect((await call('/events', { headers: { host } })).status, host).toBe(200);
    }
  });

  it('refuses a foreign Host with 403 (DNS rebinding), even with the token', async () => {
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.evil.example:${port}`]) {
      const res = await call('/events', { headers: { host } });
      expect(res.status, host).toBe(403);
      expect(res.body.error?.code).toBe('forbidden_host');
    }
    const pause = await call('/destinations/crm/pause', {
      method: 'POST',
      headers: { host: 'evil.example', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(pause.status).toBe(403);
    expect(fx.scheduler.state('crm')?.paused).toBe(false);
  });

  it('refuses a foreign Origin with 403, and takes its own', async () => {
    for (const origin of ['http://evil.example', `http://localhost:${Number(port) + 1}`, 'null']) {
      const res = await call('/destinations', { headers: { origin } });
      expect(res.status, origin).toBe(403);
      expect(res.body.error?.code).toBe('forbidden_origin');
    }
    const res = await call('/destinations/crm/pause', {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(403);
    expect(fx.scheduler.state('crm')?.paused).toBe(false);
    expect((await call('/destinations', { headers: { origin: server.url } })).status).toBe(200);
  });

  it('refuses a change sent as a form (or with no content type) with 415, and does nothing', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain', '']) {
      const res = await call('/destinations/crm/pause', {
        method: 'POST',
        headers: type ? { 'content-type': type } : {},
        body: type ? 'a=b' : '',
      });
      expect(res.status, type).toBe(415);
      expect(res.body.error?.code).toBe('unsupported_media_type');
    }
    expect(fx.scheduler.state('crm')?.paused).toBe(false);
    const json = await call('/destinations/crm/pause', {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{}',
    });
    expect(json.status).toBe(200);
    expect(fx.scheduler.state('crm')?.paused).toBe(true);
    await fx.adminJson('/destinations/crm/resume', { method: 'POST' });
  });

  it('leaves the health checks to any host (probes come by addresses nobody lists)', async () => {
    expect((await call('/healthz', { headers: { host: 'pod-10-1-2-3:8081' } })).status).toBe(200);
  });

  it('a listener on every interface also answers to the configured extra names', () => {
    expect(listenerHostNames('127.0.0.1', ['sluice.internal'])).toEqual(
      expect.arrayContaining(['localhost', '127.0.0.1', '::1', 'sluice.internal']),
    );
    expect(listenerHostNames('127.0.0.1')).not.toContain('sluice.internal');
    expect(listenerHostNames('0.0.0.0')).toContain('127.0.0.1');
  });
});
