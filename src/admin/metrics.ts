/**
 * Prometheus metrics, on a registry of Sluice's own (never prom-client's global one, so that two
 * gateways in one process, or a test, do not mix their numbers). Served at `GET /metrics` on the
 * admin listener. The counters and histograms follow the gateway's events (`subscribe`).
 *
 *   sluice_events_received_total{source,outcome}          accepted | rejected | duplicate | unavailable
 *   sluice_delivery_attempts_total{destination,outcome}   delivered | retry | dead (one per finished attempt)
 *   sluice_delivery_attempt_duration_seconds{destination} histogram
 *   sluice_journal_commit_batch_size                      histogram: writes per group commit
 *   sluice_journal_reclaimed_events_total                 delivered events deleted early for lack of space
 *   sluice_journal_storage_full                           1 while new events are refused for lack of space
 *   sluice_journal_commit_duration_seconds                histogram
 *   sluice_deliveries_pending{destination}                waiting for a first attempt (or replayed)
 *   sluice_deliveries_retrying{destination}               waiting for a retry
 *   sluice_deliveries_in_flight{destination}
 *   sluice_deliveries_dead{destination}
 *   sluice_oldest_pending_age_seconds{destination}        age of the oldest unfinished event (0 when none)
 *   sluice_destination_paused{destination}                1 when paused by an operator
 *   sluice_destination_held{destination,reason}           1 while held: retry_after (the consumer's 429/503
 *                                                         Retry-After) or unreachable (no answer; probed after)
 *   sluice_destination_held_until_seconds{destination}    Unix time the hold ends (0 when not held)
 *   sluice_destination_rate{destination}                  requests per second its pace allows now (+Inf: unlimited)
 *   sluice_destination_concurrency{destination}           requests at once its pace allows now
 *   sluice_consumer_refusals_total{destination,status}    the consumer's 429 and 503 answers
 *
 * Rate and concurrency are the configured ones, or for an adaptive destination the learned ones
 * (`destination:pace`).
 * This module holds the event-fed counters and histograms and puts the rest together: the backlog,
 * pause and storage gauges are read from the journal at scrape time (journal-gauges.ts), the hold
 * gauges from the scheduler (hold-gauges.ts), and `deliveredRate` comes from delivery-rates.ts.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { DestinationState } from '../delivery/types.js';
import {
  ATTEMPT_OUTCOMES,
  type AttemptEvent,
  type GatewayEventMap,
  type GatewayEvents,
  RECEIVE_OUTCOMES,
} from '../events.js';
import type { Journal } from '../journal/port.js';
import { DeliveryRates } from './delivery-rates.js';
import { registerHoldGauges } from './hold-gauges.js';
import { registerJournalGauges } from './journal-gauges.js';

/** The metrics of one gateway. */
export interface Metrics {
  readonly registry: Registry;
  /**
   * Counts what `events` reports: requests on source paths (`ingest:received`), finished delivery
   * attempts (`delivery:attempt`) and journal group commits (`journal:commit`). Returns the
   * function that stops listening.
   */
  subscribe(events: GatewayEvents): () => void;
  /**
   * Deliveries per second to `destination` by this process over the last minute, counted from
   * the first delivery in that minute (at least 10 s); undefined when there was none.
   */
  deliveredRate(destination: string, now?: number): number | undefined;
  /**
   * The same deliveries over the time since the first of them was sent (1 s at least), without the
   * 10 s floor: the pace to expect right after a start, when the floored rate still understates it.
   * For the time to drain, where the configured rate caps it (a burst says nothing of the pace after it).
   */
  sendingRate(destination: string, now?: number): number | undefined;
  /** Reads the backlog gauges of these destinations from `journal` at scrape time. */
  bindJournal(journal: Journal, destinations: DestinationNames, clock?: () => number): void;
  /** Reads the hold gauges of these destinations from the scheduler's live state at scrape time. */
  bindScheduler(state: (destination: string) => DestinationState | undefined, destinations: DestinationNames): void;
}

/** Destination names, or the `destinations` section of the config. */
export type DestinationNames = readonly string[] | Readonly<Record<string, unknown>>;

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event loop lag, GC) in the same registry. Default true. */
  defaultMetrics?: boolean;
  /** Sources whose counters start at 0 (so that `rate()` and alerts see them before the first event). */
  sources?: readonly string[];
  /** Destinations whose counters start at 0. */
  destinations?: DestinationNames;
  /** How long a scrape's backlog figures are reused. Default 1000 ms. */
  statsTtlMs?: number;
  /** Time of deliveries for `deliveredRate` (default Date.now; `bindJournal` sets it too). */
  clock?: () => number;
}

/** The consumer's answers counted as refusals. */
const REFUSAL_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** Creates the metrics and their registry. */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const statsTtlMs = options.statsTtlMs ?? 1_000;

  const received = new Counter({
    name: 'sluice_events_received_total',
    help: 'Requests on source paths, by source and outcome (accepted: journaled; rejected: refused with a 4xx; duplicate: deduplicated; unavailable: 503).',
    labelNames: ['source', 'outcome'] as const,
    registers: [registry],
    // Counted as plain numbers per request and handed over when read (see receivedBy below).
    collect() {
      handOver(this, receivedTallies);
    },
  });
  const attempts = new Counter({
    name: 'sluice_delivery_attempts_total',
    help: 'Finished delivery attempts, by destination and outcome (delivered, retry: failed and will be retried, dead: failed for good).',
    labelNames: ['destination', 'outcome'] as const,
    registers: [registry],
    // Tallied in plain numbers per attempt and handed over when read, as requests are.
    collect() {
      handOver(this, attemptTallies);
    },
  });
  const attemptDuration = new Histogram({
    name: 'sluice_delivery_attempt_duration_seconds',
    help: 'Duration of delivery attempts, by destination.',
    labelNames: ['destination'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const commitSize = new Histogram({
    name: 'sluice_journal_commit_batch_size',
    help: 'Writes (ingested events, claims, outcomes) per journal group commit.',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000],
    registers: [registry],
  });
  const commitDuration = new Histogram({
    name: 'sluice_journal_commit_duration_seconds',
    help: 'Duration of journal group commits, fsync included.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  const reclaimed = new Counter({
    name: 'sluice_journal_reclaimed_events_total',
    help: 'Delivered events deleted before their retention ended, because the journal was short of space.',
    registers: [registry],
  });
  // Registered here, between the counters above and the pace gauges below: a registry lists its
  // metrics in the order they were registered, and /metrics keeps the order it always had.
  const journalGauges = registerJournalGauges(registry, statsTtlMs);
  const holdGauges = registerHoldGauges(registry);
  let clock: () => number = options.clock ?? Date.now;
  const rates = new DeliveryRates();

  const paceRate = new Gauge({
    name: 'sluice_destination_rate',
    help: 'Requests per second the destination may be sent now: the configured rate, or the adaptive pace under it (+Inf: unlimited).',
    labelNames: ['destination'] as const,
    registers: [registry],
  });
  const paceConcurrency = new Gauge({
    name: 'sluice_destination_concurrency',
    help: 'Requests at once the destination may be sent now: the configured concurrency, or the adaptive pace under it.',
    labelNames: ['destination'] as const,
    registers: [registry],
  });
  const refusals = new Counter({
    name: 'sluice_consumer_refusals_total',
    help: "The consumer's refusals (429 Too Many Requests, 503 Service Unavailable), by destination and status.",
    labelNames: ['destination', 'status'] as const,
    registers: [registry],
    collect() {
      handOver(this, refusalTallies);
    },
  });
  const setPace = (destination: string, rate: number | undefined, concurrency: number) => {
    paceRate.set({ destination }, rate ?? Number.POSITIVE_INFINITY);
    paceConcurrency.set({ destination }, concurrency);
  };
  const onPace = (pace: GatewayEventMap['destination:pace'][0]) =>
    setPace(pace.destination, pace.rate, pace.concurrency);

  const initDestinations = (names: readonly string[]) => {
    for (const destination of names) {
      for (const outcome of ATTEMPT_OUTCOMES) attempts.inc({ destination, outcome }, 0);
      attemptDuration.zero({ destination });
      for (const status of REFUSAL_STATUSES) refusals.inc({ destination, status }, 0);
    }
  };
  for (const s of options.sources ?? [])
    for (const outcome of RECEIVE_OUTCOMES) received.inc({ source: s, outcome }, 0);
  if (options.destinations) initDestinations(namesOf(options.destinations));
  // A fixed pace is the configured one; an adaptive one is told by its loop when it starts.
  for (const [destination, config] of Object.entries(
    Array.isArray(options.destinations) ? {} : (options.destinations ?? {}),
  )) {
    const d = config as { rate?: number; concurrency?: number; adaptive?: unknown };
    if (typeof d.concurrency === 'number' && !d.adaptive) setPace(destination, d.rate, d.concurrency);
  }

  // prom-client hashes and validates the label object on every `inc({...})`, and a label child's
  // `inc()` still does so on each call; these run for every request and every attempt. So the
  // counters are tallied in plain numbers, one tally per label set (looked up once), that each
  // counter's `collect` adds in when it is read. The histogram has no way to take counts in, so its
  // label child is kept (looked up once per destination).
  const receivedTallies: Tally[] = [];
  const receivedBy = labelled((source: string, outcome: string) => tally(receivedTallies, { source, outcome }));
  const attemptTallies: Tally[] = [];
  const attemptsBy = labelled((destination: string, outcome: string) =>
    tally(attemptTallies, { destination, outcome }),
  );
  const refusalTallies: Tally[] = [];
  const refusalsBy = labelled((destination: string, status: number) => tally(refusalTallies, { destination, status }));
  const durationBy = labelled((destination: string, _: string) => attemptDuration.labels({ destination }));

  const onAttempt = (event: AttemptEvent) => {
    attemptsBy(event.destination, event.outcome).count++;
    durationBy(event.destination, '').observe(event.durationMs / 1000);
    if (event.status !== undefined && REFUSAL_STATUSES.has(event.status))
      refusalsBy(event.destination, event.status).count++;
    if (event.outcome !== 'delivered') return;
    rates.record(event.destination, clock(), event.durationMs);
  };
  const onReceived = ({ source, outcome }: GatewayEventMap['ingest:received'][0]) => {
    receivedBy(source, outcome).count++;
  };
  const onReclaimed = ({ count }: GatewayEventMap['journal:reclaimed'][0]) => reclaimed.inc(count);
  const onCommit = ({ batchSize, durationMs }: GatewayEventMap['journal:commit'][0]) => {
    commitSize.observe(batchSize);
    commitDuration.observe(durationMs / 1000);
  };

  return {
    registry,
    subscribe(events) {
      events.on('ingest:received', onReceived);
      events.on('delivery:attempt', onAttempt);
      events.on('journal:commit', onCommit);
      events.on('journal:reclaimed', onReclaimed);
      events.on('destination:pace', onPace);
      return () => {
        events.off('destination:pace', onPace);
        events.off('journal:reclaimed', onReclaimed);
        events.off('ingest:received', onReceived);
        events.off('delivery:attempt', onAttempt);
        events.off('journal:commit', onCommit);
      };
    },
    sendingRate(destination, now = clock()) {
      return rates.sendingRate(destination, now);
    },
    deliveredRate(destination, now = clock()) {
      return rates.deliveredRate(destination, now);
    },
    bindJournal(journal, destinations, journalClock) {
      const names = namesOf(destinations);
      if (journalClock) clock = journalClock;
      journalGauges.bind(journal, names, clock);
      initDestinations(names);
    },
    bindScheduler(state, destinations) {
      holdGauges.bind(state, namesOf(destinations));
    },
  };
}

/** Occurrences of one label set not yet handed to its counter. */
interface Tally {
  labels: Record<string, string | number>;
  count: number;
}

function tally(tallies: Tally[], labels: Record<string, string | number>): Tally {
  const made = { labels, count: 0 };
  tallies.push(made);
  return made;
}

/** Adds the tallies to `counter` (from its `collect`, when it is read) and starts them again at 0. */
function handOver(counter: { inc(labels: Record<string, string | number>, value: number): void }, tallies: Tally[]) {
  for (const t of tallies) {
    if (t.count === 0) continue;
    counter.inc(t.labels, t.count);
    t.count = 0;
  }
}

/** Memoizes `make` by its two arguments (label values). */
function labelled<A, B, T>(make: (a: A, b: B) => T): (a: A, b: B) => T {
  const byA = new Map<A, Map<B, T>>();
  return (a, b) => {
    let byB = byA.get(a);
    if (!byB) {
      byB = new Map();
      byA.set(a, byB);
    }
    let child = byB.get(b);
    if (child === undefined) {
      child = make(a, b);
      byB.set(b, child);
    }
    return child;
  };
}

function namesOf(destinations: DestinationNames): string[] {
  return Array.isArray(destinations) ? [...(destinations as readonly string[])] : Object.keys(destinations);
}
