import { describe, expect, it } from 'vitest';
import { createReplayTracker } from '../../src/dashboard/activity.js';
import { createSessions, csrfMatches } from '../../src/dashboard/sessions.js';

describe('dashboard sessions', () => {
  it('knows a session until it expires, and not after sign-out', () => {
    let now = 0;
    const sessions = createSessions({ ttlMs: 1000, clock: () => now });
    const a = sessions.create();
    expect(a.id).not.toBe(a.csrf);
    expect(sessions.get(a.id)).toBe(a);
    expect(sessions.get(undefined)).toBeUndefined();
    expect(sessions.get('made-up')).toBeUndefined();
    now = 1000;
    expect(sessions.get(a.id)).toBeUndefined();
    const b = sessions.create();
    sessions.delete(b.id);
    expect(sessions.get(b.id)).toBeUndefined();
  });

  it('keeps at most `max` sessions, dropping the oldest', () => {
    const sessions = createSessions({ max: 3 });
    const made = Array.from({ length: 5 }, () => sessions.create());
    expect(made.map((s) => sessions.get(s.id) !== undefined)).toEqual([false, false, true, true, true]);
  });

  it('matches the CSRF token exactly', () => {
    const session = createSessions().create();
    expect(csrfMatches(session, session.csrf)).toBe(true);
    expect(csrfMatches(session, undefined)).toBe(false);
    expect(csrfMatches(session, '')).toBe(false);
    expect(csrfMatches(session, `${session.csrf}x`)).toBe(false);
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
