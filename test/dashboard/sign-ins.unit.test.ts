import { describe, expect, it } from 'vitest';
import { createReplayTracker } from '../../src/dashboard/activity.js';
import { createSignIns, csrfMatches } from '../../src/dashboard/sign-ins.js';

describe('dashboard sign-ins', () => {
  it('knows a sign-in until it expires, and not after sign-out', () => {
    let now = 0;
    const signIns = createSignIns({ ttlMs: 1000, clock: () => now });
    const a = signIns.create();
    expect(a.id).not.toBe(a.csrf);
    expect(signIns.get(a.id)).toBe(a);
    expect(signIns.get(undefined)).toBeUndefined();
    expect(signIns.get('made-up')).toBeUndefined();
    now = 1000;
    expect(signIns.get(a.id)).toBeUndefined();
    const b = signIns.create();
    signIns.delete(b.id);
    expect(signIns.get(b.id)).toBeUndefined();
  });

  it('keeps at most `max` sign-ins, dropping the oldest', () => {
    const signIns = createSignIns({ max: 3 });
    const made = Array.from({ length: 5 }, () => signIns.create());
    expect(made.map((s) => signIns.get(s.id) !== undefined)).toEqual([false, false, true, true, true]);
  });

  it('matches the CSRF token exactly', () => {
    const signIn = createSignIns().create();
    expect(csrfMatches(signIn, signIn.csrf)).toBe(true);
    expect(csrfMatches(signIn, undefined)).toBe(false);
    expect(csrfMatches(signIn, '')).toBe(false);
    expect(csrfMatches(signIn, `${signIn.csrf}x`)).toBe(false);
  });
});

describe('bulk replay progress', () => {
  it('counts at most min(total, backlog) left, and never goes back up', () => {
    const replays = createReplayTracker();
    replays.start('crm', 10, 0);
    expect(replays.progress(() => 25)).toEqual([{ destination: 'crm', total: 10, left: 10, startedAt: 0 }]);
    expect(replays.progress(() => 4)[0]!.left).toBe(4);
    // New live events after it: the replayed ones are still at most 4.
    expect(replays.progress(() => 30)[0]!.left).toBe(4);
    expect(replays.progress(() => 0)[0]!.left).toBe(0);
    expect(replays.progress(() => undefined)[0]!.left).toBe(0);
  });
});
