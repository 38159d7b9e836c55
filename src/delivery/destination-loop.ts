/**
 * The delivery loop of one destination: claims due deliveries, sends them at the pace the
 * destination can take (its pacer: by default a token bucket for rate and burst and a concurrency
 * cap, neither ever exceeded; with `adaptive:`, a pace learned from the consumer's answers under
 * those ceilings, pacing/adaptive-pacer.ts), and records each outcome. What the loop does at any time is its
 * mode (destination-mode.ts): running, held, probing, paused or stopping.
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
 * A destination claims a little ahead of its free slots (claim-ahead.ts), so that a slot freed
 * by an answer is refilled at once; a claim not sent yet when a pause, a hold or shutdown comes is
 * given back (`Journal.release`: pending again, its attempt uncounted). Tokens are taken when a
 * request is sent, not when it is claimed.
 *
 * The claim counts the attempt, so an event that crashes the process on every try still dies
 * after max_attempts. A lost lease is fenced by the attempt number: an outcome recorded for an
 * older claim is ignored. fifo destinations claim only the oldest unfinished event, one at a time;
 * destinations ordered by key claim only the oldest unfinished event of each key (the claimed
 * one, in flight or buffered, blocks its key until its outcome), so claim-ahead keeps their order.
 * 429/503 with Retry-After hold the whole destination until then; so does a consumer that cannot
 * be reached at all, which is then probed one request at a time (circuit-breaker.ts). A paused
 * destination claims nothing (its attempts in flight finish); ingest goes on. Replayed deliveries (see
 * `Journal.replay`) are claimed only with what live ones leave, and get a fresh retry budget.
 */

import type { DestinationConfig } from '../config/schema.js';
import type { GatewayEvents } from '../events.js';
import type { Claim } from '../journal/port.js';
import type { Logger } from '../log.js';
import { type OutcomeSinks, paceSample, recordOutcome } from './attempt-outcome.js';
import { ClaimAhead } from './claim-ahead.js';
import { canTransition, type DestinationMode, ModeTransitionError } from './destination-mode.js';
import { type AttemptResult, createDeliveryClient, type DeliveryClient } from './http-client.js';
import { PaceReport } from './pace-report.js';
import { CircuitBreaker } from './pacing/circuit-breaker.js';
import { createPacer } from './pacing/create-pacer.js';
import type { Pacer } from './pacing/pacer.js';
import { decide, maxHold } from './retry-policy.js';
import type { HoldReason, SchedulerOptions } from './types.js';
import { Waiter } from './waiter.js';

/**
 * A lease outlives the attempt's own timeout (a timer per attempt enforces it) by this
 * much: enough to record the outcome, short enough that a crash delays redelivery only briefly.
 */
const LEASE_MARGIN_MS = 5_000;
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
export class DestinationLoop {
  readonly waiter = new Waiter();
  /** Requests at the consumer now (what `concurrency` caps). */
  readonly inFlight = new Set<Promise<void>>();
  /** Outcomes being recorded (shutdown waits for these too). */
  readonly recording = new Set<Promise<void>>();
  readonly client: DeliveryClient;
  readonly pacer: Pacer;
  private readonly clock: () => number;
  private readonly log: Logger;
  private readonly leaseMs: number;
  private readonly fifo: boolean;
  /** Ordered by key: strict order within each key, keys in parallel (`ClaimRequest.byKey`). */
  private readonly byKey: boolean;
  /** Claimed ahead, not sent yet: sent in claim order as slots and the pacer allow. */
  private ready: Claim[] = [];
  private readonly claimAhead: ClaimAhead;
  private readonly sinks: OutcomeSinks;
  /** What the loop does now; changed only by `setMode`. */
  private current: DestinationMode;
  /** Retry-After on 429/503, or the breaker: nothing is sent to this destination before this time. */
  heldUntil = 0;
  /** What set `heldUntil`. */
  heldBy: HoldReason = 'retry_after';
  private readonly breaker: CircuitBreaker;
  private readonly paceReport: PaceReport;

  constructor(
    readonly name: string,
    private readonly destination: DestinationConfig,
    private readonly options: SchedulerOptions,
    private readonly events: GatewayEvents,
    private readonly abortSignal: AbortSignal,
  ) {
    this.clock = options.clock ?? Date.now;
    this.client = options.createClient ? options.createClient(destination, name) : createDeliveryClient(destination);
    const now = this.clock();
    // A hold restored from the journal keeps to today's bound: an older version stored Retry-After as given.
    this.heldUntil = Math.min(options.held?.[name] ?? 0, now + maxHold(destination.retry));
    this.log = options.logger.child({ destination: name });
    this.paceReport = new PaceReport(name, options.journal, events, this.log, this.clock);
    this.pacer = (options.createPacer ?? createPacer)(destination, name, now, {
      learned: options.paces?.[name],
      onChange: (status, previous) => this.paceReport.changed(status, previous),
    });
    this.leaseMs = destination.timeout + LEASE_MARGIN_MS;
    this.fifo = destination.ordering === 'fifo';
    this.byKey = typeof destination.ordering === 'object';
    this.claimAhead = new ClaimAhead(this.fifo);
    this.sinks = { destination: name, journal: options.journal, events, log: this.log };
    this.breaker = new CircuitBreaker(
      BREAKER_THRESHOLD,
      destination.retry.initial,
      Math.min(destination.retry.max, BREAKER_MAX_MS),
    );
    this.current = options.paused?.includes(name) ? 'paused' : this.heldUntil > now ? 'held' : 'running';
  }

  get mode(): DestinationMode {
    return this.current;
  }

  /** Most requests at the consumer now: the pacer's concurrency, or one while probing a consumer that was down. */
  get cap(): number {
    return this.current === 'probing' ? 1 : this.pacer.concurrency;
  }

  /** Changes the mode; a change `MODE_TRANSITIONS` does not allow is a bug in this loop, and throws. */
  private setMode(to: DestinationMode, reason: string): void {
    const from = this.current;
    if (!canTransition(from, to)) throw new ModeTransitionError(this.name, from, to);
    this.current = to;
    // After a pause or a hold the consumer may have changed: an adaptive pace starts slowly again.
    if ((from === 'paused' || from === 'held') && (to === 'running' || to === 'probing')) {
      this.pacer.resume?.(this.clock());
    }
    this.events.emit('destination:mode', { destination: this.name, from, to, reason });
  }

  /** Where the loop goes when nothing stops it: held until `heldUntil`, then probing while the breaker is open. */
  private unpausedMode(now: number): DestinationMode {
    if (this.heldUntil > now) return 'held';
    return this.breaker.probing ? 'probing' : 'running';
  }

  /** After a hold or a breaker change; a paused or stopping loop stays so (resume looks again). */
  private followHoldAndBreaker(now: number, reason: string): void {
    if (this.current === 'paused' || this.current === 'stopping') return;
    const to = this.unpausedMode(now);
    if (to !== this.current) this.setMode(to, reason);
  }

  private endHoldIfOver(now: number): void {
    if (this.current === 'held' && this.heldUntil <= now) this.setMode(this.unpausedMode(now), 'hold over');
  }

  /** Stops claiming (in-flight attempts finish); what was claimed ahead goes back. */
  pause(): void {
    if (this.current !== 'paused' && this.current !== 'stopping') this.setMode('paused', 'paused by the operator');
    this.waiter.wake(); // gives back what it claimed ahead
  }

  resume(): void {
    if (this.current === 'paused') this.setMode(this.unpausedMode(this.clock()), 'resumed by the operator');
    this.waiter.wake();
  }

  /**
   * Ends a hold now (a Retry-After, or the wait before probing a consumer that was down: probing
   * then starts at once); resolves the hold it ended, if one ran. A paused loop stays paused.
   */
  liftHold(): { until: number; by: HoldReason } | undefined {
    const now = this.clock();
    const lifted = this.heldUntil > now ? { until: this.heldUntil, by: this.heldBy } : undefined;
    this.heldUntil = 0;
    if (this.current === 'held') this.setMode(this.unpausedMode(now), 'hold lifted by the operator');
    this.waiter.wake();
    return lifted;
  }

  /**
   * Takes on the destination's shared state as another node left it in the journal (a journal with
   * `crossProcessWakeups`): its pause, and its hold (a later Retry-After extends this node's hold,
   * a lifted one, 0, ends a Retry-After hold here too; this node's own breaker stays its own).
   */
  adopt(shared: { paused: boolean; heldUntil: number }): void {
    if (shared.paused && this.current !== 'paused') this.pause();
    else if (!shared.paused && this.current === 'paused') this.resume();
    const now = this.clock();
    if (this.hold(Math.min(shared.heldUntil, now + maxHold(this.destination.retry)), 'retry_after')) {
      this.followHoldAndBreaker(now, 'another node was asked to slow down (Retry-After)');
    } else if (shared.heldUntil <= now && this.heldBy === 'retry_after' && this.heldUntil > now) {
      this.liftHold();
    }
  }

  /** Runs until `signal` aborts: then nothing more is sent, and what is claimed ahead goes back. */
  async run(signal: AbortSignal): Promise<void> {
    const stop = () => this.setMode('stopping', 'shutdown');
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    try {
      await this.restoreHistory();
      // Where an adaptive pace starts (its gauges, and the base its notable moves are measured from).
      const { status } = this.pacer;
      if (status) this.paceReport.changed(status, status);
      await this.loop(signal);
    } finally {
      signal.removeEventListener('abort', stop);
      await this.releaseReady();
      const { status } = this.pacer;
      if (status) await this.paceReport.save(status);
    }
  }

  /**
   * Before the first send: the pacer counts what was sent lately (an earlier process, a crash loop),
   * and a restored hold that was cut to today's bound is stored so, lest every restart cut it again.
   */
  private async restoreHistory(): Promise<void> {
    const now = this.clock();
    const restored = this.options.held?.[this.name];
    if (restored !== undefined && restored > this.heldUntil && this.heldUntil > now) {
      await this.options.journal
        .setHold(this.name, this.heldUntil, now)
        .catch((error: unknown) => this.log.error({ err: error }, 'could not shorten the stored hold'));
    }
    const { historyMs } = this.pacer;
    if (historyMs === undefined || !this.pacer.restore) return;
    const sent = await this.options.journal.recentSends(this.name, now - historyMs).catch((error: unknown) => {
      // Not knowing, assume the worst: start with nothing to spend, as after a full burst.
      this.log.error({ err: error }, 'could not read recent sends; starting without a burst');
      return Number.POSITIVE_INFINITY;
    });
    this.pacer.restore(sent, this.clock());
  }

  private async loop(signal: AbortSignal): Promise<void> {
    while (this.current !== 'stopping') {
      const now = this.clock();
      this.endHoldIfOver(now);
      if (this.current === 'paused' || this.current === 'held') {
        // Nothing claimed waits out a pause or a hold: its lease would run out meanwhile.
        await this.releaseReady();
        // resume wakes us
        await this.waiter.wait(this.current === 'paused' ? IDLE_POLL_MS : this.heldUntil - now, signal);
        continue;
      }
      this.pump(now);
      const limit = this.claimLimit(now);
      if (limit <= 0) {
        // Full: a finishing attempt wakes us, or the pacer's next send.
        await this.waiter.wait(Math.min(IDLE_POLL_MS, this.sendWait(now, true)), signal);
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
          byKey: this.byKey,
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
      const due = await this.options.journal.nextDueAt(this.name, this.fifo, this.byKey).catch(() => undefined);
      // The floor keeps a due-now row that could not be claimed from turning this into a busy loop.
      const sleep =
        due === undefined ? IDLE_POLL_MS : Math.min(IDLE_POLL_MS, Math.max(MIN_SLEEP_MS, due - this.clock()));
      await this.waiter.wait(Math.min(sleep, this.sendWait(this.clock())), signal);
    }
  }

  /**
   * How long until the pacer lets a buffered claim that has a free slot go; Infinity when none waits for it.
   * `claimable`: nothing is buffered because the pacer would not pay for a claim (a fifo or probing
   * destination, which never claims ahead): wait for its next send too, not for the idle poll.
   */
  private sendWait(now: number, claimable = false): number {
    if (this.pacer.rate === undefined || this.inFlight.size >= this.cap) return Infinity;
    if (this.ready.length === 0 && !claimable) return Infinity;
    return Math.max(1, this.pacer.msUntilNext(now));
  }

  private claimLimit(now: number): number {
    return this.claimAhead.limit(now, this.pacer, {
      cap: this.cap,
      inFlight: this.inFlight.size,
      buffered: this.ready.length,
      probing: this.current === 'probing',
    });
  }

  /** Sends buffered claims while slots and the pacer allow; claims too close to their lease end go back. */
  private pump(now: number): void {
    this.endHoldIfOver(now);
    const stale: Claim[] = [];
    while (this.ready.length > 0 && this.inFlight.size < this.cap) {
      if (this.current !== 'running' && this.current !== 'probing') break;
      const claim = this.ready[0]!;
      if (
        claim.leaseUntil - now < this.destination.timeout + LEASE_GUARD_MS ||
        this.options.journal.leaseConfirmed?.(claim, now) === false
      ) {
        // Sent now, the attempt could outlive the lease and race a second claim of the same delivery;
        // or the journal's short lease is no longer confirmed, and another node may take it over.
        stale.push(this.ready.shift()!);
        continue;
      }
      if (!this.pacer.tryTake(now)) break;
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
    this.claimAhead.sent(claim.event.body.byteLength);
    const slot: Promise<void> = sending.then((result) => {
      this.claimAhead.answered(result.durationMs);
      this.observe(result);
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

  /**
   * Tells the pacer and the breaker how the consumer answered; holds the destination while its
   * consumer cannot be reached. Attempts cut short by our own shutdown say nothing about the consumer.
   */
  private observe(result: AttemptResult): void {
    if (this.abortSignal.aborted) return;
    const now = this.clock();
    this.pacer.record(paceSample(result, now), now);
    const change = this.breaker.record(result.status !== undefined, result.startedAt, now);
    this.hold(change.holdUntil, 'unreachable');
    if (change.holdUntil !== undefined || change.closed) {
      this.followHoldAndBreaker(now, change.closed ? 'consumer answering again' : 'consumer unreachable');
    }
    if (change.opened) {
      this.log.warn(
        { error: result.error, probeInMs: change.holdUntil! - now },
        `consumer unreachable (${BREAKER_THRESHOLD} attempts in a row without an answer): destination held, then probed one request at a time`,
      );
    } else if (change.closed) {
      this.log.info('consumer answering again: destination back to full concurrency');
    }
  }

  /** Decides what the attempt's result means (holding the destination on Retry-After), and records it. */
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
      this.followHoldAndBreaker(now, 'consumer asked to slow down (Retry-After)');
      // Kept in the journal, so that a restart does not send before the time the consumer asked for.
      this.options.journal
        .setHold(this.name, this.heldUntil, now)
        .catch((error: unknown) =>
          this.log.error({ err: error }, 'could not record the hold; a restart will not keep it'),
        );
      this.log.warn({ until: new Date(this.heldUntil).toISOString() }, 'consumer asked to slow down: destination held');
    }
    await recordOutcome(this.sinks, claim, result, decision);
  }
}
