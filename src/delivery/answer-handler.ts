/**
 * What a destination loop does with each answer (or its absence) once a request is done: the
 * pacer and the breaker learn from it at once, when the consumer answered (that frees the slot);
 * the verdict is decided and recorded after (attempt-outcome.ts), holding the destination when the
 * consumer asked to slow down. Apart from the loop (destination-loop.ts), which only claims and sends.
 */
import type { DestinationConfig } from '../config/schema.js';
import type { Claim } from '../journal/port.js';
import type { Logger } from '../log.js';
import { type OutcomeSinks, paceSample, recordOutcome } from './attempt-outcome.js';
import { BREAKER_THRESHOLD, type DestinationControl } from './destination-control.js';
import type { AttemptResult } from './http-client.js';
import type { Pacer } from './pacing/pacer.js';
import { DELIVERED, decide, isDelivered } from './retry-policy.js';

/** What the answers reach: the loop's pacer and mode control, and where outcomes are recorded. */
export interface AnswerHandlerParts {
  destination: DestinationConfig;
  pacer: Pacer;
  control: DestinationControl;
  sinks: OutcomeSinks;
  log: Logger;
  clock: () => number;
  random: (() => number) | undefined;
  /** The loop's shutdown: attempts it cut short say nothing about the consumer. */
  abortSignal: AbortSignal;
}

/** The answer step of one destination loop. */
export class AnswerHandler {
  constructor(private readonly parts: AnswerHandlerParts) {}

  /**
   * Tells the pacer and the breaker how the consumer answered; holds the destination while its
   * consumer cannot be reached. Attempts cut short by our own shutdown say nothing about the consumer.
   */
  observe(result: AttemptResult): void {
    const { abortSignal, clock, pacer, control, log } = this.parts;
    if (abortSignal.aborted) return;
    const now = clock();
    pacer.record(paceSample(result, now), now);
    const change = control.recordAnswer(result.status !== undefined, result.startedAt, now);
    if (change.opened) {
      log.warn(
        { error: result.error, probeInMs: change.holdUntil! - now },
        `consumer unreachable (${BREAKER_THRESHOLD} attempts in a row without an answer): destination held, then probed one request at a time`,
      );
    } else if (change.closed) {
      log.info('consumer answering again: destination back to full concurrency');
    }
  }

  /** Decides what the attempt's result means (holding the destination on Retry-After), and records it. */
  async record(claim: Claim, result: AttemptResult): Promise<void> {
    const { abortSignal, clock, control, log, sinks, destination, random } = this.parts;
    const now = clock();
    const shutdown = abortSignal.aborted && result.status === undefined;
    // A 2xx is decided without the retry context, which would be built for nothing on every delivery.
    const decision = shutdown
      ? { verdict: { kind: 'retry' as const, at: now }, reason: result.error }
      : isDelivered(result.status)
        ? DELIVERED
        : decide(result, {
            attempt: claim.attempt - claim.budget.attemptsBefore,
            receivedAt: claim.budget.since,
            now,
            retry: destination.retry,
            ...(random && { random }),
          });
    if (control.hold(decision.holdUntil, 'retry_after')) {
      control.followHoldAndBreaker(now, 'consumer asked to slow down (Retry-After)');
      // Kept in the journal, so that a restart does not send before the time the consumer asked for.
      sinks.journal
        .setHold(sinks.destination, control.heldUntil, now)
        .catch((error: unknown) => log.error({ err: error }, 'could not record the hold; a restart will not keep it'));
      log.warn({ until: new Date(control.heldUntil).toISOString() }, 'consumer asked to slow down: destination held');
    }
    await recordOutcome(sinks, claim, result, decision);
  }
}
