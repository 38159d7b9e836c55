/** Latency percentiles, shared by the load workers (exact: every latency is kept and sorted). */

/** p50, p99 and max of latencies in ms; NaN when there are none. */
export function summarize(latencies: number[]): { p50: number; p99: number; max: number } {
  const sorted = Float64Array.from(latencies).sort();
  const at = (p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
  return { p50: at(50), p99: at(99), max: sorted.length === 0 ? NaN : sorted[sorted.length - 1]! };
}
