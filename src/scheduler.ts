/**
 * The scheduler drains the journal to each destination at the pace it can take: a token bucket
 * (rate, burst) and a concurrency cap, neither ever exceeded. One loop per destination claims
 * due deliveries, sends them, and records each outcome.
 *
 * A delivery (one event × one destination) moves through these states:
 *
 *   pending ──claim (lease, attempt+1)──▶ in_flight ──2xx──────────────────────────▶ delivered
 *      ▲                                    │  ├──408/429/5xx/network error/timeout──▶ pending (due after backoff or Retry-After)
 *      │                                    │  ├──other status, or attempts/age spent──▶ dead
 *      └──────── lease expires (crash) ◀────┘  └──shutdown grace over──────────────────▶ pending (due now)
 *
 * The claim counts the attempt, so an event that crashes the process on every try still dies
 * after max_attempts. A lost lease is fenced by the attempt number: an outcome recorded for an
 * older claim is ignored. fifo destinations claim only the oldest unfinished event, one at a time.
 * 429/503 with Retry-After hold the whole destination until then. A paused destination claims
 * nothing (its attempts in flight finish); ingest goes on. Replayed deliveries (see
 * `Journal.replay`) are claimed only with what live ones leave, and get a fresh retry budget.
 */
import type { DestinationConfig } from './config.js';
import { createDeliveryClient, type AttemptResult, type DeliveryClient } from './delivery.js';
import type { Claim, Journal } from './journal.js';
import type { Logger } from './log.js';
import { decide } from './retry-policy.js';
import { TokenBucket } from './token-bucket.js';
import { Waiter } from './waiter.js';

/**
 * A lease outlives the attempt's own timeout (which undici and an AbortSignal enforce) by this
 * much: enough to record the outcome, short enough that a crash delays redelivery only briefly.
 */
const LEASE_MARGIN_MS = 5_000;
/** Most deliveries claimed in one go. */
const CLAIM_BATCH = 64;
/** With nothing due, look again this often (events written by another process are seen this way). */
const IDLE_POLL_MS = 5_000;
/** Shortest sleep when nothing could be claimed. */
const MIN_SLEEP_MS = 5;
/** After a journal error, wait this long before claiming again. */
const ERROR_PAUSE_MS = 1_000;

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

/** What the scheduler knows of a destination right now. */
export interface DestinationState {
  paused: boolean;
  inFlight: number;
  /** Retry-After hold: nothing is sent before this time (absent when not held). */
  heldUntil: number | undefined;
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
      byName.get(destination)!.paused = true;
    },
    async resume(destination) {
      await options.journal.setPaused(destination, false, (options.clock ?? Date.now)());
      const worker = byName.get(destination)!;
      worker.paused = false;
      worker.waiter.wake();
    },
    state(destination) {
      const w = byName.get(destination);
      return w && { paused: w.paused, inFlight: w.inFlight.size, heldUntil: w.heldUntil > (options.clock ?? Date.now)() ? w.heldUntil : undefined };
    },
    async stop(graceMs) {
      stopLoops.abort();
      await Promise.all(loops);
      const settled = Promise.all(workers.map((w) => w.idle()));
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
      if ((await Promise.race([settled, graceOver])) === 'timeout') {
        options.logger.warn({ inFlight: workers.reduce((n, w) => n + w.inFlight.size, 0) }, 'shutdown grace over: aborting in-flight deliveries');
        abortAttempts.abort();
        await settled;
      }
      clearTimeout(timer);
      await Promise.all(workers.map((w) => w.client.close()));
    },
  };
}

/** The loop and in-flight set of one destination. */
class DestinationWorker {
  readonly waiter = new Waiter();
  /** Requests at the consumer now (what `concurrency` caps). */
  readonly inFlight = new Set<Promise<void>>();
  /** Outcomes being recorded (shutdown waits for these too). */
  readonly recording = new Set<Promise<void>>();
  readonly client: DeliveryClient;
  private readonly bucket: TokenBucket | undefined;
  private readonly clock: () => number;
  private readonly log: Logger;
  private readonly leaseMs: number;
  /** Retry-After on 429/503: nothing is sent to this destination before this time. */
  heldUntil = 0;
  /** Paused by the operator: nothing is claimed (ingest goes on). */
  paused: boolean;

  constructor(
    readonly name: string,
    private readonly destination: DestinationConfig,
    private readonly options: SchedulerOptions,
    private readonly abortSignal: AbortSignal,
  ) {
    this.clock = options.clock ?? Date.now;
    this.client = options.createClient ? options.createClient(destination, name) : createDeliveryClient(destination);
    this.paused = options.paused?.includes(name) ?? false;
    this.bucket = destination.rate === undefined ? undefined : new TokenBucket(destination.rate, destination.burst, this.clock());
    this.log = options.logger.child({ destination: name });
    this.leaseMs = destination.timeout + LEASE_MARGIN_MS;
  }

  async run(signal: AbortSignal): Promise<void> {
    const fifo = this.destination.ordering === 'fifo';
    while (!signal.aborted) {
      const now = this.clock();
      if (this.paused) {
        await this.waiter.wait(IDLE_POLL_MS, signal); // resume wakes us
        continue;
      }
      if (this.heldUntil > now) {
        await this.waiter.wait(this.heldUntil - now, signal);
        continue;
      }
      const free = this.destination.concurrency - this.inFlight.size;
      if (free <= 0) {
        await this.waiter.wait(IDLE_POLL_MS, signal); // a finishing attempt wakes us
        continue;
      }
      const tokens = this.bucket ? this.bucket.available(now) : Infinity;
      if (tokens < 1) {
        await this.waiter.wait(this.bucket!.msUntilToken(now), signal);
        continue;
      }

      let claims: Claim[];
      try {
        claims = await this.options.journal.claim({
          destination: this.name,
          limit: Math.min(free, tokens, CLAIM_BATCH),
          now,
          leaseMs: this.leaseMs,
          fifo,
        });
      } catch (error) {
        this.log.error({ err: error }, 'claim failed; retrying shortly');
        await this.waiter.wait(ERROR_PAUSE_MS, signal);
        continue;
      }

      if (claims.length === 0) {
        const due = await this.options.journal.nextDueAt(this.name, fifo).catch(() => undefined);
        // The floor keeps a due-now row that could not be claimed from turning this into a busy loop.
        const sleep = due === undefined ? IDLE_POLL_MS : Math.min(IDLE_POLL_MS, Math.max(MIN_SLEEP_MS, due - this.clock()));
        await this.waiter.wait(sleep, signal);
        continue;
      }
      for (const claim of claims) {
        this.bucket?.tryTake(this.clock());
        this.dispatch(claim);
      }
    }
  }

  /** Resolves once nothing is in flight. */
  async idle(): Promise<void> {
    while (this.inFlight.size + this.recording.size > 0) await Promise.all([...this.inFlight, ...this.recording]);
  }

  /**
   * Sends one claimed delivery. Its concurrency slot is freed as soon as the consumer has answered
   * (concurrency caps requests at the consumer), not once the outcome is committed: holding the slot
   * through the commit left the consumer idle for an fsync per attempt.
   */
  private dispatch(claim: Claim): void {
    const sending = this.client.send(claim, this.abortSignal);
    const slot: Promise<void> = sending.then(
      () => {
        this.inFlight.delete(slot);
        this.waiter.wake();
      },
      () => {
        this.inFlight.delete(slot);
        this.waiter.wake();
      },
    );
    this.inFlight.add(slot);
    const recorded: Promise<void> = sending
      .then((result) => this.record(claim, result))
      .catch((error: unknown) => this.log.error({ err: error, eventId: claim.event.id }, 'attempt failed unexpectedly; the lease will expire and the event is sent again'))
      .finally(() => {
        this.recording.delete(recorded);
        // A recorded outcome can make something claimable (the next fifo event, a quick retry).
        this.waiter.wake();
      });
    this.recording.add(recorded);
  }

  /** Decides what the attempt's result means, records it, and logs it. */
  private async record(claim: Claim, result: AttemptResult): Promise<void> {
    const now = this.clock();
    const shutdown = this.abortSignal.aborted && result.status === undefined;
    const decision = shutdown
      ? { verdict: { kind: 'retry' as const, at: now }, reason: result.error }
      : decide(result, { attempt: claim.attempt - claim.budget.attemptsBefore, receivedAt: claim.budget.since, now, retry: this.destination.retry, ...(this.options.random && { random: this.options.random }) });
    if (decision.holdUntil !== undefined && decision.holdUntil > this.heldUntil) {
      this.heldUntil = decision.holdUntil;
      this.log.warn({ until: new Date(decision.holdUntil).toISOString() }, 'consumer asked to slow down: destination held');
    }
    const record = toRecord(claim.attempt, result, decision.reason);
    try {
      const kept = await this.options.journal.complete(claim, record, decision.verdict);
      if (!kept) this.log.warn({ eventId: claim.event.id, attempt: claim.attempt }, 'lease lost before the outcome was recorded; a newer claim decides');
    } catch (error) {
      // The lease will expire and the event is delivered again: at-least-once holds.
      this.log.error({ err: error, eventId: claim.event.id }, 'could not record the attempt');
      return;
    }
    this.options.onAttempt?.({ destination: this.name, outcome: decision.verdict.kind, status: result.status, durationMs: result.durationMs });
    const fields = { eventId: claim.event.id, attempt: claim.attempt, status: result.status, durationMs: Math.round(result.durationMs) };
    if (decision.verdict.kind === 'delivered') this.log.debug(fields, 'delivered');
    else if (decision.verdict.kind === 'retry') this.log.warn({ ...fields, error: decision.reason, nextAttemptAt: new Date(decision.verdict.at).toISOString() }, 'attempt failed; will retry');
    else this.log.warn({ ...fields, error: decision.reason }, 'delivery dead');
  }
}

function toRecord(attempt: number, result: AttemptResult, reason: string | undefined) {
  return {
    attempt,
    startedAt: result.startedAt,
    durationMs: result.durationMs,
    status: result.status,
    error: result.status !== undefined && result.status >= 200 && result.status < 300 ? undefined : reason,
    response: result.response,
  };
}
