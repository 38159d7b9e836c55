/**
 * One source's rules, from the request on its path to the answer (see app.ts for the list), with no
 * HTTP framework in between: the public listener calls it straight from Node's request event
 * (listener.ts), and the Hono app (`app.request()`, and paths that only Hono's URL parsing resolves
 * to a source) through a thin adapter. Both get the same answers, since both run this.
 */
import type { Readable } from 'node:stream';
import { type Config, type SourceConfig, sourceForward } from '../config/schema.js';
import { type GatewayEvents, RECEIVE_OUTCOMES, type ReceiveOutcome } from '../events.js';
import type { AppendResult, HeaderPair, Journal } from '../journal/port.js';
import type { Logger } from '../log.js';
import { credentialHeaders, withoutHeaders } from '../senders/credentials.js';
import { createHandshakes } from '../senders/handshakes.js';
import type { HandshakeAnswer, VerifyRequest } from '../senders/provider.js';
import { authenticateChallenge, createVerifier } from '../senders/registry.js';
import { clientAddress, createAllowList, type ProxyTrust } from './allow-ips.js';
import { type BodyBudget, readBody } from './body.js';
import { extractDedupeKey, resolveDedupe } from './dedupe.js';
import { createOrderKeyReader } from './order-keys.js';

/** Seconds a sender is asked to wait when the journal cannot take its event. */
export const RETRY_AFTER_SECONDS = 5;

/** A request on a source's path, as the rules read it. */
export interface IngestRequest {
  method: string;
  path: string;
  /** The query string, without the '?'. */
  query: string;
  /** Case-insensitive lookup; repeats joined with ", ", as `Headers.get` does. */
  headers: Pick<Headers, 'get'>;
  /** The headers as sent: original case and order, repeats kept (what the journal stores). */
  headerPairs(): HeaderPair[];
  /** The peer's address, on a real listener. */
  remoteAddr: string | undefined;
  /** The body as it streams in; null when there is none. */
  body(): Readable | null;
}

/** What to answer: status, headers as a flat name, value, name, value... list (Content-Type and Content-Length included). */
export interface IngestAnswer {
  status: number;
  headers: string[];
  body: string;
}

/** What every source's handler shares. */
export interface SourceHandlerDeps {
  journal: Journal;
  logger: Logger;
  events: GatewayEvents;
  destinations: Readonly<Record<string, Pick<Config['destinations'][string], 'ordering'>>>;
  maxBody: number;
  budget: BodyBudget;
  proxyTrust: ProxyTrust | undefined;
  isAccepting: () => boolean;
  clock: () => number;
}

/** Answers one request on the source's path; never rejects (an unexpected error is a 503). */
export type SourceHandler = (request: IngestRequest) => Promise<IngestAnswer>;

export function createSourceHandler(sourceName: string, source: SourceConfig, deps: SourceHandlerDeps): SourceHandler {
  const { journal, logger, events, budget, maxBody, isAccepting, clock } = deps;
  const verify = source.verify ? createVerifier(source.verify) : undefined;
  const challenge = source.verify ? authenticateChallenge(source.verify) : undefined;
  const handshakes = createHandshakes(source);
  const dedupe = resolveDedupe(source);
  const readOrderKeys = createOrderKeyReader(source.to, deps.destinations);
  const allowList = source.allow_ips ? createAllowList(source.allow_ips) : undefined;
  // Dropped before the journal: the consumer and the journal's backups get no credential of the sender.
  const credentials = sourceForward(source).credentials ? undefined : credentialHeaders(source.verify);
  const methods = source.methods as readonly string[];
  const allow = source.methods.join(', ');
  const status = source.response.status;
  // One payload per outcome, made once: listeners only read it.
  const received = Object.fromEntries(
    RECEIVE_OUTCOMES.map((outcome) => [outcome, { source: sourceName, outcome }]),
  ) as Record<ReceiveOutcome, { source: string; outcome: ReceiveOutcome }>;
  const report = (outcome: ReceiveOutcome) => events.emit('ingest:received', received[outcome]);

  // One async function per request, the catch-all included: each further one is a promise more.
  return async (request) => {
    try {
      // 403 for a client address outside allow_ips, before anything else is looked at.
      if (allowList) {
        const client = clientAddress(request.remoteAddr, request.headers.get('x-forwarded-for'), deps.proxyTrust);
        if (!allowList.allows(client)) {
          logger.warn(
            { source: sourceName, client, peer: request.remoteAddr },
            'client address not in allow_ips: answered 403',
          );
          report('rejected');
          return errorAnswer(403, 'ip_not_allowed', `${client ?? 'this client'} may not send to ${request.path}`);
        }
      }
      // Handshakes recognised by method and query (the GET ones), answered before the method check.
      if (handshakes) {
        const answer = handshakes.beforeBody(request.method, new URLSearchParams(request.query));
        if (answer) return answerHandshake(sourceName, answer, logger);
      }
      if (!methods.includes(request.method)) {
        report('rejected');
        return errorAnswer(405, 'method_not_allowed', `${request.method} is not accepted here; use ${allow}`, [
          'Allow',
          allow,
        ]);
      }
      // 503 while shutting down, before the body is read.
      if (!isAccepting()) return unavailable('shutting down');
      // The request's share of `server.max_inflight_body`, given back once the handler is done with
      // the body: after the journal has answered, or when reading failed (a sender cut off by request_timeout).
      const hold = budget.open();
      try {
        let body: Uint8Array | 'too_large' | 'over_budget';
        try {
          body = await readBody(request.body(), request.headers.get('content-length'), maxBody, hold);
        } catch (error) {
          logger.debug({ err: error, source: sourceName }, 'request body could not be read');
          report('rejected');
          return errorAnswer(400, 'bad_request', 'request body could not be read');
        }
        if (body === 'too_large') {
          report('rejected');
          // The rest of the body is not read: don't let the client reuse a connection with bytes left in it.
          return errorAnswer(413, 'payload_too_large', `body larger than ${maxBody} bytes`, ['Connection', 'close']);
        }
        if (body === 'over_budget') {
          logger.warn({ source: sourceName, held: budget.held() }, 'server.max_inflight_body reached: answered 503');
          report('unavailable');
          // Stop reading: the bytes left on the connection would only be held again.
          return unavailable('too many request bodies are being received; retry later', ['Connection', 'close']);
        }
        const now = clock();
        const verifyRequest: VerifyRequest = { headers: request.headers, body, now };
        if (verify) {
          const verdict = verify(verifyRequest);
          if (!verdict.ok) {
            logger.warn(
              { source: sourceName, reason: verdict.reason, remoteAddr: request.remoteAddr },
              'request failed verification: answered 401, not stored',
            );
            report('rejected');
            return errorAnswer(
              401,
              'signature_invalid',
              `verification failed: ${verdict.reason}`,
              challenge ? ['WWW-Authenticate', challenge] : undefined,
            );
          }
        }
        const handshake = handshakes?.afterVerify(verifyRequest);
        if (handshake) return answerHandshake(sourceName, handshake, logger);
        const headers = request.headerPairs();
        const key = dedupe && extractDedupeKey(dedupe.spec, headers, body);
        const orderKeys = readOrderKeys?.(headers, body);
        let stored: AppendResult;
        try {
          stored = await journal.append({
            source: sourceName,
            method: request.method,
            path: request.path,
            query: request.query,
            headers: credentials ? withoutHeaders(headers, credentials) : headers,
            body,
            remoteAddr: request.remoteAddr ?? null,
            receivedAt: now,
            destinations: source.to,
            ...(key && { dedupe: { key, until: now + dedupe.windowMs } }),
            ...(orderKeys && { orderKeys }),
          });
        } catch (error) {
          logger.error({ err: error, source: sourceName }, 'journal write failed; answered 503');
          report('unavailable');
          return unavailable('the journal cannot store events right now');
        }
        if (stored.duplicate) {
          logger.debug(
            { source: sourceName, eventId: stored.id, key },
            'duplicate: answered as the original, not stored',
          );
          report('duplicate');
        } else {
          report('accepted');
          events.emit('ingest:accepted', { event: stored, destinations: source.to });
        }
        // A duplicate gets the same answer as the original: the same status and the original's id.
        return jsonAnswer(status, `{"id":${JSON.stringify(stored.id)}}`);
      } finally {
        hold.release();
      }
    } catch (error) {
      logger.error({ err: error, path: request.path }, 'ingest request failed');
      return unavailable('internal error; the event was not stored');
    }
  };
}

function answerHandshake(sourceName: string, answer: HandshakeAnswer, logger: Logger): IngestAnswer {
  if (answer.status !== 200) {
    logger.warn({ source: sourceName, reason: answer.message }, `handshake refused: answered ${answer.status}`);
    return errorAnswer(answer.status, answer.code, answer.message);
  }
  logger.info({ source: sourceName }, 'handshake answered (not stored)');
  return {
    status: 200,
    headers: [
      'Content-Type',
      answer.contentType,
      'Content-Length',
      String(Buffer.byteLength(answer.body)),
      'X-Content-Type-Options',
      'nosniff',
      'Cache-Control',
      'no-store',
    ],
    body: answer.body,
  };
}

function jsonAnswer(status: number, body: string, extra?: string[]): IngestAnswer {
  const headers = ['Content-Type', 'application/json', 'Content-Length', String(Buffer.byteLength(body))];
  return { status, headers: extra ? [...extra, ...headers] : headers, body };
}

/** `{"error": {"code", "message"}}` with `status`. */
export function errorAnswer(status: number, code: string, message: string, extra?: string[]): IngestAnswer {
  return jsonAnswer(status, JSON.stringify({ error: { code, message } }), extra);
}

/** 503 with Retry-After. */
export function unavailable(message: string, extra?: string[]): IngestAnswer {
  return errorAnswer(503, 'unavailable', message, ['Retry-After', String(RETRY_AFTER_SECONDS), ...(extra ?? [])]);
}
