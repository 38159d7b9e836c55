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
 * The backlog gauges are read from the journal when scraped, at most once per `statsTtlMs` however
 * often or concurrently Prometheus scrapes: one `destinationStats` per destination per refresh.
 *
 * `deliveredRate` is this process's delivery rate per destination, over the last minute but only
 * since the first delivery in it: right after a start or a resume, dividing by a full minute
 * would understate the rate (and overstate the time to drain) for up to a minute.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type DestinationState, HOLD_REASONS } from '../delivery/types.js';
import {
  ATTEMPT_OUTCOMES,
  type AttemptEvent,
  type GatewayEventMap,
  type GatewayEvents,
  RECEIVE_OUTCOMES,
} from '../events.js';
import type { DestinationStats, Journal } from '../journal/port.js';

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
const REFUSAL_STATUSES = [429, 503] as const;

const RATE_WINDOW_MS = 60_000;
const RATE_MIN_SPAN_MS = 10_000;
const SENDING_MIN_SPAN_MS = 1_000;

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
  });
  const attempts = new Counter({
    name: 'sluice_delivery_attempts_total',
    help: 'Finished delivery attempts, by destination and outcome (delivered, retry: failed and will be retried, dead: failed for good).',
    labelNames: ['destination', 'outcome'] as const,
    registers: [registry],
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
  new Gauge({
    name: 'sluice_journal_storage_full',
    help: '1 while the journal refuses new events for lack of space (delivery goes on), else 0.',
    registers: [registry],
    collect() {
      this.set(source?.journal.storageFull() ? 1 : 0);
    },
  });

  let clock: () => number = options.clock ?? Date.now;
  /** Per destination, deliveries by whole second of the last minute (oldest first). */
  const deliveredBySecond = new Map<
    string,
    { second: number; count: number; firstAt: number; firstStartedAt: number }[]
  >();

  let source: { journal: Journal; names: string[]; clock: () => number } | undefined;
  let snapshot: { at: number; stats: Promise<Map<string, DestinationStats>>; paused: Promise<Set<string>> } | undefined;
  /** Backlog figures shared by every gauge of one scrape, refreshed at most once per `statsTtlMs`. */
  const refresh = () => {
    if (!source) return undefined;
    const now = Date.now();
    if (!snapshot || now - snapshot.at >= statsTtlMs) {
      const { journal, names, clock } = source;
      const at = clock();
      snapshot = {
        at: now,
        stats: Promise.all(names.map(async (name) => [name, await journal.destinationStats(name, at)] as const)).then(
          (entries) => new Map(entries),
        ),
        paused: journal.pausedDestinations().then((list) => new Set(list)),
      };
      // A failed read is not cached: the next scrape tries again.
      const failed = snapshot;
      Promise.all([failed.stats, failed.paused]).catch(() => {
        if (snapshot === failed) snapshot = undefined;
      });
    }
    return { ...snapshot, now: source.clock() };
  };

  const backlogGauge = (name: string, help: string, value: (stats: DestinationStats, now: number) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['destination'] as const,
      registers: [registry],
      async collect() {
        const current = refresh();
        if (!current) return;
        // When the journal cannot be read (closed, locked), the previous values stay.
        const stats = await current.stats.catch(() => undefined);
        if (!stats) return;
        for (const [destination, s] of stats) this.set({ destination }, value(s, current.now));
      },
    });
  backlogGauge(
    'sluice_deliveries_pending',
    'Deliveries waiting for their first attempt (or replayed), by destination.',
    (s) => s.pending,
  );
  backlogGauge(
    'sluice_deliveries_retrying',
    'Deliveries waiting for a retry after a failed attempt, by destination.',
    (s) => s.retrying,
  );
  backlogGauge('sluice_deliveries_in_flight', 'Deliveries being attempted, by destination.', (s) => s.inFlight);
  backlogGauge(
    'sluice_deliveries_dead',
    'Deliveries that failed for good (until replayed or past retention), by destination.',
    (s) => s.dead,
  );
  backlogGauge(
    'sluice_oldest_pending_age_seconds',
    'Age of the oldest event not yet finished with the destination (0 when none).',
    (s, now) => (s.oldestUnfinishedAt === undefined ? 0 : Math.max(0, (now - s.oldestUnfinishedAt) / 1000)),
  );
  new Gauge({
    name: 'sluice_destination_paused',
    help: '1 when an operator paused the destination (nothing is sent; ingest goes on).',
    labelNames: ['destination'] as const,
    registers: [registry],
    async collect() {
      const current = refresh();
      if (!current || !source) return;
      const paused = await current.paused.catch(() => undefined);
      if (!paused) return;
      for (const destination of source.names) this.set({ destination }, paused.has(destination) ? 1 : 0);
    },
  });

  let live: { state: (destination: string) => DestinationState | undefined; names: string[] } | undefined;
  new Gauge({
    name: 'sluice_destination_held',
    help: "1 while nothing is sent to the destination because of a hold, by reason: retry_after (the consumer's 429/503 Retry-After) or unreachable (attempts got no answer; probed one at a time after the hold).",
    labelNames: ['destination', 'reason'] as const,
    registers: [registry],
    collect() {
      for (const destination of live?.names ?? []) {
        const state = live!.state(destination);
        for (const reason of HOLD_REASONS) this.set({ destination, reason }, state?.heldBy === reason ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'sluice_destination_held_until_seconds',
    help: 'Unix time (seconds) at which the hold of the destination ends; 0 when not held.',
    labelNames: ['destination'] as const,
    registers: [registry],
    collect() {
      for (const destination of live?.names ?? []) {
        const until = live!.state(destination)?.heldUntil;
        this.set({ destination }, until === undefined ? 0 : until / 1000);
      }
    },
  });
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

  // Label children looked up once per label set: prom-client hashes the label object on every
  // `inc({...})`, and these run for every request and every attempt.
  const receivedBy = labelled((source: string, outcome: string) => received.labels({ source, outcome }));
  const attemptsBy = labelled((destination: string, outcome: string) => attempts.labels({ destination, outcome }));
  const durationBy = labelled((destination: string, _: string) => attemptDuration.labels({ destination }));

  const onAttempt = (event: AttemptEvent) => {
    attemptsBy(event.destination, event.outcome).inc();
    durationBy(event.destination, '').observe(event.durationMs / 1000);
    if (event.status === 429 || event.status === 503)
      refusals.inc({ destination: event.destination, status: event.status });
    if (event.outcome !== 'delivered') return;
    const at = clock();
    const second = Math.floor(at / 1000);
    let seconds = deliveredBySecond.get(event.destination);
    if (!seconds) {
      seconds = [];
      deliveredBySecond.set(event.destination, seconds);
    }
    const last = seconds.at(-1);
    if (last?.second === second) last.count += 1;
    else seconds.push({ second, count: 1, firstAt: at, firstStartedAt: at - event.durationMs });
    while (seconds[0]!.second * 1000 < at - RATE_WINDOW_MS) seconds.shift();
  };
  const onReceived = ({ source, outcome }: GatewayEventMap['ingest:received'][0]) => {
    receivedBy(source, outcome).inc();
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
      let count = 0;
      let first = Infinity;
      for (const s of deliveredBySecond.get(destination) ?? []) {
        if (s.firstAt < now - RATE_WINDOW_MS || s.firstAt > now) continue;
        count += s.count;
        first = Math.min(first, s.firstStartedAt);
      }
      return count === 0 ? undefined : count / (Math.max(SENDING_MIN_SPAN_MS, now - first) / 1000);
    },
    deliveredRate(destination, now = clock()) {
      let count = 0;
      let first = Infinity;
      for (const s of deliveredBySecond.get(destination) ?? []) {
        if (s.firstAt < now - RATE_WINDOW_MS || s.firstAt > now) continue;
        count += s.count;
        first = Math.min(first, s.firstAt);
      }
      return count === 0 ? undefined : count / (Math.max(RATE_MIN_SPAN_MS, now - first) / 1000);
    },
    bindJournal(journal, destinations, journalClock) {
      const names = namesOf(destinations);
      if (journalClock) clock = journalClock;
      source = { journal, names, clock };
      snapshot = undefined;
      initDestinations(names);
    },
    bindScheduler(state, destinations) {
      live = { state, names: namesOf(destinations) };
    },
  };
}

/** Memoizes `make` by its two string arguments. */
function labelled<T>(make: (a: string, b: string) => T): (a: string, b: string) => T {
  const byA = new Map<string, Map<string, T>>();
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
