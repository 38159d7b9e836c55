/**
 * Case 5, the slow CRM: 200 events/s of ingest for 60 s (scaled with BENCH_DURATION) into a
 * destination with `concurrency: 2` whose receiver takes 1.5 s per call, so it can take at most
 * 2 / 1.5 s ≈ 1.33 events/s and the backlog should grow by the difference, ~198.7 a second.
 * Then the ingest stops and the drain is watched for as long again.
 *
 * The ingest load is open loop, 200 requests/s evenly spaced (workers/paced.ts), as webhooks
 * arrive; deliveries are counted on the receiver's side (`sluice sink` at info logs each answer, a line
 * every 0.75 s here); the backlog is read from the journal when the measured load starts and ends.
 *
 * When the load stops, the gateway's own drain ETA is read from its admin API (GET /destinations,
 * what `sluice status` prints) and compared with the ETA the drain observed over the following
 * window implies: the backlog at that moment over the observed rate.
 */

import {
  type DestinationStatus,
  destinationStatus,
  JournalReader,
  type Progress,
  SOURCE_PATH,
  startSluice,
  workspace,
} from '../journal.js';
import { CONNECTIONS, type LoadRun, runLoad, webhookBody } from '../load.js';
import { type Server, sleep, spawnCli, startServer } from '../processes.js';
import { below, fmt, type Row, within, zeroInEveryRun } from '../report.js';
import type { BenchCase, Settings } from '../settings.js';

const INGEST_RATE = 200;
const LATENCY_MS = 1500;
const CONCURRENCY = 2;
/** What the consumer can take: `CONCURRENCY` calls per `LATENCY_MS`. */
const CONSUMER_RATE = (CONCURRENCY * 1000) / LATENCY_MS;

/** 60 s at the default BENCH_DURATION of 10 s, scaled with it. */
const phaseSeconds = (s: Settings) => 6 * s.durationS;

interface SlowCrmRun {
  load: LoadRun;
  /** Backlog growth per second over the measured load. */
  growth: number;
  /** Deliveries/s at the receiver while the measured load ran, and in the watch window after it. */
  rateUnderLoad: number;
  drainRate: number;
  /** Journal counts when the load stopped and at the end of the watch. */
  atLoadEnd: Progress;
  atEnd: Progress;
  /** What the gateway reported when the load stopped. */
  reported: DestinationStatus;
}

const hours = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)} h` : '–');
const perSecond = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}/s` : '–');
const countIn = (times: number[], from: number, to: number) => times.filter((t) => t >= from && t < to).length;

async function slowCrmRun(settings: Settings, sink: Server, answers: number[]): Promise<SlowCrmRun> {
  const ws = workspace({ url: `http://127.0.0.1:${sink.port}/crm`, concurrency: CONCURRENCY });
  try {
    const gateway = await startSluice(ws);
    const reader = new JournalReader(ws.dbPath);
    try {
      answers.length = 0;
      let openAtStart = NaN;
      let openAtEnd = NaN;
      const load = await runLoad(
        {
          url: `http://127.0.0.1:${gateway.port}${SOURCE_PATH}`,
          connections: CONNECTIONS,
          warmupS: settings.warmupS,
          durationS: phaseSeconds(settings),
          body: webhookBody(),
          rate: INGEST_RATE,
        },
        [gateway.pid],
        { measuring: () => (openAtStart = reader.open()), done: () => (openAtEnd = reader.open()) },
      );
      const reported = await destinationStatus(gateway);
      const atLoadEnd = reader.progress();
      const watchFrom = Date.now();
      await sleep(phaseSeconds(settings) * 1000);
      const watchTo = Date.now();
      const atEnd = reader.progress();
      return {
        load,
        growth: (openAtEnd - openAtStart) / ((load.measuredTo - load.measuredFrom) / 1000),
        rateUnderLoad:
          countIn(answers, load.measuredFrom, load.measuredTo) / ((load.measuredTo - load.measuredFrom) / 1000),
        drainRate: countIn(answers, watchFrom, watchTo) / ((watchTo - watchFrom) / 1000),
        atLoadEnd,
        atEnd,
        reported,
      };
    } finally {
      reader.close();
      await gateway.stop();
    }
  } finally {
    ws.remove();
  }
}

export const slowCrmCase: BenchCase = {
  id: '5',
  name: 'slow-crm',
  title: 'The slow CRM',
  budgetS: (s) => 60 + s.runs * (s.warmupS + 2 * phaseSeconds(s) + 60),
  async run(settings) {
    const sink = await startServer(() => spawnCli('sink', ['sink', '--port', '0', '--latency', `${LATENCY_MS}ms`]));
    const answers: number[] = [];
    sink.onLine((line) => {
      if (line.includes('"sink answered"') && line.includes('"status":200'))
        answers.push((JSON.parse(line) as { time: number }).time);
    });
    try {
      const runs: SlowCrmRun[] = [];
      for (let i = 1; i <= settings.runs; i++) {
        settings.log(
          `slow CRM run ${i}/${settings.runs}: ${INGEST_RATE}/s for ${phaseSeconds(settings)} s, then the drain for as long`,
        );
        const run = await slowCrmRun(settings, sink, answers);
        runs.push(run);
        settings.log(
          `  p99 ${fmt.ms(run.load.p99)}, backlog ${fmt.count(run.atLoadEnd.open)} (+${perSecond(run.growth)}), drain ${perSecond(run.drainRate)}`,
        );
      }
      const name = '5 Slow CRM';
      const each = (f: (r: SlowCrmRun) => number) => runs.map(f);
      // Every acknowledged event is journaled; every journaled one is delivered, dead or still open.
      // The backlog the gateway reported on, at the pace observed afterwards.
      const impliedEta = (r: SlowCrmRun) =>
        (r.reported.pending + r.reported.in_flight + r.reported.claimed + r.reported.retrying) / r.drainRate / 3600;
      const lost = (r: SlowCrmRun) =>
        Math.max(0, r.load.totalOk - r.atLoadEnd.events) +
        Math.abs(r.atEnd.events - r.atEnd.delivered - r.atEnd.dead - r.atEnd.open);
      return [
        {
          case: name,
          metric: `ingest req/s (offered ${INGEST_RATE}/s)`,
          runs: each((r) => r.load.rps),
          format: fmt.rate,
        },
        { case: name, metric: 'ingest p50', runs: each((r) => r.load.p50), format: fmt.ms },
        {
          case: name,
          metric: 'ingest p99',
          runs: each((r) => r.load.p99),
          format: fmt.ms,
          target: '< 10 ms',
          verdict: below(10),
        },
        {
          case: name,
          metric: 'backlog growth during the load',
          runs: each((r) => r.growth),
          format: perSecond,
          target: `${(INGEST_RATE - CONSUMER_RATE).toFixed(1)}/s ± 5%`,
          verdict: within(INGEST_RATE - CONSUMER_RATE, 0.05),
        },
        { case: name, metric: 'backlog when the load stopped', runs: each((r) => r.atLoadEnd.open), format: fmt.count },
        {
          case: name,
          metric: `deliveries during the load (consumer max ${CONSUMER_RATE.toFixed(2)}/s)`,
          runs: each((r) => r.rateUnderLoad),
          format: perSecond,
          target: '≥ 90% of max',
          verdict: (v) => (v >= 0.9 * CONSUMER_RATE ? 'PASS' : 'FAIL'),
        },
        {
          case: name,
          metric: 'lost (acknowledged, then not journaled or unaccounted)',
          runs: each(lost),
          format: fmt.count,
          ...zeroInEveryRun,
        },
        {
          case: name,
          metric: 'observed drain rate after the load',
          runs: each((r) => r.drainRate),
          format: perSecond,
          target: `${CONSUMER_RATE.toFixed(2)}/s ± 10%`,
          verdict: within(CONSUMER_RATE, 0.1),
        },
        {
          case: name,
          metric: 'drain ETA reported by Sluice when the load stopped',
          runs: each((r) => (r.reported.eta_seconds ?? NaN) / 3600),
          format: hours,
        },
        { case: name, metric: 'ETA implied by the drain observed after it', runs: each(impliedEta), format: hours },
        {
          case: name,
          metric: 'reported / observed ETA',
          runs: each((r) => (r.reported.eta_seconds ?? NaN) / 3600 / impliedEta(r)),
          format: fmt.ratio,
          target: '1.00 ± 10%',
          verdict: within(1, 0.1),
        },
      ] satisfies Row[];
    } finally {
      await sink.stop();
    }
  },
};
