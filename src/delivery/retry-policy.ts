/**
 * What happens after a delivery attempt: delivered, retried later, or dead, and whether the whole
 * destination must hold back. Pure functions of the attempt's result, the event's age and the
 * destination's retry policy, so the rules can be read (and tested) in one place:
 *
 *   2xx                                   → delivered
 *   network error, timeout, 408, 429, 5xx → retry after backoff (or after Retry-After, if given)
 *   any other status (3xx, other 4xx)     → dead at once (redirects are not followed)
 *   a retry past max_attempts or max_age  → dead
 *   429 or 503 with Retry-After           → also hold the destination until then
 *
 * A Retry-After never brings a retry sooner than the backoff would: `Retry-After: 0` or a date in
 * the past (what a load balancer sends during a deploy) would otherwise spend every attempt within
 * a second. Nor does it push one later than `retry.max_hold` (default `retry.max`): one answer of
 * `Retry-After: 86400` would otherwise hold a destination for a day.
 */
import type { RetryConfig } from '../config/schema.js';
import type { Verdict } from '../journal/port.js';

/** What one attempt came back with: a status, or an error when no answer came. */
export interface AttemptOutcome {
  status?: number | undefined;
  error?: string | undefined;
  /** The raw `Retry-After` header of the answer, if any. */
  retryAfter?: string | undefined;
}

/** The decision after an attempt. */
export interface Decision {
  verdict: Verdict;
  /** When set, the destination sends nothing before this time. */
  holdUntil?: number;
  /** Why the delivery failed, for the attempt record and logs (absent when delivered). */
  reason?: string;
}

/**
 * Delay before retry number `attemptsMade` (≥ 1): exponential with full jitter, uniformly drawn
 * between `initial` and min(max, initial · 2^attemptsMade), so retries spread out instead of
 * hitting a recovering consumer together.
 */
export function backoffDelay(
  attemptsMade: number,
  retry: Pick<RetryConfig, 'initial' | 'max'>,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(retry.max, retry.initial * 2 ** Math.min(attemptsMade, 52));
  return Math.round(retry.initial + random() * Math.max(0, ceiling - retry.initial));
}

/** `Retry-After` as delay-seconds or an HTTP date → absolute time in ms; `undefined` when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return now + Number(text) * 1000;
  // Only something shaped like an HTTP date: Date.parse would also take "-5" or "2024" as dates.
  if (!/^[A-Za-z]{3},? /.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(now, date);
}

/** Longest a Retry-After may hold a destination: `retry.max_hold`, default `retry.max`. */
export function maxHold(retry: Pick<RetryConfig, 'max' | 'max_hold'>): number {
  return retry.max_hold ?? retry.max;
}

/** Statuses worth trying again: the consumer may accept the same request later. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** A 2xx answer: the delivery is done. */
export function isDelivered(status: number | undefined): boolean {
  return status !== undefined && status >= 200 && status < 300;
}

/** The decision after a 2xx, one object for every delivery (nothing changes a decision once made). */
export const DELIVERED: Decision = Object.freeze({ verdict: Object.freeze({ kind: 'delivered' as const }) });

/** Decides what becomes of a delivery after attempt number `attempt`. */
export function decide(
  outcome: AttemptOutcome,
  context: { attempt: number; receivedAt: number; now: number; retry: RetryConfig; random?: () => number },
): Decision {
  const { status } = outcome;
  if (isDelivered(status)) return DELIVERED;

  const reason = outcome.error ?? `consumer answered ${status}`;
  if (status !== undefined && !isRetryableStatus(status)) {
    return { verdict: { kind: 'dead' }, reason: `${reason} (not retryable)` };
  }

  const { now, retry } = context;
  const backoffAt = now + backoffDelay(context.attempt, retry, context.random);
  const asked = parseRetryAfter(outcome.retryAfter, now);
  const retryAt = asked === undefined ? undefined : Math.min(asked, now + maxHold(retry));
  const holdUntil = retryAt !== undefined && retryAt > now && (status === 429 || status === 503) ? retryAt : undefined;
  const at = Math.max(retryAt ?? 0, backoffAt);

  if (context.attempt >= retry.max_attempts) {
    return { verdict: { kind: 'dead' }, reason: `${reason} (gave up after ${context.attempt} attempts)` };
  }
  if (at > context.receivedAt + retry.max_age) {
    return { verdict: { kind: 'dead' }, reason: `${reason} (next attempt would pass max_age)` };
  }
  return { verdict: { kind: 'retry', at }, reason, ...(holdUntil !== undefined && { holdUntil }) };
}
