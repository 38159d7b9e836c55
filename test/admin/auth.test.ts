/**
 * The bearer token guards every admin route but the health checks and the OpenAPI document (which
 * holds no data). The routes are taken from the
 * OpenAPI document the app serves, and every route the app registers must be in it, so a route
 * added later cannot escape the check.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminApp, PUBLIC_PATHS } from '../../src/admin/app.js';
import { type AdminFixture, startAdminFixture, TOKEN } from '../helpers/admin.js';

/** The only routes open without a token (written out here, not taken from the module under test). */
const OPEN = new Set(['/healthz', '/readyz']);
/** Served without a token, but only to an allowed Host. */
const TOKENLESS = new Set([...OPEN, '/openapi.json']);

type Doc = {
  paths: Record<string, Record<string, { security?: unknown[] }>>;
  components: { securitySchemes: Record<string, unknown> };
};

let fx: AdminFixture;
let doc: Doc;
/** Every [method, concrete path] of the document, plus the document itself. */
let routes: [string, string][];

beforeAll(async () => {
  fx = await startAdminFixture({ destinations: { crm: { url: 'http://127.0.0.1:9/' } } });
  doc = await fx.adminJson<Doc>('/openapi.json');
  routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((method): [string, string] => [
      method.toUpperCase(),
      path.replace('{name}', 'crm').replace(/\{[^}]+\}/g, 'some-id'),
    ]),
  );
  routes.push(['GET', '/openapi.json']);
});
afterAll(() => fx.close());

const guarded = () => routes.filter(([, path]) => !TOKENLESS.has(path));

describe('admin bearer token', () => {
  it('the document lists every route the app serves, and all the routes an operator needs', () => {
    const documented = new Set(Object.keys(doc.paths).map((p) => p.replace(/\{([^}]+)\}/g, ':$1')));
    documented.add('/openapi.json');
    // /ui is the dashboard (an HTML page with a cookie sign-in, test/dashboard/), not part of the API document.
    const served = fx.app.routes.filter((r) => r.method !== 'ALL' && !r.path.startsWith('/ui')).map((r) => r.path);
    expect(served.filter((p) => !documented.has(p))).toEqual([]);
    for (const path of [
      '/destinations',
      '/events',
      '/events/{id}',
      '/events/{id}/replay',
      '/destinations/{name}/replay',
      '/destinations/{name}/pause',
      '/destinations/{name}/resume',
      '/metrics',
      '/healthz',
      '/readyz',
    ]) {
      expect(doc.paths).toHaveProperty([path]);
    }
    expect(guarded().length).toBeGreaterThanOrEqual(9);
  });

  it('answers 401 unauthorized on every guarded route without a token, with a wrong one, or with another scheme', async () => {
    const wrong = [
      undefined,
      'Bearer wrong',
      `Bearer ${TOKEN.slice(0, -1)}x`, // same length
      `Bearer ${TOKEN}x`, // a prefix of it matches
      `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`,
      TOKEN,
      'Bearer ',
    ];
    for (const [method, path] of guarded()) {
      for (const authorization of wrong) {
        const res = await fx.app.request(path, {
          method,
          headers: authorization === undefined ? {} : { authorization },
        });
        expect(res.status, `${method} ${path} with ${authorization}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
      }
    }
    // Nothing was done on the way: the destination is not paused, nothing was replayed.
    expect(fx.scheduler.state('crm')?.paused).toBe(false);
  });

  it('lets the right token through on every guarded route (scheme name in any case)', async () => {
    for (const [method, path] of guarded()) {
      for (const authorization of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`]) {
        const res = await fx.app.request(path, { method, headers: { authorization } });
        expect(res.status, `${method} ${path}`).not.toBe(401);
      }
    }
    await fx.admin('/destinations/crm/resume', { method: 'POST' });
  });

  it('declares the bearer scheme in the document: on every route but the health checks', () => {
    expect(Object.values(doc.components.securitySchemes)).toContainEqual({ type: 'http', scheme: 'bearer' });
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const op of Object.values(ops)) expect(op.security, path).toEqual(OPEN.has(path) ? [] : [{ bearer: [] }]);
    }
  });

  it('serves /healthz, /readyz and /openapi.json without a token, and unknown paths only say 401 without one', async () => {
    expect(PUBLIC_PATHS).toEqual(OPEN);
    for (const path of TOKENLESS) expect((await fx.app.request(path)).status, path).toBe(200);
    // The document is still refused to a foreign Host (DNS rebinding), as the data routes are.
    const foreign = await fx.app.request('/openapi.json', { headers: { host: 'evil.example' } });
    expect(foreign.status).toBe(403);
    expect((await fx.app.request('/nope')).status).toBe(401);
    const res = await fx.admin('/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no route GET /nope' } });
  });

  it('refuses an empty token rather than opening the routes', () => {
    const deps = {
      journal: fx.journal,
      scheduler: fx.scheduler,
      destinations: fx.config.destinations,
      metrics: fx.metrics,
      reporter: fx.reporter,
      isReady: () => true,
    };
    expect(() => createAdminApp({ ...deps, token: '' })).toThrow(/must not be empty/);
  });
});

describe('admin without a configured token', () => {
  it('is not open: the gateway makes a token, and every guarded route needs it', async () => {
    const fx = await startAdminFixture({ destinations: { crm: { url: 'http://127.0.0.1:9/' } }, token: null });
    try {
      for (const [method, path] of guarded()) {
        const res = await fx.app.request(path, { method });
        expect(res.status, `${method} ${path}`).toBe(401);
      }
      expect(fx.token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 bytes, base64url
      expect((await fx.admin('/destinations')).status).toBe(200);
      expect((await fx.admin('/openapi.json')).status).toBe(200);
    } finally {
      await fx.close();
    }
  });
});
