/**
 * Case 2, ingest under backlog: the same load as case 1 on a journal already holding a large
 * undelivered backlog (1,000,000 events by default, BENCH_BACKLOG), against an empty journal in
 * the same run; plus start-up time and memory with that backlog. Both gateways are scraped on
 * `/metrics` every `SCRAPE_EVERY_MS` during the load, as Prometheus would: the backlog gauges
 * count the whole backlog, and that must not hold up ingest.
 */

import { createJournal, JournalReader, preload, workspace } from '../journal.js';
import { webhookBody } from '../load.js';
import { atLeast, below, fmt, type Row, zeroInEveryRun } from '../report.js';
import type { BenchCase } from '../settings.js';
import { measureSluice, NO_DELIVERY, type SluiceRun } from './ingest.js';

const SCRAPE_EVERY_MS = 2_000;

export const backlogCase: BenchCase = {
  id: '2',
  name: 'backlog',
  title: 'Ingest under backlog',
  // Preloading runs at roughly 50k–100k events/s; then two gateways per run.
  budgetS: (s) => 60 + s.backlog / 20_000 + s.runs * 2 * (s.warmupS + s.durationS + 40),
  async run(settings) {
    const backlogWs = workspace(NO_DELIVERY);
    await createJournal(backlogWs);
    settings.log(`preloading ${fmt.count(settings.backlog)} events`);
    let logged = 0;
    const preloadS = preload(backlogWs, {
      count: settings.backlog,
      body: webhookBody(),
      batch: 20_000,
      progress: (n) => {
        if (n - logged >= 250_000) settings.log(`  ${fmt.count((logged = n))} written`);
      },
    });
    settings.log(`  preloaded in ${fmt.seconds(preloadS)}`);

    const runs: { empty: SluiceRun; backlog: SluiceRun; held: number }[] = [];
    for (let i = 1; i <= settings.runs; i++) {
      settings.log(`backlog run ${i}/${settings.runs}: empty journal`);
      const emptyWs = workspace(NO_DELIVERY);
      let empty: SluiceRun;
      try {
        empty = await measureSluice(settings, emptyWs, 0, SCRAPE_EVERY_MS);
      } finally {
        emptyWs.remove();
      }
      // The previous run's events stay: the backlog only grows, as it would in production.
      const reader = new JournalReader(backlogWs.dbPath);
      const held = reader.progress().events;
      reader.close();
      settings.log(`backlog run ${i}/${settings.runs}: ${fmt.count(held)} events in the journal`);
      const backlog = await measureSluice(settings, backlogWs, held, SCRAPE_EVERY_MS);
      runs.push({ empty, backlog, held });
      settings.log(
        `  empty ${fmt.count(empty.run.rps)} req/s, backlog ${fmt.count(backlog.run.rps)} req/s, start-up ${fmt.seconds(backlog.gateway.startupMs / 1000)}`,
      );
    }
    backlogWs.remove();

    const name = '2 Backlog';
    const each = (f: (r: (typeof runs)[number]) => number) => runs.map(f);
    return [
      { case: name, metric: 'events already in the journal', runs: each((r) => r.held), format: fmt.count },
      { case: name, metric: 'preload time (fixture, direct SQLite writes)', runs: [preloadS], format: fmt.seconds },
      {
        case: name,
        metric: 'start-up, empty journal (spawn → listening)',
        runs: each((r) => r.empty.gateway.startupMs / 1000),
        format: fmt.seconds,
      },
      {
        case: name,
        metric: 'start-up with the backlog',
        runs: each((r) => r.backlog.gateway.startupMs / 1000),
        format: fmt.seconds,
        target: '< 1 s',
        verdict: below(1),
      },
      { case: name, metric: 'Sluice req/s, empty journal', runs: each((r) => r.empty.run.rps), format: fmt.count },
      { case: name, metric: 'Sluice req/s, with the backlog', runs: each((r) => r.backlog.run.rps), format: fmt.count },
      {
        case: name,
        metric: 'ratio backlog / empty',
        runs: each((r) => r.backlog.run.rps / r.empty.run.rps),
        format: fmt.ratio,
        target: '≥ 0.9',
        verdict: atLeast(0.9),
      },
      {
        case: name,
        metric: 'p99 with the backlog',
        runs: each((r) => r.backlog.run.p99),
        format: fmt.ms,
        target: '< 10 ms',
        verdict: below(10),
      },
      {
        case: name,
        metric: `slowest /metrics scrape with the backlog (every ${SCRAPE_EVERY_MS / 1000} s)`,
        runs: each((r) => r.backlog.slowestScrapeMs),
        format: fmt.ms,
      },
      {
        case: name,
        metric: 'RSS after start-up with the backlog',
        runs: each((r) => r.backlog.rssAtStart),
        format: fmt.mb,
      },
      {
        case: name,
        metric: 'peak RSS with the backlog, under load',
        runs: each((r) => r.backlog.rssPeak),
        format: fmt.mb,
        target: '< 200 MB',
        verdict: below(200),
      },
      { case: name, metric: 'peak RSS, empty journal, under load', runs: each((r) => r.empty.rssPeak), format: fmt.mb },
      {
        case: name,
        metric: 'CPU of other processes (backlog run, % of a core)',
        runs: each((r) => r.backlog.run.otherCpu),
        format: fmt.percent,
      },
      {
        case: name,
        metric: 'acknowledged but not journaled',
        runs: each((r) => r.empty.missing + r.backlog.missing),
        format: fmt.count,
        ...zeroInEveryRun,
      },
    ] satisfies Row[];
  },
};
