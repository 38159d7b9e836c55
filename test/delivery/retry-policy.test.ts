import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { backoffDelay, decide, parseRetryAfter } from '../../src/delivery/retry-policy.js';

const retry = configSchema.parse({
  destinations: { d: { url: 'http://x/', retry: { initial: '1s', max: '60s', max_attempts: 5, max_age: '1h' } } },
  sources: {},
}).destinations.d!.retry;
const now = 1_000_000_000_000;
const base = { attempt: 1, receivedAt: now, now, retry };

describe('backoffDelay', () => {
  it('stays between initial and min(max, initial·2^n), spanning the range', () => {
    expect(backoffDelay(1, retry, () => 0)).toBe(1_000);
    expect(backoffDelay(1, retry, () => 1)).toBe(2_000);
    expect(backoffDelay(3, retry, () => 1)).toBe(8_000);
    expect(backoffDelay(10, retry, () => 1)).toBe(60_000);
    expect(backoffDelay(10, retry, () => 0.5)).toBe(30_500);
    expect(backoffDelay(10_000, retry, () => 1)).toBe(60_000);
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates; ignores garbage', () => {
    expect(parseRetryAfter('120', now)).toBe(now + 120_000);
    expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(now + 30_000);
    expect(parseRetryAfter(new Date(now - 30_000).toUTCString(), now)).toBe(now);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('decide', () => {
  it('delivered on any 2xx', () => {
    for (const status of [200, 201, 202, 204, 299])
      expect(decide({ status }, base).verdict).toEqual({ kind: 'delivered' });
  });

  it('retries network errors, timeouts, 408, 429 and 5xx after the backoff', () => {
    for (const outcome of [
      { error: 'ECONNREFUSED' },
      { status: 408 },
      { status: 429 },
      { status: 500 },
      { status: 502 },
      { status: 599 },
    ]) {
      const d = decide(outcome, { ...base, random: () => 0 });
      expect(d.verdict).toEqual({ kind: 'retry', at: now + 1_000 });
    }
  });

  it('is dead at once on 3xx and other 4xx', () => {
    for (const status of [301, 302, 400, 401, 403, 404, 410, 422]) {
      const d = decide({ status }, base);
      expect(d.verdict).toEqual({ kind: 'dead' });
      expect(d.reason).toMatch(/not retryable/);
    }
  });

  it('is dead when the attempts are spent or the next attempt would pass max_age', () => {
    expect(decide({ status: 500 }, { ...base, attempt: 5 }).verdict).toEqual({ kind: 'dead' });
    expect(decide({ status: 500 }, { ...base, attempt: 4 }).verdict.kind).toBe('retry');
    const old = { ...base, receivedAt: now - 3_600_000 + 500 };
    expect(decide({ status: 500 }, { ...old, random: () => 0 }).verdict).toEqual({ kind: 'dead' });
  });

  it('takes Retry-After as the next attempt time; holds the destination only on 429 and 503', () => {
    const on429 = decide({ status: 429, retryAfter: '30' }, base);
    expect(on429).toMatchObject({ verdict: { kind: 'retry', at: now + 30_000 }, holdUntil: now + 30_000 });
    expect(decide({ status: 503, retryAfter: '30' }, base).holdUntil).toBe(now + 30_000);
    const on500 = decide({ status: 500, retryAfter: '30' }, base);
    expect(on500.verdict).toEqual({ kind: 'retry', at: now + 30_000 });
    expect(on500.holdUntil).toBeUndefined();
    expect(decide({ status: 429 }, base).holdUntil).toBeUndefined();
  });

  it('never retries sooner than the backoff: Retry-After 0 or a date in the past neither hurries nor holds', () => {
    const past = new Date(now - 60_000).toUTCString();
    for (const retryAfter of ['0', past]) {
      for (const status of [429, 503]) {
        const decision = decide({ status, retryAfter }, { ...base, random: () => 0 });
        expect(decision.verdict).toEqual({ kind: 'retry', at: now + 1_000 });
        expect(decision.holdUntil).toBeUndefined();
      }
    }
    // Retry-After shorter than the backoff: the backoff wins (attempt 3 backs off 8 s at most).
    const third = decide({ status: 503, retryAfter: '1' }, { ...base, attempt: 3, random: () => 1 });
    expect(third.verdict).toEqual({ kind: 'retry', at: now + 8_000 });
  });

  it('holds no longer than retry.max_hold, or retry.max when unset', () => {
    const day = decide({ status: 429, retryAfter: '86400' }, base);
    expect(day.holdUntil).toBe(now + 60_000);
    expect(day.verdict).toEqual({ kind: 'retry', at: now + 60_000 });
    const shortHold = { ...retry, max_hold: 5_000 };
    expect(decide({ status: 503, retryAfter: '86400' }, { ...base, retry: shortHold }).holdUntil).toBe(now + 5_000);
  });
});
