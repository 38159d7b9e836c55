/**
 * The dashboard's memory of the last hour, per destination: a sample every `intervalMs` (10 s)
 * kept for `keepMs` (one hour, so 360 samples), in memory only. A sample holds the backlog read
 * from the journal and, over the interval just ended, the rates of ingest, delivery and refusals
 * counted from the typed events. It also answers the live in/out rates (last 10 s) the page shows
 * between samples. The history starts empty at each start: it is a view, not a record.
 */
import type { GatewayEvents } from '../events.js';

/** One point of the charts: the backlog at `at`, and per-second rates over the interval before it. */
export interface Sample {
  at: number;
  backlog: number;
  ingested: number;
  delivered: number;
  /** Attempts that did not deliver: a non-2xx answer, or none. */
  refused: number;
}

export interface HistoryOptions {
  destinations: readonly string[];
  /** Time between samples; default 10 s. */
  intervalMs?: number;
  /** How far back samples are kept; default one hour. */
  keepMs?: number;
  clock?: () => number;
}

/** Live rates window: a bucket per second, this many seconds. */
const LIVE_SECONDS = 10;

interface Counts {
  ingested: number;
  delivered: number;
  refused: number;
}

interface Track {
  samples: Sample[];
  /** Counts since the last sample. */
  pending: Counts;
  lastSampleAt: number;
  /** Per-second counts for the live rates: index is the second modulo LIVE_SECONDS. */
  seconds: { second: number; in: number; out: number }[];
}

export interface History {
  readonly intervalMs: number;
  /** Counts ingest and attempts from `events`; returns the unsubscribe function. */
  subscribe(events: GatewayEvents): () => void;
  /** Counts one accepted event for each destination. */
  ingested(destinations: readonly string[], now?: number): void;
  /** Counts one finished attempt. */
  attempted(destination: string, delivered: boolean, now?: number): void;
  /** Closes the interval of `destination`: a new sample with its backlog at `now`. */
  sample(destination: string, backlog: number, now?: number): Sample | undefined;
  /** The samples of `destination`, oldest first. */
  samples(destination: string): readonly Sample[];
  /** Events in and deliveries out per second over the last 10 s (or since the start, when shorter). */
  liveRates(destination: string, now?: number): { in: number; out: number };
}

export function createHistory(options: HistoryOptions): History {
  const clock = options.clock ?? Date.now;
  const intervalMs = options.intervalMs ?? 10_000;
  const keep = Math.max(1, Math.floor((options.keepMs ?? 3_600_000) / intervalMs));
  const startedAt = clock();
  const tracks = new Map<string, Track>(
    options.destinations.map((name) => [
      name,
      {
        samples: [],
        pending: { ingested: 0, delivered: 0, refused: 0 },
        lastSampleAt: startedAt,
        seconds: Array.from({ length: LIVE_SECONDS }, () => ({ second: -1, in: 0, out: 0 })),
      },
    ]),
  );

  const bucket = (track: Track, now: number) => {
    const second = Math.floor(now / 1000);
    const slot = track.seconds[second % LIVE_SECONDS]!;
    if (slot.second !== second) Object.assign(slot, { second, in: 0, out: 0 });
    return slot;
  };

  const history: History = {
    intervalMs,
    subscribe(events) {
      const onAccepted = ({ destinations }: { destinations: readonly string[] }) => history.ingested(destinations);
      const onAttempt = ({ destination, outcome }: { destination: string; outcome: string }) =>
        history.attempted(destination, outcome === 'delivered');
      events.on('ingest:accepted', onAccepted);
      events.on('delivery:attempt', onAttempt);
      return () => {
        events.off('ingest:accepted', onAccepted);
        events.off('delivery:attempt', onAttempt);
      };
    },
    ingested(destinations, now = clock()) {
      for (const name of destinations) {
        const track = tracks.get(name);
        if (!track) continue;
        track.pending.ingested += 1;
        bucket(track, now).in += 1;
      }
    },
    attempted(destination, delivered, now = clock()) {
      const track = tracks.get(destination);
      if (!track) return;
      if (delivered) {
        track.pending.delivered += 1;
        bucket(track, now).out += 1;
      } else track.pending.refused += 1;
    },
    sample(destination, backlog, now = clock()) {
      const track = tracks.get(destination);
      if (!track) return undefined;
      // Per second over the time since the last sample: a late tick spreads its counts, not inflates them.
      const seconds = Math.max(0.001, (now - track.lastSampleAt) / 1000);
      const rate = (n: number) => Math.round((n / seconds) * 1000) / 1000;
      const { ingested, delivered, refused } = track.pending;
      const sample = { at: now, backlog, ingested: rate(ingested), delivered: rate(delivered), refused: rate(refused) };
      track.samples.push(sample);
      if (track.samples.length > keep) track.samples.splice(0, track.samples.length - keep);
      track.pending = { ingested: 0, delivered: 0, refused: 0 };
      track.lastSampleAt = now;
      return sample;
    },
    samples(destination) {
      return tracks.get(destination)?.samples ?? [];
    },
    liveRates(destination, now = clock()) {
      const track = tracks.get(destination);
      if (!track) return { in: 0, out: 0 };
      const second = Math.floor(now / 1000);
      // The current second is partial: count the LIVE_SECONDS full seconds before it.
      let inCount = 0;
      let outCount = 0;
      for (const slot of track.seconds) {
        if (slot.second < second && slot.second >= second - LIVE_SECONDS) {
          inCount += slot.in;
          outCount += slot.out;
        }
      }
      const span = Math.max(1, Math.min(LIVE_SECONDS, second - Math.floor(startedAt / 1000)));
      return { in: Math.round((inCount / span) * 100) / 100, out: Math.round((outCount / span) * 100) / 100 };
    },
  };
  return history;
}

/**
 * Takes a sample of every destination each `history.intervalMs`, with the backlog `backlogOf`
 * reads (the journal's destinationStats), until `signal` aborts. A failed read skips that
 * destination's sample rather than stopping the loop: the journal may be briefly unavailable.
 */
export async function runHistorySampler(options: {
  history: History;
  destinations: readonly string[];
  backlogOf: (destination: string, now: number) => Promise<number>;
  signal: AbortSignal;
  clock?: () => number;
}): Promise<void> {
  const clock = options.clock ?? Date.now;
  const { history, signal } = options;
  while (!signal.aborted) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, history.intervalMs);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
    if (signal.aborted) return;
    const now = clock();
    for (const name of options.destinations) {
      try {
        history.sample(name, await options.backlogOf(name, now), now);
      } catch {
        // The next tick tries again; the chart shows a gap's worth of spread rates.
      }
    }
  }
}
