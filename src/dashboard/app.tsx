/**
 * The dashboard's routes, mounted at /ui on the admin listener (after its Host and Origin check).
 *
 * Sign-in takes the admin token once, in a password field (an address that keeps sending wrong ones
 * waits: sign-in-limit.ts), and answers a sign-in cookie: HttpOnly
 * (no script reads it), SameSite=Strict (no other site's page sends it), Path=/ui (the API's routes
 * never see it: they take the bearer token only). It cannot be Secure: the admin listener speaks
 * plain HTTP on loopback, and a Secure cookie is never sent over plain HTTP (behind a TLS proxy,
 * the proxy may add the flag). Every change (POST) also needs the sign-in's CSRF token in the
 * X-CSRF-Token header (the sign-out form: in a field), and the admin app has already refused a
 * foreign Origin. Without a sign-in, nothing but the sign-in form and the static files answers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpBindings } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Child } from 'hono/jsx';
import { streamSSE } from 'hono/streaming';
import type { Config } from '../config/schema.js';
import { safeEqual } from '../senders/signature.js';
import { ActionRefused, type Actions } from './actions.js';
import type { Assets } from './assets.js';
import { bodyView } from './body-view.js';
import type { History } from './history.js';
import type { LiveSnapshot } from './live.js';
import { DashboardPage, SignInPage } from './page.js';
import { createSignInLimit, type SignInLimit } from './sign-in-limit.js';
import { csrfMatches, type SignIns } from './sign-ins.js';

export const SESSION_COOKIE = 'sluice_signin';

/**
 * The cookie's name on this listener: cookies are kept per host, not per port, so two gateways on
 * one machine would otherwise overwrite each other's sign-in (`sluice_signin_8081`).
 */
function cookieName(c: Context): string {
  const port = new URL(c.req.url).port;
  return port ? `${SESSION_COOKIE}_${port}` : SESSION_COOKIE;
}

export interface DashboardAppDeps {
  token: string;
  signIns: SignIns;
  assets: Assets;
  actions: Actions;
  history: History;
  live: { snapshot(): Promise<LiveSnapshot> };
  config: Pick<Config, 'sources' | 'destinations'>;
  /** A GET on the admin API with the token (the event list and detail: the API's filters and redaction). */
  api: (pathAndQuery: string) => Promise<Response>;
  /** Seconds between live messages; default 1.5. */
  liveIntervalMs?: number;
  /** Ends the live streams at shutdown. */
  signal?: AbortSignal;
  /** The backoff on failed sign-ins; default `createSignInLimit()`. */
  signInLimit?: SignInLimit;
}

/** Only this origin's files; no frames; forms post here only. */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // uPlot positions its parts with inline style attributes.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export function createDashboardApp(deps: DashboardAppDeps): Hono {
  const app = new Hono();
  const interval = deps.liveIntervalMs ?? 1500;
  const signInLimit = deps.signInLimit ?? createSignInLimit();

  app.use('*', async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    // Not no-referrer: under it Chromium sends `Origin: null` with a form, which the Origin check refuses.
    c.header('Referrer-Policy', 'same-origin');
    if (!c.req.path.startsWith('/ui/assets/')) {
      c.header('Cache-Control', 'no-store');
      c.header('Content-Security-Policy', CSP);
    }
  });

  app.get('/assets/:name', (c) => {
    const asset = deps.assets.get(c.req.param('name'));
    if (!asset) return c.text('not found', 404);
    // The URL names the content's hash: a matching one may be kept for good, another is revalidated.
    const immutable = c.req.query('v') === asset.hash;
    return c.body(new Uint8Array(asset.body), 200, {
      'Content-Type': asset.type,
      'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      ETag: `"${asset.hash}"`,
    });
  });

  const signInOf = (c: Context) => deps.signIns.get(getCookie(c, cookieName(c)));

  app.get('/', async (c) => {
    const signIn = signInOf(c);
    if (!signIn) return c.html(document(<SignInPage assets={deps.assets} />));
    const snapshot = await deps.live.snapshot();
    return c.html(
      document(
        <DashboardPage
          assets={deps.assets}
          csrf={signIn.csrf}
          snapshot={snapshot}
          sources={Object.keys(deps.config.sources)}
          sampleSeconds={deps.history.intervalMs / 1000}
        />,
      ),
    );
  });

  app.post('/login', async (c) => {
    // The peer's address (absent under `app.request()`, where all callers share one backoff).
    const env = c.env as Partial<HttpBindings> | undefined;
    const address = env?.incoming?.socket?.remoteAddress ?? 'unknown';
    const wait = signInLimit.retryAfter(address);
    if (wait > 0) {
      const error = `Too many wrong tokens from this address: try again in ${wait} s.`;
      return c.html(document(<SignInPage assets={deps.assets} error={error} />), 429, {
        'Retry-After': String(wait),
      });
    }
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    if (!token || !safeEqual(token, deps.token)) {
      signInLimit.failed(address);
      return c.html(document(<SignInPage assets={deps.assets} error="That is not the admin token." />), 401);
    }
    signInLimit.succeeded(address);
    const signIn = deps.signIns.create();
    setCookie(c, cookieName(c), signIn.id, {
      path: '/ui',
      httpOnly: true,
      sameSite: 'Strict',
      maxAge: Math.floor((signIn.expiresAt - Date.now()) / 1000),
    });
    return c.redirect('/ui', 303);
  });

  app.post('/logout', async (c) => {
    const signIn = signInOf(c);
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const sent = c.req.header('x-csrf-token') ?? (typeof form.csrf === 'string' ? form.csrf : undefined);
    if (signIn && !csrfMatches(signIn, sent)) return c.json(refusal('csrf', 'missing or wrong CSRF token'), 403);
    deps.signIns.delete(signIn?.id);
    deleteCookie(c, cookieName(c), { path: '/ui' });
    return c.redirect('/ui', 303);
  });

  // Everything under /ui/api needs a sign-in; a change needs its CSRF token too.
  app.use('/api/*', async (c, next) => {
    const signIn = signInOf(c);
    if (!signIn) return c.json(refusal('unauthorized', 'sign in first'), 401);
    if (c.req.method !== 'GET' && !csrfMatches(signIn, c.req.header('x-csrf-token')))
      return c.json(refusal('csrf', 'missing or wrong CSRF token'), 403);
    return next();
  });

  app.get('/api/live', (c) =>
    streamSSE(c, async (stream) => {
      let sentSamples = -1;
      const stop = new AbortController();
      const end = () => stop.abort();
      stream.onAbort(end);
      // The gateway's signal outlives every stream: its listener goes when this stream ends, or a
      // tab open for hours would leave one per stream it ever opened.
      deps.signal?.addEventListener('abort', end, { once: true });
      if (deps.signal?.aborted) end();
      try {
        while (!stop.signal.aborted) {
          const snapshot = await deps.live.snapshot();
          await stream.writeSSE({ event: 'live', data: JSON.stringify(snapshot) });
          // The charts: all of the last hour at first, again after each new sample (every 10 s).
          const samples = snapshot.destinations.reduce((n, d) => n + (deps.history.samples(d.name).at(-1)?.at ?? 0), 0);
          if (samples !== sentSamples) {
            sentSamples = samples;
            const history = Object.fromEntries(
              snapshot.destinations.map((d) => [d.name, deps.history.samples(d.name)]),
            );
            await stream.writeSSE({ event: 'history', data: JSON.stringify(history) });
          }
          // Removes its abort listener when the time is up, so ticks do not pile listeners up.
          await sleep(interval, undefined, { signal: stop.signal }).catch(() => undefined);
        }
      } finally {
        deps.signal?.removeEventListener('abort', end);
      }
    }),
  );

  app.get('/api/events', async (c) => {
    const query = new URL(c.req.url).search;
    return forward(await deps.api(`/events${query}`));
  });

  app.get('/api/events/:id', async (c) => {
    const res = await deps.api(`/events/${encodeURIComponent(c.req.param('id'))}`);
    if (res.status !== 200) return forward(res);
    const event = (await res.json()) as EventDetail;
    const contentType = event.headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1];
    return c.json({
      ...event,
      body_view: bodyView(event.body, event.body_encoding, contentType),
      deliveries: event.deliveries.map((d) => ({
        ...d,
        attempt_log: d.attempt_log.map((a) => ({
          ...a,
          response_view: a.response === null ? null : bodyView(a.response, a.response_encoding ?? 'utf8', undefined),
        })),
      })),
    });
  });

  /** Runs an action on the path's `name` (a configured destination) or `id` (an event); answers its count. */
  const act = (run: (param: string) => Promise<unknown>) => async (c: Context) => {
    const name = c.req.param('name');
    if (name !== undefined && !(name in deps.config.destinations))
      return c.json(refusal('not_found', `no destination "${name}"`), 404);
    try {
      const count = await run(name ?? c.req.param('id') ?? '');
      return c.json({ ok: true, ...(typeof count === 'number' && { count }) });
    } catch (error) {
      if (error instanceof ActionRefused) return c.json(refusal('refused', error.message), error.status);
      throw error;
    }
  };
  app.post('/api/destinations/:name/pause', act(deps.actions.pause));
  app.post('/api/destinations/:name/resume', act(deps.actions.resume));
  app.post('/api/destinations/:name/replay-dead', act(deps.actions.replayDead));
  app.post('/api/events/:id/replay', act(deps.actions.replayEvent));

  return app;
}

interface EventDetail {
  headers: [string, string][];
  body: string;
  body_encoding: 'utf8' | 'base64';
  deliveries: {
    attempt_log: { response: string | null; response_encoding: 'utf8' | 'base64' | null }[];
  }[];
}

/** A page with its doctype: without one the browser lays it out in quirks mode. */
function document(page: Child): string {
  return `<!doctype html>${page}`;
}

function refusal(code: string, message: string) {
  return { error: { code, message } };
}

/** The API's answer as it is (status, JSON), without its other headers. */
async function forward(res: Response): Promise<Response> {
  return new Response(await res.text(), {
    status: res.status,
    headers: { 'Content-Type': res.headers.get('content-type') ?? 'application/json' },
  });
}
