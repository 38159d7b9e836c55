import { describe, expect, it } from 'vitest';
import { createStaticPacer } from '../../../src/delivery/pacing/static-pacer.js';

describe('static pacer', () => {
  it('without a rate: every request may go, and any number may be claimed', () => {
    const p = createStaticPacer({ rate: undefined, burst: 1, concurrency: 4 }, 'crm', 0);
    expect(p.rate).toBeUndefined();
    expect(p.concurrency).toBe(4);
    for (let i = 0; i < 1_000; i++) expect(p.tryTake(0)).toBe(true);
    expect(p.msUntilNext(0)).toBe(0);
    expect(p.affordable(0, 1_000)).toBe(Infinity);
  });

  it('with a rate: starts with a full burst, then one request per 1/rate', () => {
    const p = createStaticPacer({ rate: 10, burst: 3, concurrency: 2 }, 'crm', 0);
    expect(p.rate).toBe(10);
    expect(p.affordable(0, 0)).toBe(3);
    expect(p.affordable(0, 1_000)).toBe(13);
    expect([p.tryTake(0), p.tryTake(0), p.tryTake(0), p.tryTake(0)]).toEqual([true, true, true, false]);
    expect(p.msUntilNext(0)).toBe(100);
    expect(p.affordable(0, 1_000)).toBe(10);
    expect(p.tryTake(99)).toBe(false);
    expect(p.tryTake(100)).toBe(true);
  });

  it('outcomes change nothing', () => {
    const p = createStaticPacer({ rate: 10, burst: 1, concurrency: 2 }, 'crm', 0);
    p.record({ status: 429, latencyMs: 5_000, retryAfter: 60_000, failure: undefined }, 0);
    p.record({ status: undefined, latencyMs: 30_000, retryAfter: undefined, failure: 'timeout' }, 0);
    expect([p.rate, p.concurrency, p.affordable(0, 1_000)]).toEqual([10, 2, 11]);
  });
});
