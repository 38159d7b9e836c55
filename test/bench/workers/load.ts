/**
 * Load generator worker, closed loop: autocannon against one URL, each connection sending its
 * next request when the previous one is answered, as fast as the server allows. In its own
 * process: the parent must not share an event loop with the requests it measures.
 *
 *   node --import tsx workers/load.ts '<LoadSpec as JSON>'
 *
 * Prints JSON lines: {"phase":"measuring"} when the warm-up is over (the parent starts its CPU
 * meters then), and {"phase":"result",...} at the end. Latencies come from autocannon's
 * per-response event, in fractional ms: its own histogram has 1 ms resolution, too coarse for a
 * server whose median answer takes about 1 ms.
 */
import autocannon from 'autocannon';
import type { LoadSpec } from '../load.js';
import { loadResult, type Round } from './latency.js';

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;

/** One round: `durationS` seconds, or `amount` requests when given. */
function round(durationS: number, keepLatencies: boolean, amount?: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    let ok = 0;
    let non2xx = 0;
    let errors = 0;
    let started = 0;
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: durationS,
        ...(amount !== undefined && { amount }),
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: spec.body,
      },
      (error) => {
        if (error) reject(error);
        else resolve({ ok, non2xx, errors, seconds: (performance.now() - started) / 1000, latencies });
      },
    );
    instance.once('start', () => (started = performance.now()));
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status >= 200 && status < 300) {
        ok += 1;
        if (keepLatencies) latencies.push(ms);
      } else {
        non2xx += 1;
      }
    });
    instance.on('reqError', () => (errors += 1));
  });
}

const warm =
  spec.requests !== undefined
    ? spec.warmupRequests
      ? await round(0, false, spec.warmupRequests)
      : { ok: 0, non2xx: 0, errors: 0 }
    : spec.warmupS > 0
      ? await round(spec.warmupS, false)
      : { ok: 0, non2xx: 0, errors: 0 };
process.stdout.write(`${JSON.stringify({ phase: 'measuring' })}\n`);
const run = await round(spec.durationS, true, spec.requests);
process.stdout.write(`${JSON.stringify({ phase: 'result', ...loadResult(run, warm.ok) })}\n`);
