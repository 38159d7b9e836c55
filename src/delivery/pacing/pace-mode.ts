/**
 * The modes of an adaptive pacer (adaptive-pacer.ts), and which changes between them are allowed.
 *
 *   slow_start   rate and concurrency double each window in which they hold sending back, up to
 *                the pace last learned (or the ceilings); entered at start, after an idle spell,
 *                a pause or a hold
 *   steady       grows slowly while the consumer answers promptly: concurrency +1 a window,
 *                rate on a cubic curve back to (and past) where it was last cut
 *   backing_off  the consumer refused, timed out or queued: rate or concurrency was just cut;
 *                one window of clean answers goes back to steady
 *
 *   slow_start ──refusal, timeout, queueing──▶ backing_off ──a clean window──▶ steady
 *   slow_start ──what held sending back reached its target──▶ steady ──refusal, timeout, queueing──▶ backing_off
 *   steady, backing_off ──idle spell, pause or hold over──▶ slow_start
 */
import { SluiceError } from '../../errors.js';

export const PACE_MODES = ['slow_start', 'steady', 'backing_off'] as const;
export type PaceMode = (typeof PACE_MODES)[number];

/** The modes each mode may change to; anything else is a bug in the pacer. */
export const PACE_TRANSITIONS: Readonly<Record<PaceMode, readonly PaceMode[]>> = {
  slow_start: ['steady', 'backing_off'],
  steady: ['backing_off', 'slow_start'],
  backing_off: ['steady', 'slow_start'],
};

/** Thrown on a pace mode change that `PACE_TRANSITIONS` does not allow. */
export class PaceTransitionError extends SluiceError {
  constructor(
    readonly from: PaceMode,
    readonly to: PaceMode,
  ) {
    super('PACE_TRANSITION', `adaptive pacer cannot go from ${from} to ${to}`);
  }
}

/** Returns `to`, or throws when `from` may not change to it. */
export function checkedPaceMode(from: PaceMode, to: PaceMode): PaceMode {
  if (from !== to && !PACE_TRANSITIONS[from].includes(to)) throw new PaceTransitionError(from, to);
  return to;
}

/**
 * What last moved the pace: the consumer's refusal (by status), a burst of other 5xx, a timeout
 * or no connection, answers slower than its no-load latency (a queue building inside it), prompt
 * answers while the pace held sending back (growth), an idle spell, pause or hold (slow start
 * again), or the pace a previous run learned (restored from the journal).
 */
export const PACE_SIGNALS = [
  '429',
  '503',
  '5xx',
  'timeout',
  'connection',
  'latency',
  'growth',
  'idle',
  'restored',
] as const;
export type PaceSignal = (typeof PACE_SIGNALS)[number];
