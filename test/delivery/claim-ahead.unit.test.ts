import { describe, expect, it } from 'vitest';
import { ClaimAhead } from '../../src/delivery/claim-ahead.js';
import { createStaticPacer } from '../../src/delivery/pacing/static-pacer.js';

const unlimited = createStaticPacer({ rate: undefined, burst: 1, concurrency: 2 }, 'crm', 0);
const room = { cap: 2, inFlight: 0, buffered: 0, probing: false };

describe('claim-ahead', () => {
  it('claims only the free slots until the attempt time is known, then about a second of attempts more', () => {
    const c = new ClaimAhead(false);
    expect(c.limit(0, unlimited, room)).toBe(2);
    c.answered(50);
    // 2 slots × 1000 ms / 50 ms = 40 ahead, in batches of 64 at most.
    expect(c.limit(0, unlimited, room)).toBe(42);
    expect(c.limit(0, unlimited, { ...room, inFlight: 2, buffered: 30 })).toBe(10);
    const quick = new ClaimAhead(false);
    quick.answered(1);
    expect(quick.limit(0, unlimited, room)).toBe(64);
  });

  it('never claims ahead for fifo, or while probing', () => {
    const fifo = new ClaimAhead(true);
    fifo.answered(10);
    expect(fifo.limit(0, unlimited, { ...room, cap: 1 })).toBe(1);
    const probing = new ClaimAhead(false);
    probing.answered(10);
    expect(probing.limit(0, unlimited, { ...room, cap: 1, probing: true })).toBe(1);
  });

  it('claims no more than the pacer allows within a second, nor bodies past 4 MiB', () => {
    const paced = new ClaimAhead(false);
    paced.answered(10);
    const pacer = createStaticPacer({ rate: 5, burst: 2, concurrency: 2 }, 'crm', 0);
    expect(paced.limit(0, pacer, room)).toBe(7);
    expect(paced.limit(0, pacer, { ...room, buffered: 3 })).toBe(4);
    const large = new ClaimAhead(false);
    large.answered(10);
    large.sent(1024 * 1024);
    expect(large.limit(0, unlimited, room)).toBe(2 + 4);
  });
});
