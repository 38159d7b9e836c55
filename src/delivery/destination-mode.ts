/**
 * The modes of a destination's delivery loop, and which changes between them are allowed.
 *
 *   running   claims and sends at the destination's pace
 *   held      sends nothing until a time: the consumer's Retry-After, or a consumer that is down
 *   probing   the consumer was down: one request at a time until one is answered
 *   paused    the operator paused it: claims nothing (in-flight attempts finish)
 *   stopping  shutdown: claims nothing more, gives back what it claimed ahead
 *
 *   running ──Retry-After, or consumer unreachable──▶ held ──hold over──▶ running, or probing if it was unreachable
 *   probing ──an answer──▶ running      probing ──no answer, or Retry-After──▶ held
 *   any but stopping ◀──pause / resume──▶ paused (resume goes back to what the hold and breaker say)
 *   held ──hold lifted by the operator──▶ running, or probing if it was unreachable
 *   any ──shutdown──▶ stopping (final)
 *
 * running ──▶ probing directly only when the breaker opens with a zero delay (`retry.initial: 0s`).
 *
 * Within running (and probing), an adaptive destination's pacer has modes of its own
 * (pacing/pace-mode.ts), checked the same way; the loop only leaves them through `Pacer.resume`:
 *
 *   slow_start ──refusal, timeout or queueing──▶ backing_off ──a clean window──▶ steady
 *   slow_start ──what held sending back is at its target──▶ steady ──refusal, timeout or queueing──▶ backing_off
 *   steady, backing_off ──nothing sent for 10 s──▶ slow_start (from half the pace)
 *   held, paused ──▶ running or probing: the pacer goes back to slow_start from half its pace
 */
import { SluiceError } from '../errors.js';

export const DESTINATION_MODES = ['running', 'held', 'probing', 'paused', 'stopping'] as const;
export type DestinationMode = (typeof DESTINATION_MODES)[number];

/** The modes each mode may change to; anything else is a bug in the loop. */
export const MODE_TRANSITIONS: Readonly<Record<DestinationMode, readonly DestinationMode[]>> = {
  running: ['held', 'probing', 'paused', 'stopping'],
  held: ['running', 'probing', 'paused', 'stopping'],
  probing: ['running', 'held', 'paused', 'stopping'],
  paused: ['running', 'held', 'probing', 'stopping'],
  stopping: [],
};

/** Thrown on a mode change that `MODE_TRANSITIONS` does not allow. */
export class ModeTransitionError extends SluiceError {
  constructor(
    readonly destination: string,
    readonly from: DestinationMode,
    readonly to: DestinationMode,
  ) {
    super('MODE_TRANSITION', `destination "${destination}": delivery loop cannot go from ${from} to ${to}`);
  }
}

/** True when `from` may change to `to`. */
export function canTransition(from: DestinationMode, to: DestinationMode): boolean {
  return MODE_TRANSITIONS[from].includes(to);
}
