/**
 * The delivery loop of one destination: claims due deliveries, sends them at the pace the
 * destination can take (its pacer: by default a token bucket for rate and burst and a concurrency
 * cap, neither ever exceeded; with `adaptive:`, a pace learned from the consumer's answers under
 * those ceilings, pacing/adaptive-pacer.ts), and records each outcome. What the loop does at any time is its
 * mode (destination-mode.ts): running, held, probing, paused or stopping, as the pause, the hold and
 * the breaker decide it (destination-control.ts).
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
 * given back (claim-buffer.ts; `Journal.release`: pending again, its attempt uncounted). Tokens are taken when a
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
import { AnswerHandler } from './answer-handler.js';
import { ClaimAhead } from './claim-ahead.js';
import { ClaimBuffer } from './claim-buffer.js';
import { DestinationControl } from './destination-control.js';
import type { DestinationMode } from './destination-mode.js';
import { createDeliveryClient, type DeliveryClient } from './http-client.js';
import { PaceReport } from './pace-report.js';
import { createPacer } from './pacing/create-pacer.js';
import type { Pacer } from './pacing/pacer.js';
import { maxHold } from './retry-policy.js';
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
  private readonly ready: ClaimBuffer;
  private readonly claimAhead: ClaimAhead;
  /** What is done with each answer (answer-handler.ts). */
  private readonly answers: AnswerHandler;
  /** The mode, the hold and the breaker (destination-control.ts). */
  private readonly control: DestinationControl;
  private readonly paceReport: PaceReport;

  constructor(
    readonly name: string,
    private readonly destination: DestinationConfig,
    private readonly options: SchedulerOptions,
    events: GatewayEvents,
    private readonly abortSignal: AbortSignal,
  ) {
    this.clock = options.clock ?? Date.now;
    this.client = options.createClient ? options.createClient(destination, name) : createDeliveryClient(destination);
    const now = this.clock();
    // A hold restored from the journal keeps to today's bound: an older version stored Retry-After as given.
    const heldUntil = Math.min(options.held?.[name] ?? 0, now + maxHold(destination.retry));
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
    this.ready = new ClaimBuffer(options.journal, this.log, this.clock, destination.timeout + LEASE_GUARD_MS);
    this.control = new DestinationControl({
      name,
      heldUntil,
      paused: options.paused?.includes(name) ?? false,
      retry: destination.retry,
      events,
      onResume: () => this.pacer.resume?.(this.clock()),
      now,
    });
    this.answers = new AnswerHandler({
      destination,
      pacer: this.pacer,
      control: this.control,
      sinks: { destination: name, journal: options.journal, events, log: this.log },
      log: this.log,
      clock: this.clock,
      random: options.random,
      abortSignal,
    });
  }

  get mode(): DestinationMode {
    return this.control.mode;
  }

  /** Nothing is sent to this destination before this time (Retry-After, or the breaker). */
  get heldUntil(): number {
    return this.control.heldUntil;
  }

  /** What set `heldUntil`. */
  get heldBy(): HoldReason {
    return this.control.heldBy;
  }

  /** Most requests at the consumer now: the pacer's concurrency, or one while probing a consumer that was down. */
  get cap(): number {
    return this.mode === 'probing' ? 1 : this.pacer.concurrency;
  }

  /** Claimed ahead and not sent yet. */
  get claimedAhead(): number {
    return this.ready.size;
  }

  /** Stops claiming (in-flight attempts finish); what was claimed ahead goes back. */
  pause(): void {
    this.control.pause();
    this.waiter.wake(); // gives back what it claimed ahead
  }

  resume(): void {
    this.control.resume(this.clock());
    this.waiter.wake();
  }

  /**
   * Ends a hold now (a Retry-After, or the wait before probing a consumer that was down: probing
   * then starts at once); resolves the hold it ended, if one ran. A paused loop stays paused.
   */
  liftHold(): { until: number; by: HoldReason } | undefined {
    const lifted = this.control.lift(this.clock());
    this.waiter.wake();
    return lifted;
  }

  /**
   * Takes on the destination's shared state as another node left it in the journal (a journal with
   * `crossProcessWakeups`): its pause, and its hold (a later Retry-After extends this node's hold,
   * a lifted one, 0, ends a Retry-After hold here too; this node's own breaker stays its own).
   */
  adopt(shared: { paused: boolean; heldUntil: number }): void {
    if (shared.paused && this.mode !== 'paused') this.pause();
    else if (!shared.paused && this.mode === 'paused') this.resume();
    const now = this.clock();
    if (this.control.hold(Math.min(shared.heldUntil, now + maxHold(this.destination.retry)), 'retry_after')) {
      this.control.followHoldAndBreaker(now, 'another node was asked to slow down (Retry-After)');
    } else if (shared.heldUntil <= now && this.heldBy === 'retry_after' && this.heldUntil > now) {
      this.liftHold();
    }
  }

  /** Runs until `signal` aborts: then nothing more is sent, and what is claimed ahead goes back. */
  async run(signal: AbortSignal): Promise<void> {
    const stop = () => this.control.setMode('stopping', 'shutdown');
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
      await this.ready.releaseAll();
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
    while (this.mode !== 'stopping') {
      const now = this.clock();
      this.control.endHoldIfOver(now);
      if (this.mode === 'paused' || this.mode === 'held') {
        // Nothing claimed waits out a pause or a hold: its lease would run out meanwhile.
        await this.ready.releaseAll();
        // resume wakes us
        await this.waiter.wait(this.mode === 'paused' ? IDLE_POLL_MS : this.heldUntil - now, signal);
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
        this.ready.add(claims);
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
    if (this.ready.size === 0 && !claimable) return Infinity;
    return Math.max(1, this.pacer.msUntilNext(now));
  }

  private claimLimit(now: number): number {
    return this.claimAhead.limit(now, this.pacer, {
      cap: this.cap,
      inFlight: this.inFlight.size,
      buffered: this.ready.size,
      probing: this.mode === 'probing',
    });
  }

  /** Sends buffered claims while slots and the pacer allow; claims too close to their lease end go back. */
  private pump(now: number): void {
    this.control.endHoldIfOver(now);
    this.ready.send(
      now,
      () => this.inFlight.size < this.cap && (this.mode === 'running' || this.mode === 'probing'),
      () => this.pacer.tryTake(now),
      (claim) => this.dispatch(claim),
    );
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
    this.claimAhead.sent(claim.event.body.byteLength);
    // The slot is freed whatever happens (at once, in the same turn as the answer), and nothing here
    // may reject unhandled, which would end the process: a throw while taking in the answer is
    // logged here, a failed send or record with the outcome (`recordAnswer`). One reaction per
    // attempt on the answer, not a chain: these run for every attempt on the thread a drain keeps busy.
    const slot: Promise<void> = this.client.send(claim, this.abortSignal).then(
      (result) => {
        try {
          this.claimAhead.answered(result.durationMs);
          this.answers.observe(result);
        } catch (error) {
          this.log.error({ err: error, eventId: claim.event.id }, 'could not take in the consumer’s answer');
        }
        this.free(slot);
        this.recordAnswer(claim, this.answers.record(claim, result));
      },
      (error: unknown) => {
        this.free(slot);
        this.recordAnswer(claim, Promise.reject(error));
      },
    );
    this.inFlight.add(slot);
  }

  /** The consumer has answered (or the send failed): the slot goes to the next buffered claim. */
  private free(slot: Promise<void>): void {
    this.inFlight.delete(slot);
    try {
      this.pump(this.clock());
    } catch (error) {
      this.log.error({ err: error }, 'could not send the next buffered claim');
    }
    this.waiter.wake();
  }

  /** Follows the recording of an attempt's outcome (shutdown waits for it). */
  private recordAnswer(claim: Claim, recording: Promise<void>): void {
    // Only the id is kept for the log line: the closures below live until the outcome is committed.
    const eventId = claim.event.id;
    const done = () => {
      this.recording.delete(recorded);
      // A recorded outcome can make something claimable (the next fifo event, a quick retry).
      this.waiter.wake();
    };
    const recorded: Promise<void> = recording.then(done, (error: unknown) => {
      this.log.error(
        { err: error, eventId },
        'attempt failed unexpectedly; the lease will expire and the event is sent again',
      );
      done();
    });
    this.recording.add(recorded);
  }
}
