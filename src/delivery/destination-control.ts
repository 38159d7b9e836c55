/**
 * What decides a destination loop's mode (destination-mode.ts): the operator's pause, the hold
 * (the consumer's Retry-After, or a consumer that cannot be reached) and the circuit breaker that
 * probes such a consumer. Kept apart from the loop (destination-loop.ts) so that every mode change
 * goes through one checked `setMode`, whatever asked for it: the operator, an answer, the clock.
 */
import type { GatewayEvents } from '../events.js';
import { canTransition, type DestinationMode, ModeTransitionError } from './destination-mode.js';
import { type BreakerChange, CircuitBreaker } from './pacing/circuit-breaker.js';
import type { HoldReason } from './types.js';

/** Unanswered attempts in a row after which the consumer is taken as down (see circuit-breaker.ts). */
export const BREAKER_THRESHOLD = 5;
/** Longest wait between probes of a consumer that is down (or `retry.max`, when shorter). */
const BREAKER_MAX_MS = 30_000;

/** How a destination starts, and what a mode change reaches outside the loop. */
export interface DestinationControlOptions {
  name: string;
  /** Hold restored from the journal (already cut to today's bound), or 0. */
  heldUntil: number;
  /** Paused by the operator, as the journal kept it. */
  paused: boolean;
  retry: { initial: number; max: number };
  events: GatewayEvents;
  /** Called on leaving a pause or a hold for sending: after one, the consumer may have changed. */
  onResume: () => void;
  now: number;
}

/** A destination's mode, hold and breaker. */
export class DestinationControl {
  /** Retry-After on 429/503, or the breaker: nothing is sent to this destination before this time. */
  heldUntil: number;
  /** What set `heldUntil`. */
  heldBy: HoldReason = 'retry_after';
  /** What the loop does now; changed only by `setMode`. */
  private current: DestinationMode;
  private readonly breaker: CircuitBreaker;
  private readonly name: string;
  private readonly events: GatewayEvents;
  private readonly onResume: () => void;

  constructor(options: DestinationControlOptions) {
    this.name = options.name;
    this.events = options.events;
    this.onResume = options.onResume;
    this.heldUntil = options.heldUntil;
    this.breaker = new CircuitBreaker(
      BREAKER_THRESHOLD,
      options.retry.initial,
      Math.min(options.retry.max, BREAKER_MAX_MS),
    );
    this.current = options.paused ? 'paused' : this.heldUntil > options.now ? 'held' : 'running';
  }

  get mode(): DestinationMode {
    return this.current;
  }

  /** Changes the mode; a change `MODE_TRANSITIONS` does not allow is a bug in the loop, and throws. */
  setMode(to: DestinationMode, reason: string): void {
    const from = this.current;
    if (!canTransition(from, to)) throw new ModeTransitionError(this.name, from, to);
    this.current = to;
    // After a pause or a hold the consumer may have changed: an adaptive pace starts slowly again.
    if ((from === 'paused' || from === 'held') && (to === 'running' || to === 'probing')) this.onResume();
    this.events.emit('destination:mode', { destination: this.name, from, to, reason });
  }

  /** Where the loop goes when nothing stops it: held until `heldUntil`, then probing while the breaker is open. */
  private unpausedMode(now: number): DestinationMode {
    if (this.heldUntil > now) return 'held';
    return this.breaker.probing ? 'probing' : 'running';
  }

  /** After a hold or a breaker change; a paused or stopping loop stays so (resume looks again). */
  followHoldAndBreaker(now: number, reason: string): void {
    if (this.current === 'paused' || this.current === 'stopping') return;
    const to = this.unpausedMode(now);
    if (to !== this.current) this.setMode(to, reason);
  }

  endHoldIfOver(now: number): void {
    if (this.current === 'held' && this.heldUntil <= now) this.setMode(this.unpausedMode(now), 'hold over');
  }

  /** Holds the destination until `until`, unless a hold already runs longer; true when it did. */
  hold(until: number | undefined, reason: HoldReason): boolean {
    if (until === undefined || until <= this.heldUntil) return false;
    this.heldUntil = until;
    this.heldBy = reason;
    return true;
  }

  /** Enters the pause, unless paused or stopping already. */
  pause(): void {
    if (this.current !== 'paused' && this.current !== 'stopping') this.setMode('paused', 'paused by the operator');
  }

  /** Leaves a pause for what the hold and the breaker say. */
  resume(now: number): void {
    if (this.current === 'paused') this.setMode(this.unpausedMode(now), 'resumed by the operator');
  }

  /** Ends a hold now; resolves the hold it ended, if one ran. A paused loop stays paused. */
  lift(now: number): { until: number; by: HoldReason } | undefined {
    const lifted = this.heldUntil > now ? { until: this.heldUntil, by: this.heldBy } : undefined;
    this.heldUntil = 0;
    if (this.current === 'held') this.setMode(this.unpausedMode(now), 'hold lifted by the operator');
    return lifted;
  }

  /** Tells the breaker whether an attempt was answered; holds the destination while its consumer cannot be reached. */
  recordAnswer(answered: boolean, startedAt: number, now: number): BreakerChange {
    const change = this.breaker.record(answered, startedAt, now);
    this.hold(change.holdUntil, 'unreachable');
    if (change.holdUntil !== undefined || change.closed) {
      this.followHoldAndBreaker(now, change.closed ? 'consumer answering again' : 'consumer unreachable');
    }
    return change;
  }
}
