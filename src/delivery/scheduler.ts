/**
 * The scheduler drains the journal to each destination at the pace it can take: one delivery loop
 * per destination (destination-worker.ts, where the states of a delivery are documented), started
 * and stopped together, with pause, resume and live state for the admin API.
 */
import type { DestinationConfig } from '../config/schema.js';
import type { Journal } from '../journal/port.js';
import type { Logger } from '../log.js';
import { DestinationWorker } from './destination-loop.js';
import type { DeliveryClient } from './http-client.js';

/** What the scheduler needs. */
export interface SchedulerOptions {
  destinations: Record<string, DestinationConfig>;
  journal: Journal;
  logger: Logger;
  clock?: () => number;
  random?: () => number;
  /** Makes the HTTP client of a destination (tests may point it elsewhere; defaults to undici). */
  createClient?: (destination: DestinationConfig, name: string) => DeliveryClient;
  /** Destinations paused when the scheduler starts (the journal remembers pauses across restarts). */
  paused?: readonly string[];
  /** Retry-After holds still running when the scheduler starts, by destination (`Journal.heldDestinations`). */
  held?: Readonly<Record<string, number>>;
  /** Told about every finished attempt (metrics). */
  onAttempt?: (event: AttemptEvent) => void;
}

/** One finished attempt, as reported to `SchedulerOptions.onAttempt`. */
export interface AttemptEvent {
  destination: string;
  outcome: 'delivered' | 'retry' | 'dead';
  status: number | undefined;
  durationMs: number;
}

/** Why a destination is held: a 429/503 Retry-After, or a consumer that cannot be reached (circuit breaker). */
export const HOLD_REASONS = ['retry_after', 'unreachable'] as const;
export type HoldReason = (typeof HOLD_REASONS)[number];

/** What the scheduler knows of a destination right now. */
export interface DestinationState {
  paused: boolean;
  inFlight: number;
  /** Hold: nothing is sent before this time (absent when not held). */
  heldUntil: number | undefined;
  /** Why it is held: the consumer's Retry-After, or a consumer that does not answer at all (absent when not held). */
  heldBy: HoldReason | undefined;
}

/** Running delivery loops. */
export interface Scheduler {
  /** There may be new work for these destinations (called after ingest). */
  notify(destinations: readonly string[]): void;
  /**
   * Stops claiming, waits up to `graceMs` for in-flight attempts, then aborts the rest (they are
   * recorded and put back as due now), and closes the HTTP clients.
   */
  stop(graceMs: number): Promise<void>;
  /** Stops sending to a destination (in-flight attempts finish); persisted in the journal. */
  pause(destination: string): Promise<void>;
  /** Sends again after `pause`. */
  resume(destination: string): Promise<void>;
  /** Live state of a destination; `undefined` for an unknown name. */
  state(destination: string): DestinationState | undefined;
}

/** Starts one delivery loop per destination. */
export function startScheduler(options: SchedulerOptions): Scheduler {
  const stopLoops = new AbortController();
  const abortAttempts = new AbortController();
  const workers = Object.entries(options.destinations).map(
    ([name, destination]) => new DestinationWorker(name, destination, options, abortAttempts.signal),
  );
  const byName = new Map(workers.map((w) => [w.name, w]));
  const loops = workers.map((w) => w.run(stopLoops.signal));

  return {
    notify(destinations) {
      for (const name of destinations) byName.get(name)?.waiter.wake();
    },
    async pause(destination) {
      await options.journal.setPaused(destination, true, (options.clock ?? Date.now)());
      const worker = byName.get(destination)!;
      worker.paused = true;
      worker.waiter.wake(); // gives back what it claimed ahead
    },
    async resume(destination) {
      await options.journal.setPaused(destination, false, (options.clock ?? Date.now)());
      const worker = byName.get(destination)!;
      worker.paused = false;
      worker.waiter.wake();
    },
    state(destination) {
      const w = byName.get(destination);
      if (!w) return undefined;
      const held = w.heldUntil > (options.clock ?? Date.now)();
      return {
        paused: w.paused,
        inFlight: w.inFlight.size,
        heldUntil: held ? w.heldUntil : undefined,
        heldBy: held ? w.heldBy : undefined,
      };
    },
    async stop(graceMs) {
      stopLoops.abort();
      await Promise.all(loops);
      const settled = Promise.all(workers.map((w) => w.idle()));
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
      if ((await Promise.race([settled, graceOver])) === 'timeout') {
        options.logger.warn(
          { inFlight: workers.reduce((n, w) => n + w.inFlight.size, 0) },
          'shutdown grace over: aborting in-flight deliveries',
        );
        abortAttempts.abort();
        await settled;
      }
      clearTimeout(timer);
      await Promise.all(workers.map((w) => w.client.close()));
    },
  };
}
