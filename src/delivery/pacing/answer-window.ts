/**
 * The window of answers the adaptive pacer (adaptive-pacer.ts) judges at a time: what it gathers
 * as answers come, and how long it lasts (about two no-load latencies, within bounds): long enough
 * for a median, short enough to react within a few round trips.
 */
import { MAX_WINDOW_MS, MIN_WINDOW_MS } from './adaptive-tuning.js';

/** Answers gathered since the window opened. */
export interface AnswerWindow {
  openedAt: number;
  latencies: number[];
  answers: number;
  errors5xx: number;
  /** Refusals (429, 503), timeouts and connection failures. */
  refusals: number;
  /** Sum of the requests at the consumer when each answer came (for their mean). */
  inFlightSum: number;
  /** A send found the rate limit empty; or filled the last concurrency slot. */
  rateBound: boolean;
  concurrencyBound: boolean;
}

/** An empty window, opened at `now`. */
export function openWindow(now: number): AnswerWindow {
  return {
    openedAt: now,
    latencies: [],
    answers: 0,
    errors5xx: 0,
    refusals: 0,
    inFlightSum: 0,
    rateBound: false,
    concurrencyBound: false,
  };
}

/** How long a window lasts, given the no-load latency (Infinity while unknown). */
export function windowMs(noLoad: number): number {
  return Number.isFinite(noLoad) ? Math.min(MAX_WINDOW_MS, Math.max(MIN_WINDOW_MS, 2 * noLoad)) : MIN_WINDOW_MS;
}
