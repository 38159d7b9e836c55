/**
 * /healthz (the process is up) and /readyz (isReady), on the admin app and in `healthRoutes` for
 * the public listener; neither needs the token.
 */
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { healthRoutes } from '../../src/admin/health.js';
import { type AdminFixture, startAdminFixture } from '../helpers/admin.js';

let fx: AdminFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const readiness: [string, () => boolean | Promise<boolean>, number][] = [
  ['ready', () => true, 200],
  ['ready (async)', async () => true, 200],
  ['not ready', () => false, 503],
  ['not ready (async)', async () => false, 503],
  [
    'readiness check throws',
    () => {
      throw new Error('journal closed');
    },
    503,
  ],
  ['readiness check rejects', () => Promise.reject(new Error('journal closed')), 503],
];

describe('admin health checks', () => {
  it.each(readiness)('/readyz when %s', async (_, isReady, status) => {
    fx = await startAdminFixture({ destinations: { crm: { url: 'http://127.0.0.1:9/' } }, isReady });
    const res = await fx.app.request('/readyz');
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual(
      status === 200 ? { status: 'ready' } : { error: { code: 'not_ready', message: 'not ready' } },
    );
    // Up, ready or not.
    const health = await fx.app.request('/healthz');
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
  });
});

describe('healthRoutes (public listener)', () => {
  it.each(readiness)('/readyz when %s', async (_, isReady, status) => {
    const app = healthRoutes(isReady);
    expect((await app.request('/readyz')).status).toBe(status);
    expect((await app.request('/healthz')).status).toBe(200);
  });

  it('mounts ahead of other routes and leaves the rest to them', async () => {
    let ready = false;
    const app = new Hono();
    app.route(
      '/',
      healthRoutes(() => ready),
    );
    app.post('/in/shop', (c) => c.json({ id: 'x' }, 202));
    expect((await app.request('/readyz')).status).toBe(503);
    ready = true;
    expect((await app.request('/readyz')).status).toBe(200);
    expect((await app.request('/in/shop', { method: 'POST' })).status).toBe(202);
    expect((await app.request('/healthz', { method: 'POST' })).status).toBe(404);
  });
});
