/**
 * Ingest: the public HTTP side. Each configured source path takes webhooks, journals them and
 * acknowledges only once the journal's commit holding the event has returned (group commit:
 * concurrent requests share one fsync; none is acknowledged before its commit).
 *
 *   unknown path → 404 · method the source does not take → 405 (with Allow)
 *   body over server.max_body (by Content-Length, or counted as a chunked body streams) → 413
 *   journal cannot commit, or Sluice is shutting down → 503 with Retry-After
 *   otherwise → the source's response status (default 202) with `{"id": "<event id>"}`
 */
import type { HttpBindings } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import type { Config, SourceConfig } from './config.js';
import type { HeaderPair, Journal, StoredEvent } from './journal.js';
import type { Logger } from './log.js';

/** What the ingest app needs from the rest of the gateway. */
export interface IngestOptions {
  sources: Config['sources'];
  maxBody: number;
  journal: Journal;
  logger: Logger;
  /** Told about each journaled event, so the scheduler can start on it without polling. */
  onAccepted?: (event: StoredEvent, destinations: string[]) => void;
  /** False once shutdown began: new requests get 503 so senders retry elsewhere or later. */
  isAccepting?: () => boolean;
  clock?: () => number;
}

/** Seconds a sender is asked to wait when the journal cannot take its event. */
export const RETRY_AFTER_SECONDS = 5;

type Env = { Bindings: Partial<HttpBindings> };

/** Builds the ingest Hono app (mount it on the public listener). */
export function createIngestApp(options: IngestOptions): Hono<Env> {
  const { journal, logger, onAccepted } = options;
  const isAccepting = options.isAccepting ?? (() => true);
  const clock = options.clock ?? Date.now;
  const app = new Hono<Env>();

  app.notFound((c) => errorResponse(c, 404, 'not_found', `no source listens on ${c.req.path}`));
  app.onError((error, c) => {
    logger.error({ err: error, path: c.req.path }, 'ingest request failed');
    return unavailable(c, 'internal error; the event was not stored');
  });

  for (const [sourceName, source] of Object.entries(options.sources)) {
    app.all(source.path, methodGuard(source), acceptingGuard(isAccepting), async (c) => {
      const incoming = c.env?.incoming;
      let body: Uint8Array | 'too_large';
      try {
        body = await readBody(c, options.maxBody);
      } catch (error) {
        logger.debug({ err: error, source: sourceName }, 'request body could not be read');
        return errorResponse(c, 400, 'bad_request', 'request body could not be read');
      }
      if (body === 'too_large') {
        // The rest of the body is not read: don't let the client reuse a connection with bytes left in it.
        c.header('Connection', 'close');
        return errorResponse(c, 413, 'payload_too_large', `body larger than ${options.maxBody} bytes`);
      }
      let stored: StoredEvent;
      try {
        stored = await journal.append({
          source: sourceName,
          method: c.req.method,
          path: c.req.path,
          query: queryString(c.req.url),
          headers: incoming ? pairs(incoming.rawHeaders) : [...c.req.raw.headers],
          body,
          remoteAddr: incoming?.socket?.remoteAddress ?? null,
          receivedAt: clock(),
          destinations: source.to,
        });
      } catch (error) {
        logger.error({ err: error, source: sourceName }, 'journal write failed; answered 503');
        return unavailable(c, 'the journal cannot store events right now');
      }
      onAccepted?.(stored, source.to);
      return c.json({ id: stored.id }, source.response.status as 200);
    });
  }
  return app;
}

/** 405 with `Allow` for methods the source does not take. */
function methodGuard(source: SourceConfig) {
  const allow = source.methods.join(', ');
  return async function methodGuard(c: Context<Env>, next: () => Promise<void>) {
    if (!source.methods.some((m) => m === c.req.method)) {
      c.header('Allow', allow);
      return errorResponse(c, 405, 'method_not_allowed', `${c.req.method} is not accepted here; use ${allow}`);
    }
    await next();
  };
}

/** 503 while shutting down, before the body is read. */
function acceptingGuard(isAccepting: () => boolean) {
  return async function acceptingGuard(c: Context<Env>, next: () => Promise<void>) {
    if (!isAccepting()) return unavailable(c, 'shutting down');
    await next();
  };
}

function unavailable(c: Context, message: string) {
  c.header('Retry-After', String(RETRY_AFTER_SECONDS));
  return errorResponse(c, 503, 'unavailable', message);
}

function errorResponse(c: Context, status: 400 | 404 | 405 | 413 | 503, code: string, message: string) {
  return c.json({ error: { code, message } }, status);
}

/** Node's flat rawHeaders list → [name, value] pairs, original case and order, repeats kept. */
function pairs(raw: string[]): HeaderPair[] {
  const out: HeaderPair[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

/**
 * Reads the whole body, or answers 'too_large' as soon as it is known to exceed `maxBody`: at once
 * from Content-Length, or while a chunked body streams in. On the real listener the bytes come
 * straight from Node's request stream: going through `c.req` would build a web Request and a web
 * stream for every request (measured: the largest share of ingest CPU after SQLite). `app.request()`
 * has no Node stream and reads the web body the same way.
 */
async function readBody(c: Context<Env>, maxBody: number): Promise<Uint8Array | 'too_large'> {
  const incoming = c.env?.incoming;
  const declared = Number(incoming ? incoming.headers['content-length'] : c.req.header('content-length'));
  if (declared > maxBody) return 'too_large';
  const stream: AsyncIterable<Uint8Array> | null = incoming ?? c.req.raw.body;
  if (!stream) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.byteLength;
    if (size > maxBody) return 'too_large';
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

function queryString(url: string): string {
  const i = url.indexOf('?');
  return i === -1 ? '' : url.slice(i + 1);
}
