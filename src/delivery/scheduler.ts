/**
 * The scheduler drains the journal to each destination at the pace it can take: one delivery loop
 * per destination (destination-loop.ts, where the states of a delivery are documented), started
 * and stopped together, with pause, resume and live state for the admin API. Attempts and mode
 * changes go out as `delivery:attempt` and `destination:mode` on the gateway's event bus.
 */
import { createGatewayEvents } from '../events.js';
import { DestinationLoop } from './destination-loop.js';
import type { DestinationState, HoldReason, SchedulerOptions } from './types.js';

export { type DestinationState, HOLD_REASONS, type HoldReason, type SchedulerOptions } from './types.js';

/** Running delivery loops. */
export interface Scheduler {
  /** There may be new work for these destinations (called after ingest). */
  notify(destinations: readonly string[]): void;
  /**
   * `notify`, batched: the destinations named during this turn of the event loop are woken once each,
   * on the next. Each wake of a loop already waiting costs it a pass (and a new timer, on the main
   * thread), and the journal's answers to many requests arrive in one turn, so a burst of acks needs one.
   */
  notifySoon(destinations: readonly string[]): void;
  /**
   * Stops claiming, waits up to `graceMs` for in-flight attempts, then aborts the rest (they are
   * recorded and put back as due now), and closes the HTTP clients.
   */
  stop(graceMs: number): Promise<void>;
  /** Stops sending to a destination (in-flight attempts finish); persisted in the journal. */
  pause(destination: string): Promise<void>;
  /** Sends again after `pause`. */
  resume(destination: string): Promise<void>;
  /**
   * Ends a hold at once (a consumer's Retry-After, or the wait before probing one that was down),
   * here and in the journal, so that a restart does not bring it back; resolves the hold it ended.
   */
  liftHold(destination: string): Promise<{ until: number; by: HoldReason } | undefined>;
  /**
   * Applies a destination's pause and hold as the journal holds them after another node changed
   * them (not written back: the journal has them already).
   */
  adopt(destination: string, shared: { paused: boolean; heldUntil: number }): void;
  /** Live state of a destination; `undefined` for an unknown name. */
  state(destination: string): DestinationState | undefined;
}

/** Starts one delivery loop per destination. */
export function startScheduler(options: SchedulerOptions): Scheduler {
  const clock = options.clock ?? Date.now;
  const events = options.events ?? createGatewayEvents();
  const stopLoops = new AbortController();
  const abortAttempts = new AbortController();
  const loops = Object.entries(options.destinations).map(
    ([name, destination]) => new DestinationLoop(name, destination, options, events, abortAttempts.signal),
  );
  const byName = new Map(loops.map((loop) => [loop.name, loop]));
  const running = loops.map((loop) => loop.run(stopLoops.signal));
  const notify = (destinations: readonly string[]) => {
    for (const name of destinations) byName.get(name)?.waiter.wake();
  };
  let due: Set<string> | undefined;
  const flush = () => {
    const names = [...due!];
    due = undefined;
    notify(names);
  };

  return {
    notify,
    notifySoon(destinations) {
      if (!due) {
        due = new Set();
        setImmediate(flush);
      }
      for (const name of destinations) due.add(name);
    },
    async pause(destination) {
      await options.journal.setPaused(destination, true, clock());
      byName.get(destination)!.pause();
    },
    async resume(destination) {
      await options.journal.setPaused(destination, false, clock());
      byName.get(destination)!.resume();
    },
    async liftHold(destination) {
      const lifted = byName.get(destination)!.liftHold();
      await options.journal.setHold(destination, 0, clock());
      return lifted;
    },
    adopt(destination, shared) {
      byName.get(destination)?.adopt(shared);
    },
    state(destination) {
      const loop = byName.get(destination);
      if (!loop) return undefined;
      const held = loop.heldUntil > clock();
      return {
        mode: loop.mode,
        paused: loop.mode === 'paused',
        inFlight: loop.inFlight.size,
        claimedAhead: loop.claimedAhead,
        heldUntil: held ? loop.heldUntil : undefined,
        heldBy: held ? loop.heldBy : undefined,
        rate: loop.pacer.rate,
        concurrency: loop.cap,
        pace: loop.pacer.status,
      };
    },
    async stop(graceMs) {
      stopLoops.abort();
      await Promise.all(running);
      const settled = Promise.all(loops.map((loop) => loop.idle()));
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
      if ((await Promise.race([settled, graceOver])) === 'timeout') {
        options.logger.warn(
          { inFlight: loops.reduce((n, loop) => n + loop.inFlight.size, 0) },
          'shutdown grace over: aborting in-flight deliveries',
        );
        abortAttempts.abort();
        await settled;
      }
      clearTimeout(timer);
      await Promise.all(loops.map((loop) => loop.client.close()));
    },
  };
}
