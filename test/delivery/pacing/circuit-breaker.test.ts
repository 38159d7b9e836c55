import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../../src/delivery/pacing/circuit-breaker.js';

describe('circuit breaker', () => {
  it('opens after `threshold` unanswered attempts in a row, not before', () => {
    const b = new CircuitBreaker(3, 100, 1_000);
    expect(b.record(false, 0, 10)).toEqual({});
    expect(b.record(false, 0, 20)).toEqual({});
    expect(b.probing).toBe(false);
    expect(b.record(false, 0, 30)).toEqual({ holdUntil: 130, opened: true });
    expect(b.probing).toBe(true);
  });

  it('an answer in between starts the count again, whatever its status', () => {
    const b = new CircuitBreaker(3, 100, 1_000);
    b.record(false, 0, 10);
    b.record(false, 0, 20);
    expect(b.record(true, 0, 30)).toEqual({});
    expect(b.record(false, 0, 40)).toEqual({});
    expect(b.record(false, 0, 50)).toEqual({});
    expect(b.probing).toBe(false);
  });

  it('a failed probe opens it again with the delay doubled, up to the maximum', () => {
    const b = new CircuitBreaker(1, 100, 350);
    expect(b.record(false, 0, 0)).toEqual({ holdUntil: 100, opened: true });
    expect(b.record(false, 100, 110)).toEqual({ holdUntil: 310 });
    expect(b.record(false, 310, 320)).toEqual({ holdUntil: 670 });
    expect(b.record(false, 670, 680)).toEqual({ holdUntil: 1_030 });
  });

  it('attempts already under way when it opened do not double the delay', () => {
    const b = new CircuitBreaker(2, 100, 10_000);
    b.record(false, 0, 10);
    expect(b.record(false, 0, 20)).toEqual({ holdUntil: 120, opened: true });
    // Twenty more that were sent at 0..15 come back: they change nothing.
    for (let i = 0; i < 20; i++) expect(b.record(false, i % 16, 25 + i)).toEqual({});
    expect(b.record(false, 120, 130)).toEqual({ holdUntil: 330 });
  });

  it('closes on the first answer while probing, and counts afresh after', () => {
    const b = new CircuitBreaker(2, 100, 1_000);
    b.record(false, 0, 0);
    b.record(false, 0, 0);
    expect(b.record(true, 100, 110)).toEqual({ closed: true });
    expect(b.probing).toBe(false);
    expect(b.record(false, 200, 200)).toEqual({});
    expect(b.record(false, 200, 210)).toEqual({ holdUntil: 310, opened: true });
  });
});
