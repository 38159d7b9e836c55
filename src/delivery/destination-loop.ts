/**
 * The delivery loop of one destination: claims due deliveries, sends them at the pace the
 * destination can take (a token bucket for rate and burst, a concurrency cap, neither ever
 * exceeded), and records each outcome.
 *
 * A delivery (one event × one destination) moves through these states:
 *
 *   pending ──claim (lease, attempt+1)──▶ in_flight ──2xx──────────────────────────▶ delivered
 *      ▲                                    │  ├──408/429/5xx/network error/timeout──▶ pending (due after backoff or Retry-After)
 *      │                                    │  ├──other status, or attempts/age spent──▶ dead
 *      │                                    │  ├──shutdown grace over──────────────────▶ pending (due now)
 *      │                                    │  └──given back, never sent───────────────▶ pending (due now, attempt-1)
 *      └──────── lease expires (crash) ◀────┘
 *
 * A destination claims a little ahead of its free slots (see `claimLimit`), so that a slot freed
 * by an answer is refilled at once; a claim not sent yet when a pause, a hold or shutdown comes is
 * given back (`Journal.release`: pending again, its attempt uncounted). Tokens are taken when a
 * request is sent, not when it is claimed.
 *
 * The claim counts the attempt, so an event that crashes the process on every try still dies
 * after max_attempts. A lost lease is fenced by the attempt number: an outcome recorded for an
 * older claim is ignored. fifo destinations claim only the oldest unfinished event, one at a time.
 * 429/503 with Retry-After hold the whole destination until then; so does a consumer that cannot
 * be reached at all, which is then probed one request at a time (circuit-breaker.ts). A paused
 * destination claims nothing (its attempts in flight finish); ingest goes on. Replayed deliveries (see
 * `Journal.replay`) are claimed only with what live ones leave, and get a fresh retry budget.
 */

import type { DestinationConfig } from '../config/schema.js';
import type { Claim } from '../journal/port.js';
import type { Logger } from '../log.js';
import { type AttemptResult, createDeliveryClient, type DeliveryClient } from './http-client.js';
import { CircuitBreaker } from './pacing/circuit-breaker.js';
import { TokenBucket } from './pacing/token-bucket.js';
import { decide } from './retry-policy.js';
import type { HoldReason, SchedulerOptions } from './scheduler.js';
import { Waiter } from './waiter.js';

/**
 * A lease outlives the attempt's own timeout (a timer per attempt enforces it) by this
 * much: enough to record the outcome, short enough that a crash delays redelivery only briefly.
 */
const LEASE_MARGIN_MS = 5_000;
/** Most deliveries claimed in one go. */
const CLAIM_BATCH = 64;
/** Claims ahead of free slots cover about this much sending time (see `claimLimit`). */
const CLAIM_AHEAD_MS = 1_000;
/** Most deliveries claimed ahead of free slots, and most body bytes they may hold in memory. */
const MAX_AHEAD = 256;
const MAX_AHEAD_BYTES = 4 * 1024 * 1024;
/**
 * A buffered claim is sent only while its lease still covers a whole attempt plus this much; with
 * `LEASE_MARGIN_MS` that lets a claim wait up to 4 s in the buffer, several times `CLAIM_AHEAD_MS`.
 */
const LEASE_GUARD_MS = 1_000;
/** Unanswered attempts in a row after which the consumer is taken as down (see circuit-breaker.ts). */
const BREAKER_THRESHOLD = 5;
/** Longest wait between probes of a consumer that is down (or `retry.max`, when shorter). */
const BREAKER_MAX_MS = 30_000;
/** With nothing due, look again this often (events written by another process are seen this way). */
const IDLE_POLL_MS = 5_000;
/** Shortest sleep when nothing could be claimed. */
const MIN_SLEEP_MS = 5;
/** After a journal error, wait this long before claiming again. */
const ERROR_PAUSE_MS = 1_000;

/** The loop, claimed-ahead buffer and in-flight set of one destination. */
export class DestinationWorker {
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
  private readonly fifo: boolean;
  /** Claimed ahead, not sent yet: sent in claim order as slots and tokens allow. */
  private ready: Claim[] = [];
  /** Moving average of attempt durations (ms); sizes the claim-ahead. Unknown before the first. */
  private attemptMs: number | undefined;
  /** Moving average of the body size of sent events, in bytes; bounds the claim-ahead's memory. */
  private bodyBytes = 0;
  /** Aborted when the loop is to stop: from then on nothing more is sent, what is buffered goes back. */
  private stopping: AbortSignal | undefined;
  /** Retry-After on 429/503, or the breaker: nothing is sent to this destination before this time. */
  heldUntil = 0;
  /** What set `heldUntil`. */
  heldBy: HoldReason = 'retry_after';
  private readonly breaker: CircuitBreaker;
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
    this.heldUntil = options.held?.[name] ?? 0;
    this.bucket =
      destination.rate === undefined ? undefined : new TokenBucket(destination.rate, destination.burst, this.clock());
    this.log = options.logger.child({ destination: name });
    this.leaseMs = destination.timeout + LEASE_MARGIN_MS;
    this.fifo = destination.ordering === 'fifo';
    this.breaker = new CircuitBreaker(
      BREAKER_THRESHOLD,
      destination.retry.initial,
      Math.min(destination.retry.max, BREAKER_MAX_MS),
    );
  }

  /** Most requests at the consumer now: the concurrency cap, or one while probing a consumer that was down. */
  private get cap(): number {
    return this.breaker.probing ? 1 : this.destination.concurrency;
  }

  async run(signal: AbortSignal): Promise<void> {
    this.stopping = signal;
    try {
      await this.loop(signal);
    } finally {
      await this.releaseReady();
    }
  }

  private async loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const now = this.clock();
      if (this.paused || this.heldUntil > now) {
        // Nothing claimed waits out a pause or a hold: its lease would run out meanwhile.
        await this.releaseReady();
        await this.waiter.wait(this.paused ? IDLE_POLL_MS : this.heldUntil - now, signal); // resume wakes us
        continue;
      }
      this.pump(now);
      const limit = this.claimLimit(now);
      if (limit <= 0) {
        // Full: a finishing attempt wakes us, or the token a buffered claim waits for.
        await this.waiter.wait(Math.min(IDLE_POLL_MS, this.tokenWait(now)), signal);
        continue;
      }

      let claims: Claim[];
      try {
        claims = await this.options.journal.claim({
          destination: this.name,
          limit,
          now,
          leaseMs: this.leaseMs,
          fifo: this.fifo,
          budget: { maxAttempts: this.destination.retry.max_attempts, maxAgeMs: this.destination.retry.max_age },
        });
      } catch (error) {
        this.log.error({ err: error }, 'claim failed; retrying shortly');
        await this.waiter.wait(ERROR_PAUSE_MS, signal);
        continue;
      }
      if (claims.length > 0) {
        this.ready.push(...claims);
        continue;
      }
      const due = await this.options.journal.nextDueAt(this.name, this.fifo).catch(() => undefined);
      // The floor keeps a due-now row that could not be claimed from turning this into a busy loop.
      const sleep =
        due === undefined ? IDLE_POLL_MS : Math.min(IDLE_POLL_MS, Math.max(MIN_SLEEP_MS, due - this.clock()));
      await this.waiter.wait(Math.min(sleep, this.tokenWait(this.clock())), signal);
    }
  }

  /** How long until a buffered claim that has a free slot can have a token; Infinity when none waits for one. */
  private tokenWait(now: number): number {
    if (!this.bucket || this.ready.length === 0 || this.inFlight.size >= this.cap) return Infinity;
    return Math.max(1, this.bucket.msUntilToken(now));
  }

  /**
   * How many deliveries to claim now: enough to fill the free slots, plus, once attempts are known
   * to be quick, about `CLAIM_AHEAD_MS` worth of further ones, so that a freed slot is refilled
   * from memory instead of waiting for a claim to commit (an fsync: with one claim per freed slot,
   * delivery ran at a fifth of what the consumer could take). A fifo destination never claims
   * ahead; a paced one claims at most what its bucket can pay for within `CLAIM_AHEAD_MS`; large
   * bodies shrink the claim-ahead to `MAX_AHEAD_BYTES`.
   */
  private claimLimit(now: number): number {
    const ahead =
      this.fifo || this.attemptMs === undefined || this.breaker.probing
        ? 0
        : Math.min(
            MAX_AHEAD,
            Math.floor((this.destination.concurrency * CLAIM_AHEAD_MS) / Math.max(1, this.attemptMs)),
            Math.floor(MAX_AHEAD_BYTES / Math.max(1, this.bodyBytes)),
          );
    let limit = this.cap + ahead - this.inFlight.size - this.ready.length;
    if (this.bucket) {
      const affordable =
        this.bucket.available(now) + (ahead > 0 ? Math.floor((this.destination.rate! * CLAIM_AHEAD_MS) / 1000) : 0);
      limit = Math.min(limit, affordable - this.ready.length);
    }
    return Math.min(limit, CLAIM_BATCH);
  }

  /** Sends buffered claims while slots and tokens allow; claims too close to their lease end go back. */
  private pump(now: number): void {
    const stale: Claim[] = [];
    while (this.ready.length > 0 && this.inFlight.size < this.cap) {
      if (this.stopping?.aborted || this.paused || this.heldUntil > now) break;
      const claim = this.ready[0]!;
      if (claim.leaseUntil - now < this.destination.timeout + LEASE_GUARD_MS) {
        // Sent now, the attempt could outlive the lease and race a second claim of the same delivery.
        stale.push(this.ready.shift()!);
        continue;
      }
      if (this.bucket && !this.bucket.tryTake(now)) break;
      this.dispatch(this.ready.shift()!);
    }
    if (stale.length > 0) void this.release(stale);
  }

  /** Gives every buffered claim back to the journal. */
  private async releaseReady(): Promise<void> {
    if (this.ready.length === 0) return;
    const claims = this.ready;
    this.ready = [];
    await this.release(claims);
  }

  private async release(claims: Claim[]): Promise<void> {
    try {
      await this.options.journal.release(claims, this.clock());
    } catch (error) {
      // Their leases run out instead, and they are claimed again (each recorded as an abandoned attempt).
      this.log.error({ err: error, count: claims.length }, 'could not give back claimed deliveries');
    }
  }

  /** Resolves once nothing is in flight. */
  async idle(): Promise<void> {
    while (this.inFlight.size + this.recording.size > 0) await Promise.all([...this.inFlight, ...this.recording]);
  }

  /**
   * Sends one claimed delivery. Its concurrency slot is freed as soon as the consumer has answered
   * (concurrency caps requests at the consumer), not once the outcome is committed: holding the slot
   * through the commit left the consumer idle for an fsync per attempt. The freed slot goes straight
   * to the next buffered claim.
   */
  private dispatch(claim: Claim): void {
    const sending = this.client.send(claim, this.abortSignal);
    const free = () => {
      this.inFlight.delete(slot);
      this.pump(this.clock());
      this.waiter.wake();
    };
    this.bodyBytes =
      this.bodyBytes === 0 ? claim.event.body.byteLength : average(this.bodyBytes, claim.event.body.byteLength);
    const slot: Promise<void> = sending.then((result) => {
      this.attemptMs = this.attemptMs === undefined ? result.durationMs : average(this.attemptMs, result.durationMs);
      this.watchReachability(result);
      free();
    }, free);
    this.inFlight.add(slot);
    const recorded: Promise<void> = sending
      .then((result) => this.record(claim, result))
      .catch((error: unknown) =>
        this.log.error(
          { err: error, eventId: claim.event.id },
          'attempt failed unexpectedly; the lease will expire and the event is sent again',
        ),
      )
      .finally(() => {
        this.recording.delete(recorded);
        // A recorded outcome can make something claimable (the next fifo event, a quick retry).
        this.waiter.wake();
      });
    this.recording.add(recorded);
  }

  /** Holds the destination until `until`, unless a hold already runs longer; true when it did. */
  private hold(until: number | undefined, reason: HoldReason): boolean {
    if (until === undefined || until <= this.heldUntil) return false;
    this.heldUntil = until;
    this.heldBy = reason;
    return true;
  }

  /** Feeds the breaker; holds the destination while its consumer cannot be reached. */
  private watchReachability(result: AttemptResult): void {
    if (this.abortSignal.aborted) return; // our own shutdown, not the consumer
    const now = this.clock();
    const change = this.breaker.record(result.status !== undefined, result.startedAt, now);
    this.hold(change.holdUntil, 'unreachable');
    if (change.opened) {
      this.log.warn(
        { error: result.error, probeInMs: change.holdUntil! - now },
        `consumer unreachable (${BREAKER_THRESHOLD} attempts in a row without an answer): destination held, then probed one request at a time`,
      );
    } else if (change.closed) {
      this.log.info('consumer answering again: destination back to full concurrency');
    }
  }

  /** Decides what the attempt's result means, records it, and logs it. */
  private async record(claim: Claim, result: AttemptResult): Promise<void> {
    const now = this.clock();
    const shutdown = this.abortSignal.aborted && result.status === undefined;
    const decision = shutdown
      ? { verdict: { kind: 'retry' as const, at: now }, reason: result.error }
      : decide(result, {
          attempt: claim.attempt - claim.budget.attemptsBefore,
          receivedAt: claim.budget.since,
          now,
          retry: this.destination.retry,
          ...(this.options.random && { random: this.options.random }),
        });
    if (this.hold(decision.holdUntil, 'retry_after')) {
      // Kept in the journal, so that a restart does not send before the time the consumer asked for.
      this.options.journal
        .setHold(this.name, this.heldUntil, now)
        .catch((error: unknown) =>
          this.log.error({ err: error }, 'could not record the hold; a restart will not keep it'),
        );
      this.log.warn({ until: new Date(this.heldUntil).toISOString() }, 'consumer asked to slow down: destination held');
    }
    const record = toRecord(claim.attempt, result, decision.reason);
    try {
      const kept = await this.options.journal.complete(claim, record, decision.verdict);
      if (!kept)
        this.log.warn(
          { eventId: claim.event.id, attempt: claim.attempt },
          'lease lost before the outcome was recorded; a newer claim decides',
        );
    } catch (error) {
      // The lease will expire and the event is delivered again: at-least-once holds.
      this.log.error({ err: error, eventId: claim.event.id }, 'could not record the attempt');
      return;
    }
    this.options.onAttempt?.({
      destination: this.name,
      outcome: decision.verdict.kind,
      status: result.status,
      durationMs: result.durationMs,
    });
    const fields = {
      eventId: claim.event.id,
      attempt: claim.attempt,
      status: result.status,
      durationMs: Math.round(result.durationMs),
    };
    if (decision.verdict.kind === 'delivered') this.log.debug(fields, 'delivered');
    else if (decision.verdict.kind === 'retry')
      this.log.warn(
        { ...fields, error: decision.reason, nextAttemptAt: new Date(decision.verdict.at).toISOString() },
        'attempt failed; will retry',
      );
    else this.log.warn({ ...fields, error: decision.reason }, 'delivery dead');
  }
}

/** Exponential moving average: recent values weigh most, one odd value moves it by a fifth. */
function average(mean: number, value: number): number {
  return mean + 0.2 * (value - mean);
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
