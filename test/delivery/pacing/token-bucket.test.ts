import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../../src/delivery/pacing/token-bucket.js';

describe('TokenBucket', () => {
  it('starts full, never holds more than the burst, refills at the rate', () => {
    const b = new TokenBucket(10, 3, 0);
    expect([b.tryTake(0), b.tryTake(0), b.tryTake(0), b.tryTake(0)]).toEqual([true, true, true, false]);
    expect(b.msUntilToken(0)).toBe(100);
    expect(b.available(99)).toBe(0);
    expect(b.available(100)).toBe(1);
    expect(b.available(10_000)).toBe(3);
  });

  it('grants no more than rate × time + burst over any span', () => {
    const b = new TokenBucket(20, 1, 0);
    let granted = 0;
    for (let t = 0; t <= 3_000; t++) if (b.tryTake(t)) granted++;
    expect(granted).toBe(61);
  });

  it('handles rates below one per second', () => {
    const b = new TokenBucket(1 / 60, 1, 0);
    expect(b.tryTake(0)).toBe(true);
    expect(b.msUntilToken(0)).toBe(60_000);
    expect(b.tryTake(59_999)).toBe(false);
    expect(b.tryTake(60_000)).toBe(true);
  });
});
