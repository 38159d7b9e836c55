/**
 * Case 1, ingest vs the ceiling: Sluice's durable ingest (group commit, synchronous=FULL) against
 * a bare Hono handler that stores nothing, each in its own process, loaded alternately in each
 * run so that both see the same machine state (the machine is shared and drifts).
 */

import {
  ADMIN_HEADERS,
  adminUrl,
  JournalReader,
  SOURCE_PATH,
  startSluice,
  type Workspace,
  workspace,
} from '../journal.js';
import { CONNECTIONS, type LoadRun, runLoad, webhookBody } from '../load.js';
import { memoryMb, THREAD_KINDS, type ThreadCpu } from '../proc.js';
import { type Server, sleep, spawnWorker, startServer } from '../processes.js';
import { atLeast, below, fmt, type Row, zeroInEveryRun } from '../report.js';
import type { BenchCase, Settings } from '../settings.js';

/** Delivery paced to effectively nothing (and to a closed port), so it does not compete with ingest. */
export const NO_DELIVERY = { url: 'http://127.0.0.1:9/', rate: '1/h' };

/** Full-speed load on a server's ingest path, with its CPU use watched. */
export function loadServer(server: Server, settings: Settings): Promise<LoadRun> {
  return runLoad(
    {
      url: `http://127.0.0.1:${server.port}${SOURCE_PATH}`,
      connections: CONNECTIONS,
      warmupS: settings.warmupS,
      durationS: settings.durationS,
      body: webhookBody(),
    },
    [server.pid],
  );
}

/** What one load run on a Sluice gateway measured. */
export interface SluiceRun {
  run: LoadRun;
  gateway: Server;
  /** Acknowledged events not found in the journal afterwards: must be 0. */
  missing: number;
  /** Resident memory in MB right after start-up, and its peak by the end of the load. */
  rssAtStart: number;
  rssPeak: number;
  /** Longest `GET /metrics` while the load ran (NaN when not scraped). */
  slowestScrapeMs: number;
}

/** While `work` runs, scrapes the gateway's `/metrics` every `everyMs`, as Prometheus would; resolves the slowest scrape. */
async function scrapeDuring(gateway: Server, everyMs: number, work: Promise<unknown>): Promise<number> {
  const url = `${await adminUrl(gateway)}/metrics`;
  let done = false;
  void work.finally(() => (done = true)).catch(() => {});
  let slowest = 0;
  while (!done) {
    const started = performance.now();
    const response = await fetch(url, { headers: ADMIN_HEADERS, signal: AbortSignal.timeout(30_000) });
    await response.text();
    slowest = Math.max(slowest, performance.now() - started);
    await sleep(everyMs);
  }
  return slowest;
}

/**
 * Starts Sluice on `ws`, loads its ingest, stops it, then checks that every acknowledged event is
 * in the journal (`eventsBefore`: events the journal already held, e.g. a preloaded backlog).
 * With `scrapeEveryMs`, `/metrics` is scraped that often during the load.
 */
export async function measureSluice(
  settings: Settings,
  ws: Workspace,
  eventsBefore = 0,
  scrapeEveryMs?: number,
): Promise<SluiceRun> {
  const gateway = await startSluice(ws);
  const rssAtStart = memoryMb(gateway.pid)?.rss ?? NaN;
  let run: LoadRun;
  let rssPeak = NaN;
  let slowestScrapeMs = NaN;
  try {
    const load = loadServer(gateway, settings);
    if (scrapeEveryMs !== undefined) slowestScrapeMs = await scrapeDuring(gateway, scrapeEveryMs, load);
    run = await load;
    rssPeak = memoryMb(gateway.pid)?.peak ?? NaN;
  } finally {
    await gateway.stop();
  }
  const reader = new JournalReader(ws.dbPath);
  const journaled = reader.progress().events - eventsBefore;
  reader.close();
  // More journaled than acknowledged is fine: answers in flight when the load generator stopped.
  return { run, gateway, missing: Math.max(0, run.totalOk - journaled), rssAtStart, rssPeak, slowestScrapeMs };
}

export const ingestCase: BenchCase = {
  id: '1',
  name: 'ingest',
  title: 'Ingest vs the ceiling',
  budgetS: (s) => s.runs * 2 * (s.warmupS + s.durationS + 40),
  async run(settings) {
    const runs: { bare: LoadRun; sluice: LoadRun; missing: number }[] = [];
    for (let i = 1; i <= settings.runs; i++) {
      settings.log(`ingest run ${i}/${settings.runs}: bare Hono`);
      const bareServer = await startServer(() => spawnWorker('bare-hono', 'bare-hono.ts'));
      let bare: LoadRun;
      try {
        bare = await loadServer(bareServer, settings);
      } finally {
        await bareServer.stop();
      }
      settings.log(`ingest run ${i}/${settings.runs}: Sluice`);
      const ws = workspace(NO_DELIVERY);
      try {
        const { run, missing } = await measureSluice(settings, ws);
        runs.push({ bare, sluice: run, missing });
      } finally {
        ws.remove();
      }
      const last = runs[runs.length - 1]!;
      settings.log(
        `  bare ${fmt.count(last.bare.rps)} req/s, Sluice ${fmt.count(last.sluice.rps)} req/s (p99 ${fmt.ms(last.sluice.p99)})`,
      );
    }
    return ingestRows('1 Ingest', runs);
  },
};

/** Rows of the ingest comparison. */
function ingestRows(name: string, runs: { bare: LoadRun; sluice: LoadRun; missing: number }[]): Row[] {
  const each = (f: (r: (typeof runs)[number]) => number) => runs.map(f);
  const cpu = (run: LoadRun, which: 'process' | 'mainThread') => [...run.cpu.values()][0]?.[which] ?? NaN;
  return [
    { case: name, metric: 'bare Hono req/s', runs: each((r) => r.bare.rps), format: fmt.count },
    { case: name, metric: 'Sluice req/s', runs: each((r) => r.sluice.rps), format: fmt.count },
    {
      case: name,
      metric: 'ratio Sluice / bare',
      runs: each((r) => r.sluice.rps / r.bare.rps),
      format: fmt.ratio,
      target: '≥ 0.5 (goal ≥ 0.7)',
      verdict: (v) => (v >= 0.7 ? 'PASS (goal met)' : atLeast(0.5)(v) === 'PASS' ? 'PASS (goal 0.7 not met)' : 'FAIL'),
    },
    { case: name, metric: 'Sluice p50', runs: each((r) => r.sluice.p50), format: fmt.ms },
    {
      case: name,
      metric: 'Sluice p99',
      runs: each((r) => r.sluice.p99),
      format: fmt.ms,
      target: '< 10 ms',
      verdict: below(10),
    },
    { case: name, metric: 'bare p50', runs: each((r) => r.bare.p50), format: fmt.ms },
    { case: name, metric: 'bare p99', runs: each((r) => r.bare.p99), format: fmt.ms },
    {
      case: name,
      metric: 'Sluice non-2xx + errors',
      runs: each((r) => r.sluice.non2xx + r.sluice.errors),
      format: fmt.count,
      ...zeroInEveryRun,
    },
    {
      case: name,
      metric: 'acknowledged but not journaled',
      runs: each((r) => r.missing),
      format: fmt.count,
      ...zeroInEveryRun,
    },
    ...cpuPerRequestRows(name, runs),
    {
      case: name,
      metric: 'Sluice CPU, main thread (% of a core)',
      runs: each((r) => cpu(r.sluice, 'mainThread')),
      format: fmt.percent,
    },
    {
      case: name,
      metric: 'Sluice CPU, whole process',
      runs: each((r) => cpu(r.sluice, 'process')),
      format: fmt.percent,
    },
    { case: name, metric: 'bare CPU, main thread', runs: each((r) => cpu(r.bare, 'mainThread')), format: fmt.percent },
    {
      case: name,
      metric: 'load generator CPU (Sluice run)',
      runs: each((r) => r.sluice.loadCpu.process),
      format: fmt.percent,
    },
    {
      case: name,
      metric: 'machine busy, % of 2 cores (Sluice run)',
      runs: each((r) => r.sluice.machine.busy),
      format: fmt.percent,
    },
    {
      case: name,
      metric: 'machine iowait (Sluice run)',
      runs: each((r) => r.sluice.machine.iowait),
      format: fmt.percent,
    },
    {
      case: name,
      metric: 'CPU of other processes (Sluice run, % of a core)',
      runs: each((r) => r.sluice.otherCpu),
      format: fmt.percent,
    },
    {
      case: name,
      metric: 'CPU of other processes (bare run)',
      runs: each((r) => r.bare.otherCpu),
      format: fmt.percent,
    },
  ];
}

/** µs of CPU per acknowledged request, per thread, on both sides: the figure to compare across days. */
function cpuPerRequestRows(name: string, runs: { bare: LoadRun; sluice: LoadRun }[]): Row[] {
  const perRequest = (run: LoadRun, kind: keyof ThreadCpu) =>
    (([...run.threads.values()][0]?.[kind] ?? NaN) * 1e6) / run.ok;
  const row = (metric: string, values: number[], target?: string): Row => ({
    case: name,
    metric,
    runs: values,
    format: metric.startsWith('CPU per request, ratio') ? fmt.ratio : fmt.micros,
    ...(target && { target }),
  });
  return [
    ...THREAD_KINDS.filter((k) => k !== 'reader').map((kind) =>
      row(
        `Sluice CPU per request, ${kind} thread${kind === 'other' ? 's' : ''}`,
        runs.map((r) => perRequest(r.sluice, kind)),
      ),
    ),
    row(
      'Sluice CPU per request, whole process',
      runs.map((r) => perRequest(r.sluice, 'total')),
    ),
    row(
      'bare CPU per request, main thread',
      runs.map((r) => perRequest(r.bare, 'main')),
    ),
    row(
      'bare CPU per request, whole process',
      runs.map((r) => perRequest(r.bare, 'total')),
    ),
    row(
      'CPU per request, ratio Sluice / bare',
      runs.map((r) => perRequest(r.sluice, 'total') / perRequest(r.bare, 'total')),
      '≤ 1.6 (goal)',
    ),
  ];
}
