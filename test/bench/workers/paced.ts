/**
 * Load generator worker, open loop: requests at a fixed rate, evenly spaced, whatever the server's
 * answers, over a pool of keep-alive connections (undici). For "ingest at 200 events/s": autocannon's
 * rate limit sends each connection's share of a second at the start of that second, so "200/s"
 * arrives as a burst of 200 every second, and the p99 it reports is that of the burst.
 *
 *   node --import tsx workers/paced.ts '<LoadSpec as JSON, with rate>'
 *
 * Latency is measured from when a request was due, not from when it left: a server that stalls
 * delays the requests queued behind it, and they are charged for it (no coordinated omission).
 * Same output protocol as workers/load.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import type { LoadSpec } from '../load.js';
import { loadResult, type Round } from './latency.js';

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
const rate = spec.rate ?? 1;
const url = new URL(spec.url);
const pool = new Pool(url.origin, { connections: spec.connections, pipelining: 1 });
const body = Buffer.from(spec.body);
const headers = { 'content-type': 'application/json' };

async function round(durationS: number): Promise<Round> {
  const result: Round = { ok: 0, non2xx: 0, errors: 0, seconds: 0, latencies: [] };
  const send = async (due: number) => {
    try {
      const answer = await pool.request({ path: url.pathname, method: 'POST', headers, body });
      await answer.body.dump();
      if (answer.statusCode >= 200 && answer.statusCode < 300) {
        result.ok += 1;
        result.latencies.push(performance.now() - due);
      } else {
        result.non2xx += 1;
      }
    } catch {
      result.errors += 1;
    }
  };
  const start = performance.now();
  const count = Math.round(durationS * rate);
  const sent: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    // A late wake-up is caught up by sending at once: the schedule, not the timer, sets the pace.
    if (wait >= 1) await sleep(wait);
    sent.push(send(due));
  }
  await Promise.all(sent);
  result.seconds = (performance.now() - start) / 1000;
  return result;
}

const warm = spec.warmupS > 0 ? await round(spec.warmupS) : { ok: 0 };
process.stdout.write(`${JSON.stringify({ phase: 'measuring' })}\n`);
const run = await round(spec.durationS);
process.stdout.write(`${JSON.stringify({ phase: 'result', ...loadResult(run, warm.ok) })}\n`);
await pool.close();
