/**
 * Ingest: the public HTTP side. Each configured source path takes webhooks, journals them and
 * acknowledges only once the journal's commit holding the event has returned (group commit:
 * concurrent requests share one fsync; none is acknowledged before its commit).
 *
 *   unknown path → 404 · client address not in the source's allow_ips → 403
 *   GET handshake (meta, dropbox, graph; see senders/handshakes.ts) → answered, whatever `methods` says
 *   method the source does not take → 405 (with Allow)
 *   body over server.max_body (by Content-Length, or counted as a chunked body streams) → 413
 *   body that would pass server.max_inflight_body, all requests together → 503 with Retry-After
 *   verification fails (senders/<type>.ts) → 401 `signature_invalid`, reason logged, nothing stored
 *   signed handshake (slack, zoom), once verified → answered
 *   journal cannot commit, or Sluice is shutting down → 503 with Retry-After
 *   otherwise → the source's response status (default 202) with `{"id": "<event id>"}`
 * Handshakes and refused requests are never journaled, so never forwarded. Nor are the sender's
 * credentials (senders/credentials.ts), unless the source sets `forward.credentials`.
 *
 * The rules are source-handler.ts. The public listener (listener.ts) takes a source's exact path
 * straight from Node's request event and hands everything else to the Hono app built here: the
 * health routes, 404s, and any path only Hono's URL parsing resolves to a source. The Hono app
 * serves the sources too, through the same handlers, so `app.request()` tests the same rules.
 */
import type { RequestListener } from 'node:http';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { HttpBindings } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import type { Config, TrustProxy } from '../config/schema.js';
import type { GatewayEvents } from '../events.js';
import type { Journal } from '../journal/port.js';
import type { Logger } from '../log.js';
import { createProxyTrust } from './allow-ips.js';
import { createBodyBudget } from './body.js';
import { createIngestListener, nodeRequest, splitUrl } from './listener.js';
import {
  createSourceHandler,
  errorAnswer,
  type IngestAnswer,
  type IngestRequest,
  type SourceHandler,
  unavailable,
} from './source-handler.js';

/** What the ingest app needs from the rest of the gateway. */
export interface IngestOptions {
  sources: Config['sources'];
  /** The destinations' `ordering` (a keyed one has its key read at ingest); absent: none orders by key. */
  destinations?: Readonly<Record<string, Pick<Config['destinations'][string], 'ordering'>>>;
  maxBody: number;
  journal: Journal;
  logger: Logger;
  /**
   * Where ingest reports: `ingest:received` with the outcome of every request to a source, and
   * `ingest:accepted` for each journaled event (so the scheduler can start on it without polling).
   */
  events: GatewayEvents;
  /** Routes served ahead of the sources (the health checks), under the same 404 and error handling. */
  before?: Hono;
  /** False once shutdown began: new requests get 503 so senders retry elsewhere or later. */
  isAccepting?: () => boolean;
  /** `server.trust_proxy`: whether X-Forwarded-For names the client for `allow_ips` (default false). */
  trustProxy?: TrustProxy;
  /** `server.trusted_proxies`: the peers whose X-Forwarded-For is believed. */
  trustedProxies?: readonly string[] | undefined;
  /** `server.max_inflight_body`: body bytes held at once across all requests (default: unbounded). */
  maxInflightBody?: number;
  clock?: () => number;
}

type Env = { Bindings: Partial<HttpBindings> };

/** The ingest side: the Hono app, and the request listener of the public server (which falls through to it). */
export interface Ingest {
  app: Hono<Env>;
  listener: RequestListener;
}

/** Builds the ingest side (serve `listener` on the public server; `app.request()` for route tests). */
export function createIngest(options: IngestOptions): Ingest {
  const { logger } = options;
  const deps = {
    journal: options.journal,
    logger,
    events: options.events,
    destinations: options.destinations ?? {},
    maxBody: options.maxBody,
    budget: createBodyBudget(options.maxInflightBody ?? Number.POSITIVE_INFINITY),
    proxyTrust: createProxyTrust(options.trustProxy ?? false, options.trustedProxies),
    isAccepting: options.isAccepting ?? (() => true),
    clock: options.clock ?? Date.now,
  };
  const app = new Hono<Env>();
  app.notFound((c) => toResponse(c, errorAnswer(404, 'not_found', `no source listens on ${c.req.path}`)));
  app.onError((error, c) => {
    logger.error({ err: error, path: c.req.path }, 'ingest request failed');
    return toResponse(c, unavailable('internal error; the event was not stored'));
  });
  if (options.before) app.route('/', options.before);

  const handlers = new Map<string, SourceHandler>();
  for (const [sourceName, source] of Object.entries(options.sources)) {
    const handle = createSourceHandler(sourceName, source, deps);
    handlers.set(source.path, handle);
    app.all(source.path, async (c) => toResponse(c, await handle(fromContext(c))));
  }
  // Every source's path goes to the listener: none is a health route's (config/schema.ts refuses them).
  return { app, listener: createIngestListener(handlers, app.fetch, logger) };
}

/** A Hono request as the rules read it: Node's request when there is one, else the web Request. */
function fromContext(c: Context<Env>): IngestRequest {
  const [, query] = splitUrl(c.req.url);
  const incoming = c.env?.incoming;
  if (incoming) return nodeRequest(incoming, c.req.path, query);
  const { raw } = c.req;
  return {
    method: c.req.method,
    path: c.req.path,
    query,
    headers: raw.headers,
    headerPairs: () => [...raw.headers],
    remoteAddr: undefined,
    body: () => (raw.body ? Readable.fromWeb(raw.body as WebReadableStream) : null),
  };
}

function toResponse(c: Context<Env>, answer: IngestAnswer): Response {
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < answer.headers.length; i += 2) headers[answer.headers[i]!] = answer.headers[i + 1]!;
  return c.body(answer.body, answer.status as 200, headers);
}
