/** Results of the benchmark: rows of measured values per run, their median, a target and a verdict. */

/** One measured quantity of one case. */
export interface Row {
  case: string;
  metric: string;
  /** One value per run; NaN where a run did not produce one. */
  runs: number[];
  format: (value: number) => string;
  /** The target, as printed ('' for a value shown for information). */
  target?: string;
  /** Judges the median (or the worst run, see `judge`) against the target: 'PASS', 'FAIL', or a qualified verdict. */
  verdict?: (value: number) => string;
  /**
   * For targets that must hold in every run ("never above 60", "nothing lost"): judge the worst
   * run, the highest ('max') or lowest ('min') value, rather than the median.
   */
  judge?: 'median' | 'max' | 'min';
  /** Printed instead of the median (for what could not be measured). */
  text?: string;
}

/** Median of the finite values (the mean of the middle two for an even count); NaN when none. */
export function median(values: number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Value formats. */
export const fmt = {
  /** 12,345 */
  count: (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–'),
  /** 1.23 ms */
  ms: (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)} ms` : '–'),
  /** 123.4 µs */
  micros: (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} µs` : '–'),
  /** 0.62 */
  ratio: (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '–'),
  /** 87% */
  percent: (v: number) => (Number.isFinite(v) ? `${v.toFixed(0)}%` : '–'),
  /** 0.42 s */
  seconds: (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)} s` : '–'),
  /** 123 MB */
  mb: (v: number) => (Number.isFinite(v) ? `${v.toFixed(0)} MB` : '–'),
  /** 49.8/s */
  rate: (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)}/s` : '–'),
};

/** Verdict helpers: a target met, or not; NaN (not measured) fails. */
export const atLeast = (min: number) => (v: number) => (v >= min ? 'PASS' : 'FAIL');
export const atMost = (max: number) => (v: number) => (v <= max ? 'PASS' : 'FAIL');
export const below = (max: number) => (v: number) => (v < max ? 'PASS' : 'FAIL');
export const within = (expected: number, fraction: number) => (v: number) =>
  Math.abs(v - expected) <= expected * fraction ? 'PASS' : 'FAIL';

/** Target, verdict and judging of a count that must be 0 in every run (lost events, errors). */
export const zeroInEveryRun = {
  target: '0 in every run',
  verdict: (v: number) => (v === 0 ? 'PASS' : 'FAIL'),
  judge: 'max' as const,
};

/** A row for a case that could not run, so the table still says what happened. */
export function failedCase(caseName: string, error: unknown): Row {
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.replaceAll('|', '\\|');
  return {
    case: caseName,
    metric: 'case failed',
    runs: [],
    format: String,
    text: message.slice(0, 200),
    verdict: () => 'ERROR',
  };
}

/** The results as a markdown table: one row per metric, a column per run, the median, the target, the verdict. */
export function markdownTable(rows: Row[], runs: number): string {
  const header = [
    'Case',
    'Metric',
    ...Array.from({ length: runs }, (_, i) => `Run ${i + 1}`),
    'Median',
    'Target',
    'Result',
  ];
  const lines = [
    `| ${header.join(' | ')} |`,
    `|${header.map((h, i) => (i < 2 || h === 'Target' || h === 'Result' ? '---' : '--:')).join('|')}|`,
  ];
  let previousCase = '';
  for (const row of rows) {
    const value = median(row.runs);
    const finite = row.runs.filter(Number.isFinite);
    const judged = row.judge === 'max' ? Math.max(...finite) : row.judge === 'min' ? Math.min(...finite) : value;
    const cells = [
      // The case name once per group keeps the table readable.
      row.case === previousCase ? '' : row.case,
      row.metric,
      ...Array.from({ length: runs }, (_, i) => (row.runs[i] === undefined ? '' : row.format(row.runs[i]!))),
      row.text ?? row.format(value),
      row.target ?? '',
      row.verdict ? row.verdict(judged) : '',
    ];
    previousCase = row.case;
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
