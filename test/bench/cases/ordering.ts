/**
 * Case 6, ordering by key: 50 keys × 20 events (1,000, preloaded into the journal in ingest order,
 * keys interleaved) drain to a receiver that takes 10 ms per request and answers 503 (no
 * Retry-After) to one request in five, at random. The same drain runs three times per run:
 * `ordering: { key: json:/customer_id }` and `unordered` with concurrency 8, and `fifo` (which
 * allows 1). Throughput is the events delivered over the time from the first request to the last
 * success. The receiver (in this process) records every request in arrival order; a request is
 * out of order when its key still had an older event undelivered.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createJournal, type DestinationSpec, preload, startSluice, workspace } from '../journal.js';
import { sleep } from '../processes.js';
import { fmt, type Row, zeroInEveryRun } from '../report.js';
import type { BenchCase } from '../settings.js';

const KEYS = 50;
const PER_KEY = 20;
const EVENTS = KEYS * PER_KEY;
const LATENCY_MS = 10;
const REJECT_SHARE = 0.2;
const CONCURRENCY = 8;
const RETRY = { initial: '50ms', max: '200ms', max_attempts: 1000 };

type Mode = 'key' | 'unordered' | 'fifo';
const MODES: Mode[] = ['key', 'unordered', 'fifo'];

/** Event `i` in ingest order: keys interleaved, `n` counts within the key. */
const keyOf = (i: number) => `c${String(i % KEYS).padStart(2, '0')}`;
const bodyOf = (i: number) => JSON.stringify({ customer_id: keyOf(i), n: Math.floor(i / KEYS) });

interface Drain {
  /** Events delivered per second, first request to last success. */
  rate: number;
  requests: number;
  rejected: number;
  /** Requests whose key had an older event not yet delivered. */
  outOfOrder: number;
}

/** A receiver answering 503 at random (seeded), that checks each request against its key's order. */
async function startOrderedReceiver(seed: number) {
  let state = seed;
  const random = () => {
    // mulberry32: the same 503s in every mode of a run.
    state = (state + 0x6d2b79f5) | 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  /** Per key: the events (n) delivered, and the oldest not delivered yet. */
  const keys = new Map<string, { delivered: Set<number>; next: number }>();
  let deliveredCount = 0;
  const stats = { requests: 0, rejected: 0, outOfOrder: 0, ok: 0, first: NaN, last: NaN };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (stats.requests++ === 0) stats.first = performance.now();
      const { customer_id: key, n } = JSON.parse(Buffer.concat(chunks).toString()) as {
        customer_id: string;
        n: number;
      };
      const k = keys.get(key) ?? { delivered: new Set<number>(), next: 0 };
      keys.set(key, k);
      if (n > k.next) stats.outOfOrder++;
      const reject = random() < REJECT_SHARE;
      setTimeout(() => {
        if (reject) {
          stats.rejected++;
          res.writeHead(503).end('busy');
          return;
        }
        // Counted once: a retry of an event already delivered (a lost answer) does not count again.
        if (!k.delivered.has(n)) {
          k.delivered.add(n);
          deliveredCount++;
          while (k.delivered.has(k.next)) k.next++;
        }
        stats.ok++;
        stats.last = performance.now();
        res.writeHead(200).end('ok');
      }, LATENCY_MS);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/crm`,
    stats,
    deliveredAll: () => deliveredCount >= EVENTS,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function drain(mode: Mode, seed: number): Promise<Drain> {
  const receiver = await startOrderedReceiver(seed);
  const destination: DestinationSpec = {
    url: receiver.url,
    concurrency: mode === 'fifo' ? 1 : CONCURRENCY,
    ordering: mode === 'key' ? { key: 'json:/customer_id' } : mode,
    retry: RETRY,
  };
  const ws = workspace(destination);
  try {
    await createJournal(ws);
    preload(ws, {
      count: EVENTS,
      body: bodyOf(0),
      bodyOf,
      ...(mode === 'key' && { orderKeyOf: keyOf }),
    });
    const gateway = await startSluice(ws);
    try {
      const until = performance.now() + 120_000;
      while (!receiver.deliveredAll()) {
        if (performance.now() > until) throw new Error(`${mode}: drain stalled\n${gateway.tail()}`);
        await sleep(50);
      }
    } finally {
      await gateway.stop();
    }
    const { stats } = receiver;
    return {
      rate: EVENTS / ((stats.last - stats.first) / 1000),
      requests: stats.requests,
      rejected: stats.rejected,
      outOfOrder: stats.outOfOrder,
    };
  } finally {
    ws.remove();
    await receiver.close();
  }
}

export const orderingCase: BenchCase = {
  id: '6',
  name: 'ordering',
  title: 'Ordering by key',
  // fifo is the slow one: ~1,000 × 10 ms plus a backoff per 503, about 25 s.
  budgetS: (s) => 30 + s.runs * 90,
  async run(settings) {
    const runs: Record<Mode, Drain>[] = [];
    for (let i = 1; i <= settings.runs; i++) {
      const run = {} as Record<Mode, Drain>;
      for (const mode of MODES) {
        settings.log(`ordering run ${i}/${settings.runs}: ${mode}, ${KEYS} keys × ${PER_KEY} events`);
        run[mode] = await drain(mode, 1000 + i);
        settings.log(
          `  ${fmt.rate(run[mode].rate)}, ${run[mode].rejected} × 503, ${run[mode].outOfOrder} out of key order`,
        );
      }
      runs.push(run);
    }
    const name = '6 Ordering by key';
    const each = (f: (r: Record<Mode, Drain>) => number) => runs.map(f);
    return [
      {
        case: name,
        metric: 'events/s, ordered by key (concurrency 8)',
        runs: each((r) => r.key.rate),
        format: fmt.rate,
      },
      {
        case: name,
        metric: 'events/s, unordered (concurrency 8)',
        runs: each((r) => r.unordered.rate),
        format: fmt.rate,
      },
      { case: name, metric: 'events/s, fifo (concurrency 1)', runs: each((r) => r.fifo.rate), format: fmt.rate },
      {
        case: name,
        metric: 'by key / unordered',
        runs: each((r) => r.key.rate / r.unordered.rate),
        format: fmt.ratio,
      },
      { case: name, metric: 'by key / fifo', runs: each((r) => r.key.rate / r.fifo.rate), format: fmt.ratio },
      {
        case: name,
        metric: 'requests out of key order, ordered by key',
        runs: each((r) => r.key.outOfOrder),
        format: fmt.count,
        ...zeroInEveryRun,
      },
      {
        case: name,
        metric: 'requests out of key order, unordered (for comparison)',
        runs: each((r) => r.unordered.outOfOrder),
        format: fmt.count,
      },
      { case: name, metric: '503 answers, ordered by key', runs: each((r) => r.key.rejected), format: fmt.count },
    ] satisfies Row[];
  },
};
