import { describe, expect, it } from 'vitest';
import { createSignInLimit } from '../../src/dashboard/sign-in-limit.js';

describe('sign-in limit', () => {
  it('makes an address wait after 5 failures in a minute, longer each round, and forgets it after a success', () => {
    let now = 0;
    const limit = createSignInLimit({ clock: () => now });
    for (let i = 0; i < 4; i++) limit.failed('10.0.0.1');
    expect(limit.retryAfter('10.0.0.1')).toBe(0);
    limit.failed('10.0.0.1');
    expect(limit.retryAfter('10.0.0.1')).toBe(10);
    expect(limit.retryAfter('10.0.0.2')).toBe(0);
    now += 10_000;
    expect(limit.retryAfter('10.0.0.1')).toBe(0);
    for (let i = 0; i < 5; i++) limit.failed('10.0.0.1');
    expect(limit.retryAfter('10.0.0.1')).toBe(20);
    now += 20_000;
    for (let i = 0; i < 5; i++) limit.failed('10.0.0.1');
    expect(limit.retryAfter('10.0.0.1')).toBe(40);
    now += 40_000;
    limit.succeeded('10.0.0.1');
    for (let i = 0; i < 5; i++) limit.failed('10.0.0.1');
    expect(limit.retryAfter('10.0.0.1')).toBe(10);
  });

  it('counts only failures within the window, caps the wait, and keeps a bounded number of addresses', () => {
    let now = 0;
    const limit = createSignInLimit({ clock: () => now, maxDelayMs: 30_000, maxAddresses: 3 });
    for (let i = 0; i < 10; i++) {
      limit.failed('a');
      now += 15_000; // four a minute
    }
    expect(limit.retryAfter('a')).toBe(0);
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 5; i++) limit.failed('a');
      expect(limit.retryAfter('a')).toBeLessThanOrEqual(30);
      now += 30_000;
    }
    for (let i = 0; i < 5; i++) limit.failed('b');
    for (const address of ['c', 'd', 'e']) limit.failed(address);
    expect(limit.retryAfter('b')).toBe(0); // forgotten: the oldest of more than three
  });
});
