/**
 * The dashboard's routes through the admin app (`app.request()`), over the gateway's real parts:
 * sign-in and its cookie, nothing without a sign-in, CSRF refusals, the live stream's auth, the
 * actions and their `admin:action` in the activity list, the event inspector and the assets.
 */
import { describe, expect, it } from 'vitest';
import { type AdminFixture, adminTest, startAdminFixture } from '../helpers/admin.js';
import { startReceiver } from '../helpers/receiver.js';

const t = adminTest();

async function signIn(fx: AdminFixture): Promise<{ cookie: string; csrf: string }> {
  const res = await fx.app.request('/ui/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: fx.token }).toString(),
  });
  expect(res.status).toBe(303);
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  const page = await (await fx.app.request('/ui', { headers: { cookie } })).text();
  const csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(page)![1]!;
  return { cookie, csrf };
}

/** Reads a live stream until `text` appears (bounded), then cancels it. */
async function readStream(res: Response, text: string, limitMs = 10_000): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let seen = '';
  const deadline = Date.now() + limitMs;
  while (!seen.includes(text) && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += decoder.decode(value);
  }
  await reader.cancel();
  return seen;
}

describe('dashboard routes', () => {
  it('shows only the sign-in form without a sign-in, and no data', async () => {
    const fx = (t.fx = await startAdminFixture({ destinations: { crm: { url: 'http://127.0.0.1:9/' } } }));
    const page = await fx.app.request('/ui');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/^<!doctype html><html lang="en">/);
    expect(html).toContain('type="password"');
    expect(html).not.toContain('crm');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    for (const path of ['/ui/api/live', '/ui/api/events', '/ui/api/events/x']) {
      expect((await fx.app.request(path)).status, path).toBe(401);
    }
    const pause = await fx.app.request('/ui/api/destinations/crm/pause', { method: 'POST' });
    expect(pause.status).toBe(401);
    expect(fx.scheduler.state('crm')?.paused).toBe(false);
    // A made-up cookie is no sign-in.
    expect((await fx.app.request('/ui/api/events', { headers: { cookie: 'sluice_signin=forged' } })).status).toBe(401);
  });

  it('signs in with the admin token only, with an HttpOnly SameSite=Strict cookie on /ui', async () => {
    const fx = (t.fx = await startAdminFixture({ destinations: { crm: { url: 'http://127.0.0.1:9/' } } }));
    const wrong = await fx.app.request('/ui/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=nope',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const res = await fx.app.request('/ui/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: fx.token }).toString(),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/ui');
    const flags = res.headers.get('set-cookie')!;
    expect(flags).toMatch(/^sluice_signin=[A-Za-z0-9_-]{40,};/);
    expect(flags).toContain('HttpOnly');
    expect(flags).toContain('SameSite=Strict');
    expect(flags).toContain('Path=/ui');
    // Plain HTTP on loopback: a Secure cookie would never come back.
    expect(flags).not.toContain('Secure');

    // A sign-in posted from another site's page is refused before the token is looked at.
    const foreign = await fx.app.request('/ui/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: new URLSearchParams({ token: fx.token }).toString(),
    });
    expect(foreign.status).toBe(403);

    // The cookie is no bearer token for the API.
    const cookie = flags.split(';')[0]!;
    expect((await fx.app.request('/destinations', { headers: { cookie } })).status).toBe(401);
  });

  it('makes an address wait after 5 wrong tokens in a minute, even with the right one then', async () => {
    const fx = (t.fx = await startAdminFixture({ destinations: { crm: { url: 'http://127.0.0.1:9/' } } }));
    const login = (token: string) =>
      fx.app.request('/ui/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }).toString(),
      });
    for (let i = 0; i < 5; i++) expect((await login(`wrong-${i}`)).status).toBe(401);
    const refused = await login(fx.token);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('set-cookie')).toBeNull();
    expect(await refused.text()).toContain('try again in');
  });

  it('refuses a change without the CSRF token, or from another origin; logs the ones it makes', async () => {
    const fx = (t.fx = await startAdminFixture({ destinations: { crm: { url: 'http://127.0.0.1:9/' } } }));
    const { cookie, csrf } = await signIn(fx);
    const pause = (headers: Record<string, string>) =>
      fx.app.request('/ui/api/destinations/crm/pause', {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', ...headers },
        body: '{}',
      });
    expect((await pause({})).status).toBe(403);
    expect((await pause({ 'x-csrf-token': 'wrong' })).status).toBe(403);
    expect((await pause({ 'x-csrf-token': csrf, origin: 'http://evil.example' })).status).toBe(403);
    expect(fx.scheduler.state('crm')?.paused).toBe(false);

    const res = await pause({ 'x-csrf-token': csrf, origin: 'http://localhost' });
    expect(res.status).toBe(200);
    expect(fx.scheduler.state('crm')?.paused).toBe(true);
    const unknown = await fx.app.request('/ui/api/destinations/nope/pause', {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: '{}',
    });
    expect(unknown.status).toBe(404);

    // The live stream carries the action with via: 'ui'.
    const live = await fx.app.request('/ui/api/live', { headers: { cookie } });
    expect(live.status).toBe(200);
    expect(live.headers.get('content-type')).toContain('text/event-stream');
    const stream = await readStream(live, 'event: history');
    const snapshot = JSON.parse(/event: live\ndata: (.*)\n/.exec(stream)![1]!);
    expect(snapshot.destinations[0]).toMatchObject({ name: 'crm', view_state: 'paused', backlog: 0 });
    expect(snapshot.activity[0]).toMatchObject({ action: 'pause', target: 'crm', via: 'ui' });

    // Sign-out needs the token too, then the sign-in is gone.
    const noToken = await fx.app.request('/ui/logout', { method: 'POST', headers: { cookie } });
    expect(noToken.status).toBe(403);
    const out = await fx.app.request('/ui/logout', {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf }).toString(),
    });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/sluice_signin=;.*Max-Age=0/);
    expect((await fx.app.request('/ui/api/live', { headers: { cookie } })).status).toBe(401);
  });

  it('inspects an event with its body pretty-printed and its attempts, and replays it', async () => {
    const receiver = (t.receiver = await startReceiver(() => ({ status: 400, body: 'no thanks' })));
    const fx = (t.fx = await startAdminFixture({
      destinations: { crm: { url: receiver.url, retry: { max_attempts: 1 } } },
    }));
    const id = await fx.post('/in/shop', '{"order":{"id":7}}');
    await receiver.waitFor(1);
    const { cookie, csrf } = await signIn(fx);
    let event: any;
    for (let i = 0; i < 100; i++) {
      event = await (await fx.app.request(`/ui/api/events/${id}`, { headers: { cookie } })).json();
      if (event.deliveries[0].status === 'dead') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(event.body_view).toEqual({ kind: 'json', text: '{\n  "order": {\n    "id": 7\n  }\n}', truncated: false });
    expect(event.deliveries[0].attempt_log[0]).toMatchObject({ status: 400, response_view: { text: 'no thanks' } });
    const list: any = await (
      await fx.app.request('/ui/api/events?status=dead&limit=5', { headers: { cookie } })
    ).json();
    expect(list.events.map((e: { id: string }) => e.id)).toEqual([id]);
    const bad = await fx.app.request('/ui/api/events?status=bogus', { headers: { cookie } });
    expect(bad.status).toBe(400);

    const replay = await fx.app.request(`/ui/api/events/${id}/replay`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: '{}',
    });
    expect(await replay.json()).toEqual({ ok: true, count: 1 });
    await receiver.waitFor(2);
  });

  it('serves its assets from the package with content types and cache headers', async () => {
    const fx = (t.fx = await startAdminFixture({ destinations: { crm: { url: 'http://127.0.0.1:9/' } } }));
    const html = await (await fx.app.request('/ui')).text();
    const urls = [...html.matchAll(/(?:href|src)="(\/ui\/assets\/[^"]+)"/g)].map((m) => m[1]!.replaceAll('&amp;', '&'));
    expect(urls.length).toBeGreaterThanOrEqual(2);
    for (const name of ['uplot.js', 'uplot.css', 'common.js', 'dashboard.js', 'events.js', 'dashboard.css']) {
      const res = await fx.app.request(`/ui/assets/${name}`);
      expect(res.status, name).toBe(200);
      expect(res.headers.get('content-type')).toMatch(name.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const hashed = await fx.app.request(urls[0]!);
    expect(hashed.headers.get('cache-control')).toContain('immutable');
    expect((await fx.app.request('/ui/assets/../../package.json')).status).not.toBe(200);
  });
});
