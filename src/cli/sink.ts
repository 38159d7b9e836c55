/**
 * Sink: a tiny HTTP receiver that plays a slow or failing consumer, for the README walkthrough,
 * tests and benchmarks (`sluice sink --port N --latency 1500ms --fail-rate 0.1 ...`).
 *
 * Every request, whatever its method or path, is read to the end, held for `latencyMs`, then
 * answered with an empty body: 503 with probability `failRate`, else `status`. Non-2xx answers
 * carry `Retry-After` when `retryAfter` is set, so Sluice's honouring of it can be exercised.
 *
 * Built on node:http directly rather than hono + @hono/node-server, deliberately:
 *  - benchmarks push thousands of requests/s through it, and the sink must not be the bottleneck
 *    it is measuring. With raw node:http a request costs a counter bump, a body drain and one
 *    `writeHead`/`end`; the adapter would build a WHATWG Request and Response for each one and
 *    route it, for a server that has a single route.
 *  - the body only needs counting, not buffering: draining `data` events keeps memory flat under
 *    large payloads, where `arrayBuffer()` would hold each one.
 *  - `close()` must not hang on requests parked in their latency delay; node:http's
 *    `closeAllConnections()` drops those and idle keep-alive sockets in one call.
 */
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SluiceError } from '../errors.js';
import type { Logger } from '../log.js';

/** How the sink behaves. Every field is optional; the defaults make a fast, healthy consumer. */
export interface SinkOptions {
  /** Interface to listen on. Default `127.0.0.1`: a test consumer has no business being public. */
  host?: string;
  /** Port to listen on; 0 (the default) picks an ephemeral one, read it back from `Sink.port`. */
  port?: number;
  /** Milliseconds to wait, once the body has been read, before answering. Default 0. */
  latencyMs?: number;
  /** Status of a non-failed answer (200–599). Default 200. */
  status?: number;
  /** Probability (0..1) that a request is answered 503 instead of `status`. Default 0. */
  failRate?: number;
  /** Seconds; when set, every non-2xx answer (failures and a non-2xx `status`) carries `Retry-After`. */
  retryAfter?: number;
  /** When given, one info line per answered request (method, path, bytes, event id, attempt, status, latency). */
  logger?: Logger;
  /**
   * Source of randomness for `failRate`, returning [0, 1) like `Math.random` (the default).
   * Called once per request, and only when `failRate` > 0; a request fails when it returns < `failRate`.
   */
  random?: () => number;
}

/** Counters since the sink started. */
export interface SinkStats {
  /** Requests whose headers arrived (answered, waiting, or dropped by the client or by `close()`). */
  received: number;
  /** Answers sent, by status code. */
  answered: Record<number, number>;
  /** Requests received and not yet answered or dropped. */
  inFlight: number;
  /** Highest `inFlight` seen: how much concurrency the sender actually applied. */
  maxInFlight: number;
}

/** A running sink. */
export interface Sink {
  /** Base URL, e.g. `http://127.0.0.1:41234`; any path under it is accepted. */
  readonly url: string;
  /** The port actually bound (useful with `port: 0`). */
  readonly port: number;
  /** A snapshot of the counters (a copy: later requests do not change it). */
  stats(): SinkStats;
  /**
   * Stops listening and destroys every connection, idle keep-alive ones and those whose request
   * is still waiting out its latency (those requests are dropped unanswered, as a consumer that
   * went away would). Resolves promptly; calling it again returns the same promise.
   */
  close(): Promise<void>;
}

/** Starts a sink and resolves once it listens. Rejects with a `SluiceError` on bad options or if it cannot bind. */
export async function startSink(options: SinkOptions = {}): Promise<Sink> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  const latencyMs = options.latencyMs ?? 0;
  const status = options.status ?? 200;
  const failRate = options.failRate ?? 0;
  const retryAfter = options.retryAfter;
  const random = options.random ?? Math.random;
  const logger = options.logger;
  validate({ port, latencyMs, status, failRate, retryAfter });

  // Header objects are built once: answering is then a lookup, not an allocation per request.
  const headersFor = (code: number): OutgoingHttpHeaders => {
    const headers: OutgoingHttpHeaders = {};
    // Without it, writeHead() + end() frames the empty body as chunked; 204/304 must not carry it.
    if (code !== 204 && code !== 304) headers['content-length'] = '0';
    if (retryAfter !== undefined && (code < 200 || code > 299)) headers['retry-after'] = String(retryAfter);
    return headers;
  };
  const okHeaders = headersFor(status);
  const failHeaders = headersFor(503);

  let received = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const answered: Record<number, number> = {};
  let closing = false;
  // Responses not yet finished or dropped, so close() can wait until their bookkeeping is done.
  const open = new Set<ServerResponse>();

  const answer = (req: IncomingMessage, res: ServerResponse, startedAt: number, bytes: number): void => {
    // A client that gave up, or close() dropping the connection, leaves nothing to answer.
    if (closing || res.destroyed) return;
    const failed = failRate > 0 && random() < failRate;
    const code = failed ? 503 : status;
    answered[code] = (answered[code] ?? 0) + 1;
    res.writeHead(code, failed ? failHeaders : okHeaders);
    res.end();
    if (logger?.isLevelEnabled('info')) {
      logger.info(
        {
          method: req.method,
          path: req.url,
          bytes,
          eventId: req.headers['sluice-event-id'],
          attempt: req.headers['sluice-attempt'],
          status: code,
          latencyMs: Math.round(performance.now() - startedAt),
        },
        'sink answered',
      );
    }
  };

  const server = createServer((req, res) => {
    const startedAt = performance.now();
    received += 1;
    inFlight += 1;
    if (inFlight > maxInFlight) maxInFlight = inFlight;

    open.add(res);

    let timer: NodeJS.Timeout | undefined;
    // 'close' fires exactly once per response, after it was sent or when its connection died:
    // the one place that ends a request's flight, whichever way it ended.
    res.once('close', () => {
      inFlight -= 1;
      open.delete(res);
      if (timer !== undefined) clearTimeout(timer);
    });
    // An aborted upload emits 'error'; the 'close' above already does the bookkeeping, and an
    // 'error' with no listener would crash the process.
    req.on('error', noop);

    // Count the body rather than buffer it: the sink only reports its size.
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    req.once('end', () => {
      if (latencyMs === 0) answer(req, res, startedAt, bytes);
      else timer = setTimeout(answer, latencyMs, req, res, startedAt, bytes);
    });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(
        new SluiceError('SINK_LISTEN_FAILED', `sink cannot listen on ${host}:${port}: ${error.message}`, {
          cause: error,
        }),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  // After startup a server error (e.g. EMFILE under a benchmark) must not crash the process.
  server.on('error', (error) => logger?.error({ err: error }, 'sink server error'));

  const boundPort = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closed: Promise<void> | undefined;

  return {
    url: `http://${urlHost}:${boundPort}`,
    port: boundPort,
    stats: () => ({ received, answered: { ...answered }, inFlight, maxInFlight }),
    close() {
      if (closed) return closed;
      closing = true;
      // The server's own callback can fire before the dropped responses emit 'close' (that comes
      // a tick after their socket's); waiting for both makes stats() final once close() resolves.
      const dropped = [...open].map((res) => new Promise((resolve) => res.once('close', resolve)));
      const stopped = new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      // server.close() alone would wait for requests parked in their latency delay; destroying
      // every connection drops them (their 'close' handlers clear the timers) and idle keep-alives.
      server.closeAllConnections();
      closed = Promise.all([stopped, ...dropped]).then(() => undefined);
      return closed;
    },
  };
}

function noop(): void {}

function validate(o: {
  port: number;
  latencyMs: number;
  status: number;
  failRate: number;
  retryAfter: number | undefined;
}): void {
  const problems: string[] = [];
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535)
    problems.push(`port must be an integer 0–65535, got ${o.port}`);
  if (!Number.isFinite(o.latencyMs) || o.latencyMs < 0)
    problems.push(`latency must be a finite number of ms ≥ 0, got ${o.latencyMs}`);
  // 1xx are interim responses, not answers.
  if (!Number.isInteger(o.status) || o.status < 200 || o.status > 599)
    problems.push(`status must be an integer 200–599, got ${o.status}`);
  if (!(o.failRate >= 0 && o.failRate <= 1)) problems.push(`fail rate must be between 0 and 1, got ${o.failRate}`);
  if (o.retryAfter !== undefined && (!Number.isInteger(o.retryAfter) || o.retryAfter < 0)) {
    problems.push(`retry-after must be a whole number of seconds ≥ 0, got ${o.retryAfter}`);
  }
  if (problems.length > 0)
    throw new SluiceError('SINK_OPTIONS_INVALID', `invalid sink options: ${problems.join('; ')}`);
}
