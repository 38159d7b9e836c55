/**
 * Delivery: one HTTP attempt of one event to its destination, with undici. The consumer gets the
 * original method, the exact body bytes and the original headers (minus hop-by-hop ones and
 * `host`), plus `sluice-event-id`, `sluice-attempt` and `sluice-received-at`; signature headers
 * may be replaced at each attempt by `Signer`s (re-signing, destination signing: resign.ts).
 * Redirects are not followed. The answer, whatever it is, comes back as a value: a non-2xx is an
 * outcome, not an exception; only our own bugs throw.
 */
import { Pool } from 'undici';
import type { DestinationConfig } from './config.js';
import type { Claim, HeaderPair } from './journal.js';
import { destinationSigner } from './resign.js';
import type { AttemptOutcome } from './retry-policy.js';

/** How much of the consumer's answer is kept with the attempt. */
export const RESPONSE_SNIPPET_BYTES = 1024;
/** Past this much response body the connection is dropped rather than drained. */
const DRAIN_LIMIT_BYTES = 1024 * 1024;

/** Headers that describe one hop's connection, not the event (RFC 9110 §7.6.1), plus ones we recompute. */
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
  'sluice-event-id',
  'sluice-attempt',
  'sluice-received-at',
]);

/** The result of one attempt: the outcome plus what is recorded about it. */
export interface AttemptResult extends AttemptOutcome {
  startedAt: number;
  durationMs: number;
  /** First bytes of the answer's body. */
  response?: Uint8Array | undefined;
}

/** Sends events to one destination over a pool of keep-alive connections. */
export interface DeliveryClient {
  /** One attempt; `signal` aborts it (shutdown). Never rejects for consumer or network failures. */
  send(claim: Claim, signal?: AbortSignal): Promise<AttemptResult>;
  close(): Promise<void>;
}

/**
 * Header replacements for one attempt, made at `now` (epoch ms): each pair replaces every header of
 * that name (any case), in the place of the first one, or is appended when the event had none.
 */
export type Signer = (claim: Claim, now: number) => HeaderPair[];

/** What a delivery client may be given besides its destination. */
export interface DeliveryOptions {
  /** Defaults to Date.now; also the time re-signed headers carry. */
  clock?: () => number;
  /** Re-signs events of their sources (`createResigner(config.sources)`); applied before the destination's own `sign`. */
  sign?: Signer;
}

/**
 * The headers the consumer receives, as a flat [name, value, …] list (repeats kept, in order).
 * `replacements` (from signers) override the stored headers of the same name; later ones win.
 */
export function forwardedHeaders(claim: Claim, replacements: readonly HeaderPair[] = []): string[] {
  const { event } = claim;
  const dropped = new Set(NOT_FORWARDED);
  // Headers named in Connection are hop-by-hop too.
  for (const [name, value] of event.headers) {
    if (name.toLowerCase() === 'connection') for (const token of value.split(',')) dropped.add(token.trim().toLowerCase());
  }
  const replace = new Map<string, HeaderPair>();
  for (const pair of replacements) if (!dropped.has(pair[0].toLowerCase())) replace.set(pair[0].toLowerCase(), pair);
  const placed = new Set<string>();
  const out: string[] = [];
  for (const [name, value] of event.headers as HeaderPair[]) {
    const lower = name.toLowerCase();
    if (dropped.has(lower)) continue;
    const replacement = replace.get(lower);
    if (replacement === undefined) out.push(name, value);
    else if (!placed.has(lower)) {
      // The first header of that name keeps its place and spelling; repeats go.
      out.push(name, replacement[1]);
      placed.add(lower);
    }
  }
  for (const [lower, [name, value]] of replace) if (!placed.has(lower)) out.push(name, value);
  out.push('sluice-event-id', event.id, 'sluice-attempt', String(claim.attempt), 'sluice-received-at', new Date(event.receivedAt).toISOString());
  return out;
}

/** Creates the client for one destination: at most `concurrency` connections, the destination's timeout. */
export function createDeliveryClient(
  destination: Pick<DestinationConfig, 'url' | 'concurrency' | 'timeout'> & Partial<Pick<DestinationConfig, 'sign'>>,
  options: DeliveryOptions = {},
): DeliveryClient {
  const clock = options.clock ?? Date.now;
  const signers = [options.sign, destination.sign && destinationSigner(destination.sign)].filter((s): s is Signer => s !== undefined);
  const url = new URL(destination.url);
  const pool = new Pool(url.origin, {
    connections: destination.concurrency,
    connectTimeout: Math.min(destination.timeout, 10_000),
    headersTimeout: destination.timeout,
    bodyTimeout: destination.timeout,
    // Don't pipeline: a slow answer must not hold back another event's request.
    pipelining: 1,
  });

  async function send(claim: Claim, signal?: AbortSignal): Promise<AttemptResult> {
    const startedAt = clock();
    const began = performance.now();
    const deadline = AbortSignal.timeout(destination.timeout);
    const done = (outcome: Omit<AttemptResult, 'startedAt' | 'durationMs'>): AttemptResult => ({
      startedAt,
      durationMs: performance.now() - began,
      ...outcome,
    });
    try {
      const { event } = claim;
      const body = event.body.byteLength > 0 || !['GET', 'HEAD'].includes(event.method) ? event.body : null;
      const answer = await pool.request({
        path: targetPath(url, event.query),
        method: event.method as 'POST',
        headers: forwardedHeaders(claim, signers.flatMap((sign) => sign(claim, startedAt))),
        body,
        signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      });
      const response = await readSnippet(answer.body);
      const retryAfter = answer.headers['retry-after'];
      return done({ status: answer.statusCode, response, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter });
    } catch (error) {
      return done({ error: describeFailure(error, deadline, signal, destination.timeout) });
    }
  }

  return { send, close: () => pool.close() };
}

/** Destination path plus the event's original query string, merged after the destination's own. */
function targetPath(url: URL, query: string): string {
  if (!query) return url.pathname + url.search;
  return url.pathname + (url.search ? `${url.search}&${query}` : `?${query}`);
}

/** Keeps the first KiB; drains the rest so the connection can be reused (up to a limit). */
async function readSnippet(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let kept = 0;
  let seen = 0;
  for await (const chunk of body) {
    seen += chunk.length;
    if (kept < RESPONSE_SNIPPET_BYTES) {
      const part = chunk.subarray(0, RESPONSE_SNIPPET_BYTES - kept);
      chunks.push(part);
      kept += part.length;
    }
    if (seen > DRAIN_LIMIT_BYTES) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks);
}

function describeFailure(error: unknown, deadline: AbortSignal, shutdown: AbortSignal | undefined, timeoutMs: number): string {
  if (shutdown?.aborted) return 'aborted: Sluice shut down during the attempt';
  if (deadline.aborted) return `timeout: no complete answer within ${timeoutMs} ms`;
  const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code;
  const message = e.cause?.message ?? e.message ?? String(error);
  return code ? `${code}: ${message}` : message;
}
