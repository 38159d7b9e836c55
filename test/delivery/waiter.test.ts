import { describe, expect, it } from 'vitest';
import { Waiter } from '../../src/delivery/waiter.js';

describe('Waiter', () => {
  it('ends a long wait on wake(), and remembers a wake that came first', async () => {
    const w = new Waiter();
    const started = performance.now();
    const waiting = w.wait(60_000);
    w.wake();
    await waiting;
    w.wake();
    await w.wait(60_000);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('ends a wait on abort, and returns at once when already aborted', async () => {
    const w = new Waiter();
    const ac = new AbortController();
    const waiting = w.wait(60_000, ac.signal);
    ac.abort();
    await waiting;
    await w.wait(60_000, ac.signal);
  });

  it('resolves by itself after the time', async () => {
    const started = performance.now();
    await new Waiter().wait(50);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });
});
