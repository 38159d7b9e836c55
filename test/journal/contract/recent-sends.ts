/**
 * `Journal` contract: `recentSends`, what a new pacer counts of an earlier process's sends: attempts
 * started since a time, whatever became of them, and deliveries still in flight (claimed, perhaps
 * sent, no outcome yet).
 */
import { describe, expect, it } from 'vitest';
import { type JournalBackend, journalPerTest, LEASE, makeEvent, T0 } from './support.js';

export function describeRecentSends(backend: JournalBackend): void {
  describe('recent sends', () => {
    const { journal, claim, claimOne, attemptOf, finish } = journalPerTest(backend);

    it('counts attempts started since the time, delivered, dead or retried, of that destination only', async () => {
      for (let i = 0; i < 4; i++) await journal.append(makeEvent({ destinations: ['crm', 'billing'] }));
      const [a, b, c, d] = await claim('crm', T0, { limit: 4 });
      expect(await finish(a!, T0 + 110, 'delivered')).toBe(true); // started T0 + 100
      expect(await finish(b!, T0 + 1_010, 'dead')).toBe(true); // started T0 + 1_000
      expect(
        await journal.complete(c!, attemptOf(c!, T0 + 2_000, { status: 503 }), { kind: 'retry', at: T0 + 9_000 }),
      ).toBe(true);
      expect(await journal.release([d!], T0 + 2_500)).toBe(1); // given back unsent: no send
      const billing = await claimOne('billing', T0 + 3_000, { limit: 1 });
      expect(await finish(billing, T0 + 3_010, 'delivered')).toBe(true);

      expect(await journal.recentSends('crm', T0)).toBe(3);
      expect(await journal.recentSends('crm', T0 + 100)).toBe(3);
      expect(await journal.recentSends('crm', T0 + 101)).toBe(2);
      expect(await journal.recentSends('crm', T0 + 2_000)).toBe(1);
      expect(await journal.recentSends('crm', T0 + 2_001)).toBe(0);
      expect(await journal.recentSends('billing', T0)).toBe(1);
      expect(await journal.recentSends('unknown', T0)).toBe(0);
    });

    it('counts a delivery in flight as sent while its lease runs past the time', async () => {
      for (let i = 0; i < 3; i++) await journal.append(makeEvent());
      expect(await claim('crm', T0, { limit: 2 })).toHaveLength(2);
      // Leases end at T0 + LEASE: claimed before that, so perhaps sent after any earlier time.
      expect(await journal.recentSends('crm', T0 - 60_000)).toBe(2);
      expect(await journal.recentSends('crm', T0 + LEASE - 1)).toBe(2);
      // A lease that ended before the time was claimed before it too.
      expect(await journal.recentSends('crm', T0 + LEASE)).toBe(0);
    });

    it('counts both the earlier attempt and the current claim of a retried delivery', async () => {
      await journal.append(makeEvent());
      const first = await claimOne('crm', T0);
      expect(
        await journal.complete(first, attemptOf(first, T0, { status: 500 }), { kind: 'retry', at: T0 + 1_000 }),
      ).toBe(true);
      await claimOne('crm', T0 + 1_000);
      expect(await journal.recentSends('crm', T0)).toBe(2);
    });
  });
}
