/**
 * The adaptive pacer's constants (adaptive-pacer.ts), each with where it comes from: the cut and
 * growth factors, what counts as a queue or a burst, and how long a window of answers lasts.
 * Apart from the controller so that tuning one is a change to read on its own.
 */

/** Cut factor on a refusal or failure (the AWS SDK's β). */
export const BETA = 0.7;
/** CUBIC scaling constant (per s³), as in the AWS SDK. */
export const CUBIC_C = 0.4;
/** Latency within this factor of the no-load latency is no queue (Envoy's 25 % buffer). */
export const LATENCY_BUFFER = 1.25;
/**
 * Answers slower than no-load by less than this (ms) say nothing of a queue: the scheduling noise of
 * a busy machine, which made a fast consumer (5 ms) look queued and cut its concurrency for nothing.
 */
export const LATENCY_NOISE_MS = 15;
/** Shortest and longest window over which answers are judged. */
export const MIN_WINDOW_MS = 200;
export const MAX_WINDOW_MS = 2_000;
/** The no-load latency is the lowest window median over the last one to two of these. */
export const NO_LOAD_SPAN_MS = 30_000;
/** A window with at least this many 5xx (not 503), and at least this share of answers, is a burst. */
export const BURST_5XX = 3;
export const BURST_5XX_SHARE = 0.3;
/**
 * The queue inside the consumer (requests waiting there, estimated) under which concurrency may
 * grow, and over which it shrinks: VegasLimit's 3·log10 and 6·log10 of the limit, at least 3 and
 * 6, so that a few requests delayed by a busy machine do not read as a queue we caused.
 */
export function queueLow(limit: number): number {
  return Math.max(3, 3 * Math.log10(Math.max(1, limit)));
}
export function queueHigh(limit: number): number {
  return Math.max(6, 6 * Math.log10(Math.max(1, limit)));
}

/** How many of the latest answers tell whether a refusal comes from a queue (see `queueing`). */
export const RECENT_ANSWERS = 8;
/** Nothing sent for this long: slow start again from half the pace. */
export const IDLE_MS = 10_000;
