/**
 * How tests wait: a plain pause, or a condition polled until it holds. A wait is always bounded
 * and fails naming what it waited for, so that a stuck test says why instead of hitting the test
 * timeout.
 */
import { setTimeout as delay } from 'node:timers/promises';

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return delay(ms);
}

export interface WaitOptions {
  /** Pause between two checks (default 20 ms). */
  intervalMs?: number;
}

/**
 * Checks `predicate` until it holds, and rejects once `timeoutMs` have passed without it holding.
 * `what` names the condition in that error; a function is called at that moment, for a message
 * that says how things stood.
 */
export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string | (() => string),
  { intervalMs = 20 }: WaitOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    }
    await sleep(intervalMs);
  }
}
