/**
 * How fast a destination may be sent to. The delivery loop asks its pacer before each request
 * (`tryTake`), how long to wait when refused (`msUntilNext`), and how many requests it may claim
 * ahead (`affordable`); it tells the pacer what each attempt came back with (`record`), so that a
 * pacer may adapt the pace to how the consumer copes. Times are passed in, as in the token bucket.
 *
 * Reachability is not the pacer's business: a consumer that does not answer at all is held and
 * probed by the circuit breaker (circuit-breaker.ts), whatever the pacer allows.
 */
import type { DestinationConfig } from '../../config/schema.js';
import type { PaceMode, PaceSignal } from './pace-mode.js';

/** What one finished attempt says about how the consumer copes. */
export interface PaceSample {
  /** The consumer's status; undefined when no answer came. */
  status: number | undefined;
  /** From sending the request to the end of the answer (or the failure). */
  latencyMs: number;
  /** The answer's Retry-After as an absolute time (ms), when it had a readable one. */
  retryAfter: number | undefined;
  /** Why no answer came: no complete answer within the destination's timeout, or no connection. */
  failure: 'timeout' | 'connection' | undefined;
}

/** The pace of one destination; see the module comment. */
export interface Pacer {
  /** Requests per second allowed now; undefined when the rate is not limited. */
  readonly rate: number | undefined;
  /** Most requests at the consumer at once. */
  readonly concurrency: number;
  /** Takes the right to send one request now; false when the pace does not allow one yet. */
  tryTake(now: number): boolean;
  /** Milliseconds until `tryTake` can succeed (0 when it can now). */
  msUntilNext(now: number): number;
  /** How many requests may be sent from now until `horizonMs` later (Infinity when the rate is not limited). */
  affordable(now: number, horizonMs: number): number;
  /** One finished attempt (not ones aborted by our own shutdown). */
  record(sample: PaceSample, now: number): void;
  /**
   * How far back requests sent before this pacer existed still count against its pace; absent
   * when they do not. The loop then counts them in the journal and hands them to `restore`.
   */
  readonly historyMs?: number;
  /** `sent` requests went out in the last `historyMs` before `now` (by an earlier process, or before a crash). */
  restore?(sent: number, now: number): void;
  /** Sending starts again after a pause or a hold (an adaptive pacer starts slowly again). */
  resume?(now: number): void;
  /** An adaptive pacer's pace and what last moved it; absent for a fixed pace. */
  readonly status?: PaceStatus;
}

/** The pace of an adaptive pacer now, and what last moved it. */
export interface PaceStatus {
  /** Requests per second allowed; undefined when not limited. */
  rate: number | undefined;
  concurrency: number;
  mode: PaceMode;
  signal: PaceSignal | undefined;
  /** When `signal` moved the pace (epoch ms). */
  signalAt: number | undefined;
}

/** The pace a destination learned before (a previous run's, from the journal). */
export interface LearnedPace {
  rate: number | undefined;
  concurrency: number;
}

/** What a pacer is made with besides its destination. */
export interface PacerContext {
  /** Where an adaptive pacer starts from (ignored by a fixed one). */
  learned?: LearnedPace | undefined;
  /** Told after every change of an adaptive pacer's rate, concurrency or mode, with the rate and concurrency before. */
  onChange?: (status: PaceStatus, previous: { rate: number | undefined; concurrency: number }) => void;
}

/** Makes the pacer of one destination, at `now`. */
export type PacerFactory = (destination: DestinationConfig, name: string, now: number, context?: PacerContext) => Pacer;
