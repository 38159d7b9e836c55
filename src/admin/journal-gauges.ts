/**
 * The metrics read from the journal when Prometheus scrapes, not fed by events: the backlog of each
 * destination, its pause, and whether the journal refuses new events for lack of space. The backlog
 * is read at most once per `statsTtlMs` however often or concurrently Prometheus scrapes (one
 * `destinationStats` per destination per refresh): counting a large backlog is not free.
 */
import { Gauge, type Registry } from 'prom-client';
import type { DestinationStats, Journal } from '../journal/port.js';

/** The journal gauges of one registry, reading nothing until bound to a journal. */
export interface JournalGauges {
  /** Reads these destinations' gauges from `journal` at scrape time, at `clock`'s time. */
  bind(journal: Journal, names: string[], clock: () => number): void;
}

/** Registers the journal gauges on `registry`. */
export function registerJournalGauges(registry: Registry, statsTtlMs: number): JournalGauges {
  let source: { journal: Journal; names: string[]; clock: () => number } | undefined;
  let snapshot: { at: number; stats: Promise<Map<string, DestinationStats>>; paused: Promise<Set<string>> } | undefined;

  new Gauge({
    name: 'sluice_journal_storage_full',
    help: '1 while the journal refuses new events for lack of space (delivery goes on), else 0.',
    registers: [registry],
    collect() {
      this.set(source?.journal.storageFull() ? 1 : 0);
    },
  });

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

  return {
    bind(journal, names, clock) {
      source = { journal, names, clock };
      snapshot = undefined;
    },
  };
}
