/**
 * Delivery: one HTTP attempt of one event to its destination, with undici. The consumer gets the
 * original method, the exact body bytes and the original headers (minus hop-by-hop ones and
 * `host`), plus `sluice-event-id`, `sluice-attempt` and `sluice-received-at`; signature headers
 * may be replaced at each attempt by `Signer`s (re-signing, destination signing: resign.ts).
 * Unless the destination's `forward` says otherwise, X-Forwarded-For and X-Forwarded-Host say what
 * Sluice saw, not what the sender claimed, and the sender's query never shadows a parameter of the
 * destination URL.
 * Redirects are not followed. The answer, whatever it is, comes back as a value: a non-2xx is an
 * outcome, not an exception; only our own bugs throw.
 */
import { type Dispatcher, Pool } from 'undici';
import { type DestinationConfig, destinationForward } from '../config/schema.js';
import type { Claim, HeaderPair, StoredEvent } from '../journal/port.js';
import type { Signer } from '../senders/provider.js';
import { destinationSigner } from '../senders/resign.js';
import type { AttemptOutcome } from './retry-policy.js';
import { MAX_TIMER_MS } from './waiter.js';

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

/**
 * Where the sender describes the client and the proxies on the way, which anyone can write. By
 * default (`forward.client_headers: false`) the stored ones are dropped and Sluice sets its own.
 */
export const CLIENT_HEADERS: ReadonlySet<string> = new Set([
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-real-ip',
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
 * Stored headers named in `senderOnly` (lower case) go, unless a replacement takes their place.
 */
export function forwardedHeaders(
  claim: Claim,
  replacements: readonly HeaderPair[] = [],
  senderOnly: ReadonlySet<string> = NONE,
): string[] {
  const { event } = claim;
  let dropped = NOT_FORWARDED;
  // Headers named in Connection are hop-by-hop too.
  for (const [name, value] of event.headers) {
    if (name.length !== 10 || name.toLowerCase() !== 'connection') continue;
    for (const token of value.split(',')) {
      const lower = token.trim().toLowerCase();
      // `Connection: keep-alive` (or `close`), which nearly every sender sends, names nothing new:
      // the set of dropped names is copied only for a name not in it already.
      if (dropped.has(lower)) continue;
      if (dropped === NOT_FORWARDED) dropped = new Set(NOT_FORWARDED);
      dropped.add(lower);
    }
  }
  // One replacement per name (lower case), the last given for it, to stand in the place of the
  // first stored header of that name. Kept in arrays, not a Map and a Set: there are few (the
  // client headers, a signature's), and these run for every attempt on the thread a drain keeps busy.
  const names: string[] = [];
  const chosen: HeaderPair[] = [];
  for (const pair of replacements) {
    const lower = pair[0].toLowerCase();
    if (dropped.has(lower)) continue;
    const at = names.indexOf(lower);
    if (at === -1) {
      names.push(lower);
      chosen.push(pair);
    } else chosen[at] = pair;
  }
  const placed: boolean[] = names.length === 0 ? NOTHING_PLACED : new Array<boolean>(names.length).fill(false);
  const out: string[] = [];
  const headers = event.headers;
  for (let i = 0; i < headers.length; i++) {
    const pair = headers[i]!;
    const name = pair[0];
    const lower = name.toLowerCase();
    if (dropped.has(lower)) continue;
    const at = names.length === 0 ? -1 : names.indexOf(lower);
    if (at === -1) {
      if (!senderOnly.has(lower)) out.push(name, pair[1]);
    } else if (!placed[at]) {
      // The first header of that name keeps its place and spelling; repeats go.
      out.push(name, chosen[at]![1]);
      placed[at] = true;
    }
  }
  for (let at = 0; at < names.length; at++) if (!placed[at]) out.push(chosen[at]![0], chosen[at]![1]);
  out.push(
    'sluice-event-id',
    event.id,
    'sluice-attempt',
    String(claim.attempt),
    'sluice-received-at',
    isoTime(event.receivedAt),
  );
  return out;
}

/** The farthest time from 1970 a Date can hold (ECMA-262 §21.4.1.22). */
const MAX_DATE_MS = 8.64e15;
/** The last minute `isoTime` formatted: the events of a backlog are sent in the order they came. */
let isoMinute = Number.NaN;
let isoMinutePrefix = '';

/**
 * `new Date(ms).toISOString()`, at a fraction of its cost for a time in the same minute as the
 * last one: that prefix is kept, and only the seconds and milliseconds are written.
 */
export function isoTime(ms: number): string {
  const rem = ms - isoMinute;
  if (!(rem >= 0 && rem < 60_000)) {
    const iso = new Date(ms).toISOString();
    // Not kept for a fraction of a ms, nor for the last minute a Date can hold (past it, toISOString throws).
    if (!Number.isInteger(ms) || Math.abs(ms) > MAX_DATE_MS - 60_000) return iso;
    isoMinute = ms - (((ms % 60_000) + 60_000) % 60_000);
    // "…THH:MM:" — what follows is "ss.mmmZ", 7 characters, whatever the year's width.
    isoMinutePrefix = iso.slice(0, iso.length - 7);
    return iso;
  }
  const seconds = Math.floor(rem / 1000);
  const millis = rem - seconds * 1000;
  return `${isoMinutePrefix}${seconds < 10 ? '0' : ''}${seconds}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}

const NONE: ReadonlySet<string> = new Set();
const NOTHING_PLACED: boolean[] = [];

/**
 * X-Forwarded-For and X-Forwarded-Host from what Sluice's listener saw: the peer address (an
 * IPv4-mapped IPv6 address as plain IPv4) and the Host the request was sent to.
 */
export function clientHeaders(event: Pick<StoredEvent, 'remoteAddr' | 'headers'>): HeaderPair[] {
  const out: HeaderPair[] = [];
  const addr = event.remoteAddr;
  // The pattern only where it can match: an IPv6 address, which starts with a colon here.
  if (addr) out.push(['X-Forwarded-For', addr.charCodeAt(0) === 58 ? addr.replace(/^::ffff:(?=\d+\.)/i, '') : addr]);
  const { headers } = event;
  for (let i = 0; i < headers.length; i++) {
    const name = headers[i]![0];
    if (name.length === 4 && name.toLowerCase() === 'host') {
      out.push(['X-Forwarded-Host', headers[i]![1]]);
      break;
    }
  }
  return out;
}

/** Creates the client for one destination: at most `concurrency` connections, the destination's timeout. */
export function createDeliveryClient(
  destination: Pick<DestinationConfig, 'url' | 'concurrency' | 'timeout'> &
    Partial<Pick<DestinationConfig, 'sign' | 'forward'>>,
  options: DeliveryOptions = {},
): DeliveryClient {
  const clock = options.clock ?? Date.now;
  const signers = [options.sign, destination.sign && destinationSigner(destination.sign)].filter(
    (s): s is Signer => s !== undefined,
  );
  const url = new URL(destination.url);
  const forward = destinationForward(destination);
  const senderOnly = forward.client_headers ? NONE : CLIENT_HEADERS;
  const ownParams = new Set(url.searchParams.keys());
  const ownPath = url.pathname + url.search;
  const pool = new Pool(url.origin, {
    connections: destination.concurrency,
    connectTimeout: Math.min(destination.timeout, 10_000),
    headersTimeout: destination.timeout,
    bodyTimeout: destination.timeout,
    // Don't pipeline: a slow answer must not hold back another event's request.
    pipelining: 1,
  });
  const timeoutReason = `timeout: no complete answer within ${destination.timeout} ms`;
  // Attempts in flight, oldest first: as every attempt of this client has the same timeout, the
  // first one has the earliest deadline. One timer for the whole client, armed for that deadline,
  // instead of a timer set and cleared for every attempt.
  const open = new Set<Attempt>();
  let deadlineTimer: NodeJS.Timeout | undefined;
  const armDeadline = (deadline: number) => {
    // At most setTimeout's largest delay (~24.8 days), which it would otherwise turn into 1 ms: a
    // farther deadline is re-armed for when it fires.
    deadlineTimer = setTimeout(expire, Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(deadline - performance.now()))));
  };
  const expire = () => {
    deadlineTimer = undefined;
    const now = performance.now();
    for (const attempt of open) {
      if (attempt.deadline > now) {
        armDeadline(attempt.deadline);
        return;
      }
      attempt.cancel(timeoutReason); // leaves `open` (deleting while iterating a Set is safe)
    }
  };
  const settled = (attempt: Attempt) => {
    open.delete(attempt);
    if (open.size === 0 && deadlineTimer !== undefined) {
      clearTimeout(deadlineTimer);
      deadlineTimer = undefined;
    }
  };
  // Shutdown signals seen: one 'abort' listener per signal (each loop passes the same one), not one per attempt.
  const watched = new WeakSet<AbortSignal>();

  function watch(signal: AbortSignal): void {
    watched.add(signal);
    signal.addEventListener(
      'abort',
      () => {
        for (const a of open) if (a.signal === signal) a.cancel(SHUTDOWN_REASON);
      },
      { once: true },
    );
  }

  function send(claim: Claim, signal?: AbortSignal): Promise<AttemptResult> {
    const attempt = new Attempt(clock(), destination.timeout, signal, settled);
    open.add(attempt);
    if (deadlineTimer === undefined) armDeadline(attempt.deadline);
    if (signal) {
      if (!watched.has(signal)) watch(signal);
      if (signal.aborted) attempt.cancel(SHUTDOWN_REASON);
    }
    try {
      const { event } = claim;
      const body = event.body.byteLength > 0 || (event.method !== 'GET' && event.method !== 'HEAD') ? event.body : null;
      const replacements = forward.client_headers ? [] : clientHeaders(event);
      for (const sign of signers) for (const pair of sign(claim, attempt.startedAt)) replacements.push(pair);
      pool.dispatch(
        {
          path: forward.query ? targetPath(url, ownParams, event.query) : ownPath,
          method: event.method as 'POST',
          headers: forwardedHeaders(claim, replacements, senderOnly),
          body,
        },
        attempt,
      );
    } catch (error) {
      attempt.fail(error);
    }
    return attempt.done;
  }

  return {
    send,
    close: () => {
      if (deadlineTimer !== undefined) clearTimeout(deadlineTimer);
      deadlineTimer = undefined;
      return pool.close();
    },
  };
}

const SHUTDOWN_REASON = 'aborted: Sluice shut down during the attempt';

/**
 * One attempt on the wire, as an undici dispatch handler: keeps the status, Retry-After and the
 * first KiB of the answer, drains the rest (up to a limit) so the connection is reused. Going
 * through `pool.request()` instead built a body stream and, for the deadline and shutdown, two
 * AbortSignals per attempt: CPU paid on every delivery, which is CPU-bound when draining.
 * Settles exactly once; `done` never rejects.
 */
class Attempt implements Dispatcher.DispatchHandler {
  readonly done: Promise<AttemptResult>;
  /** performance.now() past which the attempt is cut short. */
  readonly deadline: number;
  private readonly began = performance.now();
  private settle!: (outcome: AttemptResult) => void;
  private settled = false;
  private controller: Dispatcher.DispatchController | undefined;
  private status: number | undefined;
  private retryAfter: string | undefined;
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private seen = 0;

  constructor(
    /** The clock's time when the attempt started (recorded, and the time re-signed headers carry). */
    readonly startedAt: number,
    timeoutMs: number,
    /** The shutdown signal the attempt was sent with. */
    readonly signal: AbortSignal | undefined,
    /** Told once the attempt has settled, before its outcome is handed on. */
    private readonly onSettled: (attempt: Attempt) => void,
  ) {
    this.deadline = this.began + timeoutMs;
    this.done = new Promise((resolve) => (this.settle = resolve));
  }

  /** Ends the attempt with `reason` as its error (deadline, shutdown). */
  cancel(reason: string): void {
    if (this.settled) return;
    // Not on a connection yet (connecting, or queued): onRequestStart aborts it once it gets one.
    this.controller?.abort(new Error(reason));
    // Settled here, not in onResponseError: the deadline frees the slot whatever undici does next.
    this.finish(undefined, reason);
  }

  /** Ends the attempt with a failure thrown before it reached undici's handler callbacks. */
  fail(error: unknown): void {
    this.finish(undefined, describeFailure(error));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Only a cancelled attempt is over before it has a connection.
    if (this.settled) controller.abort(new Error('attempt cancelled before it was sent'));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return; // informational (100 Continue, 103): the answer is still to come
    this.status = statusCode;
    const retryAfter = headers['retry-after'];
    this.retryAfter = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.seen += chunk.length;
    if (this.kept < RESPONSE_SNIPPET_BYTES) {
      const part = chunk.subarray(0, RESPONSE_SNIPPET_BYTES - this.kept);
      this.chunks.push(part);
      this.kept += part.length;
    }
    // The status is known: drop the connection rather than drain an endless answer.
    if (this.seen > DRAIN_LIMIT_BYTES)
      this.finishAnswer(() => controller.abort(new Error('answer too large to drain')));
  }

  onResponseEnd(): void {
    this.finishAnswer();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    // After our own cancel() this changes nothing: the attempt has settled with the reason already.
    this.finish(undefined, describeFailure(error));
  }

  private finishAnswer(then?: () => void): void {
    this.finish(this.status, undefined, Buffer.concat(this.chunks), this.retryAfter);
    then?.();
  }

  /**
   * Settles the attempt. The result is one object literal with every field, whatever the ending:
   * all results then share one shape, which the code that takes them in (the loop, the pacer,
   * the journal's message) reads without going polymorphic.
   */
  private finish(
    status: number | undefined,
    error: string | undefined,
    response?: Uint8Array,
    retryAfter?: string | undefined,
  ): void {
    if (this.settled) return;
    this.settled = true;
    this.onSettled(this);
    const durationMs = performance.now() - this.began;
    this.settle({ status, error, retryAfter, startedAt: this.startedAt, durationMs, response });
  }
}

/**
 * Destination path plus the event's original query string, after the destination's own. A sender's
 * parameter whose name the destination URL has (`ownParams`, decoded) is dropped: the consumer would
 * see both, and many read the last one. The rest of the sender's query is kept byte for byte.
 */
export function targetPath(url: URL, ownParams: ReadonlySet<string>, query: string): string {
  const extra =
    ownParams.size === 0
      ? query
      : query
          .split('&')
          .filter((part) => !ownParams.has(paramName(part)))
          .join('&');
  if (!extra) return url.pathname + url.search;
  return url.pathname + (url.search ? `${url.search}&${extra}` : `?${extra}`);
}

/** The decoded name of one `name=value` part of a query, as URLSearchParams reads it. */
function paramName(part: string): string {
  const eq = part.indexOf('=');
  const raw = (eq === -1 ? part : part.slice(0, eq)).replace(/\+/g, ' ');
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function describeFailure(error: unknown): string {
  const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code;
  const message = e.cause?.message ?? e.message ?? String(error);
  return code ? `${code}: ${message}` : message;
}
