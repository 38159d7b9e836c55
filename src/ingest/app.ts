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
 */
import type { HttpBindings } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { type Config, sourceForward, type TrustProxy } from '../config/schema.js';
import type { GatewayEvents } from '../events.js';
import type { AppendResult, HeaderPair, Journal } from '../journal/port.js';
import type { Logger } from '../log.js';
import { credentialHeaders, withoutHeaders } from '../senders/credentials.js';
import { createHandshakes, type Handshakes } from '../senders/handshakes.js';
import type { HandshakeAnswer, VerifyRequest } from '../senders/provider.js';
import { authenticateChallenge, createVerifier } from '../senders/registry.js';
import { clientAddress, createAllowList, createProxyTrust, type ProxyTrust } from './allow-ips.js';
import { type BodyHold, createBodyBudget, readBody } from './body.js';
import { extractDedupeKey, resolveDedupe } from './dedupe.js';
import { createOrderKeyReader } from './order-keys.js';

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

/** Seconds a sender is asked to wait when the journal cannot take its event. */
export const RETRY_AFTER_SECONDS = 5;

type Env = { Bindings: Partial<HttpBindings> };

/** Builds the ingest Hono app (mount it on the public listener). */
export function createIngestApp(options: IngestOptions): Hono<Env> {
  const { journal, logger, events } = options;
  const isAccepting = options.isAccepting ?? (() => true);
  const clock = options.clock ?? Date.now;
  const app = new Hono<Env>();
  const budget = createBodyBudget(options.maxInflightBody ?? Number.POSITIVE_INFINITY);
  const proxyTrust = createProxyTrust(options.trustProxy ?? false, options.trustedProxies);

  app.notFound((c) => errorResponse(c, 404, 'not_found', `no source listens on ${c.req.path}`));
  app.onError((error, c) => {
    logger.error({ err: error, path: c.req.path }, 'ingest request failed');
    return unavailable(c, 'internal error; the event was not stored');
  });

  if (options.before) app.route('/', options.before);
  for (const [sourceName, source] of Object.entries(options.sources)) {
    const verify = source.verify ? createVerifier(source.verify) : undefined;
    const challenge = source.verify ? authenticateChallenge(source.verify) : undefined;
    const handshakes = createHandshakes(source);
    const dedupe = resolveDedupe(source);
    const readOrderKeys = createOrderKeyReader(source.to, options.destinations ?? {});
    // Dropped before the journal: the consumer and the journal's backups get no credential of the sender.
    const credentials = sourceForward(source).credentials ? undefined : credentialHeaders(source.verify);
    // Registered in this order, so they run in it: allow_ips, then GET handshakes, then the rest.
    const rejected = () => events.emit('ingest:received', { source: sourceName, outcome: 'rejected' });
    if (source.allow_ips) app.use(source.path, ipGuard(sourceName, source.allow_ips, proxyTrust, logger, rejected));
    if (handshakes) app.use(source.path, handshakeGuard(sourceName, handshakes, logger));
    const allow = source.methods.join(', ');
    // One handler, not a chain of middlewares: each link of Hono's chain costs a promise and a
    // closure per request, on the thread that is the ingest limit.
    app.all(source.path, async (c) => {
      if (!(source.methods as readonly string[]).includes(c.req.method)) {
        // 405 with `Allow` for methods the source does not take.
        c.header('Allow', allow);
        rejected();
        return errorResponse(c, 405, 'method_not_allowed', `${c.req.method} is not accepted here; use ${allow}`);
      }
      // 503 while shutting down, before the body is read.
      if (!isAccepting()) return unavailable(c, 'shutting down');
      // The request's share of `server.max_inflight_body`, given back once the handler is done with
      // the body: after the journal has answered, or when reading failed (a sender cut off by request_timeout).
      const hold = budget.open();
      try {
        return await accept(c, hold);
      } finally {
        hold.release();
      }
    });

    const accept = async (c: Context<Env>, hold: BodyHold): Promise<Response> => {
      const incoming = c.env?.incoming;
      let body: Uint8Array | 'too_large' | 'over_budget';
      try {
        body = await readBody(c, options.maxBody, hold);
      } catch (error) {
        logger.debug({ err: error, source: sourceName }, 'request body could not be read');
        rejected();
        return errorResponse(c, 400, 'bad_request', 'request body could not be read');
      }
      if (body === 'too_large') {
        // The rest of the body is not read: don't let the client reuse a connection with bytes left in it.
        c.header('Connection', 'close');
        rejected();
        return errorResponse(c, 413, 'payload_too_large', `body larger than ${options.maxBody} bytes`);
      }
      if (body === 'over_budget') {
        // Stop reading: the bytes left on the connection would only be held again.
        c.header('Connection', 'close');
        logger.warn({ source: sourceName, held: budget.held() }, 'server.max_inflight_body reached: answered 503');
        events.emit('ingest:received', { source: sourceName, outcome: 'unavailable' });
        return unavailable(c, 'too many request bodies are being received; retry later');
      }
      const now = clock();
      const request: VerifyRequest = { headers: requestHeaders(c), body, now };
      if (verify) {
        const verdict = verify(request);
        if (!verdict.ok) {
          logger.warn(
            { source: sourceName, reason: verdict.reason, remoteAddr: incoming?.socket?.remoteAddress },
            'request failed verification: answered 401, not stored',
          );
          rejected();
          if (challenge) c.header('WWW-Authenticate', challenge);
          return errorResponse(c, 401, 'signature_invalid', `verification failed: ${verdict.reason}`);
        }
      }
      const handshake = handshakes?.afterVerify(request);
      if (handshake) return answerHandshake(c, sourceName, handshake, logger);
      const headers = incoming ? pairs(incoming.rawHeaders) : [...c.req.raw.headers];
      const key = dedupe && extractDedupeKey(dedupe.spec, headers, body);
      const orderKeys = readOrderKeys?.(headers, body);
      let stored: AppendResult;
      try {
        stored = await journal.append({
          source: sourceName,
          method: c.req.method,
          path: c.req.path,
          query: queryString(c.req.url),
          headers: credentials ? withoutHeaders(headers, credentials) : headers,
          body,
          remoteAddr: incoming?.socket?.remoteAddress ?? null,
          receivedAt: now,
          destinations: source.to,
          ...(key && { dedupe: { key, until: now + dedupe.windowMs } }),
          ...(orderKeys && { orderKeys }),
        });
      } catch (error) {
        logger.error({ err: error, source: sourceName }, 'journal write failed; answered 503');
        events.emit('ingest:received', { source: sourceName, outcome: 'unavailable' });
        return unavailable(c, 'the journal cannot store events right now');
      }
      if (stored.duplicate) {
        logger.debug(
          { source: sourceName, eventId: stored.id, key },
          'duplicate: answered as the original, not stored',
        );
        events.emit('ingest:received', { source: sourceName, outcome: 'duplicate' });
      } else {
        events.emit('ingest:received', { source: sourceName, outcome: 'accepted' });
        events.emit('ingest:accepted', { event: stored, destinations: source.to });
      }
      // A duplicate gets the same answer as the original: the same status and the original's id.
      return c.json({ id: stored.id }, source.response.status as 200);
    };
  }
  return app;
}

/** 403 for a client address outside the source's `allow_ips`, before anything else is looked at. */
function ipGuard(
  sourceName: string,
  allowIps: string[],
  trust: ProxyTrust | undefined,
  logger: Logger,
  rejected: () => void,
) {
  const list = createAllowList(allowIps);
  return async function ipGuard(c: Context<Env>, next: () => Promise<void>) {
    const peer = c.env?.incoming?.socket?.remoteAddress;
    const client = clientAddress(peer, requestHeaders(c).get('x-forwarded-for'), trust);
    if (!list.allows(client)) {
      logger.warn({ source: sourceName, client, peer }, 'client address not in allow_ips: answered 403');
      rejected();
      return errorResponse(c, 403, 'ip_not_allowed', `${client ?? 'this client'} may not send to ${c.req.path}`);
    }
    await next();
  };
}

/** Handshakes recognised by method and query (the GET ones), answered before the method check. */
function handshakeGuard(sourceName: string, handshakes: Handshakes, logger: Logger) {
  return async function handshakeGuard(c: Context<Env>, next: () => Promise<void>) {
    const answer = handshakes.beforeBody(c.req.method, new URLSearchParams(queryString(c.req.url)));
    if (answer) return answerHandshake(c, sourceName, answer, logger);
    await next();
  };
}

function answerHandshake(c: Context, sourceName: string, answer: HandshakeAnswer, logger: Logger) {
  if (answer.status !== 200) {
    logger.warn({ source: sourceName, reason: answer.message }, `handshake refused: answered ${answer.status}`);
    return errorResponse(c, answer.status, answer.code, answer.message);
  }
  logger.info({ source: sourceName }, 'handshake answered (not stored)');
  return c.body(answer.body, 200, {
    'Content-Type': answer.contentType,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  });
}

/**
 * Case-insensitive header lookup. On the real listener it reads Node's parsed headers (repeats
 * joined with ", ", as `Headers.get` does), so no web Request is built just to look at a header.
 */
function requestHeaders(c: Context<Env>): Pick<Headers, 'get'> {
  const incoming = c.env?.incoming;
  if (!incoming) return c.req.raw.headers;
  return {
    get(name) {
      const value = incoming.headers[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

function unavailable(c: Context, message: string) {
  c.header('Retry-After', String(RETRY_AFTER_SECONDS));
  return errorResponse(c, 503, 'unavailable', message);
}

function errorResponse(c: Context, status: 400 | 401 | 403 | 404 | 405 | 413 | 503, code: string, message: string) {
  return c.json({ error: { code, message } }, status);
}

/** Node's flat rawHeaders list → [name, value] pairs, original case and order, repeats kept. */
function pairs(raw: string[]): HeaderPair[] {
  const out: HeaderPair[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

function queryString(url: string): string {
  const i = url.indexOf('?');
  return i === -1 ? '' : url.slice(i + 1);
}
