/**
 * Case 4, pacing accuracy: `rate: 50/s, burst: 10, concurrency: 16` into a receiver that takes
 * 200 ms per request, with a preloaded backlog so the destination is never short of work.
 *
 * Arrival times come from the receiver (`sluice sink`, logging at info: one line per request is
 * nothing at 50/s): its pino line has the time of the answer and the latency it held the request,
 * so arrival = time - latencyMs. Measured on the consumer's side, not from Sluice's own records.
 */

import { createJournal, JournalReader, preload, startSluice, workspace } from '../journal.js';
import { webhookBody } from '../load.js';
import { type Server, sleep, spawnCli, startServer } from '../processes.js';
import { atMost, fmt, type Row, within } from '../report.js';
import type { BenchCase, Settings } from '../settings.js';

const RATE = 50;
const BURST = 10;
const LATENCY_MS = 200;

/** 60 s at the default BENCH_DURATION of 10 s, scaled with it. */
export const pacingSeconds = (s: Settings) => 6 * s.durationS;

/** The most arrivals within any 1 s window (sliding, anchored at each arrival). */
export function maxInAnySecond(arrivals: number[]): number {
  const sorted = [...arrivals].sort((a, b) => a - b);
  let max = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= 1000) start++;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

interface PacingRun {
  rate: number;
  maxWindow: number;
  /** The same count from Sluice's attempt log: tells the bucket's own bursts from network jitter. */
  maxWindowSent: number;
  arrivals: number;
}

async function pacingRun(settings: Settings, sink: Server, arrivals: number[]): Promise<PacingRun> {
  const seconds = pacingSeconds(settings);
  const ws = workspace({ url: `http://127.0.0.1:${sink.port}/hook`, rate: `${RATE}/s`, burst: BURST, concurrency: 16 });
  try {
    await createJournal(ws);
    // More than the run can send, so the bucket, not the backlog, sets the pace.
    preload(ws, { count: Math.ceil(RATE * (settings.warmupS + seconds + 10) * 1.2), body: webhookBody() });
    arrivals.length = 0;
    const gateway = await startSluice(ws);
    try {
      const until = performance.now() + 30_000;
      while (arrivals.length === 0) {
        if (performance.now() > until) throw new Error(`no delivery reached the receiver\n${gateway.tail()}`);
        await sleep(50);
      }
      // Run until the window has closed, plus the receiver's latency for the last arrivals to be logged.
      await sleep((settings.warmupS + seconds) * 1000 + LATENCY_MS + 500);
    } finally {
      await gateway.stop();
    }
    const first = Math.min(...arrivals);
    const from = first + settings.warmupS * 1000;
    const to = from + seconds * 1000;
    const inWindow = arrivals.filter((t) => t >= from && t < to).length;
    const reader = new JournalReader(ws.dbPath);
    const sent = reader.attemptStarts().filter((t) => t < to);
    reader.close();
    return {
      rate: inWindow / seconds,
      maxWindow: maxInAnySecond(arrivals.filter((t) => t < to)),
      maxWindowSent: maxInAnySecond(sent),
      arrivals: inWindow,
    };
  } finally {
    ws.remove();
  }
}

export const pacingCase: BenchCase = {
  id: '4',
  name: 'pacing',
  title: 'Pacing accuracy',
  budgetS: (s) => 60 + s.runs * (s.warmupS + pacingSeconds(s) + 60),
  async run(settings) {
    const sink = await startServer(() => spawnCli('sink', ['sink', '--port', '0', '--latency', `${LATENCY_MS}ms`]));
    const arrivals: number[] = [];
    sink.onLine((line) => {
      if (!line.includes('"sink answered"')) return;
      const entry = JSON.parse(line) as { time: number; latencyMs: number };
      arrivals.push(entry.time - entry.latencyMs);
    });
    try {
      const runs: PacingRun[] = [];
      for (let i = 1; i <= settings.runs; i++) {
        settings.log(`pacing run ${i}/${settings.runs}: ${pacingSeconds(settings)} s at ${RATE}/s`);
        const run = await pacingRun(settings, sink, arrivals);
        runs.push(run);
        settings.log(
          `  ${fmt.rate(run.rate)}, at most ${run.maxWindow} in 1 s at the receiver (${run.maxWindowSent} sent)`,
        );
      }
      const name = '4 Pacing';
      return [
        {
          case: name,
          metric: `deliveries in the ${pacingSeconds(settings)} s window`,
          runs: runs.map((r) => r.arrivals),
          format: fmt.count,
        },
        {
          case: name,
          metric: 'achieved rate (receiver side)',
          runs: runs.map((r) => r.rate),
          format: fmt.rate,
          target: '50/s ± 2%',
          verdict: within(RATE, 0.02),
        },
        {
          case: name,
          metric: 'most arrivals in any 1 s window',
          runs: runs.map((r) => r.maxWindow),
          format: fmt.count,
          target: '≤ 60 in every run',
          verdict: atMost(RATE + BURST),
          judge: 'max',
        },
        {
          case: name,
          metric: 'most attempts started in any 1 s window (Sluice attempt log)',
          runs: runs.map((r) => r.maxWindowSent),
          format: fmt.count,
        },
      ] satisfies Row[];
    } finally {
      await sink.stop();
    }
  },
};
