/**
 * The public listener takes a source's exact path straight from Node's request event, and the Hono
 * app takes it through its router and Node adapter: the same requests must get the same answers
 * (status, headers that carry meaning, body) either way, and the listener must hand every other
 * path to the Hono app.
 */
import { sign } from '@octokit/webhooks-methods';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { ingestFixture, listen } from '../helpers/ingest.js';

const SECRET = 'gh-s3cret';
const BODY = '{"id":"evt_1"}';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const MEANINGFUL = [
  'content-type',
  'content-length',
  'allow',
  'retry-after',
  'www-authenticate',
  'connection',
  'x-content-type-options',
  'cache-control',
];

type Send = { method: string; path: string; headers?: Record<string, string>; body?: string };

async function answer(base: string, send: Send) {
  const res = await request(`${base}${send.path}`, {
    method: send.method as 'POST',
    headers: send.headers ?? {},
    ...(send.body !== undefined && { body: send.body }),
  });
  const text = (await res.body.text()).replace(/"id":"[0-9a-f-]{36}"/, '"id":"<id>"');
  const headers = Object.fromEntries(
    MEANINGFUL.flatMap((name) => (res.headers[name] === undefined ? [] : [[name, res.headers[name]]])),
  );
  // Keep-alive is Node's default either way; only an explicit close matters.
  if (headers.connection === 'keep-alive') delete headers.connection;
  return { status: res.statusCode, headers, body: text };
}

async function setup(options: Parameters<typeof ingestFixture>[0] = {}) {
  const fixture = ingestFixture({
    maxBody: '1kb',
    sources: {
      shop: { path: '/in/shop', to: 'crm', methods: ['POST', 'PUT'], response: { status: 200 } },
      gh: { path: '/in/gh', to: 'crm', verify: { type: 'github', secret: SECRET } },
      meta: { path: '/in/meta', to: 'crm', handshake: { type: 'meta', verify_token: 'tok' } },
      walled: { path: '/in/walled', to: 'crm', allow_ips: ['10.0.0.0/8'] },
      auth: { path: '/in/auth', to: 'crm', verify: { type: 'bearer', token: 'b34rer-t0ken' } },
    },
    ...options,
  });
  const direct = await listen(fixture);
  const viaHono = await listen(fixture.app);
  cleanup.push(
    () => fixture.close(),
    () => direct.close(),
    () => viaHono.close(),
  );
  return { fixture, direct, viaHono };
}

describe('the public listener', () => {
  it('answers every rule of a source as the Hono app does', async () => {
    const { fixture, direct, viaHono } = await setup();
    const requests: Send[] = [
      { method: 'POST', path: '/in/shop?a=1', body: BODY, headers: { 'content-type': 'application/json' } },
      { method: 'PUT', path: '/in/shop', body: BODY },
      { method: 'DELETE', path: '/in/shop' },
      { method: 'HEAD', path: '/in/shop' },
      { method: 'POST', path: '/in/shop', body: 'x'.repeat(2000) },
      { method: 'POST', path: '/in/gh', body: BODY, headers: { 'x-hub-signature-256': await sign(SECRET, BODY) } },
      { method: 'POST', path: '/in/gh', body: BODY, headers: { 'x-hub-signature-256': await sign('wrong', BODY) } },
      { method: 'POST', path: '/in/auth', body: BODY, headers: { authorization: 'Bearer nope' } },
      { method: 'GET', path: '/in/meta?hub.mode=subscribe&hub.verify_token=tok&hub.challenge=42' },
      { method: 'GET', path: '/in/meta?hub.mode=subscribe&hub.verify_token=bad&hub.challenge=42' },
      { method: 'POST', path: '/in/walled', body: BODY },
      { method: 'POST', path: '/in/none', body: BODY },
      { method: 'GET', path: '/healthz' },
    ];
    for (const send of requests) {
      const expected = await answer(viaHono.url, send);
      expect({ send, ...(await answer(direct.url, send)) }).toEqual({ send, ...expected });
    }
    // Each stored what it accepted: shop's POST and PUT, and gh's signed POST.
    expect(await fixture.stored()).toBe(6);
  });

  it('answers 503 with Retry-After while shutting down, as the Hono app does', async () => {
    let accepting = true;
    const { direct, viaHono } = await setup({ accepting: () => accepting });
    accepting = false;
    const send = { method: 'POST', path: '/in/shop', body: BODY };
    const expected = await answer(viaHono.url, send);
    expect(expected).toMatchObject({ status: 503, headers: { 'retry-after': '5' } });
    expect(await answer(direct.url, send)).toEqual(expected);
  });

  it('takes a source path only as written: a percent-encoded one goes through Hono, to the same source', async () => {
    const { fixture, direct } = await setup();
    const res = await answer(direct.url, { method: 'POST', path: '/in/%73hop', body: BODY });
    expect(res).toMatchObject({ status: 200, body: '{"id":"<id>"}' });
    expect(fixture.accepted).toHaveLength(1);
  });
});
