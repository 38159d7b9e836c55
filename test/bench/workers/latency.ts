/** What the load workers share: a measured round, its latency percentiles (exact: every latency is kept and sorted), the result line. */
import type { LoadResult } from '../load.js';

/** One timed round of load. */
export interface Round {
  ok: number;
  non2xx: number;
  errors: number;
  seconds: number;
  latencies: number[];
}

/** p50, p99 and max of latencies in ms; NaN when there are none. */
export function summarize(latencies: number[]): { p50: number; p99: number; max: number } {
  const sorted = Float64Array.from(latencies).sort();
  const at = (p: number) =>
    sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { p50: at(50), p99: at(99), max: sorted.length === 0 ? NaN : sorted[sorted.length - 1]! };
}

/** The result of the measured round `run`, after a warm-up that got `warmOk` 2xx answers. */
export function loadResult(run: Round, warmOk: number): LoadResult {
  return {
    ok: run.ok,
    non2xx: run.non2xx,
    errors: run.errors,
    seconds: run.seconds,
    rps: run.ok / run.seconds,
    ...summarize(run.latencies),
    totalOk: warmOk + run.ok,
  };
}
