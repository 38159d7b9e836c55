/**
 * The delivery ceiling: a plain loop of undici requests to the receiver, with the same
 * concurrency, connection pool settings, body and headers as Sluice's delivery client, but
 * nothing else (no journal, no claims, no outcomes recorded).
 *
 *   node --import tsx workers/undici-loop.ts '{"url":…,"concurrency":32,"warmupS":3,"durationS":10,"body":…}'
 *
 * With `requests` (and `warmupRequests`), a fixed amount of work instead: that many answers after
 * that many for warm-up, whatever the time they take.
 *
 * Prints {"phase":"measuring"} after the warm-up and {"phase":"result","ok":…,"seconds":…,"rps":…}.
 */
import { Pool } from 'undici';

interface Spec {
  url: string;
  concurrency: number;
  warmupS: number;
  durationS: number;
  body: string;
  requests?: number;
  warmupRequests?: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
const url = new URL(spec.url);
// As src/delivery/http-client.ts builds it: one connection per concurrent request, no pipelining.
const pool = new Pool(url.origin, { connections: spec.concurrency, pipelining: 1 });
const body = Buffer.from(spec.body);
// What a forwarded webhook carries: the sender's headers plus Sluice's own three.
const headers = [
  'content-type',
  'application/json',
  'user-agent',
  'bench',
  'sluice-event-id',
  '019a0000-0000-7000-8000-000000000000',
  'sluice-attempt',
  '1',
  'sluice-received-at',
  new Date().toISOString(),
];

let ok = 0;
let failed = 0;
let measuring = false;
let stopAt = Infinity;
/** Fixed amount of work: requests started so far, answers so far, and the answer that starts the measured part. */
const counted = spec.requests !== undefined;
const total = (spec.warmupRequests ?? 0) + (spec.requests ?? 0);
let started = 0;
let answered = 0;
let measuredFrom = 0;

function startMeasuring(): void {
  measuring = true;
  measuredFrom = performance.now();
  process.stdout.write(`${JSON.stringify({ phase: 'measuring' })}\n`);
}

async function loop(): Promise<void> {
  while (counted ? started < total : performance.now() < stopAt) {
    started += 1;
    const answer = await pool.request({ path: url.pathname, method: 'POST', headers, body });
    // Read the answer to the end, as Sluice does, so the connection can be reused.
    for await (const _chunk of answer.body) {
      // drained
    }
    answered += 1;
    if (counted && !measuring && answered >= (spec.warmupRequests ?? 0)) startMeasuring();
    if (!measuring) continue;
    if (answer.statusCode >= 200 && answer.statusCode < 300) ok += 1;
    else failed += 1;
  }
}

const begin = performance.now();
if (!counted) stopAt = begin + (spec.warmupS + spec.durationS) * 1000;
if (counted && !spec.warmupRequests) startMeasuring();
const loops = Array.from({ length: spec.concurrency }, loop);
if (!counted) {
  await new Promise((resolve) => setTimeout(resolve, spec.warmupS * 1000));
  startMeasuring();
}
await Promise.all(loops);
const seconds = (performance.now() - measuredFrom) / 1000;
process.stdout.write(`${JSON.stringify({ phase: 'result', ok, failed, seconds, rps: ok / seconds })}\n`);
await pool.close();
