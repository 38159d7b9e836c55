/**
 * Real HTTP consumers with a capacity of their own, for tests and benchmarks of adaptive pacing:
 * a worker pool (N requests worked on at once, each taking a while, a queue in front, 503 beyond)
 * and a rate limiter (a request every 1/rate s, plain 429 beyond, like nginx `limit_req ... nodelay`).
 * Their capacity can be changed while they run. Each counts what it answered, and when.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PacedConsumer {
  url: string;
  /** Answers by status. */
  readonly answered: Map<number, number>;
  /** When each 2xx was answered (ms, Date.now). */
  readonly accepted: number[];
  /** Refusals (429 or 503). */
  readonly refused: number;
  /** Most requests at once, answered or waiting. */
  readonly maxInFlight: number;
  close(): Promise<void>;
}

interface Counting {
  answered: Map<number, number>;
  accepted: number[];
  inFlight: number;
  maxInFlight: number;
}

async function listen(
  handle: (req: IncomingMessage, res: ServerResponse, answer: (status: number) => void) => void,
): Promise<PacedConsumer> {
  const counts: Counting = { answered: new Map(), accepted: [], inFlight: 0, maxInFlight: 0 };
  const server: Server = createServer((req, res) => {
    counts.inFlight += 1;
    counts.maxInFlight = Math.max(counts.maxInFlight, counts.inFlight);
    req.resume();
    req.on('end', () =>
      handle(req, res, (status) => {
        counts.inFlight -= 1;
        counts.answered.set(status, (counts.answered.get(status) ?? 0) + 1);
        if (status < 300) counts.accepted.push(Date.now());
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'busy');
      }),
    );
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    answered: counts.answered,
    accepted: counts.accepted,
    get refused() {
      return (counts.answered.get(429) ?? 0) + (counts.answered.get(503) ?? 0);
    },
    get maxInFlight() {
      return counts.maxInFlight;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A pool of `workers()` workers taking `serviceMs` a request, `queue` more waiting, 503 beyond. */
export function startPool(options: {
  workers: () => number;
  serviceMs: number;
  queue: number;
}): Promise<PacedConsumer> {
  let busy = 0;
  const waiting: (() => void)[] = [];
  const next = () => {
    while (busy < options.workers() && waiting.length > 0) {
      busy += 1;
      waiting.shift()!();
    }
  };
  return listen((_req, _res, answer) => {
    const work = () =>
      setTimeout(() => {
        busy -= 1;
        answer(200);
        next();
      }, options.serviceMs);
    if (busy < options.workers()) {
      busy += 1;
      work();
    } else if (waiting.length < options.queue) waiting.push(work);
    else answer(503);
  });
}

/** A limiter that takes one request every 1/`rate()` s and `burst` more at once; plain 429 beyond. */
export function startLimiter(options: { rate: () => number; burst: number }): Promise<PacedConsumer> {
  // Generic cell rate: `due` is when the next request conforms; up to `burst` intervals early is allowed.
  let due = 0;
  return listen((_req, _res, answer) => {
    const now = performance.now();
    const interval = 1000 / options.rate();
    const at = Math.max(due, now);
    if (at - now > options.burst * interval) return answer(429);
    due = at + interval;
    answer(200);
  });
}
