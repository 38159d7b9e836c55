/** What a bench run is told by its environment, and the shape of a case. */
import type { Row } from './report.js';

/** Knobs of one bench run. */
export interface Settings {
  /** BENCH_DURATION: seconds of each measured run (default 10); longer cases scale with it. */
  durationS: number;
  /** Seconds of load before each measured run: connections open, JIT warm, SQLite caches filled. */
  warmupS: number;
  /** Measured runs per case; the table prints each and their median. */
  runs: number;
  /** BENCH_BACKLOG: events preloaded for the backlog case (default 1,000,000). */
  backlog: number;
  /** Progress messages (stderr: stdout carries the table). */
  log(message: string): void;
}

/** One benchmark case. */
export interface BenchCase {
  /** Case number ("1".."5"), also accepted by BENCH_CASES. */
  id: string;
  /** Short name, also accepted by BENCH_CASES. */
  name: string;
  title: string;
  /** An upper bound on its run time, in seconds: the watchdog stops the case past it. */
  budgetS(settings: Settings): number;
  run(settings: Settings): Promise<Row[]>;
}

/** Reads BENCH_DURATION and BENCH_BACKLOG; rejects values that cannot make a meaningful run. */
export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const number = (name: string, fallback: number, min: number): number => {
    const text = env[name];
    if (text === undefined || text.trim() === '') return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}, got "${text}"`);
    return n;
  };
  const durationS = number('BENCH_DURATION', 10, 1);
  return {
    durationS,
    // 3 s, less for very short runs.
    warmupS: Math.min(3, Math.max(1, Math.round(durationS / 3))),
    runs: 2,
    backlog: Math.round(number('BENCH_BACKLOG', 1_000_000, 1_000)),
    log: (message) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`),
  };
}

/** The cases named in BENCH_CASES (ids or names, comma-separated), in the order given; all when unset. */
export function selectCases(all: BenchCase[], env: NodeJS.ProcessEnv = process.env): BenchCase[] {
  const text = env.BENCH_CASES?.trim();
  if (!text) return all;
  return text.split(',').map((key) => {
    const found = all.find((c) => c.id === key.trim() || c.name === key.trim());
    if (!found)
      throw new Error(
        `BENCH_CASES: unknown case "${key.trim()}"; use ${all.map((c) => `${c.id} (${c.name})`).join(', ')}`,
      );
    return found;
  });
}
